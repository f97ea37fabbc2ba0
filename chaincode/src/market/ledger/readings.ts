/**
 * Meter readings on the ledger — private to the meter's utility (issue 3 §1, docs/market.md
 * "Readings and privacy").
 *
 * A reading transaction writes ONLY to the meter's utility collection `<MSPID>PrivateCollection`
 * (no public key at all), so Fabric's validator checks its hashed writes against the collection's
 * endorsement policy `OR('<MSPID>.peer')` and the chaincode policy is not needed
 * (core/common/validation/statebased v20.go CheckCCEPIfNotChecked / CheckCCEPIfNoEPChecked), and the
 * endorser's ChaincodeInterest names only the collection (core/endorser/endorser.go
 * buildChaincodeInterest), so the gateway plans endorsement by the meter's own utility alone: no
 * other organisation's peer ever receives the raw reading. Per reading, in the collection:
 *
 * - gl.market.reading(mspId, meterId, interval)              raw record (canonical JSON)
 * - gl.market.readingProof(mspId, meterId, interval, export) salted commitment to exportWh
 * - gl.market.readingProof(mspId, meterId, interval, import) salted commitment to importWh
 * - gl.market.meterHead(mspId, meterId)                      last reading (register monotonicity)
 *
 * On the channel every org sees only the SHA-256 of key and value (Fabric's hashed rwset). Settlement
 * (energy:mint, trades:confirmDelivery) is endorsed by several orgs, so it takes ONE flow of ONE
 * interval, disclosed as its proof in the transient map, checked with getPrivateDataHash: the other
 * endorsers learn that interval's exportWh (mint) or importWh (delivery) and nothing else.
 *
 * Keys: one head per meter, readings per (meter, interval): thousands of meters posting at once
 * share no key; a meter's own concurrent posts conflict on its head (MVCC), as they must.
 */
import { createHash } from 'crypto';
import * as R from '../domain/reading';
import { privateCollectionOf } from '../../kernel/caller';
import { MKT } from './keys';
import { fail, GridLedgerError } from '../../kernel/errors';
import { jsonObjectArg } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

export interface ReadingSummary {
  mspId: string;
  meterId: string;
  intervalStart: number;
  intervalLength: number;
  readingHash: string;
}

export interface MeterHead {
  mspId: string;
  meterId: string;
  lastIntervalStart: number;
  lastHash: string;
  readings: number;
  last: R.Reading;
}

export const readingKey = (ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: number): string =>
  ctx.state.key(MKT.reading, [mspId, meterId, padUint(intervalStart, 12)]);
export const proofKey = (ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: number, direction: R.FlowDirection): string =>
  ctx.state.key(MKT.readingProof, [mspId, meterId, padUint(intervalStart, 12), direction]);
const headKey = (ctx: GridLedgerContext, mspId: string, meterId: string): string => ctx.state.key(MKT.meterHead, [mspId, meterId]);

const sha256hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

