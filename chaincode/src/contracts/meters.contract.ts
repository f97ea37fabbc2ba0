import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { fail } from '../domain/market/fail';
import * as R from '../domain/market/reading';
import { ID_PATTERN, argInt } from '../domain/market/validate';
import { emit } from '../events';
import { getCaller, requireMeter } from '../identity/caller';
import { canonicalJson } from '../ledger/codec';
import { openMarketTx } from '../ledger/market/marketParams';
import * as readings from '../ledger/market/readings';
import { jsonArgOrTransient } from './market.support';

/**
 * Meter readings (issue 3 §1). A meter identity posts only readings carrying its own meterId.
 * Pass the reading JSON as the argument, or leave the argument empty and pass it as transient
 * `reading` / `readings` so the raw values never appear in the block (recommended; docs/market.md).
 * Posting writes only to the meter's utility collection: endorse on that utility's peers alone
 * (the Fabric gateway plans exactly that from the collection endorsement policy). A transient
 * `previousReading` (older gateways) is ignored: the registers are checked against the private head.
 */
@Info({ title: 'meters', description: 'Meter readings: private values, public hashes' })
export class MetersContract extends Contract {
  constructor() {
    super('meters');
  }

  @Transaction()
  @Returns('string')
  async postReading(ctx: Context, readingJson: string): Promise<string> {
    const meter = requireMeter(ctx, 'meters:postReading');
    const { tx } = await openMarketTx(ctx);
    const r = R.parseReading(jsonArgOrTransient(ctx, readingJson, 'readingJson', 'reading'), 'reading');
    if (r.meterId !== meter.meterId) fail('FORBIDDEN', `meter ${meter.meterId} may only post its own readings, not meter ${r.meterId}'s`);
    const [res] = await readings.postReadings(tx, meter.mspId, meter.meterId, [r]);
    if (res.status === 'recorded') emit(ctx, 'ReadingRecorded', { mspId: meter.mspId, meterId: meter.meterId, intervals: [r.intervalStart] });
    return canonicalJson({ meterId: meter.meterId, intervalStart: r.intervalStart, status: res.status });
  }

  /** `{ meterId, readings: [ {intervalStart, intervalLength, importWh, ...}, ... ] }` in interval order, at most 96. */
  @Transaction()
  @Returns('string')
  async postReadings(ctx: Context, batchJson: string): Promise<string> {
    const meter = requireMeter(ctx, 'meters:postReadings');
    const { tx } = await openMarketTx(ctx);
    const batch = jsonArgOrTransient(ctx, batchJson, 'batchJson', 'readings');
    for (const k of Object.keys(batch)) if (k !== 'meterId' && k !== 'readings') fail('INVALID_ARGUMENT', `batch: unknown field "${k}" (allowed: meterId, readings)`);
    if (batch.meterId !== meter.meterId) fail('FORBIDDEN', `meter ${meter.meterId} may only post its own readings, not meter ${String(batch.meterId)}'s`);
    const items = batch.readings;
    if (!Array.isArray(items) || items.length === 0 || items.length > R.MAX_BATCH) {
      fail('INVALID_ARGUMENT', `batch.readings must be an array of 1 to ${R.MAX_BATCH} readings`);
    }
    const parsed = items.map((o, i) => {
      if (typeof o !== 'object' || o === null || Array.isArray(o)) fail('INVALID_ARGUMENT', `batch.readings[${i}] must be an object`);
      const r = R.parseReading(o as Record<string, unknown>, `readings[${i}]`, meter.meterId);
      if (r.meterId !== meter.meterId) fail('FORBIDDEN', `readings[${i}] carries meter ${r.meterId}; a batch holds one meter's readings`);
      return r;
    });
    for (let i = 1; i < parsed.length; i++) {
      if (parsed[i].intervalStart <= parsed[i - 1].intervalStart) fail('INVALID_ARGUMENT', `batch.readings must be in strictly increasing intervalStart order (index ${i})`);
    }
    const res = await readings.postReadings(tx, meter.mspId, meter.meterId, parsed);
    const recorded = res.filter((x) => x.status === 'recorded').map((x) => x.intervalStart);
    if (recorded.length) emit(ctx, 'ReadingRecorded', { mspId: meter.mspId, meterId: meter.meterId, intervals: recorded });
    return canonicalJson({ meterId: meter.meterId, recorded: recorded.length, duplicates: res.length - recorded.length, results: res });
  }

