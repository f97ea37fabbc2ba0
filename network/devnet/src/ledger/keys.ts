/**
 * LevelDB key layout of the ledger store. Everything lives in one LevelDB so one WriteBatch can
 * commit a whole block atomically.
 *
 *   S ns 00 key                                  public state        -> StateRecord
 *   K ns 00 coll 00 sha256(key)                  hashed private state -> HashedRecord
 *   P org 00 ns 00 coll 00 key                   private state of one member org -> StateRecord
 *   H ns 00 u32be(len key) key u64be(block) u32be(tx)   history entry -> HistoryRecord
 *   T txId                                       tx index            -> TxStatus
 *   B u64be(block)                               raw block bytes
 *   E u64be(block) u32be(tx)                     chaincode event of a valid tx
 *   M "height"                                   blocks committed
 *
 * State keys are appended as raw UTF-8, so LevelDB's bytewise comparator gives exactly Fabric's
 * key order (P§8.7): composite keys (leading 0x00) first, U+10FFFF (F4 8F BF BF) last. History
 * keys length-prefix the state key because a key may itself contain 0x00 (composite keys), and a
 * plain separator would interleave the histories of "a" and "a\0b".
 */
import { LedgerError } from './errors';

const SEP = Buffer.from([0]);

function name(kind: string, value: string): Buffer {
  // Names (namespaces, collections, orgs) are separated by 0x00, so they must not contain it.
  if (value.includes('\u0000')) throw new LedgerError('corrupt-record', `${kind} name must not contain NUL: ${JSON.stringify(value)}`);
  return Buffer.from(value, 'utf8');
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export function readU64(buf: Buffer, offset: number): number {
  return Number(buf.readBigUInt64BE(offset));
}

/** Compare two keys as Fabric does: UTF-8 byte strings (not UTF-16 code units). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Smallest buffer greater than every buffer that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  throw new LedgerError('corrupt-record', 'prefix has no upper bound');
}

export const HEIGHT_KEY = Buffer.from('Mheight', 'utf8');

export function statePrefix(ns: string): Buffer {
  return Buffer.concat([Buffer.from('S'), name('namespace', ns), SEP]);
}
export function stateKey(ns: string, key: string): Buffer {
  return Buffer.concat([statePrefix(ns), Buffer.from(key, 'utf8')]);
}

export function hashedKey(ns: string, coll: string, keyHash: Buffer): Buffer {
  return Buffer.concat([Buffer.from('K'), name('namespace', ns), SEP, name('collection', coll), SEP, keyHash]);
}

export function privatePrefix(org: string, ns: string, coll: string): Buffer {
  return Buffer.concat([Buffer.from('P'), name('org', org), SEP, name('namespace', ns), SEP, name('collection', coll), SEP]);
}
export function privateKey(org: string, ns: string, coll: string, key: string): Buffer {
  return Buffer.concat([privatePrefix(org, ns, coll), Buffer.from(key, 'utf8')]);
}

export function historyPrefix(ns: string, key: string): Buffer {
  const k = Buffer.from(key, 'utf8');
  return Buffer.concat([Buffer.from('H'), name('namespace', ns), SEP, u32(k.length), k]);
}
export function historyKey(ns: string, key: string, blockNum: number, txNum: number): Buffer {
  return Buffer.concat([historyPrefix(ns, key), u64(blockNum), u32(txNum)]);
}

export function txKey(txId: string): Buffer {
  return Buffer.concat([Buffer.from('T'), Buffer.from(txId, 'utf8')]);
}

export function blockKey(blockNum: number): Buffer {
  return Buffer.concat([Buffer.from('B'), u64(blockNum)]);
}

export function eventPrefix(blockNum: number): Buffer {
  return Buffer.concat([Buffer.from('E'), u64(blockNum)]);
}
export function eventKey(blockNum: number, txIndex: number): Buffer {
  return Buffer.concat([eventPrefix(blockNum), u32(txIndex)]);
}
