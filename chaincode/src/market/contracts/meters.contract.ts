import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import * as R from '../domain/reading';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireMeter } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import * as readings from '../ledger/readings';
import { fail, quote } from '../../kernel/errors';
import { ID_PATTERN, inputOf, intArg, jsonObjectArgOrTransient } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';
import { openMarketTx } from '../services/session';
import { present } from '../../kernel/invariant';

/**
 * Meter readings (issue 3 §1). A meter identity posts only readings carrying its own meterId.
 * Pass the reading JSON as the argument, or leave the argument empty and pass it as transient
 * `reading` / `readings` so the raw values never appear in the block (recommended; docs/market.md).
 * Posting writes only to the meter's utility collection: endorse on that utility's peers alone
 * (the Fabric gateway plans exactly that from the collection endorsement policy). A transient
 * `previousReading` (older gateways) is ignored: the registers are checked against the private head.
 */
@Info({ title: 'meters', description: 'Meter readings: private values, public hashes' })
export class MetersContract extends GridLedgerContract {
  constructor() {
    super('meters');
  }

  @Transaction()
  @Returns('string')
  async postReading(ctx: GridLedgerContext, readingJson: string): Promise<string> {
    const meter = requireMeter(ctx, 'meters:postReading');
    const env = await openMarketTx(ctx);
    const { minIntervalSeconds } = await env.market();
    const r = R.parseReading(jsonObjectArgOrTransient(ctx.stub.getTransient(), readingJson, 'readingJson', 'reading'), 'reading', minIntervalSeconds);
    if (r.meterId !== meter.meterId) fail('FORBIDDEN', 'OTHER_METER', `meter ${meter.meterId} may only post its own readings, not meter ${r.meterId}'s`);
    const res = present((await readings.postReadings(ctx, meter.mspId, meter.meterId, [r]))[0], 'the result of the one reading posted');
    if (res.status === 'RECORDED') emit(ctx, EVENTS.readingRecorded, { mspId: meter.mspId, meterId: meter.meterId, intervals: [r.intervalStart] });
    return canonicalJson({ meterId: meter.meterId, intervalStart: r.intervalStart, status: res.status });
  }

  /** `{ meterId, readings: [ {intervalStart, intervalLength, importWh, ...}, ... ] }` in interval order, at most 96. */
  @Transaction()
  @Returns('string')
  async postReadings(ctx: GridLedgerContext, batchJson: string): Promise<string> {
    const meter = requireMeter(ctx, 'meters:postReadings');
    const env = await openMarketTx(ctx);
    const batch = inputOf<{ meterId: string; readings: Array<Record<string, unknown>> }>(
      'ReadingBatchInput',
      jsonObjectArgOrTransient(ctx.stub.getTransient(), batchJson, 'batchJson', 'readings'),
      'batch',
    );
    if (batch.meterId !== meter.meterId) fail('FORBIDDEN', 'OTHER_METER', `meter ${meter.meterId} may only post its own readings, not meter ${quote(batch.meterId)}'s`);
    const { minIntervalSeconds } = await env.market();
    const parsed = batch.readings.map((o, i) => {
      const r = R.parseReading(o, `readings[${i}]`, minIntervalSeconds, meter.meterId);
      if (r.meterId !== meter.meterId) fail('FORBIDDEN', 'OTHER_METER', `readings[${i}] carries meter ${r.meterId}; a batch holds one meter's readings`);
      return r;
    });
    for (let i = 1; i < parsed.length; i++) {
      if (present(parsed[i], 'reading i').intervalStart <= present(parsed[i - 1], 'reading i - 1').intervalStart) fail('INVALID_ARGUMENT', 'BAD_ORDER', `batch.readings must be in strictly increasing intervalStart order (index ${i})`);
    }
    const res = await readings.postReadings(ctx, meter.mspId, meter.meterId, parsed);
    const recorded = res.filter((x) => x.status === 'RECORDED').map((x) => x.intervalStart);
    if (recorded.length) emit(ctx, EVENTS.readingRecorded, { mspId: meter.mspId, meterId: meter.meterId, intervals: recorded });
    return canonicalJson({ meterId: meter.meterId, recorded: recorded.length, duplicates: res.length - recorded.length, results: res });
  }

