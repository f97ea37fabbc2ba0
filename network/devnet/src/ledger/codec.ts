/**
 * Encoding of the records stored as LevelDB values. JSON with base64 for byte fields: records are
 * small, the format is self-describing and easy to inspect with a LevelDB dump when debugging.
 */
import { LedgerError } from './errors';
import type { KeyModification, StoredEvent, TxStatus, Version, VersionedValue } from './types';

interface StateJson {
  v: string;
  b: number;
  t: number;
  m?: Record<string, string>;
}

function parse<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (err) {
    throw new LedgerError('corrupt-record', `cannot decode ${what}: ${(err as Error).message}`);
  }
}

export function encodeState(vv: VersionedValue): Buffer {
  const rec: StateJson = { v: vv.value.toString('base64'), b: vv.version.blockNum, t: vv.version.txNum };
  if (vv.metadata && Object.keys(vv.metadata).length > 0) {
    rec.m = {};
    for (const k of Object.keys(vv.metadata).sort()) rec.m[k] = vv.metadata[k]!.toString('base64');
  }
  return Buffer.from(JSON.stringify(rec), 'utf8');
}

export function decodeState(buf: Buffer): VersionedValue {
  const rec = parse<StateJson>(buf, 'state record');
  const vv: VersionedValue = { value: Buffer.from(rec.v, 'base64'), version: { blockNum: rec.b, txNum: rec.t } };
  if (rec.m) {
    vv.metadata = {};
    for (const [k, v] of Object.entries(rec.m)) vv.metadata[k] = Buffer.from(v, 'base64');
  }
  return vv;
}

export function encodeHashed(valueHash: Buffer, version: Version): Buffer {
  return Buffer.from(JSON.stringify({ h: valueHash.toString('base64'), b: version.blockNum, t: version.txNum }), 'utf8');
}

export function decodeHashed(buf: Buffer): { valueHash: Buffer; version: Version } {
  const rec = parse<{ h: string; b: number; t: number }>(buf, 'hashed record');
  return { valueHash: Buffer.from(rec.h, 'base64'), version: { blockNum: rec.b, txNum: rec.t } };
}

export function encodeHistory(m: KeyModification): Buffer {
  return Buffer.from(
    JSON.stringify({ id: m.txId, v: m.value.toString('base64'), s: m.timestampSeconds, n: m.timestampNanos, d: m.isDelete }),
    'utf8',
  );
}

export function decodeHistory(buf: Buffer): KeyModification {
  const rec = parse<{ id: string; v: string; s: number; n: number; d: boolean }>(buf, 'history record');
  return { txId: rec.id, value: Buffer.from(rec.v, 'base64'), timestampSeconds: rec.s, timestampNanos: rec.n, isDelete: rec.d };
}

export function encodeTxStatus(s: TxStatus): Buffer {
  return Buffer.from(JSON.stringify({ c: s.code, b: s.blockNum, i: s.txIndex }), 'utf8');
}

export function decodeTxStatus(buf: Buffer): TxStatus {
  const rec = parse<{ c: number; b: number; i: number }>(buf, 'tx index record');
  return { code: rec.c, blockNum: rec.b, txIndex: rec.i };
}

export function encodeEvent(e: StoredEvent): Buffer {
  return Buffer.from(
    JSON.stringify({ c: e.chaincodeId, id: e.txId, n: e.eventName, p: e.payload.toString('base64'), i: e.txIndex }),
    'utf8',
  );
}

export function decodeEvent(buf: Buffer): StoredEvent {
  const rec = parse<{ c: string; id: string; n: string; p: string; i: number }>(buf, 'event record');
  return { chaincodeId: rec.c, txId: rec.id, eventName: rec.n, payload: Buffer.from(rec.p, 'base64'), txIndex: rec.i };
}
