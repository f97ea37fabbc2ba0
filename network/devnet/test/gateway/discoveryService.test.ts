/**
 * discovery.Discovery (F discovery/service.go): per-query access check, config, membership and
 * endorsement descriptors whose layouts are the minimal org sets satisfying the interest's policies.
 * Also the peer's ProcessProposal error split and the orderer's Broadcast stream.
 */
import { EventEmitter } from 'node:events';
import { common, discovery, gossip, msp, orderer, peer } from '@hyperledger/fabric-protos';
import type { LedgerStore } from '../../src/ledger';
import { DiscoveryService, type DiscoveryPeer } from '../../src/gateway/discoveryService';
import { endorserHandlers } from '../../src/gateway/endorserService';
import { signLowS } from '../../src/identity/crypto';
import { broadcastHandler } from '../../src/orderer/ordererServer';
import { Endorser } from '../../src/peer/endorser';
import { TransientStore } from '../../src/peer/transientStore';
import { ChannelPolicies } from '../../src/policy';
import { chaincodeConfig, FakeMsp, signedProposal } from '../peer/txBuilder';
import { status } from '@grpc/grpc-js';

const fake = new FakeMsp();
const MSPS = ['Org1MSP', 'Org2MSP', 'Org3MSP'];
const client = fake.create('Org1MSP', 'dsc-client', 'client');
const stranger = new FakeMsp().create('Org9MSP', 'dsc-stranger', 'client');
const policies = new ChannelPolicies({
  orgMspIds: MSPS,
  msp: { satisfiesPrincipal: (id, p) => id.mspId === p.mspId && (p.role === 'member' || p.role === id.role) },
});
const cc = chaincodeConfig('cc', 'MAJORITY Endorsement', [
  { name: 'u1', policy: "OR('Org1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: "OR('Org1MSP.peer')" },
  { name: 'u1nopolicy', policy: "OR('Org1MSP.member')", memberOnlyRead: true, memberOnlyWrite: false, endorsementPolicy: null },
]);
const peers: DiscoveryPeer[] = MSPS.map((mspId, i) => {
  const id = fake.create(mspId, `dsc-peer${i}`, 'peer');
  return { mspId, endpoint: `127.0.0.1:${7051 + i}`, serialized: id.serialized, identity: id, sign: (m) => signLowS(id.key, m) };
});
const service = new DiscoveryService({
  channel: 'energy',
  msp: fake,
  policies,
  ledger: { height: () => 42 } as unknown as LedgerStore,
  chaincodes: new Map([['cc', cc]]),
  peers,
  local: peers[0]!,
  msps: [...MSPS, 'OrdererMSP'].map((m) => ({ mspId: m, rootCertsPem: [`root ${m}`], tlsRootCertsPem: [`tls ${m}`] })),
  orderers: [{ mspId: 'OrdererMSP', host: '127.0.0.1', port: 7050 }],
  chaincodeVersion: (name) => (name === 'cc' ? '0.2.0' : 'wrong'),
});

function query(channel: string, set: (q: discovery.Query) => void): discovery.Query {
  const q = new discovery.Query();
  q.setChannel(channel);
  set(q);
  return q;
}

function ccQuery(name: string, collections: string[] = [], noPrivateReads = false): (q: discovery.Query) => void {
  return (q) => {
    const call = new peer.ChaincodeCall();
    call.setName(name);
    call.setCollectionNamesList(collections);
    call.setNoPrivateReads(noPrivateReads);
    const interest = new peer.ChaincodeInterest();
    interest.addChaincodes(call);
    const cq = new discovery.ChaincodeQuery();
    cq.addInterests(interest);
    q.setCcQuery(cq);
  };
}

function discover(who: typeof client, ...queries: discovery.Query[]): discovery.QueryResult[] {
  const auth = new discovery.AuthInfo();
  auth.setClientIdentity(who.serialized);
  const req = new discovery.Request();
  req.setAuthentication(auth);
  req.setQueriesList(queries);
  const signed = new discovery.SignedRequest();
  const payload = req.serializeBinary();
  signed.setPayload(payload);
  signed.setSignature(signLowS(who.key, payload));
  return service.discover(signed).getResultsList();
}

/** Layouts as sorted lists of the MSP ids of their groups. */
function layouts(r: discovery.QueryResult): string[][] {
  const desc = r.getCcQueryRes()!.getContentList()[0]!;
  const groupMsp = new Map<string, string>();
  desc.getEndorsersByGroupsMap().forEach((ps: discovery.Peers, g: string) => {
    groupMsp.set(g, msp.SerializedIdentity.deserializeBinary(ps.getPeersList()[0]!.getIdentity_asU8()).getMspid());
  });
  return desc
    .getLayoutsList()
    .map((l) => l.getQuantitiesByGroupMap().toArray().map(([g]) => groupMsp.get(g)!).sort())
    .sort();
}

describe('discovery', () => {
  it('config: every MSP with its TLS roots, and the orderer endpoints by orderer MSP', () => {
    const [r] = discover(client, query('energy', (q) => q.setConfigQuery(new discovery.ConfigQuery())));
    const cr = r!.getConfigResult()!;
    expect(cr.getMspsMap().toArray().map(([k]) => k).sort()).toEqual([...MSPS, 'OrdererMSP'].sort());
    expect(Buffer.from(cr.getMspsMap().get('Org2MSP')!.getTlsRootCertsList_asU8()[0]!).toString()).toBe('tls Org2MSP');
    const eps = cr.getOrderersMap().get('OrdererMSP')!.getEndpointList();
    expect(eps.map((e) => `${e.getHost()}:${e.getPort()}`)).toEqual(['127.0.0.1:7050']);
  });

  it("membership: one peer per org, its alive message names its endpoint, its state info the ledger height and chaincodes", () => {
    const [r] = discover(client, query('energy', (q) => q.setPeerQuery(new discovery.PeerMembershipQuery())));
    const byOrg = r!.getMembers()!.getPeersByOrgMap();
    expect(byOrg.toArray().map(([k]) => k).sort()).toEqual(MSPS);
    const p2 = byOrg.get('Org2MSP')!.getPeersList()[0]!;
    const alive = gossip.GossipMessage.deserializeBinary(p2.getMembershipInfo()!.getPayload_asU8());
    expect(alive.getAliveMsg()!.getMembership()!.getEndpoint()).toBe('127.0.0.1:7052');
    const state = gossip.GossipMessage.deserializeBinary(p2.getStateInfo()!.getPayload_asU8()).getStateInfo()!.getProperties()!;
    expect(state.getLedgerHeight()).toBe(42);
    // name and the committed definition's version (F common/chaincode/metadata.go AsChaincodes)
    expect(state.getChaincodesList().map((c) => [c.getName(), c.getVersion()])).toEqual([['cc', '0.2.0']]);
  });

  it('layouts: MAJORITY of three orgs → the pairs; a collection with its own policy → that policy alone; private reads → members only', () => {
    const [maj, coll, implicitReads, noPolicyReads, noPolicyWrites] = discover(
      client,
      query('energy', ccQuery('cc')),
      query('energy', ccQuery('cc', ['u1'], true)),
      query('energy', ccQuery('cc', ['_implicit_org_Org2MSP'], false)),
      query('energy', ccQuery('cc', ['u1nopolicy'], false)),
      query('energy', ccQuery('cc', ['u1nopolicy'], true)),
    );
    expect(layouts(maj!)).toEqual([['Org1MSP', 'Org2MSP'], ['Org1MSP', 'Org3MSP'], ['Org2MSP', 'Org3MSP']]);
    expect(layouts(coll!)).toEqual([['Org1MSP']]);
    expect(layouts(implicitReads!)).toEqual([['Org2MSP']]);
    // the chaincode's MAJORITY for a collection without policy, but only Org1 may read it
    expect(noPolicyReads!.getError()?.getContent()).toMatch(/^failed constructing descriptor for chaincodes:<name:"cc" collection_names:"u1nopolicy">/);
    expect(layouts(noPolicyWrites!)).toEqual([['Org1MSP', 'Org2MSP'], ['Org1MSP', 'Org3MSP'], ['Org2MSP', 'Org3MSP']]);
  });

  it('unknown chaincode, unknown channel and a non-member client are refused as Fabric refuses them', () => {
    const [unknownCc] = discover(client, query('energy', ccQuery('nope')));
    expect(unknownCc!.getError()!.getContent()).toMatch(/^failed constructing descriptor for/);
    const [unknownChannel] = discover(client, query('other', (q) => q.setConfigQuery(new discovery.ConfigQuery())));
    expect(unknownChannel!.getError()!.getContent()).toBe('access denied');
    const [denied] = discover(stranger, query('energy', (q) => q.setConfigQuery(new discovery.ConfigQuery())));
    expect(denied!.getError()!.getContent()).toBe('access denied');
  });
});

describe('peer ProcessProposal and orderer Broadcast', () => {
  const id = peers[0]!.identity as ReturnType<FakeMsp['create']>;
  const endorser = new Endorser({
    org: 'org1', mspId: 'Org1MSP', channel: 'energy', msp: fake,
    signer: { mspId: 'Org1MSP', serialized: id.serialized, sign: (m) => signLowS(id.key, m) },
    chaincodes: new Map([['cc', cc]]),
    runtime: () => undefined,
    txIdCommitted: async () => false,
    validationParameter: async () => undefined,
    transient: new TransientStore(),
  });
  const call = (bytes: Buffer): Promise<{ err: { code?: number; details?: string } | null; res?: peer.ProposalResponse }> =>
    new Promise((resolve) => {
      const h = endorserHandlers(endorser).processProposal as (c: unknown, cb: (e: unknown, r?: unknown) => void) => void;
      h({ request: bytes }, (err, res) => resolve({ err: err as { code?: number; details?: string } | null, res: res as peer.ProposalResponse }));
    });

  it('a proposal failing validation fails the call (UNKNOWN); an unknown chaincode is a 500 response', async () => {
    const bad = await call(signedProposal(stranger));
    expect(bad.err?.code).toBe(status.UNKNOWN);
    expect(bad.err?.details).toMatch(/^error validating proposal: access denied/);
    const unknownChannel = await call(signedProposal(client, { channel: 'other' }));
    expect(unknownChannel.err).toBeNull();
    expect(unknownChannel.res!.getResponse()!.getStatus()).toBe(500);
    expect(unknownChannel.res!.getResponse()!.getMessage()).toBe("channel 'other' not found");
    const noCc = await call(signedProposal(client));
    expect(noCc.res!.getResponse()!.getStatus()).toBe(500);
    expect(noCc.res!.getResponse()!.getMessage()).toMatch(/chaincode cc not found/);
  });

  it('Broadcast answers each envelope and ends the stream after a refusal', () => {
    const stream = Object.assign(new EventEmitter(), { written: [] as orderer.BroadcastResponse[], ended: false }) as EventEmitter & {
      written: orderer.BroadcastResponse[]; ended: boolean; write(r: orderer.BroadcastResponse): void; end(): void;
    };
    stream.write = (r) => void stream.written.push(r);
    stream.end = () => void (stream.ended = true);
    const results = [{ status: common.Status.SUCCESS, info: '' }, { status: common.Status.FORBIDDEN, info: 'permission denied' }];
    broadcastHandler({ broadcast: () => results.shift()! })(stream as never);
    stream.emit('data', Buffer.from('e1'));
    expect(stream.ended).toBe(false);
    stream.emit('data', Buffer.from('e2'));
    stream.emit('data', Buffer.from('e3')); // after the end: ignored
    expect(stream.written.map((r) => [r.getStatus(), r.getInfo()])).toEqual([[200, ''], [403, 'permission denied']]);
    expect(stream.ended).toBe(true);
  });
});
