/**
 * Private-only transactions (a meter reading written only to its utility's collection): the
 * endorser's ChaincodeInterest as Fabric v3.1.5 builds it (core/endorser/endorser.go
 * buildChaincodeInterest) and the gateway's plan as Fabric's gateway + discovery make it
 * (internal/pkg/gateway/endorse.go planFromFirstEndorser, discovery/endorsement/endorsement.go
 * computePrincipalSets, discovery/support/chaincode/support.go PoliciesByChaincode).
 */
import { gateway, peer } from '@hyperledger/fabric-protos';
import type { LedgerStore, TxStatus } from '../../src/ledger';
import { CommitNotifier } from '../../src/peer/commitNotifier';
import { GatewayRpcError } from '../../src/gateway/errors';
import { GatewayPeer, GatewayService } from '../../src/gateway/gatewayService';
import { requiredPolicies } from '../../src/gateway/plan';
import { signLowS } from '../../src/identity/crypto';
import { Endorser, EndorsementOutcome, ProposalContext, SimulationResult } from '../../src/peer/endorser';
import { TransientStore } from '../../src/peer/transientStore';
import { ChannelPolicies } from '../../src/policy';
import { chaincodeConfig, FakeMsp, rwsetBytes, signaturePolicyEnvelope, signedProposal, TestIdentity } from '../peer/txBuilder';
import { nth } from '../lists';

