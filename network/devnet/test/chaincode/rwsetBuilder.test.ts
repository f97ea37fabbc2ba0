import { createHash } from 'node:crypto';
import { ledger } from '@hyperledger/fabric-protos';
import { RangeQueryResultsHelper, RwSetBuilder, accessOf, defaultMembership, principalsOfPolicyText } from '../../src/chaincode';
import { toKVRead } from '../../src/chaincode/rangeQueryHelper';
import { decodeRwset, sha256hex } from './harness';

const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const kv = ledger.rwset.kvrwset;
const reads = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, version: { blockNum: 1, txNum: from + i } }));
const leaf = (rs: ReturnType<typeof reads>): Buffer => {
  const q = new kv.QueryReads();
  q.setKvReadsList(rs.map(toKVRead));
  return sha(q.serializeBinary());
};

describe('RangeQueryResultsHelper (Fabric query_results_helper semantics)', () => {
  it('keeps up to maxDegree reads raw', () => {
    const h = new RangeQueryResultsHelper(true, 3);
    reads(3).forEach((r) => h.add(r));
    expect(h.done()).toEqual({ rawReads: reads(3), merkle: null });
  });

  it('hashes groups of maxDegree+1 reads into leaves and the remainder at the end', () => {
    const h = new RangeQueryResultsHelper(true, 3);
    reads(6).forEach((r) => h.add(r));
    expect(h.done()).toEqual({ rawReads: null, merkle: { maxDegree: 3, maxLevel: 1, maxLevelHashes: [leaf(reads(4)), leaf(reads(2, 4))] } });
  });

  it('combines a full level into the next one', () => {
    const h = new RangeQueryResultsHelper(true, 2);
    const all = reads(9); // leaves of 3 reads: 3 leaves > maxDegree 2 => one level-2 hash
    all.forEach((r) => h.add(r));
    const leaves = [leaf(all.slice(0, 3)), leaf(all.slice(3, 6)), leaf(all.slice(6, 9))];
    expect(h.done()).toEqual({ rawReads: null, merkle: { maxDegree: 2, maxLevel: 2, maxLevelHashes: [sha(Buffer.concat(leaves))] } });
  });

  it('with hashing disabled keeps everything raw', () => {
    const h = new RangeQueryResultsHelper(false, 2);
    reads(10).forEach((r) => h.add(r));
    expect(h.done()).toEqual({ rawReads: reads(10), merkle: null });
  });
});

