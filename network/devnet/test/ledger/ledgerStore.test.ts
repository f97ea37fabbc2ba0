import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerError, LedgerStore, compareKeys } from '../../src/ledger';
import { block, collect, tx } from './helpers';
import { TxCode } from '../../src/peer/validationCodes';

const sha = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();
const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('LedgerStore', () => {
  let dir: string;
  let store: LedgerStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
    store = await LedgerStore.open(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts empty and commits state with versions (block, txIndex)', async () => {
    expect(store.height()).toBe(0);
    expect(await store.getState('cc', 'k')).toBeUndefined();
    await store.commit(
      block(0, [
        tx('t0', 0, { publicWrites: [{ ns: 'cc', key: 'k', value: b('v0') }] }),
        tx('t1', 1, { publicWrites: [{ ns: 'cc', key: 'k2', value: b('v1') }, { ns: 'other', key: 'k', value: b('o') }] }),
      ]),
    );
    expect(store.height()).toBe(1);
    expect(await store.getState('cc', 'k')).toEqual({ value: b('v0'), version: { blockNum: 0, txNum: 0 } });
    expect(await store.getState('cc', 'k2')).toEqual({ value: b('v1'), version: { blockNum: 0, txNum: 1 } });
    expect((await store.getState('other', 'k'))?.value).toEqual(b('o'));
    expect(await store.getBlock(0)).toEqual(b('block-0'));
    expect(await store.getBlock(1)).toBeUndefined();
  });

  it('emits block only after the block is readable', async () => {
    const seen: Array<{ n: number; v: string | undefined }> = [];
    let done!: () => void;
    const emitted = new Promise<void>((r) => (done = r));
    store.on('block', (n) => {
      void store.getState('cc', 'k').then((vv) => {
        seen.push({ n, v: vv?.value.toString() });
        done();
      });
    });
    await store.commit(block(0, [tx('t0', 0, { publicWrites: [{ ns: 'cc', key: 'k', value: b('x') }] })]));
    await emitted;
    expect(seen).toEqual([{ n: 0, v: 'x' }]);
  });

  it('rejects out-of-order blocks without changing anything', async () => {
    await expect(store.commit(block(1, [tx('t', 0)]))).rejects.toMatchObject({ kind: 'out-of-order-block' });
    await expect(store.commit(block(1, [tx('t', 0)]))).rejects.toBeInstanceOf(LedgerError);
    expect(store.height()).toBe(0);
    expect(await store.getTxStatus('t')).toBeUndefined();
    await store.commit(block(0, [tx('t', 0)]));
    expect(store.height()).toBe(1);
  });

  it('orders keys by UTF-8 bytes, not UTF-16 code units (P§8.7)', async () => {
    const keys = ['b', '\u0000asset\u0000x\u0000', 'a', '\uffff', '\u{1F600}', '\u{10FFFF}', 'a\u0000b', 'é'];
    await store.commit(block(0, [tx('t', 0, { publicWrites: keys.map((key) => ({ ns: 'cc', key, value: b(key) })) })]));
    const got = (await collect(store.range('cc', '', ''))).map((r) => r.key);
    const expected = [...keys].sort(compareKeys);
    expect(got).toEqual(expected);
    // In JS string order U+FFFF sorts after U+1F600 (surrogates); in byte order it is before.
    expect(got.indexOf('\uffff')).toBeLessThan(got.indexOf('\u{1F600}'));
    expect(got[0]).toBe('\u0000asset\u0000x\u0000');
    expect(got[got.length - 1]).toBe('\u{10FFFF}');
  });

  it('ranges are [start, end) with "" = unbounded, per namespace', async () => {
    const writes = ['k1', 'k2', 'k3', 'k4'].map((key) => ({ ns: 'cc', key, value: b(key) }));
    writes.push({ ns: 'cd', key: 'k2', value: b('other ns') });
    writes.push({ ns: 'c', key: 'k2', value: b('prefix ns') });
    await store.commit(block(0, [tx('t', 0, { publicWrites: writes })]));
    expect((await collect(store.range('cc', 'k2', 'k4'))).map((r) => r.key)).toEqual(['k2', 'k3']);
    expect((await collect(store.range('cc', 'k2', ''))).map((r) => r.key)).toEqual(['k2', 'k3', 'k4']);
    expect((await collect(store.range('cc', '', 'k2'))).map((r) => r.key)).toEqual(['k1']);
    expect(await collect(store.range('cc', 'k3', 'k3'))).toEqual([]);
    expect(await collect(store.range('cc', 'k4', 'k1'))).toEqual([]);
    const partialComposite = await collect(store.range('cc', 'k', 'k\u{10FFFF}'));
    expect(partialComposite.map((r) => r.vv.value.toString())).toEqual(['k1', 'k2', 'k3', 'k4']);
  });

  it('applies the valid txs of a block in order and ignores invalid ones', async () => {
    await store.commit(
      block(0, [
        tx('a', 0, { publicWrites: [{ ns: 'cc', key: 'k', value: b('1') }, { ns: 'cc', key: 'gone', value: b('g') }] }),
        tx('bad', 1, { code: TxCode.MVCC_READ_CONFLICT, publicWrites: [{ ns: 'cc', key: 'k', value: b('invalid') }] }),
        tx('c', 2, { publicWrites: [{ ns: 'cc', key: 'gone', value: null }, { ns: 'cc', key: 'k', value: b('3') }] }),
      ]),
    );
    expect(await store.getState('cc', 'k')).toEqual({ value: b('3'), version: { blockNum: 0, txNum: 2 } });
    expect(await store.getState('cc', 'gone')).toBeUndefined();
    expect(await store.getTxStatus('bad')).toEqual({ code: TxCode.MVCC_READ_CONFLICT, blockNum: 0, txIndex: 1 });
    expect((await store.getHistory('cc', 'k')).map((m) => m.txId)).toEqual(['c', 'a']);
  });

  it('keeps metadata across value updates, ignores metadata on absent keys, bumps the version', async () => {
    const policy = b('policy-bytes');
    await store.commit(
      block(0, [
        tx('t0', 0, {
          publicWrites: [{ ns: 'cc', key: 'k', value: b('v') }],
          metadataWrites: [
            { ns: 'cc', key: 'k', metadata: { VALIDATION_PARAMETER: policy } },
            { ns: 'cc', key: 'absent', metadata: { X: b('x') } },
          ],
        }),
      ]),
    );
    expect(await store.getState('cc', 'k')).toEqual({ value: b('v'), version: { blockNum: 0, txNum: 0 }, metadata: { VALIDATION_PARAMETER: policy } });
    expect(await store.getState('cc', 'absent')).toBeUndefined();
    await store.commit(block(1, [tx('t1', 0, { publicWrites: [{ ns: 'cc', key: 'k', value: b('v2') }] })]));
    expect(await store.getState('cc', 'k')).toEqual({ value: b('v2'), version: { blockNum: 1, txNum: 0 }, metadata: { VALIDATION_PARAMETER: policy } });
    await store.commit(block(2, [tx('t2', 3, { metadataWrites: [{ ns: 'cc', key: 'k', metadata: {} }] })]));
    expect(await store.getState('cc', 'k')).toEqual({ value: b('v2'), version: { blockNum: 2, txNum: 3 } });
    // Metadata-only writes are not history entries (Fabric's history indexes value writes).
    expect((await store.getHistory('cc', 'k')).map((m) => m.txId)).toEqual(['t1', 't0']);
    await store.commit(block(3, [tx('t3', 0, { publicWrites: [{ ns: 'cc', key: 'k', value: null }] })]));
    expect(await store.getState('cc', 'k')).toBeUndefined();
  });

  it('stores hashed private state for all and private values only for the given orgs', async () => {
    await store.commit(
      block(0, [
        tx('t0', 4, {
          hashedWrites: [{ ns: 'cc', coll: 'c1', keyHash: sha('pk'), valueHash: sha('secret') }],
          privateWrites: [{ org: 'utility1', ns: 'cc', coll: 'c1', key: 'pk', value: b('secret') }],
        }),
      ]),
    );
    expect(await store.getHashedState('cc', 'c1', sha('pk'))).toEqual({ valueHash: sha('secret'), version: { blockNum: 0, txNum: 4 } });
    expect(await store.getHashedState('cc', 'c2', sha('pk'))).toBeUndefined();
    expect(await store.getPrivate('utility1', 'cc', 'c1', 'pk')).toEqual({ value: b('secret'), version: { blockNum: 0, txNum: 4 } });
    expect(await store.getPrivate('utility2', 'cc', 'c1', 'pk')).toBeUndefined();
    expect(await store.getState('cc', 'pk')).toBeUndefined();
    await store.commit(
      block(1, [
        tx('t1', 0, {
          privateWrites: [
            { org: 'utility1', ns: 'cc', coll: 'c1', key: 'pk2', value: b('2') },
            { org: 'utility1', ns: 'cc', coll: 'c1', key: 'pk0', value: b('0') },
            { org: 'utility1', ns: 'cc', coll: 'c2', key: 'pk1', value: b('other coll') },
          ],
        }),
      ]),
    );
    expect((await collect(store.rangePrivate('utility1', 'cc', 'c1', '', ''))).map((r) => r.key)).toEqual(['pk', 'pk0', 'pk2']);
    expect((await collect(store.rangePrivate('utility1', 'cc', 'c1', 'pk0', 'pk2'))).map((r) => r.key)).toEqual(['pk0']);
    expect(await collect(store.rangePrivate('utility2', 'cc', 'c1', '', ''))).toEqual([]);
    await store.commit(
      block(2, [
        tx('t2', 0, {
          hashedWrites: [{ ns: 'cc', coll: 'c1', keyHash: sha('pk'), valueHash: null }],
          privateWrites: [{ org: 'utility1', ns: 'cc', coll: 'c1', key: 'pk', value: null }],
        }),
      ]),
    );
    expect(await store.getHashedState('cc', 'c1', sha('pk'))).toBeUndefined();
    expect(await store.getPrivate('utility1', 'cc', 'c1', 'pk')).toBeUndefined();
  });

  it('keeps history newest first with tx timestamps and deletes, per exact key', async () => {
    await store.commit(block(0, [tx('t0', 0, { publicWrites: [{ ns: 'cc', key: 'a', value: b('1') }, { ns: 'cc', key: 'a\u0000b', value: b('x') }] })]));
    await store.commit(
      block(1, [
        tx('t1', 0, { publicWrites: [{ ns: 'cc', key: 'a', value: b('2') }] }),
        tx('t2', 1, { publicWrites: [{ ns: 'cc', key: 'a', value: null }], timestamp: { seconds: 42, nanos: 7 } }),
      ]),
    );
    const h = await store.getHistory('cc', 'a');
    expect(h).toEqual([
      { txId: 't2', value: Buffer.alloc(0), timestampSeconds: 42, timestampNanos: 7, isDelete: true },
      { txId: 't1', value: b('2'), timestampSeconds: 1_700_000_000, timestampNanos: 5, isDelete: false },
      { txId: 't0', value: b('1'), timestampSeconds: 1_700_000_000, timestampNanos: 5, isDelete: false },
    ]);
    expect((await store.getHistory('cc', 'a\u0000b')).map((m) => m.txId)).toEqual(['t0']);
    expect(await store.getHistory('cc', 'nothing')).toEqual([]);
    expect(await store.getHistory('other', 'a')).toEqual([]);
  });

  it('indexes every tx and keeps the first occurrence of a txId (P§1.6)', async () => {
    await store.commit(block(0, [tx('dup', 0), tx('dup', 1, { code: TxCode.DUPLICATE_TXID })]));
    await store.commit(block(1, [tx('dup', 0, { code: TxCode.DUPLICATE_TXID }), tx('x', 1, { code: TxCode.ENDORSEMENT_POLICY_FAILURE })]));
    expect(await store.getTxStatus('dup')).toEqual({ code: 0, blockNum: 0, txIndex: 0 });
    expect(await store.getTxStatus('x')).toEqual({ code: TxCode.ENDORSEMENT_POLICY_FAILURE, blockNum: 1, txIndex: 1 });
    expect(await store.getTxStatus('nope')).toBeUndefined();
  });

  it('stores chaincode events of valid txs per block', async () => {
    const ev = (id: string) => ({ chaincodeId: 'cc', txId: id, eventName: 'E', payload: b(id) });
    await store.commit(block(0, [tx('a', 0, { event: ev('a') }), tx('bad', 1, { code: TxCode.MVCC_READ_CONFLICT, event: ev('bad') }), tx('c', 2, { event: ev('c') })]));
    expect(await store.getBlockEvents(0)).toEqual([
      { ...ev('a'), txIndex: 0 },
      { ...ev('c'), txIndex: 2 },
    ]);
    expect(await store.getBlockEvents(1)).toEqual([]);
  });

  it("serves the newest blocks' events from what their commit wrote, older ones from LevelDB, the same either way", async () => {
    const ev = (n: number) => ({ chaincodeId: 'cc', txId: `t${n}`, eventName: 'E', payload: b(`p${n}`) });
    for (let n = 0; n < 70; n++) await store.commit(block(n, [tx(`t${n}`, 0, { event: ev(n) }), tx(`u${n}`, 1)]));
    const db = (store as unknown as { db: { iterator: (...a: unknown[]) => unknown } }).db;
    const iterator = jest.spyOn(db, 'iterator');
    const recent = await store.getBlockEvents(69);
    expect(recent).toEqual([{ ...ev(69), txIndex: 0 }]);
    expect(iterator).not.toHaveBeenCalled();
    recent[0]!.payload.fill(0); // a reader's copy: the next reader is not affected
    expect(await store.getBlockEvents(69)).toEqual([{ ...ev(69), txIndex: 0 }]);
    expect(await store.getBlockEvents(0)).toEqual([{ ...ev(0), txIndex: 0 }]); // beyond the recent ones: read
    expect(iterator).toHaveBeenCalledTimes(1);
    iterator.mockRestore();
    // after a reopen every block is read from LevelDB, with the same answer
    await store.close();
    store = await LedgerStore.open(dir);
    expect(await store.getBlockEvents(69)).toEqual([{ ...ev(69), txIndex: 0 }]);
  });

  it('serialises concurrent commits in order', async () => {
    const p = [0, 1, 2].map((n) => store.commit(block(n, [tx(`t${n}`, 0, { publicWrites: [{ ns: 'cc', key: 'k', value: b(String(n)) }] })])));
    await Promise.all(p);
    expect(store.height()).toBe(3);
    expect((await store.getState('cc', 'k'))?.version).toEqual({ blockNum: 2, txNum: 0 });
  });

  it('snapshots freeze state, ranges, private data and history until released', async () => {
    await store.commit(
      block(0, [
        tx('t0', 0, {
          publicWrites: [{ ns: 'cc', key: 'a', value: b('1') }],
          privateWrites: [{ org: 'o1', ns: 'cc', coll: 'c', key: 'p', value: b('x') }],
          hashedWrites: [{ ns: 'cc', coll: 'c', keyHash: sha('p'), valueHash: sha('x') }],
        }),
      ]),
    );
    const snap = store.snapshot();
    await store.commit(
      block(1, [
        tx('t1', 0, {
          publicWrites: [{ ns: 'cc', key: 'a', value: b('2') }, { ns: 'cc', key: 'b', value: b('new') }],
          privateWrites: [{ org: 'o1', ns: 'cc', coll: 'c', key: 'p', value: b('y') }],
          hashedWrites: [{ ns: 'cc', coll: 'c', keyHash: sha('p'), valueHash: sha('y') }],
        }),
      ]),
    );
    expect(await snap.getState('cc', 'a')).toEqual({ value: b('1'), version: { blockNum: 0, txNum: 0 } });
    expect((await collect(snap.range('cc', '', ''))).map((r) => r.key)).toEqual(['a']);
    expect((await snap.getPrivate('o1', 'cc', 'c', 'p'))?.value).toEqual(b('x'));
    expect((await collect(snap.rangePrivate('o1', 'cc', 'c', '', ''))).map((r) => r.vv.value.toString())).toEqual(['x']);
    expect((await snap.getHashedState('cc', 'c', sha('p')))?.valueHash).toEqual(sha('x'));
    expect((await snap.getHistory('cc', 'a')).map((m) => m.txId)).toEqual(['t0']);
    await snap.release();
    expect((await store.getState('cc', 'a'))?.value).toEqual(b('2'));
    expect((await store.getHistory('cc', 'a')).map((m) => m.txId)).toEqual(['t1', 't0']);
  });

  it('gives identical state after close and reopen', async () => {
    await store.commit(
      block(0, [
        tx('t0', 0, {
          publicWrites: [{ ns: 'cc', key: 'k', value: b('v') }, { ns: 'cc', key: '\u0000c\u0000', value: b('c') }],
          metadataWrites: [{ ns: 'cc', key: 'k', metadata: { M: b('m') } }],
          hashedWrites: [{ ns: 'cc', coll: 'c1', keyHash: sha('p'), valueHash: sha('pv') }],
          privateWrites: [{ org: 'o1', ns: 'cc', coll: 'c1', key: 'p', value: b('pv') }],
          event: { chaincodeId: 'cc', txId: 't0', eventName: 'E', payload: b('e') },
        }),
      ]),
    );
    await store.commit(block(1, [tx('t1', 0, { code: TxCode.MVCC_READ_CONFLICT })]));
    const snapshot = async (s: LedgerStore) => ({
      height: s.height(),
      state: await collect(s.range('cc', '', '')),
      hashed: await s.getHashedState('cc', 'c1', sha('p')),
      priv: await collect(s.rangePrivate('o1', 'cc', 'c1', '', '')),
      history: await s.getHistory('cc', 'k'),
      tx0: await s.getTxStatus('t0'),
      tx1: await s.getTxStatus('t1'),
      blocks: [await s.getBlock(0), await s.getBlock(1)],
      events: await s.getBlockEvents(0),
    });
    const before = await snapshot(store);
    await store.close();
    await expect(store.getState('cc', 'k')).rejects.toMatchObject({ kind: 'closed' });
    store = await LedgerStore.open(dir);
    expect(await snapshot(store)).toEqual(before);
    expect(before.height).toBe(2);
    await store.commit(block(2, [tx('t2', 0)]));
    expect(store.height()).toBe(3);
  });
});

