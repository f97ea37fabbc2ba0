/**
 * Meter-reading rules (issue 3 §1), pure.
 *
 * A reading covers one metering interval [intervalStart, intervalStart + intervalLength) in Unix
 * seconds. It carries the interval's import and export in Wh and the meter's two cumulative
 * registers at the END of the interval. The raw reading is private to the meter's utility; only its
 * SHA-256 (`readingHash`, computed over the canonical sorted-key JSON we store privately) is public.
 */
import { createHash } from 'crypto';
import type { Reading as WireReading } from '@gridledger/protocol';
import { EARLIEST_INTERVAL, INTERVAL_LENGTHS, MAX_BATCH, MAX_INTERVAL_WH, readingRecordText } from '@gridledger/protocol';
import { Obj } from './validate';
import { fail } from '../../kernel/errors';
import { inputOf } from '../../kernel/args';

export { EARLIEST_INTERVAL, INTERVAL_LENGTHS, MAX_BATCH, MAX_INTERVAL_WH };

/*
 * INTERVAL_LENGTHS (packages/protocol): the interval lengths a meter may report. Which of them a network
 * accepts is the regulator's market parameter `minIntervalSeconds`: production keeps its default of
 * 300 (5 to 60 minutes); a development or test network lowers it to 60 so a trade settles in about
 * two minutes (docs/market.md "Metering intervals", docs/operations.md).
 */
/** The production floor: `minIntervalSeconds`'s default. */
export const PRODUCTION_MIN_INTERVAL_SECONDS = 300;

/** The interval lengths a network with this `minIntervalSeconds` accepts. */
export function allowedIntervalLengths(minIntervalSeconds: number): number[] {
  return INTERVAL_LENGTHS.filter((l) => l >= minIntervalSeconds);
}

/** Refuses a length that is not one of the network's metering intervals, saying which are. */
export function checkIntervalLength(length: number, minIntervalSeconds: number, what: string): void {
  const allowed = allowedIntervalLengths(minIntervalSeconds);
  if (!allowed.includes(length)) {
    const hint = length < minIntervalSeconds && (INTERVAL_LENGTHS as readonly number[]).includes(length)
      ? ` (${length} s needs the regulator's market parameter minIntervalSeconds <= ${length}; it is ${minIntervalSeconds})`
      : '';
    fail('INVALID_ARGUMENT', 'BAD_INTERVAL', `${what} must be one of ${allowed.join(', ')} seconds${hint}`);
  }
}

/** A parsed reading: the protocol's `Reading` with its `nonce` always present (`''` when none was sent), as stored and hashed. */
export type Reading = Required<WireReading>;

/**
 * The schema (ReadingInput, or ReadingItem for batch items, packages/protocol) + interval-bound checks
 * against the network's `minIntervalSeconds` (market parameter). `meterIdDefault` fills the meterId
 * of batch items.
 */
export function parseReading(o: Obj, what: string, minIntervalSeconds: number, meterIdDefault?: string): Reading {
  const input = inputOf<Omit<Reading, 'meterId' | 'nonce'> & { meterId?: string; nonce?: string }>(meterIdDefault === undefined ? 'ReadingInput' : 'ReadingItem', o, what);
  const r: Reading = {
    meterId: input.meterId ?? (meterIdDefault as string),
    intervalStart: input.intervalStart,
    intervalLength: input.intervalLength,
    importWh: input.importWh,
    exportWh: input.exportWh,
    importRegisterWh: input.importRegisterWh,
    exportRegisterWh: input.exportRegisterWh,
    nonce: input.nonce ?? '',
  };
  checkIntervalLength(r.intervalLength, minIntervalSeconds, `${what}.intervalLength`);
  if (r.intervalStart % r.intervalLength !== 0) {
    fail('INVALID_ARGUMENT', 'BAD_INTERVAL', `${what}.intervalStart must be aligned to intervalLength (${r.intervalLength} s)`);
  }
  if (r.importRegisterWh < r.importWh || r.exportRegisterWh < r.exportWh) {
    fail('INVALID_ARGUMENT', 'BAD_REGISTER', `${what}: a cumulative register cannot be smaller than the interval's own flow`);
  }
  return r;
}

