/**
 * MVCC and phantom-read validation (P§5 codes 11 and 12), in block order, against committed state
 * plus the writes of earlier VALID transactions of the same block
 * (F core/ledger/kvledger/txmgmt/validation/validator.go, rangequery_validator.go).
 */
import { RangeQueryResultsHelper } from '../chaincode/rangeQueryHelper';
import type { NsRwset, Version } from './rwset';
import { TxCode } from './validationCodes';

/** What the validator needs from the committed state (LedgerStore adapts to it). */
export interface CommittedVersions {
  version(ns: string, key: string): Promise<Version | undefined>;
  hashedVersion(ns: string, coll: string, keyHash: Buffer): Promise<Version | undefined>;
  /** [start, end) in UTF-8 byte order; end '' = unbounded */
  range(ns: string, start: string, end: string): AsyncIterable<{ key: string; version: Version }>;
}

/** Writes of earlier valid transactions in the block being validated. */
export class BlockUpdates {
  private readonly pub = new Map<string, Map<string, { version: Version; isDelete: boolean }>>();
  private readonly hashed = new Map<string, Set<string>>();

  apply(rwset: NsRwset[], version: Version): void {
    for (const ns of rwset) {
      let m = this.pub.get(ns.namespace);
      if (!m) this.pub.set(ns.namespace, (m = new Map<string, { version: Version; isDelete: boolean }>()));
      for (const w of ns.writes) m.set(w.key, { version, isDelete: w.isDelete });
      for (const mw of ns.metadataWrites) if (!m.has(mw.key)) m.set(mw.key, { version, isDelete: false });
      for (const c of ns.collections) {
        const k = `${ns.namespace}\u0000${c.name}`;
        let s = this.hashed.get(k);
        if (!s) this.hashed.set(k, (s = new Set()));
        for (const w of c.hashedWrites) s.add(w.keyHash.toString('hex'));
      }
    }
  }
  has(ns: string, key: string): boolean {
    return this.pub.get(ns)?.has(key) ?? false;
  }
  hasHashed(ns: string, coll: string, keyHash: Buffer): boolean {
    return this.hashed.get(`${ns}\u0000${coll}`)?.has(keyHash.toString('hex')) ?? false;
  }
  /** in-block updates of ns whose key lies in [start, end) (end '' = unbounded) */
  inRange(ns: string, start: string, end: string): Array<{ key: string; version: Version; isDelete: boolean }> {
    const out: Array<{ key: string; version: Version; isDelete: boolean }> = [];
    for (const [key, u] of this.pub.get(ns) ?? []) if (inRange(key, start, end)) out.push({ key, ...u });
    return out;
  }
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
function inRange(key: string, start: string, end: string): boolean {
  return compareKeys(key, start) >= 0 && (end === '' || compareKeys(key, end) < 0);
}
export function sameVersion(a: Version | null | undefined, b: Version | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.blockNum === b.blockNum && a.txNum === b.txNum;
}

/** Returns 0 (VALID), 11 or 12. */
export async function validateReads(rwset: NsRwset[], state: CommittedVersions, updates: BlockUpdates): Promise<number> {
  for (const ns of rwset) {
    for (const r of ns.reads) {
      if (updates.has(ns.namespace, r.key)) return TxCode.MVCC_READ_CONFLICT;
      if (!sameVersion(await state.version(ns.namespace, r.key), r.version)) return TxCode.MVCC_READ_CONFLICT;
    }
    for (const c of ns.collections) {
      for (const r of c.hashedReads) {
        if (updates.hasHashed(ns.namespace, c.name, r.keyHash)) return TxCode.MVCC_READ_CONFLICT;
        if (!sameVersion(await state.hashedVersion(ns.namespace, c.name, r.keyHash), r.version)) return TxCode.MVCC_READ_CONFLICT;
      }
    }
  }
  for (const ns of rwset) {
    for (const q of ns.ranges) {
      if (!(await rangeUnchanged(ns.namespace, q, state, updates))) return TxCode.PHANTOM_READ_CONFLICT;
    }
  }
  return 0;
}

async function rangeUnchanged(ns: string, q: NsRwset['ranges'][number], state: CommittedVersions, updates: BlockUpdates): Promise<boolean> {
  // When the iterator stopped early the recorded end key is the last key handed out, inclusive.
  const end = q.itrExhausted || q.endKey === '' ? q.endKey : `${q.endKey}\u0000`;
  const combined = new Map<string, Version>();
  for await (const kv of state.range(ns, q.startKey, end)) combined.set(kv.key, kv.version);
  const inBlock = updates.inRange(ns, q.startKey, end);
  for (const u of inBlock) {
    if (u.isDelete) combined.delete(u.key);
    else combined.set(u.key, u.version);
  }
  const keys = [...combined.keys()].sort(compareKeys);
  if (q.rawReads === null) {
    // Large ranges are recorded as a Merkle summary: recompute it over today's results (F rangeQueryHashValidator).
    if (!q.merkle) return false;
    const helper = new RangeQueryResultsHelper(true, q.merkle.maxDegree);
    for (const k of keys) helper.add({ key: k, version: combined.get(k)! });
    const got = helper.done();
    if (!got.merkle) return false;
    return (
      got.merkle.maxLevel === q.merkle.maxLevel &&
      got.merkle.maxLevelHashes.length === q.merkle.maxLevelHashes.length &&
      got.merkle.maxLevelHashes.every((h, i) => { const want = q.merkle!.maxLevelHashes[i]; return want !== undefined && h.equals(want); })
    );
  }
  if (keys.length !== q.rawReads.length) return false;
  for (const [i, k] of keys.entries()) {
    const r = q.rawReads[i];
    if (!r || r.key !== k || !sameVersion(combined.get(k), r.version)) return false;
  }
  return true;
}
