/**
 * Meter readings on the ledger.
 *
 * Private: the raw reading (canonical JSON) in the meter's utility collection
 * `<MSPID>PrivateCollection`, key gl.market.reading(mspId, meterId, interval).
 * Public (channel): gl.market.reading(mspId, meterId, interval) = { readingHash, interval, postedAt } and the
 * meter's head gl.market.meterHead(mspId, meterId) = { lastIntervalStart, lastHash }. No quantity is public.
 *
 * Endorsers of other utilities cannot read the private collection, and every endorser must compute
 * the same result, so no decision reads private data: when a rule needs a raw reading (register
 * monotonicity, minting from export, delivery evidence) the meter's gateway hands the reading in the
 * transient map and the chaincode checks it against the public hash. The hash is SHA-256 of exactly
 * the bytes stored privately, i.e. the same digest Fabric's getPrivateDataHash returns.
 */
import type { Context } from 'fabric-contract-api';
import { fail } from '../../domain/market/fail';
import * as R from '../../domain/market/reading';
import { privateCollectionOf } from '../../identity/caller';
import { padUint } from '../keys';
import { MKT } from './keys';
import { MarketTx } from './txState';

export interface ReadingSummary {
  mspId: string;
  meterId: string;
  intervalStart: number;
  intervalLength: number;
  readingHash: string;
  postedAt: number;
  txId: string;
}

export interface MeterHead {
  mspId: string;
  meterId: string;
  lastIntervalStart: number;
  lastHash: string;
  readings: number;
}

export const readingKey = (tx: MarketTx, mspId: string, meterId: string, intervalStart: number): string =>
  tx.key(MKT.reading, [mspId, meterId, padUint(intervalStart, 12)]);
const headKey = (tx: MarketTx, mspId: string, meterId: string): string => tx.key(MKT.meterHead, [mspId, meterId]);

export async function getSummary(tx: MarketTx, mspId: string, meterId: string, intervalStart: number): Promise<ReadingSummary | undefined> {
  return tx.get<ReadingSummary>(readingKey(tx, mspId, meterId, intervalStart));
}

export async function getHead(tx: MarketTx, mspId: string, meterId: string): Promise<MeterHead | undefined> {
  return tx.get<MeterHead>(headKey(tx, mspId, meterId));
}

/** Reads a reading handed over in the transient map and checks it against the public hash. */
export function transientReading(ctx: Context, name: string): R.Reading | undefined {
  const bytes = ctx.stub.getTransient().get(name);
  if (!bytes || bytes.length === 0) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    fail('INVALID_ARGUMENT', `transient "${name}" must be the reading as JSON`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) fail('INVALID_ARGUMENT', `transient "${name}" must be a JSON object`);
  return R.parseReading(o as Record<string, unknown>, `transient ${name}`);
}

export async function verifiedReading(tx: MarketTx, mspId: string, r: R.Reading, what: string): Promise<ReadingSummary> {
  const s = await getSummary(tx, mspId, r.meterId, r.intervalStart);
  if (!s) fail('NOT_FOUND', `${what}: meter ${r.meterId} has no reading for interval ${r.intervalStart}`);
  if (s.readingHash !== R.readingHash(r)) fail('CONFLICT', `${what}: the reading supplied does not match the hash recorded on the channel for interval ${r.intervalStart}`);
  return s;
}

export interface PostResult {
  intervalStart: number;
  status: R.PostOutcome;
}

/**
 * Posts readings of ONE meter in interval order (a batch or a single one). `previous` is the
 * meter's last posted reading (transient), needed only when the first new reading follows one
 * posted by an earlier transaction.
 */
export async function postReadings(tx: MarketTx, mspId: string, meterId: string, readings: R.Reading[], previous: R.Reading | undefined): Promise<PostResult[]> {
  const results: PostResult[] = [];
  let head = await getHead(tx, mspId, meterId);
  // The reading that corresponds to `head`, once known (verified against head.lastHash).
  let headReading: R.Reading | undefined;
  if (previous && head) {
    if (previous.meterId !== meterId || R.readingHash(previous) !== head.lastHash) {
      fail('CONFLICT', `transient previousReading is not meter ${meterId}'s last posted reading (interval ${head.lastIntervalStart})`);
    }
    headReading = previous;
  }
  for (const [i, r] of readings.entries()) {
    const what = readings.length > 1 ? `readings[${i}]` : 'reading';
    R.checkIntervalEnded(r, tx.nowS, what);
    const existing = await getSummary(tx, mspId, meterId, r.intervalStart);
    if (existing) {
      results.push({ intervalStart: r.intervalStart, status: R.classifyRepost(existing.readingHash, r, what) });
      if (head && r.intervalStart === head.lastIntervalStart) headReading = r;
      continue;
    }
    if (head) {
      if (!headReading) {
        fail('PRECONDITION_FAILED', `${what}: pass meter ${meterId}'s last posted reading (interval ${head.lastIntervalStart}) as transient "previousReading" so the registers can be checked`);
      }
      R.checkSuccessor(headReading, r, what);
    }
    const hash = R.readingHash(r);
    const key = readingKey(tx, mspId, meterId, r.intervalStart);
    await tx.ctx.stub.putPrivateData(privateCollectionOf(mspId), key, Buffer.from(R.readingRecord(r), 'utf8'));
    const summary: ReadingSummary = { mspId, meterId, intervalStart: r.intervalStart, intervalLength: r.intervalLength, readingHash: hash, postedAt: tx.nowS, txId: tx.txId };
    await tx.put(key, summary);
    head = { mspId, meterId, lastIntervalStart: r.intervalStart, lastHash: hash, readings: (head?.readings ?? 0) + 1 };
    headReading = r;
    results.push({ intervalStart: r.intervalStart, status: 'recorded' });
  }
  if (head && results.some((x) => x.status === 'recorded')) await tx.put(headKey(tx, mspId, meterId), head);
  return results;
}

/** The raw reading from the caller's own utility collection (only member peers hold it). */
export async function privateReading(tx: MarketTx, mspId: string, meterId: string, intervalStart: number): Promise<R.Reading | undefined> {
  const bytes = await tx.ctx.stub.getPrivateData(privateCollectionOf(mspId), readingKey(tx, mspId, meterId, intervalStart));
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as R.Reading;
}