describe('LedgerStore crash safety', () => {
  it('after SIGKILL mid-stream, reopens to a state consistent with its height', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'crashWriter.ts'), dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.json') },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    // Kill as soon as the child reports its 20th block: it is then in the middle of later commits.
    let lastReported = -1;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) lastReported = Number(l);
        if (lastReported >= 20) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => (lastReported >= 20 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
    });
    await exited;
    const store = await LedgerStore.open(dir);
    try {
      const h = store.height();
      expect(h).toBeGreaterThanOrEqual(lastReported + 1);
      expect((await store.getState('cc', 'counter'))?.value.toString()).toBe(String(h - 1));
      for (let n = 0; n < h; n++) {
        expect((await store.getState('cc', `b${n}`))?.version).toEqual({ blockNum: n, txNum: 0 });
        expect(await store.getTxStatus(`tx${n}`)).toEqual({ code: 0, blockNum: n, txIndex: 0 });
        expect(await store.getBlock(n)).toEqual(Buffer.from(`block-${n}`));
      }
      expect(await store.getState('cc', `b${h}`)).toBeUndefined();
      expect(await store.getTxStatus(`tx${h}`)).toBeUndefined();
      expect(await store.getBlock(h)).toBeUndefined();
      const big = await store.getState('cc', `big${(h - 1) % 4}`);
      expect(big?.value).toEqual(Buffer.alloc(64 * 1024, (h - 1) % 251));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