  /**
   * The meter itself or an operator of its utility. Evaluate on a peer of that utility: only its
   * peers hold the raw reading (elsewhere NOT_FOUND).
   */
  @Transaction(false)
  @Returns('string')
  async getReading(ctx: Context, meterId: string, intervalStart: string): Promise<string> {
    const c = ownMeterOrOperator(ctx, meterId, 'read its readings');
    const start = argInt(intervalStart, 'intervalStart', 0, 4_102_444_800);
    const { tx } = await openMarketTx(ctx);
    const reading = await readings.privateReading(tx, c.mspId, meterId, start);
    if (!reading) fail('NOT_FOUND', `meter ${meterId} of ${c.mspId} has no reading for interval ${start}`);
    return canonicalJson({ ...readings.summaryOf(c.mspId, reading), reading });
  }

  /**
   * The settlement proof of one flow of one interval (`direction` = export | import): what the
   * meter discloses as transient `exportProof` (energy:mint) or `importProof` (trades:confirmDelivery).
   * The meter itself or an operator of its utility, on a peer of that utility.
   */
  @Transaction(false)
  @Returns('string')
  async getProof(ctx: Context, meterId: string, intervalStart: string, direction: string): Promise<string> {
    const c = ownMeterOrOperator(ctx, meterId, 'read its reading proofs');
    const start = argInt(intervalStart, 'intervalStart', 0, 4_102_444_800);
    if (direction !== 'export' && direction !== 'import') fail('INVALID_ARGUMENT', 'direction must be "export" or "import"');
    const { tx } = await openMarketTx(ctx);
    const proof = await readings.privateProof(tx, c.mspId, meterId, start, direction);
    if (!proof) fail('NOT_FOUND', `meter ${meterId} of ${c.mspId} has no reading for interval ${start}`);
    return canonicalJson(proof);
  }

  /** Any caller, any peer: whether a reading exists and its hash as recorded on the channel. */
  @Transaction(false)
  @Returns('string')
  async getReadingHash(ctx: Context, mspId: string, meterId: string, intervalStart: string): Promise<string> {
    getCaller(ctx);
    if (!ID_PATTERN.test(mspId) || !ID_PATTERN.test(meterId)) fail('INVALID_ARGUMENT', 'mspId and meterId must be valid ids');
    const start = argInt(intervalStart, 'intervalStart', 0, 4_102_444_800);
    const { tx } = await openMarketTx(ctx);
    const readingHash = await readings.channelReadingHash(tx, mspId, meterId, start);
    if (!readingHash) fail('NOT_FOUND', `meter ${meterId} of ${mspId} has no reading for interval ${start}`);
    return canonicalJson({ mspId, meterId, intervalStart: start, readingHash });
  }

  /** The meter's last posted interval: the meter itself or an operator of its utility (private head). */
  @Transaction(false)
  @Returns('string')
  async getHead(ctx: Context, mspId: string, meterId: string): Promise<string> {
    if (!ID_PATTERN.test(mspId)) fail('INVALID_ARGUMENT', 'mspId is not a valid MSP id');
    const c = ownMeterOrOperator(ctx, meterId, 'read its head');
    if (mspId !== c.mspId) fail('FORBIDDEN', `only meter ${meterId} or an operator of ${mspId} may read its head`);
    const { tx } = await openMarketTx(ctx);
    const head = await readings.getHead(tx, mspId, meterId);
    if (!head) fail('NOT_FOUND', `meter ${meterId} of ${mspId} has posted no reading`);
    const { last: _last, ...summary } = head;
    return canonicalJson(summary);
  }
}

function ownMeterOrOperator(ctx: Context, meterId: string, action: string): ReturnType<typeof getCaller> {
  const c = getCaller(ctx);
  if (!ID_PATTERN.test(meterId)) fail('INVALID_ARGUMENT', 'meterId is not a valid meter id');
  if (!((c.role === 'meter' && c.meterId === meterId) || c.role === 'operator')) {
    fail('FORBIDDEN', `only meter ${meterId} itself or an operator of its utility may ${action}`);
  }
  return c;
}
