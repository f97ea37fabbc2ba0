/**
 * Conformance: the implicit per-org private collections `_implicit_org_<MSPID>` Fabric defines for every
 * chaincode and every application org of the channel (F core/chaincode/lifecycle/deployedcc_infoprovider.go
 * GenerateImplicitCollectionForOrg, ImplicitCollectionEndorsementPolicyAsBytes). The chaincode
 * (test/conformance-chaincode implicitPut/implicitGet/implicitHash) defines no collection of that name.
 * - membership SignedByMspMember(org): only that org's peers store the value, every peer the hash;
 * - neither memberOnlyRead nor memberOnlyWrite: another org's peer may simulate a write, and a read
 *   there fails only because it has no value matching the public hash (the ledger's error);
 * - endorsement policy /Channel/Application/<org>/Endorsement: a write endorsed only by another org
 *   is ENDORSEMENT_POLICY_FAILURE at commit.
 */
import { createHash } from 'node:crypto';
import { GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { awaitBlock, chaincodeMessages, rejectionOf, utf8 } from '../support';
import { openFixture, type Fixture } from './fixture';

let f: Fixture;

beforeAll(() => {
  f = openFixture();
});

afterAll(() => f.close());

const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Each Fabric peer commits on its own: read through every org only once its peer has the block. */
async function everyPeerHas(blockNumber: bigint): Promise<void> {
  await Promise.all(f.orgs.map((o) => awaitBlock(f.network(o), blockNumber)));
}

describe('implicit per-org collections', () => {
  it("only the owning org's peer holds the value; every peer holds its hash; another org's peer cannot read it", async () => {
    const [owner, ...others] = f.orgs;
    if (!owner || others.length === 0) throw new Error('network.json needs at least two peer organisations');
    const key = `${f.run}:implicit`;
    const secret = `implicit ${f.run} ${Math.random().toString(36).slice(2)}`;

    // The way Fabric's samples write it: no endorsing organisations named; the gateway plans from the
    // implicit collection's policy.
    const proposal = f.contract(owner).newProposal('implicitPut', { arguments: [owner.mspId, key], transientData: { value: secret } });
    const transaction = await proposal.endorse();
    expect(Buffer.from(transaction.getBytes()).includes(Buffer.from(secret))).toBe(false);
    const status = await (await transaction.submit()).getStatus();
    expect(status.code).toBe(StatusCode.VALID);
    await everyPeerHas(status.blockNumber);

    await expect(f.evaluate(owner, 'implicitGet', owner.mspId, key)).resolves.toBe(secret);
    for (const o of f.orgs) {
      await expect(f.evaluate(o, 'implicitHash', owner.mspId, key)).resolves.toBe(sha256Hex(secret));
    }
    for (const o of others) {
      const err = await rejectionOf(f.contract(o).evaluateTransaction('implicitGet', owner.mspId, key));
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe(2); // UNKNOWN: the chaincode call failed on that org's peer
      expect(chaincodeMessages(err as GatewayError).map((m) => m.message)).toContainEqual(
        expect.stringMatching(/private data matching public hash version is not available/),
      );
    }
    await expect(f.evaluate(others[0]!, 'get', key)).resolves.toBe('');
  });

  it("a write endorsed only by another org fails the implicit collection's endorsement policy (10)", async () => {
    const [owner, other] = f.orgs;
    if (!owner || !other) throw new Error('network.json needs at least two peer organisations');
    const key = `${f.run}:implicit-foreign`;
    const secret = `foreign ${f.run}`;
    // A non-member peer may simulate the write (the collection is not memberOnlyWrite) ...
    const transaction = await f
      .contract(other)
      .newProposal('implicitPut', { arguments: [owner.mspId, key], transientData: { value: secret }, endorsingOrganizations: [other.mspId] })
      .endorse();
    expect(utf8(transaction.getResult())).toBe('');
    // ... but only the owning org's peers satisfy its endorsement policy.
    const status = await (await transaction.submit()).getStatus();
    expect(status.code).toBe(StatusCode.ENDORSEMENT_POLICY_FAILURE);
    await everyPeerHas(status.blockNumber);
    await expect(f.evaluate(owner, 'implicitHash', owner.mspId, key)).resolves.toBe('');
    await expect(f.evaluate(owner, 'implicitGet', owner.mspId, key)).resolves.toBe('');
  });

  it('an org writes its own implicit collection and reads it back; the others cannot', async () => {
    const [first, second] = f.orgs;
    if (!first || !second) throw new Error('network.json needs at least two peer organisations');
    const key = `${f.run}:implicit-own`;
    const secret = `own ${f.run}`;
    const commit = await f.contract(second).submitAsync('implicitPut', { arguments: [second.mspId, key], transientData: { value: secret } });
    const status = await commit.getStatus();
    expect(status.code).toBe(StatusCode.VALID);
    await everyPeerHas(status.blockNumber);
    await expect(f.evaluate(second, 'implicitGet', second.mspId, key)).resolves.toBe(secret);
    const err = await rejectionOf(f.contract(first).evaluateTransaction('implicitGet', second.mspId, key));
    expect(chaincodeMessages(err as GatewayError).map((m) => m.message)).toContainEqual(
      expect.stringMatching(/private data matching public hash version is not available/),
    );
  });
});