/** A reading may only be posted once its interval has ended (by the guarded transaction time). */
export function checkIntervalEnded(r: Reading, now: number, what: string): void {
  const end = r.intervalStart + r.intervalLength;
  if (end > now) {
    fail('PRECONDITION_FAILED', 'INTERVAL_NOT_ENDED', `${what}: interval ending at ${end} has not ended yet (ledger time ${now})`);
  }
}

/** Canonical private record: sorted keys, no time of posting, so an identical re-post hashes identically (packages/protocol readingRecordText, which a relayed reading's signature covers too). */
export function readingRecord(r: Reading): string {
  return readingRecordText(r);
}

export function readingHash(r: Reading): string {
  return createHash('sha256').update(readingRecord(r), 'utf8').digest('hex');
}

/**
 * Settlement view of one reading: ONE flow (export for minting, import for delivery) of one
 * interval, as a salted commitment stored beside the raw reading in the utility's collection. Its
 * SHA-256 is on the channel (Fabric's hashed write), so any endorser can check a disclosed proof with
 * getPrivateDataHash without seeing the raw reading. The salt is SHA-256 over a domain tag and the
 * full raw record: unguessable without the registers, identical on every re-post of the same reading.
 */
export type FlowDirection = 'export' | 'import';

export interface FlowProof {
  direction: FlowDirection;
  meterId: string;
  intervalStart: number;
  intervalLength: number;
  wh: number;
  salt: string;
}

export function flowProof(r: Reading, direction: FlowDirection): FlowProof {
  const salt = createHash('sha256').update(`gl.market.readingProof|${direction}|`, 'utf8').update(readingRecord(r), 'utf8').digest('hex');
  const wh = direction === 'export' ? r.exportWh : r.importWh;
  return { direction, meterId: r.meterId, intervalStart: r.intervalStart, intervalLength: r.intervalLength, wh, salt };
}

/** Canonical bytes of a proof (sorted keys): what is stored privately and hashed on the channel. */
export function flowProofRecord(p: FlowProof): string {
  return JSON.stringify({ direction: p.direction, intervalLength: p.intervalLength, intervalStart: p.intervalStart, meterId: p.meterId, salt: p.salt, wh: p.wh });
}

/** A disclosed proof, checked against its schema (FlowProofInput, packages/protocol). */
export function parseFlowProof(o: Obj, what: string): FlowProof {
  return inputOf<FlowProof>('FlowProofInput', o, what);
}

/**
 * Registers never go backwards, and the growth between two readings must cover the later interval's
 * own flow (the meter cannot report more energy for one interval than its register advanced).
 */
export function checkSuccessor(prev: Reading, next: Reading, what: string): void {
  if (next.intervalStart < prev.intervalStart + prev.intervalLength) {
    fail('CONFLICT', 'OUT_OF_ORDER', `${what}: readings are posted in interval order; interval ${next.intervalStart} overlaps or precedes the last posted interval ${prev.intervalStart}`);
  }
  if (next.importRegisterWh - prev.importRegisterWh < next.importWh) {
    fail('CONFLICT', 'REGISTER_MISMATCH', `${what}: importRegisterWh went backwards or advanced less than importWh since interval ${prev.intervalStart}`);
  }
  if (next.exportRegisterWh - prev.exportRegisterWh < next.exportWh) {
    fail('CONFLICT', 'REGISTER_MISMATCH', `${what}: exportRegisterWh went backwards or advanced less than exportWh since interval ${prev.intervalStart}`);
  }
}

export type PostOutcome = 'RECORDED' | 'DUPLICATE';

/** An identical re-post is a no-op; any other content for the same interval is a conflict. */
export function classifyRepost(existingHash: string, r: Reading, what: string): PostOutcome {
  if (existingHash === readingHash(r)) return 'DUPLICATE';
  return fail('CONFLICT', 'READING_IMMUTABLE', `${what}: meter ${r.meterId} already posted a different reading for interval ${r.intervalStart}; readings are immutable`);
}
