/**
 * Conformance: the legacy `fabric-network` 2.2 SDK (npm, unmodified) with service discovery on and
 * `asLocalhost` (on loopback addresses), as Fabric's older samples and many applications run it. It needs the peer's
 * `discovery.Discovery/Discover` (config: MSPs and orderer endpoints; membership; endorsement plans),
 * `protos.Endorser/ProcessProposal` (evaluate and endorse without the peer gateway),
 * `protos.Deliver/DeliverFiltered` (commit events) and the orderer's `orderer.AtomicBroadcast/Broadcast`.
 * The only input is a connection profile naming the client org's peer from network.json.
 */
import { readFileSync } from 'node:fs';
import { Gateway, Wallets, type Network, type X509Identity } from 'fabric-network';
import { clientUserName, userFiles, type OrgDescriptor } from '../support';
import { CHAINCODE, openFixture, type Fixture } from './fixture';

let f: Fixture;
const gateways: Gateway[] = [];

beforeAll(() => {
  f = openFixture();
});

afterAll(() => {
  gateways.forEach((g) => g.disconnect());
  f.close();
});

/** A connection profile with only the client org's peer, as the samples' ccp-template does. */
function connectionProfile(o: OrgDescriptor): Record<string, unknown> {
  return {
    name: 'conformance',
    version: '1.0.0',
    client: { organization: o.name, connection: { timeout: { peer: { endorser: '300' } } } },
    organizations: { [o.name]: { mspid: o.mspId, peers: [o.peer.hostAlias] } },
    peers: {
      [o.peer.hostAlias]: {
        url: `grpcs://${o.peer.endpoint}`,
        tlsCACerts: { pem: readFileSync(o.peer.tlsRootCertPath, 'utf8') },
        grpcOptions: { 'ssl-target-name-override': o.peer.hostAlias, hostnameOverride: o.peer.hostAlias },
      },
    },
  };
}

async function connectLegacy(o: OrgDescriptor): Promise<Network> {
  const files = userFiles(o, clientUserName(o));
  const wallet = await Wallets.newInMemoryWallet();
  const identity: X509Identity = {
    credentials: { certificate: readFileSync(files.certPath, 'utf8'), privateKey: readFileSync(files.keyPath, 'utf8') },
    mspId: o.mspId,
    type: 'X.509',
  };
  await wallet.put('user', identity);
  const gw = new Gateway();
  gateways.push(gw);
  // asLocalhost rewrites every discovered host to localhost (fabric-network's setting for a network in
  // Docker on the client's machine). With each org on its own address (the network-namespace mode,
  // docs/operations.md §3) the client must dial what discovery answers, as it would across real hosts.
  const asLocalhost = o.peer.endpoint.startsWith('127.');
  await gw.connect(connectionProfile(o), { wallet, identity: 'user', discovery: { enabled: true, asLocalhost } });
  return gw.getNetwork(f.net.channel);
}

describe('fabric-network 2.2 with discovery', () => {
  it("discovers every org's peer at its network.json endpoint and the orderer endpoints", async () => {
    const network = await connectLegacy(f.orgs[0]!);
    const channel = network.getChannel();
    for (const o of f.orgs) {
      expect(channel.getEndorsers(o.mspId).map((e) => e.name)).toContain(o.peer.endpoint);
    }
    const orderer = f.net.orderer;
    expect(orderer?.nodes?.length).toBeGreaterThan(0);
    const committers = channel.getCommitters().map((c) => c.name).sort();
    expect(committers).toEqual(orderer.nodes.map((n) => n.endpoint).sort());
    expect(channel.getCommitters().every((c) => c.mspid === orderer.mspId)).toBe(true);
  });

  it('submit (discovery plan → ProcessProposal → Broadcast → commit event) and evaluate work unchanged', async () => {
    const contract = (await connectLegacy(f.orgs[0]!)).getContract(CHAINCODE);
    const key = `${f.run}:legacy`;
    const result = await contract.submitTransaction('put', key, 'written by fabric-network 2.2');
    expect(result.toString('utf8')).toBe('written by fabric-network 2.2');
    expect((await contract.evaluateTransaction('get', key)).toString('utf8')).toBe('written by fabric-network 2.2');
    // another org's client reads it through its own legacy gateway, once that org's peer has
    // committed the block (each Fabric peer commits on its own; fabric-network waited for org 1's)
    const other = (await connectLegacy(f.orgs[1]!)).getContract(CHAINCODE);
    let seen = '';
    for (const until = Date.now() + 30_000; seen === '' && Date.now() < until; ) {
      seen = (await other.evaluateTransaction('get', key)).toString('utf8');
      if (seen === '') await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toBe('written by fabric-network 2.2');
  });

  it('a chaincode error reaches the legacy client with the chaincode message', async () => {
    const contract = (await connectLegacy(f.orgs[0]!)).getContract(CHAINCODE);
    await expect(contract.evaluateTransaction('fail', 'legacy says no')).rejects.toThrow(/legacy says no/);
    await expect(contract.submitTransaction('fail', 'legacy says no')).rejects.toThrow(/legacy says no/);
  });
});