const fake = new FakeMsp();
const MSPS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const client = fake.create('Org1MSP', 'pp-client', 'client');
const policies = new ChannelPolicies({
  orgMspIds: MSPS,
  msp: { satisfiesPrincipal: (id, p) => id.mspId === p.mspId && (p.role === 'member' || p.role === id.role) },
});
const cc = chaincodeConfig('cc', 'MAJORITY Endorsement', [
  { name: 'u1', policy: "OR('Org1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: "OR('Org1MSP.peer')" },
  { name: 'u1nopolicy', policy: "OR('Org1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: null },
]);
const kh = (s: string): Buffer => Buffer.from(s.padEnd(32, '.'));

type Sim = (ctx: ProposalContext) => SimulationResult;
const result = (rw: Parameters<typeof rwsetBytes>[0], extra: Partial<SimulationResult> = {}): Sim => () => ({
  response: { status: 200, message: '', payload: Buffer.from('ok') },
  rwsetBytes: rwsetBytes(rw),
  privateData: [],
  ...extra,
});

function peers(sim: Sim, sbe: Record<string, Buffer> = {}, calls: string[] = []): GatewayPeer[] {
  return MSPS.map((mspId, i) => {
    const id: TestIdentity = fake.byLabel.get(`pp-peer${i}`) ?? fake.create(mspId, `pp-peer${i}`, 'peer');
    const endorser = new Endorser({
      org: `org${i + 1}`, mspId, channel: 'energy', msp: fake,
      signer: { mspId, serialized: id.serialized, sign: (m) => signLowS(id.key, m) },
      chaincodes: new Map([['cc', cc]]),
      runtime: () => ({ execute: async (ctx) => (calls.push(mspId), sim(ctx)) }),
      txIdCommitted: async () => false,
      validationParameter: async (_ns, key) => sbe[key],
      transient: new TransientStore(),
    });
    return { endorser, mspId, address: `peer0.org${i + 1}:7051`, identity: id };
  });
}

async function interestOf(sim: Sim, sbe: Record<string, Buffer> = {}): Promise<EndorsementOutcome> {
  return nth(peers(sim, sbe), 0).endorser.processProposal(signedProposal(client));
}

function service(sim: Sim): { svc: GatewayService; calls: string[] } {
  const calls: string[] = [];
  const ps = peers(sim, {}, calls);
  const svc = new GatewayService({
    channel: 'energy', local: nth(ps, 0), peers: ps, chaincodes: new Map([['cc', cc]]), policies, msp: fake, ledger: {} as LedgerStore,
    notifier: new CommitNotifier<TxStatus>(async () => undefined),
    orderer: { broadcast: () => ({ status: 200, info: '' }) },
  });
  return { svc, calls };
}

function endorseRequest(transient?: Record<string, Buffer>): gateway.EndorseRequest {
  const req = new gateway.EndorseRequest();
  req.setProposedTransaction(peer.SignedProposal.deserializeBinary(signedProposal(client, { transient })));
  req.setChannelId('energy');
  return req;
}

const call = (o: Partial<{ name: string; collectionNames: string[]; noPrivateReads: boolean; keyPolicies: string[]; disregardNamespacePolicy: boolean }>) => ({
  name: 'cc', collectionNames: [], noPrivateReads: false, keyPolicies: [], disregardNamespacePolicy: false, ...o,
});

describe('ChaincodeInterest as Fabric builds it', () => {
  it('writes only to a collection: ONE call naming the collection, no public call (namespace policy not required)', async () => {
    const out = await interestOf(result([{ ns: 'cc', collections: [{ name: 'u1', hashedWrites: [kh('a'), kh('b')] }] }]));
    expect(out.interest).toEqual([call({ collectionNames: ['u1'], noPrivateReads: true })]);
    expect(out.disregardNamespacePolicy).toBe(true);
    expect(out.collections).toEqual([{ ns: 'cc', coll: 'u1', privateReads: false }]);
  });

  it('public reads do not bring the namespace policy back once the namespace is written (policyRequired already set)', async () => {
    const out = await interestOf(result([{ ns: 'cc', reads: [{ key: 'params' }], collections: [{ name: 'u1', hashedWrites: [kh('a')] }] }]));
    expect(out.interest).toEqual([call({ collectionNames: ['u1'], noPrivateReads: true })]);
    expect(out.disregardNamespacePolicy).toBe(true);
  });

  it('private reads of the written collection: no_private_reads = false (the runtime reports them as Fabric does)', async () => {
    const rw = [{ ns: 'cc', collections: [{ name: 'u1', hashedWrites: [kh('a')], hashedReads: [{ keyHash: kh('head') }] }] }];
    const out = await interestOf(result(rw, { privateReads: [{ ns: 'cc', coll: 'u1' }] } as Partial<SimulationResult>));
    expect(out.interest).toEqual([call({ collectionNames: ['u1'], noPrivateReads: false })]);
    // Without the runtime's report a hashed read counts as a private read (conservative).
    expect((await interestOf(result(rw))).interest).toEqual([call({ collectionNames: ['u1'], noPrivateReads: false })]);
  });

  it('public writes plus collection writes: the chaincode call and the collection call', async () => {
    const out = await interestOf(result([{ ns: 'cc', writes: [{ key: 'k', value: 'v' }], collections: [{ name: 'u1', hashedWrites: [kh('a')] }] }]));
    expect(out.interest).toEqual([call({}), call({ collectionNames: ['u1'], noPrivateReads: true })]);
    expect(out.disregardNamespacePolicy).toBe(false);
  });

  it('read-only: the chaincode call; a GetPrivateDataHash-only read is no private read when the runtime says so', async () => {
    expect((await interestOf(result([{ ns: 'cc', reads: [{ key: 'k' }] }]))).interest).toEqual([call({})]);
    const hashOnly = [{ ns: 'cc', writes: [{ key: 'k', value: 'v' }], collections: [{ name: 'u1', hashedReads: [{ keyHash: kh('proof') }] }] }];
    const out = await interestOf(result(hashOnly, { privateReads: [] } as Partial<SimulationResult>));
    expect(out.interest).toEqual([call({})]);
    expect(out.collections).toEqual([]);
  });

  it('key-level policies: with disregard when every public write has one; private writes do not prevent it', async () => {
    const sbe = { k: signaturePolicyEnvelope(1, ['Org3MSP.peer']) };
    const out = await interestOf(result([{ ns: 'cc', writes: [{ key: 'k', value: 'v' }], collections: [{ name: 'u1', hashedWrites: [kh('a')] }] }]), sbe);
    expect(out.interest).toEqual([
      call({ keyPolicies: out.keyPolicies, disregardNamespacePolicy: true }),
      call({ collectionNames: ['u1'], noPrivateReads: true }),
    ]);
    expect(out.keyPolicies).toHaveLength(1);
    expect(out.disregardNamespacePolicy).toBe(true);
  });
});

describe('planning (discovery: collection policies, the chaincode policy for a collection without one)', () => {
  const base = { chaincode: cc, hasTransientData: false, policies };
  it('requiredPolicies', () => {
    expect(requiredPolicies({ ...base, collections: ['u1'], disregardNamespacePolicy: true })).toEqual(["OR('Org1MSP.peer')"]);
    expect(requiredPolicies({ ...base, collections: ['u1nopolicy'], disregardNamespacePolicy: true })).toEqual(['MAJORITY Endorsement']);
    expect(requiredPolicies({ ...base, collections: ['u1'] })).toEqual(['MAJORITY Endorsement', "OR('Org1MSP.peer')"]);
    expect(requiredPolicies({ ...base, collections: [] })).toEqual(['MAJORITY Endorsement']);
    expect(requiredPolicies({ ...base, collections: [], disregardNamespacePolicy: true, keyPolicies: ["OR('Org3MSP.peer')"] })).toEqual(["OR('Org3MSP.peer')"]);
  });

  it('a reading (transient, private-only writes to u1 with OR(Org1.peer)) is endorsed by the local Org1 peer ALONE', async () => {
    const { svc, calls } = service(result([{ ns: 'cc', collections: [{ name: 'u1', hashedWrites: [kh('a')], hashedReads: [{ keyHash: kh('head') }] }] }]));
    const res = await svc.endorse(endorseRequest({ reading: Buffer.from('{"importWh":1}') }));
    expect(calls).toEqual(['Org1MSP']);
    expect(res.getPreparedTransaction()).toBeDefined();
  });

  it('the same writes to a collection WITHOUT an endorsement policy need MAJORITY: refused to protect the transient data', async () => {
    const { svc, calls } = service(result([{ ns: 'cc', collections: [{ name: 'u1nopolicy', hashedWrites: [kh('a')] }] }]));
    const err = (await svc.endorse(endorseRequest({ reading: Buffer.from('x') })).catch((e: unknown) => e)) as GatewayRpcError;
    expect(err).toBeInstanceOf(GatewayRpcError);
    expect(err.message).toMatch(/not in the distribution policy of the private data collection\(s\): \[u1nopolicy\]/);
    expect(calls).toEqual(['Org1MSP']);
  });

  it('public + private writes still need MAJORITY and the collection policy: Org1 plus one more', async () => {
    const { svc, calls } = service(result([{ ns: 'cc', writes: [{ key: 'k', value: 'v' }], collections: [{ name: 'u1', hashedWrites: [kh('a')] }] }]));
    await svc.endorse(endorseRequest());
    expect(calls).toEqual(['Org1MSP', 'Org2MSP']);
  });
});
