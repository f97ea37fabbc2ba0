import * as grpc from '@grpc/grpc-js';
import { common, gateway, peer } from '@hyperledger/fabric-protos';
import type { LedgerStore, TxStatus } from '../../src/ledger';
import { CommitNotifier } from '../../src/peer/commitNotifier';
import { GatewayRpcError } from '../../src/gateway/errors';
import { GatewayPeer, GatewayService } from '../../src/gateway/gatewayService';
import { signLowS } from '../../src/identity/crypto';
import { Endorser, ProposalContext, SimulationResult } from '../../src/peer/endorser';
import { TransientStore } from '../../src/peer/transientStore';
import { parseEndorserTransaction, parseEnvelopeHeader } from '../../src/peer/transaction';
import { ChannelPolicies } from '../../src/policy';
import { chaincodeConfig, FakeMsp, rwsetBytes, signaturePolicyEnvelope, signedProposal, TestIdentity } from '../peer/txBuilder';
import { nth } from '../lists';

const fake = new FakeMsp();
const MSPS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const client = fake.create('Org1MSP', 'g-client', 'client');
const policies = new ChannelPolicies({
  orgMspIds: MSPS,
  msp: { satisfiesPrincipal: (id, p) => id.mspId === p.mspId && (p.role === 'member' || p.role === id.role) },
});
const cc = chaincodeConfig('cc', 'MAJORITY Endorsement', [
  { name: 'org1only', policy: "OR('Org1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: null },
  { name: 'org12', policy: "OR('Org1MSP.member','Org2MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: null },
]);

type Behaviour = (ctx: ProposalContext) => SimulationResult;
const okResult = (extra: Partial<SimulationResult> = {}): SimulationResult => ({
  response: { status: 200, message: '', payload: Buffer.from('result') },
  rwsetBytes: rwsetBytes([{ ns: 'cc', writes: [{ key: 'k', value: 'v' }] }]),
  privateData: [],
  ...extra,
});

interface Setup {
  service: GatewayService;
  calls: string[];
  broadcasts: Buffer[];
}

type AsyncBehaviour = (ctx: ProposalContext) => SimulationResult | Promise<SimulationResult>;
function setup(behaviours: Record<string, AsyncBehaviour> = {}, broadcastStatus = 200, endorsementTimeoutMs?: number, sbe: Record<string, Buffer> = {}): Setup {
  const calls: string[] = [];
  const broadcasts: Buffer[] = [];
  const peers: GatewayPeer[] = MSPS.map((mspId, i) => {
    const id: TestIdentity = fake.byLabel.get(`g-peer${i}`) ?? fake.create(mspId, `g-peer${i}`, 'peer');
    const endorser = new Endorser({
      org: `org${i + 1}`, mspId, channel: 'energy', msp: fake,
      signer: { mspId, serialized: id.serialized, sign: (m) => signLowS(id.key, m) },
      chaincodes: new Map([['cc', cc]]),
      runtime: () => ({
        execute: async (ctx) => {
          calls.push(mspId);
          return (behaviours[mspId] ?? (() => okResult()))(ctx);
        },
      }),
      txIdCommitted: async () => false,
      validationParameter: async (_ns, key) => sbe[key],
      transient: new TransientStore(),
    });
    return { endorser, mspId, address: `peer0.org${i + 1}:7051`, identity: id };
  });
  const service = new GatewayService({
    channel: 'energy', local: nth(peers, 0), peers, chaincodes: new Map([['cc', cc]]), policies, msp: fake, ledger: {} as LedgerStore,
    notifier: new CommitNotifier<TxStatus>(async () => undefined),
    endorsementTimeoutMs,
    orderer: { broadcast: (env) => (broadcasts.push(Buffer.from(env)), { status: broadcastStatus, info: 'why' }) },
  });
  return { service, calls, broadcasts };
}

function endorseRequest(opts: Parameters<typeof signedProposal>[1] = {}, orgs: string[] = []): gateway.EndorseRequest {
  const req = new gateway.EndorseRequest();
  req.setProposedTransaction(peer.SignedProposal.deserializeBinary(signedProposal(client, opts)));
  req.setChannelId(opts.channel ?? 'energy');
  req.setEndorsingOrganizationsList(orgs);
  return req;
}
function evaluateRequest(opts: Parameters<typeof signedProposal>[1] = {}): gateway.EvaluateRequest {
  const req = new gateway.EvaluateRequest();
  req.setProposedTransaction(peer.SignedProposal.deserializeBinary(signedProposal(client, opts)));
  return req;
}
async function rpcErr(p: Promise<unknown>): Promise<GatewayRpcError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayRpcError);
  return e as GatewayRpcError;
}