describe('RwSetBuilder', () => {
  it('sorts namespaces, reads, writes, collections and hashed entries by key bytes', () => {
    const b = new RwSetBuilder();
    b.addWrite('zz', 'b', Buffer.from('1'));
    b.addWrite('aa', '\u{1F600}', Buffer.from('2'));
    b.addWrite('aa', '\uffff', Buffer.from('3'));
    b.addRead('aa', 'y', { blockNum: 2, txNum: 0 });
    b.addRead('aa', 'x', null);
    b.addRead('aa', 'y', { blockNum: 3, txNum: 1 }); // last read wins
    b.addHashedRead('aa', 'c2', 'b', null);
    b.addPrivateWrite('aa', 'c1', 'q', Buffer.from('v'));
    b.addPrivateWrite('aa', 'c1', 'p', Buffer.from('w'));
    const out = b.build();
    const d = decodeRwset(out.rwsetBytes);
    expect(d.map((n) => n.namespace)).toEqual(['aa', 'zz']);
    expect(d[0]!.reads).toEqual([{ key: 'x', version: null }, { key: 'y', version: { blockNum: 3, txNum: 1 } }]);
    expect(d[0]!.writes.map((w) => w.key)).toEqual(['\uffff', '\u{1F600}']);
    expect(d[0]!.colls.map((c) => c.name)).toEqual(['c1', 'c2']);
    // Hashed writes are ordered by the plain key (Fabric keys its maps by key, not by hash).
    expect(d[0]!.colls[0]!.hashedWrites.map((w) => w.keyHash)).toEqual([sha256hex('p'), sha256hex('q')]);
    expect(d[0]!.colls[1]!.pvtRwsetHash).toBe(''); // reads only: no private rwset
    expect(out.privateData.map((p) => p.key)).toEqual(['p', 'q']);
    // pvt_rwset_hash = SHA-256 of the collection's private KVRWSet bytes.
    const pvt = ledger.rwset.TxPvtReadWriteSet.deserializeBinary(out.pvtRwsetBytes!);
    const c1 = pvt.getNsPvtRwsetList()[0]!.getCollectionPvtRwsetList()[0]!;
    expect(c1.getCollectionName()).toBe('c1');
    expect(d[0]!.colls[0]!.pvtRwsetHash).toBe(sha256hex(c1.getRwset_asU8()));
  });

  it('is independent of insertion order (determinism across endorsers)', () => {
    const ops: Array<(b: RwSetBuilder) => void> = [
      (b) => b.addWrite('cc', 'k2', Buffer.from('2')),
      (b) => b.addWrite('cc', 'k1', Buffer.from('1')),
      (b) => b.addRead('cc', 'r', { blockNum: 0, txNum: 0 }),
      (b) => b.addMetadataWrite('cc', 'k1', { B: Buffer.from('b'), A: Buffer.from('a') }),
      (b) => b.addPrivateWrite('cc', 'col', 'pk', Buffer.from('x')),
    ];
    const one = new RwSetBuilder();
    ops.forEach((op) => op(one));
    const two = new RwSetBuilder();
    [...ops].reverse().forEach((op) => op(two));
    expect(one.build().rwsetBytes.equals(two.build().rwsetBytes)).toBe(true);
    expect(decodeRwset(one.build().rwsetBytes)[0]!.metadataWrites).toEqual([{ key: 'k1', entries: { A: 'a', B: 'b' } }]);
  });

  it('keeps range queries in opening order, de-duplicated on (start, end, exhausted)', () => {
    const b = new RwSetBuilder();
    const q = (startKey: string, endKey: string, itrExhausted: boolean) => ({ startKey, endKey, itrExhausted, rawReads: [], merkle: null });
    b.addRangeQuery('cc', q('m', 'n', true));
    b.addRangeQuery('cc', q('a', 'b', true));
    b.addRangeQuery('cc', q('m', 'n', true));
    b.addRangeQuery('cc', q('m', 'n', false));
    expect(decodeRwset(b.build().rwsetBytes)[0]!.ranges.map((r) => `${r.startKey}-${r.endKey}-${r.itrExhausted}`)).toEqual(['m-n-true', 'a-b-true', 'm-n-false']);
  });

  it('produces an empty TxReadWriteSet for a tx that touched nothing', () => {
    const out = new RwSetBuilder().build();
    expect(decodeRwset(out.rwsetBytes)).toEqual([]);
    expect(out.pvtRwsetBytes).toBeUndefined();
  });
});

describe('collection access (P§3.6)', () => {
  const coll = (memberOnlyRead: boolean, memberOnlyWrite: boolean) => ({ name: 'c', policy: "OR('Org1MSP.member', 'Org2MSP.peer')", memberOnlyRead, memberOnlyWrite, endorsementPolicy: null });

  it('derives members from the policy principals', () => {
    expect(principalsOfPolicyText("OR('Org1MSP.member', 'Org2MSP.peer')")).toEqual([
      { mspId: 'Org1MSP', role: 'member' },
      { mspId: 'Org2MSP', role: 'peer' },
    ]);
    expect(defaultMembership({ mspId: 'Org1MSP', role: 'client' }, coll(true, true))).toBe(true);
    expect(defaultMembership({ mspId: 'Org2MSP', role: 'client' }, coll(true, true))).toBe(false);
    expect(defaultMembership({ mspId: 'Org2MSP', role: 'peer' }, coll(true, true))).toBe(true);
  });

  it('applies memberOnlyRead / memberOnlyWrite only to non-members', () => {
    expect(accessOf(false, coll(false, false))).toEqual({ read: true, write: true });
    expect(accessOf(true, coll(true, true))).toEqual({ read: true, write: true });
    expect(accessOf(false, coll(true, false))).toEqual({ read: false, write: true });
    expect(accessOf(false, coll(false, true))).toEqual({ read: true, write: false });
  });
});
