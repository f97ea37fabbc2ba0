import { createHash } from 'node:crypto';
import { BlockUpdates, CommittedVersions, compareKeys, validateReads } from '../../src/peer/mvcc';
import { decodeTxRwset, Version } from '../../src/peer/rwset';
import { RangeQueryResultsHelper } from '../../src/chaincode/rangeQueryHelper';
import { ledger } from '@hyperledger/fabric-protos';
import { rwsetBytes, RwsetSpec } from './txBuilder';

function state(entries: Record<string, Version>, hashed: Record<string, Version> = {}): CommittedVersions {
  return {
    version: async (_ns, key) => entries[key],
    hashedVersion: async (_ns, _c, kh) => hashed[kh.toString('hex')],
    range: (_ns, start, end) => ({
      async *[Symbol.asyncIterator]() {
        const keys = Object.keys(entries).sort(compareKeys).filter((k) => compareKeys(k, start) >= 0 && (end === '' || compareKeys(k, end) < 0));
        for (const k of keys) {
          const version = entries[k];
          if (version) yield { key: k, version };
        }
      },
    }),
  };
}
const v = (blockNum: number, txNum = 0): Version => ({ blockNum, txNum });
const rw = (spec: RwsetSpec[]) => decodeTxRwset(rwsetBytes(spec));

describe('MVCC and phantom validation', () => {
  it('VALID when read versions match committed state (absent key = nil version)', async () => {
    const s = state({ a: v(1) });
    expect(await validateReads(rw([{ ns: 'cc', reads: [{ key: 'a', version: v(1) }, { key: 'missing' }] }]), s, new BlockUpdates())).toBe(0);
  });

  it('MVCC_READ_CONFLICT when the committed version moved or the key appeared', async () => {
    const s = state({ a: v(2) });
    expect(await validateReads(rw([{ ns: 'cc', reads: [{ key: 'a', version: v(1) }] }]), s, new BlockUpdates())).toBe(11);
    expect(await validateReads(rw([{ ns: 'cc', reads: [{ key: 'a' }] }]), s, new BlockUpdates())).toBe(11);
  });

  it('MVCC_READ_CONFLICT when an earlier valid tx of the block wrote the key', async () => {
    const s = state({ a: v(1) });
    const u = new BlockUpdates();
    u.apply(rw([{ ns: 'cc', writes: [{ key: 'a', value: 'x' }] }]), v(5, 0));
    expect(await validateReads(rw([{ ns: 'cc', reads: [{ key: 'a', version: v(1) }] }]), s, u)).toBe(11);
    // another namespace is unaffected
    expect(await validateReads(rw([{ ns: 'other', reads: [{ key: 'a' }] }]), state({}), u)).toBe(0);
  });

  it('hashed (private) reads are checked too', async () => {
    const kh = createHash('sha256').update('k').digest();
    const s = state({}, { [kh.toString('hex')]: v(3) });
    expect(await validateReads(rw([{ ns: 'cc', collections: [{ name: 'c', hashedReads: [{ keyHash: kh, version: v(3) }] }] }]), s, new BlockUpdates())).toBe(0);
    expect(await validateReads(rw([{ ns: 'cc', collections: [{ name: 'c', hashedReads: [{ keyHash: kh, version: v(2) }] }] }]), s, new BlockUpdates())).toBe(11);
    const u = new BlockUpdates();
    u.apply(rw([{ ns: 'cc', collections: [{ name: 'c', hashedWrites: [kh] }] }]), v(9));
    expect(await validateReads(rw([{ ns: 'cc', collections: [{ name: 'c', hashedReads: [{ keyHash: kh, version: v(3) }] }] }]), s, u)).toBe(11);
  });

  it('PHANTOM_READ_CONFLICT when a key appears in, or disappears from, a recorded range', async () => {
    const range = { start: 'a', end: 'c', exhausted: true, reads: [{ key: 'a', version: v(1) }, { key: 'b', version: v(1) }] };
    expect(await validateReads(rw([{ ns: 'cc', ranges: [range] }]), state({ a: v(1), b: v(1), c: v(1) }), new BlockUpdates())).toBe(0);
    expect(await validateReads(rw([{ ns: 'cc', ranges: [range] }]), state({ a: v(1), ab: v(4), b: v(1) }), new BlockUpdates())).toBe(12);
    expect(await validateReads(rw([{ ns: 'cc', ranges: [range] }]), state({ a: v(1) }), new BlockUpdates())).toBe(12);
    const u = new BlockUpdates();
    u.apply(rw([{ ns: 'cc', writes: [{ key: 'aa', value: 'new' }] }]), v(7));
    expect(await validateReads(rw([{ ns: 'cc', ranges: [range] }]), state({ a: v(1), b: v(1) }), u)).toBe(12);
    const del = new BlockUpdates();
    del.apply(rw([{ ns: 'cc', writes: [{ key: 'b', isDelete: true }] }]), v(7));
    expect(await validateReads(rw([{ ns: 'cc', ranges: [range] }]), state({ a: v(1), b: v(1) }), del)).toBe(12);
  });

  it('an iterator stopped early covers [start, lastKey] inclusive and ignores later keys', async () => {
    const range = { start: 'a', end: 'b', exhausted: false, reads: [{ key: 'a', version: v(1) }, { key: 'b', version: v(1) }] };
    expect(await validateReads(rw([{ ns: 'cc', ranges: [range] }]), state({ a: v(1), b: v(1), z: v(2) }), new BlockUpdates())).toBe(0);
    expect(await validateReads(rw([{ ns: 'cc', ranges: [range] }]), state({ a: v(1), b: v(2) }), new BlockUpdates())).toBe(12);
  });

  it('re-computes Merkle summaries of large ranges', async () => {
    const entries: Record<string, Version> = {};
    for (let i = 0; i < 120; i++) entries[`k${String(i).padStart(3, '0')}`] = v(1, i);
    const helper = new RangeQueryResultsHelper(true, 50);
    for (const [k, version] of Object.entries(entries).sort(([a], [b]) => compareKeys(a, b))) helper.add({ key: k, version });
    const done = helper.done();
    expect(done.merkle).not.toBeNull();
    const kv = ledger.rwset.kvrwset;
    const q = new kv.RangeQueryInfo();
    q.setStartKey('k');
    q.setEndKey('l');
    q.setItrExhausted(true);
    const m = new kv.QueryReadsMerkleSummary();
    m.setMaxDegree(done.merkle!.maxDegree);
    m.setMaxLevel(done.merkle!.maxLevel);
    m.setMaxLevelHashesList(done.merkle!.maxLevelHashes);
    q.setReadsMerkleHashes(m);
    const set = new kv.KVRWSet();
    set.setRangeQueriesInfoList([q]);
    const ns = new ledger.rwset.NsReadWriteSet();
    ns.setNamespace('cc');
    ns.setRwset(set.serializeBinary());
    const tx = new ledger.rwset.TxReadWriteSet();
    tx.setNsRwsetList([ns]);
    const decoded = decodeTxRwset(tx.serializeBinary());
    expect(await validateReads(decoded, state(entries), new BlockUpdates())).toBe(0);
    expect(await validateReads(decoded, state({ ...entries, k050a: v(3) }), new BlockUpdates())).toBe(12);
  });
});