describe('GatewayService', () => {
  it('Endorse: local org first, then just enough orgs for MAJORITY (2 of 3); assembles the envelope', async () => {
    const { service, calls } = setup();
    const res = await service.endorse(endorseRequest());
    expect(calls).toEqual(['Org1MSP', 'Org2MSP']);
    const env = res.getPreparedTransaction()!;
    expect(env.getSignature_asU8().length).toBe(0);
    const tx = parseEndorserTransaction(parseEnvelopeHeader(env.serializeBinary()));
    expect(tx.endorsements.length).toBe(2);
  });

  it('Endorse: honours endorsing_organizations; an unknown org is UNAVAILABLE', async () => {
    const { service, calls } = setup();
    await service.endorse(endorseRequest({}, ['Org3MSP']));
    expect(calls).toEqual(['Org3MSP']);
    const e = await rpcErr(service.endorse(endorseRequest({}, ['Org9MSP'])));
    expect(e.code).toBe(grpc.status.UNAVAILABLE);
    expect(e.message).toBe('failed to find any endorsing peers for org(s): Org9MSP');
  });

  it('Endorse: falls back to another org when one fails', async () => {
    const { service, calls } = setup({ Org2MSP: () => { throw new Error('chaincode stream terminated'); } });
    const res = await service.endorse(endorseRequest());
    expect(calls).toEqual(['Org1MSP', 'Org2MSP', 'Org3MSP']);
    expect(parseEndorserTransaction(parseEnvelopeHeader(res.getPreparedTransaction()!.serializeBinary())).endorsements.length).toBe(2);
  });

  it('Endorse: differing payloads ⇒ ABORTED "ProposalResponsePayloads do not match"', async () => {
    let n = 0;
    const nondeterministic: Behaviour = () => okResult({ response: { status: 200, message: '', payload: Buffer.from(String(n++)) } });
    const { service } = setup({ Org1MSP: nondeterministic, Org2MSP: nondeterministic, Org3MSP: nondeterministic });
    const e = await rpcErr(service.endorse(endorseRequest()));
    expect(e.code).toBe(grpc.status.ABORTED);
    expect(e.message).toBe('failed to collect enough transaction endorsements, see attached details for more info');
    expect(e.details.map((d) => d.message)).toEqual(['ProposalResponsePayloads do not match', 'ProposalResponsePayloads do not match']);
  });

  it('Endorse: a chaincode error at the local org ⇒ ABORTED with the chaincode message in details', async () => {
    const { service } = setup({ Org1MSP: () => okResult({ response: { status: 500, message: 'bad meter', payload: Buffer.alloc(0) } }) });
    const e = await rpcErr(service.endorse(endorseRequest()));
    expect(e.code).toBe(grpc.status.ABORTED);
    expect(e.message).toBe('failed to endorse transaction, see attached details for more info');
    expect(e.details).toEqual([{ address: 'peer0.org1:7051', mspId: 'Org1MSP', message: 'chaincode response 500, bad meter' }]);
  });

  it('Endorse with transient data: only collection members may endorse', async () => {
    const touching = (coll: string): Behaviour => () =>
      okResult({ rwsetBytes: rwsetBytes([{ ns: 'cc', collections: [{ name: coll, hashedWrites: [Buffer.alloc(32, 1)] }] }]) });
    const two = setup({ Org1MSP: touching('org12'), Org2MSP: touching('org12'), Org3MSP: touching('org12') });
    await two.service.endorse(endorseRequest({ transient: { secret: Buffer.from('x') } }));
    expect(two.calls).toEqual(['Org1MSP', 'Org2MSP']);
    const one = setup({ Org1MSP: touching('org1only') });
    const e = await rpcErr(one.service.endorse(endorseRequest({ transient: { secret: Buffer.from('x') } })));
    expect(e.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(e.message).toBe(
      'requires endorsement from organisation(s) that are not in the distribution policy of the private data collection(s): [org1only]; retry specifying trusted endorsing organizations to protect transient data',
    );
    // the same write without transient data is endorsed by a majority as usual
    const plain = setup({ Org1MSP: touching('org1only'), Org2MSP: touching('org1only') });
    await plain.service.endorse(endorseRequest());
    expect(plain.calls).toEqual(['Org1MSP', 'Org2MSP']);
  });

  it('Endorse after private reads: only collection members, as discovery filters them', async () => {
    const reading: Behaviour = () =>
      okResult({ rwsetBytes: rwsetBytes([{ ns: 'cc', writes: [{ key: 'k', value: 'v' }], collections: [{ name: 'org1only', hashedReads: [{ keyHash: Buffer.alloc(32, 2) }] }] }]) });
    const { service } = setup({ Org1MSP: reading });
    const e = await rpcErr(service.endorse(endorseRequest()));
    expect(e.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(e.message).toBe('no combination of peers can be derived which satisfy the endorsement policy: no peer combination can satisfy the endorsement policy');
  });

  it('malformed requests: Evaluate prefixes "failed to unpack transaction proposal", Endorse does not', async () => {
    const { service } = setup();
    const empty = new gateway.EvaluateRequest();
    const e1 = await rpcErr(service.evaluate(empty));
    expect(e1.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e1.message).toBe('failed to unpack transaction proposal: a signed proposal is required');
    const e2 = await rpcErr(service.endorse(new gateway.EndorseRequest()));
    expect(e2.message).toBe('the proposed transaction must contain a signed proposal');
    const garbage = new peer.SignedProposal();
    garbage.setProposalBytes(Buffer.from([0xff, 0xff]));
    const req = new gateway.EvaluateRequest();
    req.setProposedTransaction(garbage);
    const e3 = await rpcErr(service.evaluate(req));
    expect(e3.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e3.message).toMatch(/^failed to unpack transaction proposal: /);
  });

  it('Endorse: unknown chaincode or channel ⇒ FAILED_PRECONDITION', async () => {
    const { service } = setup();
    const e = await rpcErr(service.endorse(endorseRequest({ chaincode: 'nope' })));
    expect(e.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(e.message).toBe(
      'no combination of peers can be derived which satisfy the endorsement policy: No metadata was found for chaincode nope in channel energy',
    );
  });

  it('Evaluate: result payload; chaincode error ⇒ UNKNOWN; rejected proposal ⇒ FAILED_PRECONDITION; unknown channel ⇒ UNAVAILABLE', async () => {
    const good = setup();
    const res = await good.service.evaluate(evaluateRequest());
    expect(Buffer.from(res.getResult()!.getPayload_asU8()).toString()).toBe('result');
    expect(good.calls).toEqual(['Org1MSP']);
    const bad = setup({ Org1MSP: () => okResult({ response: { status: 500, message: 'nope', payload: Buffer.alloc(0) } }) });
    const e1 = await rpcErr(bad.service.evaluate(evaluateRequest()));
    expect(e1.code).toBe(grpc.status.UNKNOWN);
    expect(e1.message).toBe('evaluate call to endorser returned error: chaincode response 500, nope');
    const peerRole = fake.byLabel.get('g-peer0')!;
    const req = new gateway.EvaluateRequest();
    req.setProposedTransaction(peer.SignedProposal.deserializeBinary(signedProposal(peerRole)));
    const e2 = await rpcErr(good.service.evaluate(req));
    expect(e2.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(e2.message).toMatch(/^evaluate call to endorser returned error: failed evaluating policy on signed data/);
    const e3 = await rpcErr(good.service.evaluate(evaluateRequest({ channel: 'other' })));
    expect(e3.code).toBe(grpc.status.UNAVAILABLE);
    expect(e3.message).toBe('failed to get config for channel [other]: could not get last config for channel other');
  });

  it('Evaluate: peer failures are retried on other orgs, then ABORTED', async () => {
    const boom: Behaviour = () => { throw new Error('connection refused'); };
    const { service, calls } = setup({ Org1MSP: boom, Org2MSP: boom });
    const res = await service.evaluate(evaluateRequest());
    expect(Buffer.from(res.getResult()!.getPayload_asU8()).toString()).toBe('result');
    expect(calls).toEqual(['Org1MSP', 'Org2MSP', 'Org3MSP']);
    const all = setup({ Org1MSP: boom, Org2MSP: boom, Org3MSP: boom });
    const e = await rpcErr(all.service.evaluate(evaluateRequest()));
    expect(e.code).toBe(grpc.status.ABORTED);
    expect(e.details.length).toBe(3);
  });

  it('Submit: unsigned ⇒ INVALID_ARGUMENT; orderer FORBIDDEN ⇒ ABORTED with Fabric text; success forwards the envelope', async () => {
    const { service, broadcasts } = setup();
    const env = (await service.endorse(endorseRequest())).getPreparedTransaction()!;
    const req = new gateway.SubmitRequest();
    req.setChannelId('energy');
    req.setPreparedTransaction(env);
    const e = await rpcErr(service.submit(req));
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.message).toBe('prepared transaction must be signed');
    env.setSignature(signLowS(client.key, env.getPayload_asU8()));
    await service.submit(req);
    expect(broadcasts.length).toBe(1);
    const forbidden = setup({}, common.Status.FORBIDDEN);
    const e2 = await rpcErr(forbidden.service.submit(req));
    expect(e2.code).toBe(grpc.status.ABORTED);
    expect(e2.message).toBe('received unsuccessful response from orderer: status=FORBIDDEN, info=why');
    req.setChannelId('other');
    expect((await rpcErr(service.submit(req))).code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('Evaluate/Endorse past the endorsement timeout ⇒ DEADLINE_EXCEEDED with Fabric texts', async () => {
    const never: AsyncBehaviour = () => new Promise<SimulationResult>(() => undefined);
    const hungLocal = setup({ Org1MSP: never }, 200, 5);
    const e1 = await rpcErr(hungLocal.service.evaluate(evaluateRequest()));
    expect(e1.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(e1.message).toBe('evaluate timeout expired');
    const e2 = await rpcErr(hungLocal.service.endorse(endorseRequest()));
    expect(e2.message).toBe('endorsement timeout expired while collecting first endorsement');
    const hungOthers = setup({ Org2MSP: never, Org3MSP: never }, 200, 5);
    const e3 = await rpcErr(hungOthers.service.endorse(endorseRequest()));
    expect(e3.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(e3.message).toBe('endorsement timeout expired while collecting endorsements');
  });

  it('Endorse: key-level policies of written keys steer org selection (chaincode policy disregarded when all keys have one)', async () => {
    const sbe = { k: signaturePolicyEnvelope(1, ['Org3MSP.peer']) };
    const owned = setup({}, 200, undefined, sbe);
    await owned.service.endorse(endorseRequest());
    expect(owned.calls).toEqual(['Org1MSP', 'Org3MSP']);
    const writesTwo: AsyncBehaviour = () => okResult({ rwsetBytes: rwsetBytes([{ ns: 'cc', writes: [{ key: 'k', value: 'v' }, { key: 'free', value: 'w' }] }]) });
    const mixed = setup({ Org1MSP: writesTwo, Org2MSP: writesTwo, Org3MSP: writesTwo }, 200, undefined, sbe);
    await mixed.service.endorse(endorseRequest());
    // MAJORITY (for 'free') and Org3 (for 'k'): local Org1 + Org3 satisfies both
    expect(mixed.calls).toEqual(['Org1MSP', 'Org3MSP']);
  });
});
