import { peer } from '@hyperledger/fabric-protos';
import { signLowS } from '../../src/identity/crypto';
import { Endorser, ProposalContext, ProposalRejectedError, SimulationResult } from '../../src/peer/endorser';
import { unpackSignedProposal } from '../../src/peer/proposal';
import { TransientStore } from '../../src/peer/transientStore';
import { chaincodeConfig, FakeMsp, rwsetBytes, signedProposal } from './txBuilder';
import { nth } from '../lists';

const fake = new FakeMsp();
const client = fake.create('Org1MSP', 'e-client', 'client');
const peerIdentity = fake.create('Org1MSP', 'e-peer', 'peer');
const committed = new Set<string>();

function endorser(result: (ctx: ProposalContext) => SimulationResult | Promise<SimulationResult>, transient = new TransientStore()) {
  const seen: ProposalContext[] = [];
  const e = new Endorser({
    org: 'org1', mspId: 'Org1MSP', channel: 'energy', msp: fake,
    signer: { mspId: 'Org1MSP', serialized: peerIdentity.serialized, sign: (m) => signLowS(peerIdentity.key, m) },
    chaincodes: new Map([['cc', chaincodeConfig('cc')]]),
    runtime: (name) => (name === 'cc' ? { execute: async (ctx) => (seen.push(ctx), result(ctx)) } : undefined),
    txIdCommitted: async (id) => committed.has(id),
    transient,
  });
  return { e, seen, transient };
}

const ok = (): SimulationResult => ({
  response: { status: 200, message: '', payload: Buffer.from('result') },
  rwsetBytes: rwsetBytes([{ ns: 'cc', writes: [{ key: 'k', value: 'v' }] }]),
  privateData: [{ ns: 'cc', coll: 'c', key: 'p', value: Buffer.from('secret') }],
});

