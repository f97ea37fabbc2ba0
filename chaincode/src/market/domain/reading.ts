/**
 * Meter-reading rules (issue 3 §1), pure.
 *
 * A reading covers one metering interval [intervalStart, intervalStart + intervalLength) in Unix
 * seconds. It carries the interval's import and export in Wh and the meter's two cumulative
 * registers at the END of the interval. The raw reading is private to the meter's utility; only its
 * SHA-256 (`readingHash`, computed over the canonical sorted-key JSON we store privately) is public.
 */
import { createHash } from 'crypto';
import { MAX_QUANTITY, NONCE_PATTERN, Obj, int, optStr, str } from './validate';
import { fail } from '../../kernel/errors';
import { ID_PATTERN, onlyKeys } from '../../kernel/args';

/**
 * Interval lengths a meter may report, in seconds (1, 5, 15, 30, 60 minutes). Which of them a network
 * accepts is the regulator's market parameter `minIntervalSeconds`: production keeps its default of
 * 300 (5 to 60 minutes); a development or test network lowers it to 60 so a trade settles in about
 * two minutes (docs/market.md "Metering intervals", docs/operations.md).
 */
export const INTERVAL_LENGTHS = [60, 300, 900, 1800, 3600] as const;
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
/** Earliest interval we accept: 2020-01-01T00:00:00Z — older data is a clock error, not a reading. */
export const EARLIEST_INTERVAL = 1_577_836_800;
/** A batch is bounded so that one transaction stays small (one day of 15-minute intervals). */
export const MAX_BATCH = 96;
/** Physical ceiling on one interval's flow through a household/feeder meter (10 MWh). */
export const MAX_INTERVAL_WH = 10_000_000;

export interface Reading {
  meterId: string;
  intervalStart: number;
  intervalLength: number;
  importWh: number;
  exportWh: number;
  importRegisterWh: number;
  exportRegisterWh: number;
  /** Optional meter-chosen nonce: makes the public hash unguessable by dictionary attack. Never used in a decision. */
  nonce: string;
}

const READING_FIELDS = ['meterId', 'intervalStart', 'intervalLength', 'importWh', 'exportWh', 'importRegisterWh', 'exportRegisterWh', 'nonce'] as const;

/**
 * Schema + interval-bound checks against the network's `minIntervalSeconds` (market parameter).
 * `meterIdDefault` fills the meterId of batch items.
 */
export function parseReading(o: Obj, what: string, minIntervalSeconds: number, meterIdDefault?: string): Reading {
  onlyKeys(o, READING_FIELDS, what);
  const src: Obj = o.meterId === undefined && meterIdDefault !== undefined ? { ...o, meterId: meterIdDefault } : o;
  const r: Reading = {
    meterId: str(src, 'meterId', ID_PATTERN, what, 'a meter id (1-128 of A-Z a-z 0-9 . _ : -)'),
    intervalStart: int(src, 'intervalStart', EARLIEST_INTERVAL, 4_102_444_800, what),
    intervalLength: int(src, 'intervalLength', 1, 86_400, what),
    importWh: int(src, 'importWh', 0, MAX_INTERVAL_WH, what),
    exportWh: int(src, 'exportWh', 0, MAX_INTERVAL_WH, what),
    importRegisterWh: int(src, 'importRegisterWh', 0, MAX_QUANTITY, what),
    exportRegisterWh: int(src, 'exportRegisterWh', 0, MAX_QUANTITY, what),
    nonce: optStr(src, 'nonce', NONCE_PATTERN, what, 'at most 128 of A-Z a-z 0-9 . _ : -', ''),
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

/** Canonical private record: sorted keys, no time of posting, so an identical re-post hashes identically. */
export function readingRecord(r: Reading): string {
  const keys = [...READING_FIELDS].sort();
  const ordered: Record<string, unknown> = {};
  for (const k of keys) ordered[k] = r[k];
  return JSON.stringify(ordered);
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

const PROOF_FIELDS = ['direction', 'meterId', 'intervalStart', 'intervalLength', 'wh', 'salt'] as const;

export function parseFlowProof(o: Obj, what: string): FlowProof {
  onlyKeys(o, PROOF_FIELDS, what);
  const direction = o.direction;
  if (direction !== 'export' && direction !== 'import') fail('INVALID_ARGUMENT', 'BAD_DIRECTION', `${what}.direction must be "export" or "import"`);
  const salt = o.salt;
  if (typeof salt !== 'string' || !/^[0-9a-f]{64}$/.test(salt)) fail('INVALID_ARGUMENT', 'BAD_SALT', `${what}.salt must be 64 lowercase hex digits`);
  return {
    direction,
    meterId: str(o, 'meterId', ID_PATTERN, what, 'a meter id'),
    intervalStart: int(o, 'intervalStart', EARLIEST_INTERVAL, 4_102_444_800, what),
    intervalLength: int(o, 'intervalLength', 1, 86_400, what),
    wh: int(o, 'wh', 0, MAX_INTERVAL_WH, what),
    salt,
  };
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