async function getPrivateJson<T>(ctx: GridLedgerContext, mspId: string, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getPrivateData(privateCollectionOf(mspId), key);
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

async function putPrivate(ctx: GridLedgerContext, mspId: string, key: string, text: string): Promise<void> {
  await ctx.stub.putPrivateData(privateCollectionOf(mspId), key, Buffer.from(text, 'utf8'));
}

/** The raw reading, from the meter's utility collection (only that utility's peers hold it). */
export async function privateReading(ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: number): Promise<R.Reading | undefined> {
  return getPrivateJson<R.Reading>(ctx, mspId, readingKey(ctx, mspId, meterId, intervalStart));
}

/** The meter's head, from its utility collection. */
export async function getHead(ctx: GridLedgerContext, mspId: string, meterId: string): Promise<MeterHead | undefined> {
  return getPrivateJson<MeterHead>(ctx, mspId, headKey(ctx, mspId, meterId));
}

export function summaryOf(mspId: string, r: R.Reading): ReadingSummary {
  return { mspId, meterId: r.meterId, intervalStart: r.intervalStart, intervalLength: r.intervalLength, readingHash: R.readingHash(r) };
}

/** The channel's hash of a reading (any peer: Fabric keeps the hashed rwset on every peer), or undefined. */
export async function channelReadingHash(ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: number): Promise<string | undefined> {
  const h = await ctx.stub.getPrivateDataHash(privateCollectionOf(mspId), readingKey(ctx, mspId, meterId, intervalStart));
  return h && h.length > 0 ? Buffer.from(h).toString('hex') : undefined;
}

/** A flow proof from the meter's own collection (the meter / its utility fetch it to disclose it). */
export async function privateProof(ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: number, direction: R.FlowDirection): Promise<R.FlowProof | undefined> {
  return getPrivateJson<R.FlowProof>(ctx, mspId, proofKey(ctx, mspId, meterId, intervalStart, direction));
}

/** Reads a proof disclosed in the transient map (shape only; `verifiedProof` checks it). */
export function transientProof(ctx: GridLedgerContext, name: string): R.FlowProof | undefined {
  const bytes = ctx.stub.getTransient().get(name);
  if (!bytes || bytes.length === 0) return undefined;
  const o = jsonObjectArg(Buffer.from(bytes).toString('utf8'), `transient "${name}" (a reading proof from meters:getProof)`);
  return R.parseFlowProof(o, `transient ${name}`);
}

/**
 * Checks a disclosed proof against the hash on the channel. Works on every endorser, member of the
 * meter's collection or not (getPrivateDataHash reads the public hashed state), and reads no private
 * value, so every endorser computes the same result.
 */
export async function verifiedProof(ctx: GridLedgerContext, mspId: string, p: R.FlowProof, what: string): Promise<R.FlowProof> {
  const key = proofKey(ctx, mspId, p.meterId, p.intervalStart, p.direction);
  const h = await ctx.stub.getPrivateDataHash(privateCollectionOf(mspId), key);
  if (!h || h.length === 0) fail('NOT_FOUND', 'READING_NOT_FOUND', `${what}: meter ${p.meterId} has no reading for interval ${p.intervalStart}`);
  if (Buffer.from(h).toString('hex') !== sha256hex(R.flowProofRecord(p))) {
    fail('CONFLICT', 'PROOF_MISMATCH', `${what}: the ${p.direction} proof supplied does not match the hash recorded on the channel for interval ${p.intervalStart}`);
  }
  return p;
}

export interface PostResult {
  intervalStart: number;
  status: R.PostOutcome;
}

/** A relayed reading's verdict (meters:relayReadings): posted, or refused with the rule's sub-code. */
export type Verdict =
  | PostResult
  | { intervalStart: number; status: 'REFUSED'; reason: string; detail: string }
  | { intervalStart: number; status: 'NOT_TRIED' };

/**
 * Posts readings of ONE meter in interval order (a batch or a single one). Reads and writes only
 * the meter's utility collection: the registers are checked against the head kept there. A refused
 * reading throws (the whole transaction fails).
 */
export async function postReadings(ctx: GridLedgerContext, mspId: string, meterId: string, readings: R.Reading[]): Promise<PostResult[]> {
  return (await post(ctx, mspId, meterId, readings, false)) as PostResult[];
}

/**
 * The same rules, one verdict per reading (a relayed batch carries many meters, and one bad reading
 * must not sink the others): a refused reading writes nothing and the meter's later readings of the
 * batch are NOT_TRIED (they could not follow it); what was recorded before it stays.
 */
export async function postReadingVerdicts(ctx: GridLedgerContext, mspId: string, meterId: string, readings: R.Reading[]): Promise<Verdict[]> {
  return post(ctx, mspId, meterId, readings, true);
}

/** A refusal as a verdict (only the chaincode's own typed refusals; anything else still throws). */
export function refusal(intervalStart: number, e: unknown): Verdict {
  if (!(e instanceof GridLedgerError)) throw e;
  const err = e as GridLedgerError;
  return { intervalStart, status: 'REFUSED', reason: err.subCode as string, detail: err.detail };
}

async function post(ctx: GridLedgerContext, mspId: string, meterId: string, readings: R.Reading[], verdicts: boolean): Promise<Verdict[]> {
  const results: Verdict[] = [];
  const head0 = await getHead(ctx, mspId, meterId);
  let head = head0;
  for (const [i, r] of readings.entries()) {
    const what = readings.length > 1 ? `readings[${i}]` : 'reading';
    let repost: R.PostOutcome | undefined;
    try {
      R.checkIntervalEnded(r, ctx.now, what);
      const existing = head0 && r.intervalStart <= head0.lastIntervalStart ? await privateReading(ctx, mspId, meterId, r.intervalStart) : undefined;
      if (existing) repost = R.classifyRepost(R.readingHash(existing), r, what);
      else if (head) R.checkSuccessor(head.last, r, what);
    } catch (e) {
      if (!verdicts) throw e;
      results.push(refusal(r.intervalStart, e));
      for (const later of readings.slice(i + 1)) results.push({ intervalStart: later.intervalStart, status: 'NOT_TRIED' });
      break;
    }
    if (repost) {
      results.push({ intervalStart: r.intervalStart, status: repost });
      continue;
    }
    const record = R.readingRecord(r);
    await putPrivate(ctx, mspId, readingKey(ctx, mspId, meterId, r.intervalStart), record);
    for (const d of ['export', 'import'] as const) {
      await putPrivate(ctx, mspId, proofKey(ctx, mspId, meterId, r.intervalStart, d), R.flowProofRecord(R.flowProof(r, d)));
    }
    head = { mspId, meterId, lastIntervalStart: r.intervalStart, lastHash: sha256hex(record), readings: (head?.readings ?? 0) + 1, last: r };
    results.push({ intervalStart: r.intervalStart, status: 'RECORDED' });
  }
  if (head && head !== head0) await putPrivate(ctx, mspId, headKey(ctx, mspId, meterId), JSON.stringify(head));
  // Only re-posts: rewrite the unchanged head. A transaction that writes nothing needs the chaincode's
  // MAJORITY policy (Fabric validates the invoked namespace even without writes), while its private reads
  // keep endorsement on the collection's members — no plan satisfies both. Writing the collection keeps the
  // re-post on the collection endorsement policy, like a first post; the stored content does not change.
  else if (head0) await putPrivate(ctx, mspId, headKey(ctx, mspId, meterId), JSON.stringify(head0));
  return results;
}
