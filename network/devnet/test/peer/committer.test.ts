import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common } from '@hyperledger/fabric-protos';
import { LedgerStore } from '../../src/ledger';
import { buildBlock, transactionsFilter } from '../../src/orderer/block';
import { Committer } from '../../src/peer/committer';
import { TransientStore } from '../../src/peer/transientStore';
import { TxCode } from '../../src/peer/validationCodes';
import { ChannelPolicies } from '../../src/policy';
import { chaincodeConfig, endorsedEnvelope, FakeMsp, rwsetBytes, signaturePolicyEnvelope } from './txBuilder';

const fake = new FakeMsp();
const client = fake.create('Org1MSP', 'c-client', 'client');
const p1 = fake.create('Org1MSP', 'c-peer1', 'peer');
const p2 = fake.create('Org2MSP', 'c-peer2', 'peer');
const MSPS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const policies = new ChannelPolicies({
  orgMspIds: MSPS,
  msp: { satisfiesPrincipal: (id, p) => id.mspId === p.mspId && (p.role === 'member' || p.role === id.role) },
});
const cc = chaincodeConfig('cc', 'MAJORITY Endorsement', [
  { name: 'org1only', policy: "OR('Org1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: null },
]);

let dir: string;
let ledger: LedgerStore;
let transient: TransientStore;
let committer: Committer;
let height = 0;
const committed: number[][] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'committer-'));
  ledger = await LedgerStore.open(dir);
  transient = new TransientStore();
  committer = new Committer({
    channel: 'energy', ledger, msp: fake, policies, chaincodes: new Map([['cc', cc]]),
    orgs: [{ name: 'org1', mspId: 'Org1MSP' }, { name: 'org2', mspId: 'Org2MSP' }, { name: 'org3', mspId: 'Org3MSP' }],
    transient, onCommitted: ({ codes }) => committed.push(codes),
  });
  height = 0;
});
afterEach(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

async function commit(envelopes: Buffer[]): Promise<number[]> {
  return committer.commitBlock(buildBlock(height++, Buffer.alloc(0), envelopes));
}
const put = (key: string, value: string, readVersion?: { blockNum: number; txNum: number } | 'absent') =>
  endorsedEnvelope(client, {
    endorsers: [p1, p2],
    rwset: rwsetBytes([{ ns: 'cc', reads: readVersion ? [{ key, version: readVersion === 'absent' ? undefined : readVersion }] : [], writes: [{ key, value }] }]),
  });

describe('Committer', () => {
  it('applies valid writes with version (block, tx), writes TRANSACTIONS_FILTER, records statuses', async () => {
    const a = put('a', '1');
    const b = put('b', '2');
    expect(await commit([a.envelope, b.envelope])).toEqual([0, 0]);
    expect((await ledger.getState('cc', 'b'))!.version).toEqual({ blockNum: 0, txNum: 1 });
    expect(await ledger.getTxStatus(b.txId)).toEqual({ code: 0, blockNum: 0, txIndex: 1 });
    const block = common.Block.deserializeBinary((await ledger.getBlock(0))!);
    expect([...transactionsFilter(block)]).toEqual([0, 0]);
    expect(committed.at(-1)).toEqual([0, 0]);
  });

  it('in-block: a later read of a key written earlier is MVCC_READ_CONFLICT; a repeated txid is DUPLICATE_TXID', async () => {
    const w = put('k', 'x', 'absent');
    const r = put('k', 'y', 'absent');
    const codes = await commit([w.envelope, r.envelope, w.envelope]);
    expect(codes).toEqual([TxCode.VALID, TxCode.MVCC_READ_CONFLICT, TxCode.DUPLICATE_TXID]);
    expect((await ledger.getState('cc', 'k'))!.value.toString()).toBe('x');
    expect(await ledger.getTxStatus(w.txId)).toEqual({ code: 0, blockNum: 0, txIndex: 0 });
    // resubmitted in a later block: DUPLICATE_TXID there, status keeps the original (P§8.12)
    expect(await commit([w.envelope])).toEqual([TxCode.DUPLICATE_TXID]);
    expect((await ledger.getTxStatus(w.txId))!.code).toBe(0);
  });

  it('invalid txs stay in the block and apply nothing', async () => {
    const weak = endorsedEnvelope(client, { endorsers: [p1], rwset: rwsetBytes([{ ns: 'cc', writes: [{ key: 'z', value: '1' }] }]) });
    expect(await commit([weak.envelope])).toEqual([TxCode.ENDORSEMENT_POLICY_FAILURE]);
    expect(await ledger.getState('cc', 'z')).toBeUndefined();
    expect((await ledger.getTxStatus(weak.txId))!.code).toBe(TxCode.ENDORSEMENT_POLICY_FAILURE);
  });

  it('commits private values from the transient store for member orgs only, hashes for everyone', async () => {
    const keyHash = createHash('sha256').update('secret').digest();
    const tx = endorsedEnvelope(client, { endorsers: [p1, p2], rwset: rwsetBytes([{ ns: 'cc', collections: [{ name: 'org1only', hashedWrites: [keyHash] }] }]) });
    transient.put(tx.txId, [{ ns: 'cc', coll: 'org1only', key: 'secret', value: Buffer.from('s3cr3t') }]);
    expect(await commit([tx.envelope])).toEqual([0]);
    expect((await ledger.getPrivate('org1', 'cc', 'org1only', 'secret'))!.value.toString()).toBe('s3cr3t');
    expect(await ledger.getPrivate('org2', 'cc', 'org1only', 'secret')).toBeUndefined();
    expect(await ledger.getHashedState('cc', 'org1only', keyHash)).toBeDefined();
    expect(transient.get(tx.txId)).toBeUndefined();
  });

  it('stores the chaincode event of a valid tx for the events service', async () => {
    const tx = endorsedEnvelope(client, { endorsers: [p1, p2], event: { chaincodeId: 'cc', name: 'Ev' } });
    await commit([tx.envelope]);
    expect(await ledger.getBlockEvents(0)).toEqual([expect.objectContaining({ txId: tx.txId, eventName: 'Ev', chaincodeId: 'cc', txIndex: 0 })]);
  });

  it('key-level policy: enforced from committed metadata; a write after an in-block policy change is ENDORSEMENT_POLICY_FAILURE', async () => {
    const p3 = fake.create('Org3MSP', 'c-peer3', 'peer');
    const policy = signaturePolicyEnvelope(1, ['Org3MSP.peer']);
    const setPolicy = endorsedEnvelope(client, {
      endorsers: [p1, p2],
      rwset: rwsetBytes([{ ns: 'cc', writes: [{ key: 'meter', value: 'v0' }], metadataWrites: [{ key: 'meter', entries: { VALIDATION_PARAMETER: policy } }] }]),
    });
    const writeSameBlock = endorsedEnvelope(client, { endorsers: [p3], rwset: rwsetBytes([{ ns: 'cc', writes: [{ key: 'meter', value: 'v1' }] }]) });
    expect(await commit([setPolicy.envelope, writeSameBlock.envelope])).toEqual([TxCode.VALID, TxCode.ENDORSEMENT_POLICY_FAILURE]);
    expect((await ledger.getState('cc', 'meter'))!.metadata?.VALIDATION_PARAMETER?.equals(policy)).toBe(true);
    const byMajority = endorsedEnvelope(client, { endorsers: [p1, p2], rwset: rwsetBytes([{ ns: 'cc', writes: [{ key: 'meter', value: 'v2' }] }]) });
    const byOwner = endorsedEnvelope(client, { endorsers: [p3], rwset: rwsetBytes([{ ns: 'cc', writes: [{ key: 'meter', value: 'v3' }] }]) });
    expect(await commit([byMajority.envelope, byOwner.envelope])).toEqual([TxCode.ENDORSEMENT_POLICY_FAILURE, TxCode.VALID]);
    expect((await ledger.getState('cc', 'meter'))!.value.toString()).toBe('v3');
  });
});
