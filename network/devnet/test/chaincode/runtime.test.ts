import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ledger as lpb, peer } from '@hyperledger/fabric-protos';
import type { CollectionConfig } from '@gridledger/protocol';
import { ChaincodeRuntime, ChaincodeRuntimeError, type ProposalContext, type SimulationResult } from '../../src/chaincode';
import { LedgerStore, compareKeys, type CommitTx } from '../../src/ledger';
import { ChaincodeServer, buildProposal, creatorCertPem, decodeRwset, freePort, sha256hex, tlsServerCert } from './harness';
import { TxCode } from '../../src/peer/validationCodes';

const CHANNEL = 'energy';
const CC = 'testcc';
const COLLECTIONS: CollectionConfig[] = [
  { name: 'Utility1MSPPrivateCollection', policy: "OR('Utility1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: null },
  { name: 'utility1Only', policy: "OR('Utility1MSP.member')", memberOnlyRead: true, memberOnlyWrite: true, endorsementPolicy: null },
];

let dir: string;
let store: LedgerStore;
let server: ChaincodeServer;
let cert: string;
const runtimes: ChaincodeRuntime[] = [];

function runtime(org = 'utility1', extra: Partial<ConstructorParameters<typeof ChaincodeRuntime>[0]> = {}): ChaincodeRuntime {
  const rt = new ChaincodeRuntime({ name: CC, address: server.address, org, ledger: store, collections: COLLECTIONS, ...extra });
  runtimes.push(rt);
  return rt;
}

function proposal(args: string[], opts: { mspId?: string; org?: string; transient?: Record<string, string> } = {}): ProposalContext {
  const mspId = opts.mspId ?? 'Utility1MSP';
  const p = buildProposal({ channel: CHANNEL, chaincode: CC, mspId, certPem: cert, args, ...(opts.transient ? { transient: opts.transient } : {}) });
  return {
    org: opts.org ?? 'utility1',
    mspId,
    channel: CHANNEL,
    chaincode: CC,
    txId: p.txId,
    signedProposal: p.signedProposal,
    input: p.input,
    creator: { mspId, role: 'client' },
    transient: new Map(),
  };
}

async function run(rt: ChaincodeRuntime, args: string[], opts: Parameters<typeof proposal>[1] = {}): Promise<SimulationResult> {
  return rt.execute(proposal(args, opts));
}

function ok(r: SimulationResult): string {
  if (r.response.status !== 200) throw new Error(`status ${r.response.status}: ${r.response.message}`);
  return r.response.payload.toString();
}

let nextBlock = 0;
const baseTx = (txId: string, txIndex: number, blockNum: number): CommitTx => ({
  txId,
  txIndex,
  code: 0,
  timestamp: { seconds: 1_700_000_000 + blockNum, nanos: 0 },
  publicWrites: [],
  metadataWrites: [],
  hashedWrites: [],
  privateWrites: [],
});
async function commit(...txs: Array<Partial<CommitTx>>): Promise<number> {
  const blockNum = nextBlock++;
  await store.commit({ blockNum, blockBytes: Buffer.from('b'), txs: txs.map((t, i) => ({ ...baseTx(`seed-${blockNum}-${i}`, i, blockNum), ...t })) });
  return blockNum;
}
const w = (key: string, value: string | null) => ({ ns: CC, key, value: value === null ? null : Buffer.from(value) });

beforeAll(async () => {
  cert = await creatorCertPem();
  dir = mkdtempSync(join(tmpdir(), 'ccrt-'));
  store = await LedgerStore.open(dir);
  server = new ChaincodeServer(await freePort(), `${CC}:abc123`);
  await server.start();
  // Seed: 250 keys r000..r249 (for ranges), a couple of plain keys.
  const keys = Array.from({ length: 250 }, (_, i) => w(`r${String(i).padStart(3, '0')}`, `v${i}`));
  await commit({ publicWrites: keys }, { publicWrites: [w('k1', 'one'), w('k2', 'two')] });
});

afterAll(async () => {
  for (const rt of runtimes) rt.close();
  await server.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ChaincodeRuntime: state and rwset', () => {
  it('simulates a put: write in rwset, no reads, response 200', async () => {
    const r = await run(runtime(), ['put', 'new', 'value']);
    expect(r.response.status).toBe(200);
    expect(decodeRwset(r.rwsetBytes)).toEqual([
      { namespace: CC, reads: [], ranges: [], writes: [{ key: 'new', isDelete: false, value: 'value' }], metadataWrites: [], colls: [] },
    ]);
    expect(r.eventBytes).toBeUndefined();
    expect(await store.getState(CC, 'new')).toBeUndefined(); // simulation never writes the ledger
  });

  it('reads committed values with their versions; absent key = empty + nil version', async () => {
    const rt = runtime();
    const r = await run(rt, ['get', 'k2']);
    expect(ok(r)).toBe('two');
    expect(decodeRwset(r.rwsetBytes)[0]!.reads).toEqual([{ key: 'k2', version: { blockNum: 0, txNum: 1 } }]);
    const absent = await run(rt, ['get', 'nope']);
    expect(ok(absent)).toBe('');
    expect(decodeRwset(absent.rwsetBytes)[0]!.reads).toEqual([{ key: 'nope', version: null }]);
  });

  it('an evaluation (read-only) returns the same response without building a read-write set', async () => {
    const rt = runtime();
    const full = await run(rt, ['get', 'k2']);
    const evaluated = await rt.execute({ ...proposal(['get', 'k2']), readOnly: true });
    expect(evaluated.response).toEqual(full.response);
    expect(decodeRwset(full.rwsetBytes)[0]!.reads).toHaveLength(1);
    expect(evaluated.rwsetBytes.length).toBe(0);
    expect(evaluated.privateData).toEqual([]);
  });

  it('has no read-your-writes; empty value and delete are deletes', async () => {
    const rt = runtime();
    const r = await run(rt, ['putThenGet', 'k1', 'changed']);
    expect(ok(r)).toBe('one');
    const ns = decodeRwset(r.rwsetBytes)[0]!;
    expect(ns.reads).toEqual([{ key: 'k1', version: { blockNum: 0, txNum: 1 } }]);
    expect(ns.writes).toEqual([{ key: 'k1', isDelete: false, value: 'changed' }]);
    const d = await run(rt, ['del', 'k1']);
    expect(decodeRwset(d.rwsetBytes)[0]!.writes).toEqual([{ key: 'k1', isDelete: true, value: '' }]);
    const e = await run(rt, ['put', 'k1', '']);
    expect(decodeRwset(e.rwsetBytes)[0]!.writes).toEqual([{ key: 'k1', isDelete: true, value: '' }]);
  });

  it('sorts writes in UTF-8 byte order and is byte-identical across two orgs', async () => {
    const entries = { zeta: '1', '\u{1F600}': '2', '\uffff': '3', alpha: '4', 'a\u0000b': '5', Beta: '6' };
    const args = ['putMany', JSON.stringify(entries)];
    const a = await run(runtime('utility1'), args);
    const b = await run(runtime('utility2'), args, { org: 'utility2' });
    const keys = decodeRwset(a.rwsetBytes)[0]!.writes.map((x) => x.key);
    expect(keys).toEqual(Object.keys(entries).sort(compareKeys));
    expect(keys.indexOf('\uffff')).toBeLessThan(keys.indexOf('\u{1F600}'));
    expect(a.rwsetBytes.equals(b.rwsetBytes)).toBe(true);
    expect(a.response).toEqual(b.response);
  });

  it('reads the state as of simulation start even if a block commits meanwhile', async () => {
    const rt = runtime();
    const before = await store.getState(CC, 'k2');
    const pending = rt.execute(proposal(['get', 'k2'])); // snapshot taken synchronously here
    await commit({ publicWrites: [w('k2', 'two-later')] });
    const r = await pending;
    expect(ok(r)).toBe('two');
    expect(decodeRwset(r.rwsetBytes)[0]!.reads).toEqual([{ key: 'k2', version: before!.version }]);
    // Restore the seed value for the other tests.
    await commit({ publicWrites: [w('k2', 'two')] });
  });

  it('passes the SignedProposal: creator, channel, txid, timestamp and transient reach the chaincode', async () => {
    const p = proposal(['whoami'], { transient: { t: 'secret' } });
    const r = await runtime().execute(p);
    expect(JSON.parse(ok(r))).toEqual({ mspId: 'Utility1MSP', txId: p.txId, channel: CHANNEL, seconds: 1_763_000_000, transient: 'secret' });
  });

  it('records state metadata writes and reads (SBE)', async () => {
    const rt = runtime();
    const r = await run(rt, ['setSbe', 'k2', 'POLICY']);
    expect(decodeRwset(r.rwsetBytes)[0]!.metadataWrites).toEqual([{ key: 'k2', entries: { VALIDATION_PARAMETER: 'POLICY' } }]);
    const blockNum = await commit({ metadataWrites: [{ ns: CC, key: 'k2', metadata: { VALIDATION_PARAMETER: Buffer.from('POLICY') } }] });
    const g = await run(rt, ['getSbe', 'k2']);
    expect(ok(g)).toBe('POLICY');
    expect(decodeRwset(g.rwsetBytes)[0]!.reads).toEqual([{ key: 'k2', version: { blockNum, txNum: 0 } }]);
  });
});

describe('ChaincodeRuntime: range queries and pagination', () => {
  const key = (i: number) => `r${String(i).padStart(3, '0')}`;

  it('returns a small range with raw reads, exhausted, end key = requested end', async () => {
    const r = await run(runtime(), ['range', 'r010', 'r015']);
    expect(JSON.parse(ok(r))).toEqual(['r010', 'r011', 'r012', 'r013', 'r014']);
    expect(decodeRwset(r.rwsetBytes)[0]!.ranges).toEqual([
      {
        startKey: 'r010',
        endKey: 'r015',
        itrExhausted: true,
        rawReads: [10, 11, 12, 13, 14].map((i) => ({ key: key(i), version: { blockNum: 0, txNum: 0 } })),
        merkle: null,
      },
    ]);
    expect(decodeRwset(r.rwsetBytes)[0]!.reads).toEqual([]);
  });

  it('streams more than 100 results in batches (QUERY_STATE_NEXT) and summarises >50 reads as a Merkle tree', async () => {
    const r = await run(runtime(), ['range', 'r', 's']);
    const keys = JSON.parse(ok(r)) as string[];
    expect(keys).toHaveLength(250);
    expect(keys).toEqual(Array.from({ length: 250 }, (_, i) => key(i)));
    const q = decodeRwset(r.rwsetBytes)[0]!.ranges;
    // The shim substitutes "\x01" for an empty start key (P§3.5).
    // 250 reads = 4 full leaves of 51 + 1 partial leaf, all at level 1.
    expect(q).toEqual([{ startKey: 'r', endKey: 's', itrExhausted: true, rawReads: null, merkle: { maxDegree: 50, maxLevel: 1, hashes: 5 } }]);
    // The shim substitutes "\x01" for an empty start key (P§3.5); composite keys are below it.
    const all = await run(runtime(), ['range', '', '']);
    expect(JSON.parse(ok(all))).toHaveLength(252);
    expect(decodeRwset(all.rwsetBytes)[0]!.ranges[0]).toMatchObject({ startKey: '\u0001', endKey: '', itrExhausted: true });
  });

  it('records end key = last key handed out when the chaincode stops early', async () => {
    const r = await run(runtime(), ['rangeFirst', 'r000', 'r200', '3']);
    expect(JSON.parse(ok(r))).toEqual(['r000', 'r001', 'r002']);
    // The peer handed out one batch of 100 plus the read-ahead result (F BuildQueryResponse).
    const q = decodeRwset(r.rwsetBytes)[0]!.ranges[0]!;
    expect(q).toMatchObject({ startKey: 'r000', endKey: key(100), itrExhausted: false });
  });

  it('caps a query at totalQueryLimit', async () => {
    const r = await run(runtime('utility1', { totalQueryLimit: 120 }), ['range', 'r', 's']);
    expect(JSON.parse(ok(r))).toHaveLength(120);
    expect(decodeRwset(r.rwsetBytes)[0]!.ranges[0]).toMatchObject({ endKey: key(119), itrExhausted: false });
  });

  it('paginates with bookmarks (first key of the next page, "" when done)', async () => {
    const rt = runtime();
    const p1 = await run(rt, ['paged', 'r000', 'r025', '10', '']);
    expect(JSON.parse(ok(p1))).toEqual({ keys: Array.from({ length: 10 }, (_, i) => key(i)), bookmark: 'r010', count: 10 });
    expect(decodeRwset(p1.rwsetBytes)[0]!.ranges[0]).toMatchObject({ startKey: 'r000', endKey: 'r009', itrExhausted: false });
    const p2 = await run(rt, ['paged', 'r000', 'r025', '10', 'r010']);
    expect(JSON.parse(ok(p2))).toEqual({ keys: Array.from({ length: 10 }, (_, i) => key(i + 10)), bookmark: 'r020', count: 10 });
    expect(decodeRwset(p2.rwsetBytes)[0]!.ranges[0]).toMatchObject({ startKey: 'r010', endKey: 'r019' });
    const p3 = await run(rt, ['paged', 'r000', 'r025', '10', 'r020']);
    expect(JSON.parse(ok(p3))).toEqual({ keys: ['r020', 'r021', 'r022', 'r023', 'r024'], bookmark: '', count: 5 });
    expect(decodeRwset(p3.rwsetBytes)[0]!.ranges[0]).toMatchObject({ startKey: 'r020', endKey: 'r025', itrExhausted: true });
  });

  it('refuses writes after a paginated query', async () => {
    const p = proposal(['pagedThenPut', 'r000', 'r005', '2']);
    const r = await runtime().execute(p);
    expect(r.response.status).toBe(500);
    expect(r.response.message).toBe(`PUT_STATE failed: transaction ID: ${p.txId}: txid [${p.txId}]: Transaction has already performed a paginated query. Writes are not allowed`);
  });

  it('keeps composite keys out of plain ranges and serves partial composite queries', async () => {
    await commit({ publicWrites: [w('\u0000asset\u0000b\u0000x\u0000', '1'), w('\u0000asset\u0000a\u0000y\u0000', '2'), w('\u0000asset\u0000a\u0000x\u0000', '3'), w('\u0000other\u0000a\u0000x\u0000', '4')] });
    const rt = runtime();
    expect(JSON.parse(ok(await run(rt, ['partial', 'asset', ''])))).toEqual(['a/x', 'a/y', 'b/x']);
    expect(JSON.parse(ok(await run(rt, ['partial', 'asset', 'a'])))).toEqual(['a/x', 'a/y']);
    const plain = JSON.parse(ok(await run(rt, ['range', '', 'r001']))) as string[];
    expect(plain.some((k) => k.startsWith('\u0000'))).toBe(false);
  });

  it('answers rich queries with the LevelDB error', async () => {
    const p = proposal(['richQuery', '{"selector":{}}']);
    const r = await runtime().execute(p);
    expect(r.response.status).toBe(500);
    expect(r.response.message).toBe(`GET_QUERY_RESULT failed: transaction ID: ${p.txId}: ExecuteQuery not supported for leveldb`);
  });
});

describe('ChaincodeRuntime: history, events, errors', () => {
  it('returns key history newest first from valid txs only', async () => {
    const b1 = await commit({ txId: 'h-1', publicWrites: [w('hist', 'a')] });
    await commit({ txId: 'h-bad', code: TxCode.MVCC_READ_CONFLICT, publicWrites: [w('hist', 'zzz')] });
    await commit({ txId: 'h-2', publicWrites: [w('hist', 'b')] });
    const b4 = await commit({ txId: 'h-3', publicWrites: [w('hist', null)] });
    const r = await run(runtime(), ['history', 'hist']);
    expect(JSON.parse(ok(r))).toEqual([
      { txId: 'h-3', value: '', isDelete: true, seconds: 1_700_000_000 + b4 },
      { txId: 'h-2', value: 'b', isDelete: false, seconds: 1_700_000_000 + b4 - 1 },
      { txId: 'h-1', value: 'a', isDelete: false, seconds: 1_700_000_000 + b1 },
    ]);
    expect(decodeRwset(r.rwsetBytes)).toEqual([]); // history is not part of the read set
  });

  it('returns the chaincode event with chaincode_id and tx_id filled in by the peer', async () => {
    const p = proposal(['emit', 'TradeSettled', '{"id":1}']);
    const r = await runtime().execute(p);
    expect(ok(r)).toBe('emitted');
    const ev = peer.ChaincodeEvent.deserializeBinary(r.eventBytes!);
    expect(ev.getChaincodeId()).toBe(CC);
    expect(ev.getTxId()).toBe(p.txId);
    expect(ev.getEventName()).toBe('TradeSettled');
    expect(Buffer.from(ev.getPayload_asU8()).toString()).toBe('{"id":1}');
  });

  it('returns chaincode errors as status 500 responses', async () => {
    const r = await run(runtime(), ['fail', 'insufficient balance']);
    expect(r.response).toMatchObject({ status: 500, message: 'insufficient balance' });
    const unknown = await run(runtime(), ['noSuchFn']);
    expect(unknown.response.status).toBe(500);
    expect(unknown.response.message).toContain('You\'ve asked to invoke a function that does not exist: noSuchFn');
  });

  it('refuses chaincode-to-chaincode invocation', async () => {
    const p = proposal(['callOther', 'other']);
    const r = await runtime().execute(p);
    expect(r.response.status).toBe(500);
    expect(r.response.message).toContain(`INVOKE_CHAINCODE failed: transaction ID: ${p.txId}: chaincode-to-chaincode invocation is not supported by the devnet`);
  });
});

describe('ChaincodeRuntime: private data', () => {
  const COLL = 'Utility1MSPPrivateCollection';

  it('writes private data as hashes in the rwset plus private data for distribution', async () => {
    const r = await run(runtime(), ['putPrivate', COLL, 'meter-7', 'contact@example']);
    ok(r);
    const [ns] = decodeRwset(r.rwsetBytes);
    expect(ns!.writes).toEqual([]);
    expect(ns!.colls).toHaveLength(1);
    const c = ns!.colls[0]!;
    expect(c.name).toBe(COLL);
    expect(c.hashedWrites).toEqual([{ keyHash: sha256hex('meter-7'), isDelete: false, valueHash: sha256hex('contact@example'), isPurge: false }]);
    expect(c.pvtRwsetHash).toBe(sha256hex(r.pvtRwsetBytes ? pvtKvBytes(r.pvtRwsetBytes, COLL) : Buffer.alloc(0)));
    expect(r.privateData).toEqual([{ ns: CC, coll: COLL, key: 'meter-7', value: Buffer.from('contact@example') }]);
  });

  it('reads the simulating org\'s copy with a hashed read; hash readable by all', async () => {
    const blockNum = await commit({
      hashedWrites: [{ ns: CC, coll: COLL, keyHash: Buffer.from(sha256hex('p1'), 'hex'), valueHash: Buffer.from(sha256hex('secret'), 'hex') }],
      privateWrites: [{ org: 'utility1', ns: CC, coll: COLL, key: 'p1', value: Buffer.from('secret') }],
    });
    const r = await run(runtime(), ['getPrivate', COLL, 'p1']);
    expect(ok(r)).toBe('secret');
    expect(decodeRwset(r.rwsetBytes)[0]!.colls[0]!.hashedReads).toEqual([{ keyHash: sha256hex('p1'), version: { blockNum, txNum: 0 } }]);
    const h = await run(runtime('utility2'), ['getPrivateHash', COLL, 'p1'], { mspId: 'Utility2MSP', org: 'utility2' });
    expect(ok(h)).toBe(sha256hex('secret'));
    // A member whose peer has no copy cannot read the value (F GetPrivateData version check).
    const noCopy = await run(runtime('utility2'), ['getPrivate', COLL, 'p1'], { org: 'utility2' });
    expect(noCopy.response.status).toBe(500);
    expect(noCopy.response.message).toContain(`private data matching public hash version is not available. Public hash version = {BlockNum: ${blockNum}, TxNum: 0}, Private data version = <nil>`);
  });

  it('reports private VALUE reads as privateReads, hash reads and writes not (Fabric query_executor privateReads)', async () => {
    const read = await run(runtime(), ['getPrivate', COLL, 'p1']);
    expect(read.privateReads).toEqual([{ ns: CC, coll: COLL }]);
    const hashOnly = await run(runtime('utility2'), ['getPrivateHash', COLL, 'p1'], { mspId: 'Utility2MSP', org: 'utility2' });
    expect(hashOnly.response.status).toBe(200);
    expect(hashOnly.privateReads).toEqual([]);
    const write = await run(runtime(), ['putPrivate', COLL, 'meter-8', 'x']);
    expect(write.privateReads).toEqual([]);
  });

  it('enforces memberOnlyRead / memberOnlyWrite for non-members', async () => {
    const rt = runtime('utility2');
    const opts = { mspId: 'Utility2MSP', org: 'utility2' };
    const read = await run(rt, ['getPrivate', COLL, 'p1'], opts);
    expect(read.response.message).toContain(`tx creator does not have read access permission on privatedata in chaincodeName:${CC} collectionName: ${COLL}`);
    const writeAllowed = await run(rt, ['putPrivate', COLL, 'x', 'y'], opts);
    expect(writeAllowed.response.status).toBe(200);
    const writeDenied = await run(rt, ['putPrivate', 'utility1Only', 'x', 'y'], opts);
    expect(writeDenied.response.message).toContain(`tx creator does not have write access permission on privatedata in chaincodeName:${CC} collectionName: utility1Only`);
    const unknown = await run(rt, ['putPrivate', 'nope', 'x', 'y'], opts);
    expect(unknown.response.message).toContain(`collection [nope] not defined in the collection config for chaincode [${CC}]`);
  });

  it('records deletes and purges as hashed deletes', async () => {
    const d = await run(runtime(), ['delPrivate', COLL, 'p1']);
    expect(decodeRwset(d.rwsetBytes)[0]!.colls[0]!.hashedWrites).toEqual([{ keyHash: sha256hex('p1'), isDelete: true, valueHash: '', isPurge: false }]);
    expect(d.privateData).toEqual([{ ns: CC, coll: COLL, key: 'p1', value: null }]);
    const p = await run(runtime(), ['purgePrivate', COLL, 'p1']);
    expect(decodeRwset(p.rwsetBytes)[0]!.colls[0]!.hashedWrites).toEqual([{ keyHash: sha256hex('p1'), isDelete: true, valueHash: '', isPurge: true }]);
  });

  it('serves private range queries only in read-only transactions', async () => {
    await commit({
      hashedWrites: [{ ns: CC, coll: COLL, keyHash: Buffer.from(sha256hex('p2'), 'hex'), valueHash: Buffer.from(sha256hex('two'), 'hex') }],
      privateWrites: [{ org: 'utility1', ns: CC, coll: COLL, key: 'p2', value: Buffer.from('two') }],
    });
    const r = await run(runtime(), ['rangePrivate', COLL, '', '']);
    expect(JSON.parse(ok(r))).toEqual(['p1', 'p2']);
    const p = proposal(['rangePrivateThenPut', COLL]);
    const bad = await runtime().execute(p);
    expect(bad.response.message).toBe(`PUT_STATE failed: transaction ID: ${p.txId}: txid [${p.txId}]: Transaction has already performed queries on pvt data. Writes are not allowed`);
  });
});

describe('ChaincodeRuntime: connection lifecycle', () => {
  it('runs concurrent transactions on one stream, each with its own rwset', async () => {
    const rt = runtime();
    const keys = ['r001', 'r002', 'r003', 'r004', 'r005'];
    const results = await Promise.all(keys.map((k) => rt.execute(proposal(['get', k]))));
    expect(results.map(ok)).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(results.map((r) => decodeRwset(r.rwsetBytes)[0]!.reads.map((x) => x.key))).toEqual(keys.map((k) => [k]));
  });

  it('rejects a duplicate channel+txid executing on the same runtime', async () => {
    const rt = runtime('utility1', { executeTimeoutMs: 60_000 });
    const p = proposal(['get', 'k2']);
    const [a, b] = await Promise.allSettled([rt.execute(p), rt.execute(p)]);
    expect(a.status).toBe('fulfilled');
    expect(b).toMatchObject({ status: 'rejected', reason: { kind: 'duplicate-txid' } });
  });

  it('times out a transaction that never completes', async () => {
    const rt = runtime('utility1', { executeTimeoutMs: 200 });
    const p = proposal(['sleep', '600000']);
    const err = await rt.execute(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChaincodeRuntimeError);
    expect(err).toMatchObject({ kind: 'timeout', message: `failed to execute transaction ${p.txId}: timeout expired while executing transaction` });
    // The stream is still usable afterwards.
    expect(ok(await rt.execute(proposal(['get', 'k2'])))).toBe('two');
  });

  it('fails to launch when nothing listens, with Fabric-shaped text', async () => {
    const rt = new ChaincodeRuntime({ name: CC, address: `127.0.0.1:${await freePort()}`, org: 'utility1', ledger: store, collections: [], dialTimeoutMs: 300 });
    runtimes.push(rt);
    const p = proposal(['get', 'k2']);
    const err = await rt.execute(p).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'launch' });
    expect((err as Error).message).toMatch(new RegExp(`^failed to execute transaction ${p.txId}: could not launch chaincode ${CC}: connection to ${CC} failed: `));
  });

  it('connects over TLS when the chaincode server uses TLS', async () => {
    const { certPem, keyPem } = await tlsServerCert();
    writeFileSync(join(dir, 'cc-tls.crt'), certPem);
    writeFileSync(join(dir, 'cc-tls.key'), keyPem);
    const tlsServer = new ChaincodeServer(await freePort(), `${CC}:tls`, { certFile: join(dir, 'cc-tls.crt'), keyFile: join(dir, 'cc-tls.key') });
    await tlsServer.start();
    try {
      const rt = new ChaincodeRuntime({ name: CC, address: tlsServer.address, org: 'utility1', ledger: store, collections: [], tls: { rootCertPem: certPem } });
      runtimes.push(rt);
      expect(ok(await rt.execute(proposal(['get', 'k2'])))).toBe('two');
      // A plaintext client cannot talk to it.
      const plain = new ChaincodeRuntime({ name: CC, address: tlsServer.address, org: 'utility1', ledger: store, collections: [], dialTimeoutMs: 300 });
      runtimes.push(plain);
      expect(await plain.execute(proposal(['get', 'k2'])).catch((e: unknown) => e)).toMatchObject({ kind: 'launch' });
    } finally {
      await tlsServer.stop();
    }
  });

  it('fails executing txs when the server dies and redials after it restarts', async () => {
    const rt = runtime('utility1', { executeTimeoutMs: 60_000, dialTimeoutMs: 500 });
    expect(ok(await rt.execute(proposal(['get', 'k2'])))).toBe('two');
    const pending = rt.execute(proposal(['sleep', '600000'])).catch((e: unknown) => e);
    // Make sure the TRANSACTION reached the chaincode before killing it: a second tx on the same stream round-trips.
    expect(ok(await rt.execute(proposal(['get', 'k2'])))).toBe('two');
    await server.stop();
    expect(await pending).toMatchObject({ kind: 'stream-terminated' });
    expect(await rt.execute(proposal(['get', 'k2'])).catch((e: unknown) => e)).toMatchObject({ kind: 'launch' });
    await server.start();
    expect(ok(await rt.execute(proposal(['get', 'k2'])))).toBe('two');
  });
});

function pvtKvBytes(pvtRwset: Buffer, coll: string): Uint8Array {
  const tx = lpb.rwset.TxPvtReadWriteSet.deserializeBinary(pvtRwset);
  for (const ns of tx.getNsPvtRwsetList()) for (const c of ns.getCollectionPvtRwsetList()) if (c.getCollectionName() === coll) return c.getRwset_asU8();
  throw new Error('collection not in pvt rwset');
}