describe('Endorser (ProcessProposal)', () => {
  it('simulates, builds ChaincodeAction/ProposalResponsePayload and signs prp ‖ endorser', async () => {
    const { e, seen, transient } = endorser(ok);
    const sp = signedProposal(client, { args: ['put', 'k', 'v'], transient: { t: Buffer.from('x') } });
    const out = await e.processProposal(sp);
    const pr = out.response;
    expect(pr.getVersion()).toBe(1);
    expect(pr.getResponse()!.getStatus()).toBe(200);
    const prp = peer.ProposalResponsePayload.deserializeBinary(pr.getPayload_asU8());
    // proposal hash excludes the transient map (P§8.8)
    expect(Buffer.from(prp.getProposalHash_asU8()).equals(unpackSignedProposal(sp).proposalHash)).toBe(true);
    const action = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    expect(action.getChaincodeId()!.getName()).toBe('cc');
    expect(action.getChaincodeId()!.getVersion()).toBe('1.0'); // no definition version given: chaincode.sh's fallback
    expect(Buffer.from(action.getResponse()!.getPayload_asU8()).toString()).toBe('result');
    const en = pr.getEndorsement()!;
    expect(Buffer.from(en.getEndorser_asU8()).equals(peerIdentity.serialized)).toBe(true);
    expect(fake.verify(peerIdentity, Buffer.concat([pr.getPayload_asU8(), en.getEndorser_asU8()]), en.getSignature_asU8())).toBe(true);
    expect(nth(seen, 0).transient.get('t')!.toString()).toBe('x');
    expect(nth(seen, 0).creator.mspId).toBe('Org1MSP');
    expect(transient.get(out.proposal.txId)).toEqual(ok().privateData);
  });

  it("writes the committed definition's version into ChaincodeAction.chaincode_id (F core/endorser/endorser.go)", async () => {
    const e = new Endorser({
      org: 'org1', mspId: 'Org1MSP', channel: 'energy', msp: fake,
      signer: { mspId: 'Org1MSP', serialized: peerIdentity.serialized, sign: (m) => signLowS(peerIdentity.key, m) },
      chaincodes: new Map([['cc', chaincodeConfig('cc')]]),
      runtime: (name) => (name === 'cc' ? { execute: async () => ok() } : undefined),
      txIdCommitted: async (id) => committed.has(id),
      transient: new TransientStore(),
      chaincodeVersion: (name) => (name === 'cc' ? '0.2.0' : 'wrong'),
    });
    const out = await e.processProposal(signedProposal(client));
    const prp = peer.ProposalResponsePayload.deserializeBinary(out.response.getPayload_asU8());
    expect(peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()).getChaincodeId()!.toObject()).toEqual({ name: 'cc', version: '0.2.0', path: '' });
  });

  it('does not keep private data of an evaluation', async () => {
    const { e, transient } = endorser(ok);
    const out = await e.processProposal(signedProposal(client), true);
    expect(transient.get(out.proposal.txId)).toBeUndefined();
  });

  it('an evaluation (read-only) answers the chaincode response alone: no ProposalResponsePayload, no signature', async () => {
    const signed: Uint8Array[] = [];
    const e = new Endorser({
      org: 'org1', mspId: 'Org1MSP', channel: 'energy', msp: fake,
      signer: { mspId: 'Org1MSP', serialized: peerIdentity.serialized, sign: (m) => (signed.push(m), signLowS(peerIdentity.key, m)) },
      chaincodes: new Map([['cc', chaincodeConfig('cc')]]),
      runtime: (name) => (name === 'cc' ? { execute: async () => ok() } : undefined),
      txIdCommitted: async (id) => committed.has(id),
      transient: new TransientStore(),
    });
    const out = await e.processProposal(signedProposal(client), true);
    expect(out.result?.toString()).toBe('result');
    expect(out.response.getResponse()!.getStatus()).toBe(200);
    expect(Buffer.from(out.response.getResponse()!.getPayload_asU8()).toString()).toBe('result');
    expect(out.response.hasEndorsement()).toBe(false);
    expect(out.response.getPayload_asU8().length).toBe(0);
    expect(signed).toHaveLength(0);
    // the same proposal submitted for endorsement is signed as before
    const endorsed = await e.processProposal(signedProposal(client));
    expect(endorsed.result).toBeUndefined();
    expect(endorsed.response.hasEndorsement()).toBe(true);
    expect(signed).toHaveLength(1);
  });

  it('a failed evaluation keeps the full response (its payload tells a chaincode error from a peer error)', async () => {
    const fail = (status: number) => (): SimulationResult => ({ ...ok(), response: { status, message: 'nope', payload: Buffer.from('why') } });
    const r500 = await endorser(fail(500)).e.processProposal(signedProposal(client), true);
    expect(r500.result).toBeUndefined();
    expect(r500.response.getPayload_asU8().length).toBeGreaterThan(0);
    const r404 = await endorser(fail(404)).e.processProposal(signedProposal(client), true);
    expect(r404.result).toBeUndefined();
    expect(r404.response.getResponse()!.getStatus()).toBe(404);
  });

  it('chaincode status ≥ 500: response and payload, no endorsement; 4xx: response only', async () => {
    const fail = (status: number) => (): SimulationResult => ({ ...ok(), response: { status, message: 'nope', payload: Buffer.alloc(0) } });
    const r500 = (await endorser(fail(500)).e.processProposal(signedProposal(client))).response;
    expect(r500.hasEndorsement()).toBe(false);
    expect(r500.getPayload_asU8().length).toBeGreaterThan(0);
    const r404 = (await endorser(fail(404)).e.processProposal(signedProposal(client))).response;
    expect(r404.hasEndorsement()).toBe(false);
    expect(r404.getPayload_asU8().length).toBe(0);
  });

  it('a runtime failure is a 500 without payload prefixed "error in simulation: "', async () => {
    const { e } = endorser(() => {
      throw new Error('failed to execute transaction abc: chaincode stream terminated');
    });
    const r = (await e.processProposal(signedProposal(client))).response;
    expect(r.getResponse()!.getStatus()).toBe(500);
    expect(r.getResponse()!.getMessage()).toBe('error in simulation: failed to execute transaction abc: chaincode stream terminated');
    expect(r.getPayload_asU8().length).toBe(0);
  });

  it('rejects bad signatures, unknown creators, non-Writers, bad txids and duplicates with Fabric texts', async () => {
    const { e } = endorser(ok);
    const other = fake.create('Org1MSP', 'e-other', 'client');
    const sp = peer.SignedProposal.deserializeBinary(signedProposal(client));
    sp.setSignature(signLowS(other.key, sp.getProposalBytes_asU8()));
    await expect(e.processProposal(sp.serializeBinary())).rejects.toThrow(
      'error validating proposal: access denied: channel [energy] creator org [Org1MSP]',
    );
    const stranger = new FakeMsp().create('Org9MSP', 'nobody', 'client');
    await expect(e.processProposal(signedProposal(stranger))).rejects.toThrow(
      'error validating proposal: access denied: channel [energy] creator org unknown, creator is malformed',
    );
    await expect(e.processProposal(signedProposal(peerIdentity))).rejects.toThrow(/\[\/Channel\/Application\/Writers\]/);
    await expect(e.processProposal(signedProposal(client, { txIdOverride: 'abc' }))).rejects.toThrow(/^error validating proposal: incorrectly computed txid 'abc' -- expected '[0-9a-f]{64}'$/);
    const dup = signedProposal(client);
    committed.add(unpackSignedProposal(dup).txId);
    await expect(e.processProposal(dup)).rejects.toThrow(/^duplicate transaction found \[[0-9a-f]{64}\]\. Creator \[[0-9a-f]+\]$/);
    await expect(e.processProposal(Buffer.from([9, 9, 9]))).rejects.toBeInstanceOf(ProposalRejectedError);
  });
});
