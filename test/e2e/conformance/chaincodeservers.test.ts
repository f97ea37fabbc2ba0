/**
 * Conformance: one chaincode server per peer organisation. On Fabric each org runs the chaincode for
 * its own peer (ccaas: the org's package names its own server's address) and the server runs with the
 * org's `CORE_PEER_LOCALMSPID`, which is what `stub.getMspID()` answers (fabric-shim `stub.js`).
 * So a function returning it names the org whose peer endorsed, and two orgs' results differ: a
 * MAJORITY endorsement of it fails as non-deterministic chaincode does.
 */
import { EndorseError } from '@hyperledger/fabric-gateway';
import { rejectionOf, utf8 } from '../support';
import { openFixture, type Fixture } from './fixture';

let f: Fixture;

beforeAll(() => {
  f = openFixture();
});

afterAll(() => f.close());

describe('one chaincode server per peer organisation', () => {
  it("each org's gateway evaluates on its own peer: stub.getMspID() is that org's MSP id", async () => {
    for (const o of f.orgs) await expect(f.evaluate(o, 'peerMspId')).resolves.toBe(o.mspId);
  });

  it("evaluate and endorse on a named org's peer answer that org's MSP id, from any org's gateway", async () => {
    const contract = f.contract(f.orgs[0]!);
    for (const o of f.orgs) {
      expect(utf8(await contract.evaluate('peerMspId', { endorsingOrganizations: [o.mspId] }))).toBe(o.mspId);
      const endorsed = await contract.newProposal('peerMspId', { endorsingOrganizations: [o.mspId] }).endorse();
      expect(utf8(endorsed.getResult())).toBe(o.mspId);
    }
  });

  it('a MAJORITY endorsement of it fails: ProposalResponsePayloads do not match', async () => {
    const err = await rejectionOf(f.contract(f.orgs[0]!).submitTransaction('peerMspId'));
    expect(err).toBeInstanceOf(EndorseError);
    expect((err as EndorseError).details.map((d) => d.message)).toContainEqual(expect.stringMatching(/ProposalResponsePayloads do not match/));
  });
});