  /**
   * The meter itself or an operator of its utility. Evaluate on a peer of that utility: only its
   * peers hold the raw reading (elsewhere NOT_FOUND).
   */
  @Transaction(false)
  @Returns('string')
  async getReading(ctx: GridLedgerContext, meterId: string, intervalStart: string): Promise<string> {
    const c = ownMeterOrOperator(ctx, meterId, 'read its readings');
    const start = intArg(intervalStart, 'intervalStart', 0, 4_102_444_800);
    await openMarketTx(ctx);
    const reading = await readings.privateReading(ctx, c.mspId, meterId, start);
    if (!reading) fail('NOT_FOUND', 'READING_NOT_FOUND', `meter ${meterId} of ${c.mspId} has no reading for interval ${start}`);
    return canonicalJson({ ...readings.summaryOf(c.mspId, reading), reading });
  }

  /**
   * The settlement proof of one flow of one interval (`direction` = export | import): what the
   * meter discloses as transient `exportProof` (energy:mint) or `importProof` (trades:confirmDelivery).
   * The meter itself or an operator of its utility, on a peer of that utility.
   */
  @Transaction(false)
  @Returns('string')
  async getProof(ctx: GridLedgerContext, meterId: string, intervalStart: string, direction: string): Promise<string> {
    const c = ownMeterOrOperator(ctx, meterId, 'read its reading proofs');
    const start = intArg(intervalStart, 'intervalStart', 0, 4_102_444_800);
    if (direction !== 'export' && direction !== 'import') fail('INVALID_ARGUMENT', 'BAD_DIRECTION', 'direction must be "export" or "import"');
    await openMarketTx(ctx);
    const proof = await readings.privateProof(ctx, c.mspId, meterId, start, direction);
    if (!proof) fail('NOT_FOUND', 'READING_NOT_FOUND', `meter ${meterId} of ${c.mspId} has no reading for interval ${start}`);
    return canonicalJson(proof);
  }

  /** Any caller, any peer: whether a reading exists and its hash as recorded on the channel. */
  @Transaction(false)
  @Returns('string')
  async getReadingHash(ctx: GridLedgerContext, mspId: string, meterId: string, intervalStart: string): Promise<string> {
    getCaller(ctx);
    if (!ID_PATTERN.test(mspId) || !ID_PATTERN.test(meterId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'mspId and meterId must be valid ids');
    const start = intArg(intervalStart, 'intervalStart', 0, 4_102_444_800);
    await openMarketTx(ctx);
    const readingHash = await readings.channelReadingHash(ctx, mspId, meterId, start);
    if (!readingHash) fail('NOT_FOUND', 'READING_NOT_FOUND', `meter ${meterId} of ${mspId} has no reading for interval ${start}`);
    return canonicalJson({ mspId, meterId, intervalStart: start, readingHash });
  }

  /** The meter's last posted interval: the meter itself or an operator of its utility (private head). */
  @Transaction(false)
  @Returns('string')
  async getHead(ctx: GridLedgerContext, mspId: string, meterId: string): Promise<string> {
    if (!ID_PATTERN.test(mspId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'mspId is not a valid MSP id');
    const c = ownMeterOrOperator(ctx, meterId, 'read its head');
    if (mspId !== c.mspId) fail('FORBIDDEN', 'OTHER_UTILITY', `only meter ${meterId} or an operator of ${mspId} may read its head`);
    await openMarketTx(ctx);
    const head = await readings.getHead(ctx, mspId, meterId);
    if (!head) fail('NOT_FOUND', 'READING_NOT_FOUND', `meter ${meterId} of ${mspId} has posted no reading`);
    const { last: _last, ...summary } = head;
    return canonicalJson(summary);
  }
}

function ownMeterOrOperator(ctx: GridLedgerContext, meterId: string, action: string): ReturnType<typeof getCaller> {
  const c = getCaller(ctx);
  if (!ID_PATTERN.test(meterId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'meterId is not a valid meter id');
  if (!((c.role === 'meter' && c.meterId === meterId) || c.role === 'operator')) {
    fail('FORBIDDEN', 'OTHER_METER', `only meter ${meterId} itself or an operator of its utility may ${action}`);
  }
  return c;
}
