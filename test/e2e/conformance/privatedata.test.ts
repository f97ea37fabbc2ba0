/**
 * Conformance: private data (P§3.6). A value written to collection `utility1Only` travels only in the
 * transient map, is readable by a member org's client, refused to a non-member org's client
 * (memberOnlyRead), and only its hash is visible on the channel.
 */
import { createHash } from 'node:crypto';
import { GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { chaincodeMessages, rejectionOf, utf8 } from '../support';
import { collectionOrgs, COLLECTION, CHAINCODE, openFixture, type Fixture } from './fixture';

let f: Fixture;

beforeAll(() => {
  f = openFixture();
});

afterAll(() => f.close());

describe('private data', () => {
  it('is readable only by member orgs; others see only its hash; the value never enters the transaction', async () => {
    const { member, nonMember } = collectionOrgs(f);
    const key = `${f.run}:secret`;
    const secret = `meter contact ${f.run} ${Math.random().toString(36).slice(2)}`;

    // Explicit endorsing orgs: the chaincode policy (MAJORITY) needs two orgs while only one holds the
    // collection; a non-member peer may endorse a write-only private transaction of a member's client.
    const proposal = f.contract(member).newProposal('privatePut', {
      arguments: [key],
      transientData: { value: secret },
      endorsingOrganizations: [member.mspId, nonMember.mspId],
    });
    const transaction = await proposal.endorse();
    expect(Buffer.from(transaction.getBytes()).includes(Buffer.from(secret))).toBe(false);
    const status = await (await transaction.submit()).getStatus();
    expect(status.code).toBe(StatusCode.VALID);

    await expect(f.evaluate(member, 'privateGet', key)).resolves.toBe(secret);

    const err = await rejectionOf(f.contract(nonMember).evaluateTransaction('privateGet', key));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe(2); // UNKNOWN: the chaincode call failed
    expect(chaincodeMessages(err as GatewayError).map((m) => m.message)).toContainEqual(
      expect.stringMatching(
        new RegExp(`tx creator does not have read access permission on privatedata in chaincodeName:${CHAINCODE} collectionName: ${COLLECTION}`),
      ),
    );

    const expectedHash = createHash('sha256').update(secret).digest('hex');
    await expect(f.evaluate(nonMember, 'privateHash', key)).resolves.toBe(expectedHash);
    await expect(f.evaluate(member, 'privateHash', key)).resolves.toBe(expectedHash);
    // Nothing public under that key.
    await expect(f.evaluate(nonMember, 'get', key)).resolves.toBe('');
    expect(utf8(transaction.getResult())).toBe('');
  });
});
