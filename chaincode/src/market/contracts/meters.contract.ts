import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import * as R from '../domain/reading';
import { EVENTS, relayedReadingMessage } from '@gridledger/protocol';
import { emit, emitAll } from '../../kernel/events';
import { getCaller, requireMeter, requireOperator } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import * as readings from '../ledger/readings';
import * as meterKeys from '../ledger/meterKeys';
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
   * Meter: records the public key of the certificate this transaction is signed with (taken from
   * `ctx.clientIdentity`, which Fabric's MSP authenticated), so that its utility's gateway may relay
   * its signed readings in cross-meter batches (relayReadings). Idempotent; a re-enrolled certificate
   * replaces the key; refused once the utility revoked the key. Writes only the utility's collection.
   */
  @Transaction()
  @Returns('string')
  async registerKey(ctx: GridLedgerContext): Promise<string> {
    const meter = requireMeter(ctx, 'meters:registerKey');
    await openMarketTx(ctx);
    const { spki: _spki, ...rec } = await meterKeys.registerKey(ctx, meter.mspId, meter.meterId);
    return canonicalJson(rec);
  }

  /** Operator: retires a meter's key for good (its relayed readings are refused from then on). */
  @Transaction()
  @Returns('string')
  async revokeKey(ctx: GridLedgerContext, meterId: string): Promise<string> {
    const op = requireOperator(ctx, 'meters:revokeKey');
    if (!ID_PATTERN.test(meterId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'meterId is not a valid meter id');
    await openMarketTx(ctx);
    const { spki: _spki, ...rec } = await meterKeys.revokeKey(ctx, op.mspId, meterId);
    return canonicalJson(rec);
  }

  /**
   * Operator (its utility's gateway): readings of MANY meters of the operator's own utility, each
   * signed by its meter's registered key over `relayedReadingMessage` (packages/protocol: channel,
   * MSP, meter, the reading's canonical record). Each reading is checked and recorded exactly as
   * postReading would (same duplicate and conflict rules, same collection, one ReadingRecorded event
   * per meter), with ONE verdict each, in the order given: RECORDED, DUPLICATE, REFUSED (reason: the
   * rule's sub-code — KEY_NOT_REGISTERED, KEY_REVOKED, BAD_SIGNATURE, OTHER_METER, BAD_ORDER, or the
   * reading rule's own) or NOT_TRIED (an earlier reading of that meter in the batch was refused). A
   * meter's readings must come in increasing interval order; meters are looked up in the operator's
   * OWN utility only, so a meter of another utility is never found (KEY_NOT_REGISTERED). Keys touched:
   * each meter's own, so concurrent batches of different meters never collide.
   */
  @Transaction()
  @Returns('string')
  async relayReadings(ctx: GridLedgerContext, relayJson: string): Promise<string> {
    const op = requireOperator(ctx, 'meters:relayReadings');
    const env = await openMarketTx(ctx);
    const input = inputOf<{ entries: Array<{ meterId: string; reading: Record<string, unknown>; signature: string }> }>(
      'RelayedReadingsInput',
      jsonObjectArgOrTransient(ctx.stub.getTransient(), relayJson, 'relayJson', 'relay'),
      'relay',
    );
    const { minIntervalSeconds } = await env.market();
    const channel = ctx.stub.getChannelID();
    const verdicts: Array<readings.Verdict | undefined> = input.entries.map(() => undefined);
    const recordedEvents: unknown[] = [];
    const byMeter = new Map<string, number[]>(); // meter → its entries' indexes, in the order given
    input.entries.forEach((e, i) => {
      const idx = byMeter.get(e.meterId);
      if (idx) idx.push(i);
      else byMeter.set(e.meterId, [i]);
    });
    for (const [meterId, idx] of byMeter) {
      const key = await meterKeys.getMeterKey(ctx, op.mspId, meterId);
      const accepted: R.Reading[] = [];
      for (const [k, i] of idx.entries()) {
        const e = present(input.entries[i], 'entry i');
        const start = intervalOf(e.reading);
        try {
          const r = R.parseReading(e.reading, `entries[${i}].reading`, minIntervalSeconds, meterId);
          if (r.meterId !== meterId) fail('FORBIDDEN', 'OTHER_METER', `entries[${i}] names meter ${quote(meterId)} but its reading carries meter ${quote(r.meterId)}`);
          if (!key) fail('PRECONDITION_FAILED', 'KEY_NOT_REGISTERED', `meter ${meterId} of ${op.mspId} has registered no key (meters:registerKey, signed by the meter)`);
          if (key.status !== 'ACTIVE') fail('FORBIDDEN', 'KEY_REVOKED', `meter ${meterId}'s key was revoked by ${op.mspId}`);
          const last = accepted[accepted.length - 1];
          if (last && r.intervalStart <= last.intervalStart) fail('INVALID_ARGUMENT', 'BAD_ORDER', `entries[${i}]: meter ${meterId}'s readings must come in strictly increasing intervalStart order`);
          if (!meterKeys.verifiesWith(key, relayedReadingMessage(channel, op.mspId, r), e.signature)) {
            fail('INVALID_ARGUMENT', 'BAD_SIGNATURE', `entries[${i}]: the signature does not verify with meter ${meterId}'s registered key`);
          }
          accepted.push(r);
        } catch (err) {
          verdicts[i] = readings.refusal(start, err);
          for (const j of idx.slice(k + 1)) verdicts[j] = { intervalStart: intervalOf(input.entries[j]?.reading), status: 'NOT_TRIED' };
          break;
        }
      }
      if (accepted.length === 0) continue;
      const posted = await readings.postReadingVerdicts(ctx, op.mspId, meterId, accepted);
      posted.forEach((v, k) => (verdicts[present(idx[k], 'index k')] = v));
      const recorded = posted.filter((v) => v.status === 'RECORDED').map((v) => v.intervalStart);
      if (recorded.length) recordedEvents.push({ mspId: op.mspId, meterId, intervals: recorded });
    }
    emitAll(ctx, EVENTS.readingRecorded, recordedEvents);
    const results = input.entries.map((e, i) => ({ meterId: e.meterId, ...present(verdicts[i], 'verdict i') }));
    const count = (...st: string[]) => results.filter((v) => st.includes(v.status)).length;
    return canonicalJson({ mspId: op.mspId, recorded: count('RECORDED'), duplicates: count('DUPLICATE'), refused: count('REFUSED', 'NOT_TRIED'), results });
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

/** A relayed entry's intervalStart for its verdict (0 when the entry has none a verdict could name). */
function intervalOf(reading: Record<string, unknown> | undefined): number {
  const v = reading?.intervalStart;
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : 0;
}
