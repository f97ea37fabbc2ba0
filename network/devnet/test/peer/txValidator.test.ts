import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { checkTransaction, TxCheckContext } from '../../src/peer/txValidator';
import { TxCode } from '../../src/peer/validationCodes';
import { signaturePolicyEnvelopeToText } from '../../src/peer/keyLevelPolicy';
import { ChannelPolicies } from '../../src/policy';
import { chaincodeConfig, endorsedEnvelope, FakeMsp, rwsetBytes, signaturePolicyEnvelope } from './txBuilder';
import { nth } from '../lists';

const fake = new FakeMsp();
const client = fake.create('Org1MSP', 'client1', 'client');
const p1 = fake.create('Org1MSP', 'peer1', 'peer');
const p2 = fake.create('Org2MSP', 'peer2', 'peer');
const p1again = fake.byLabel.get('peer1')!;
const collHash = createHash('sha256').update('secret-key').digest();

function ctx(committed: string[] = [], sbe: Record<string, Buffer> = {}): TxCheckContext {
  return {
    channel: 'energy',
    msp: fake,
    policies: new ChannelPolicies({
      orgMspIds: ['Org1MSP', 'Org2MSP', 'Org3MSP'],
      msp: { satisfiesPrincipal: (id, p) => id.mspId === p.mspId && (p.role === 'member' || p.role === id.role) },
    }),
    chaincodes: new Map([
      ['cc', chaincodeConfig('cc', 'MAJORITY Endorsement', [
        { name: 'open', policy: "OR('Org1MSP.member')", memberOnlyRead: false, memberOnlyWrite: false, endorsementPolicy: "OR('Org1MSP.member')" },
      ])],
    ]),
    txIdCommitted: async (id) => committed.includes(id),
    validationParameter: async (_ns, key) => sbe[key],
  };
}

describe('committer transaction checks (P§5)', () => {
  it('accepts a well-formed tx endorsed by a majority of orgs', async () => {
    const { envelope, txId } = endorsedEnvelope(client, { endorsers: [p1, p2] });
    const r = await checkTransaction(envelope, ctx());
    expect(r.code).toBe(TxCode.VALID);
    expect(r.txId).toBe(txId);
    expect(r.rwset?.[0]?.writes[0]?.key).toBe('k');
  });

  it('NIL_ENVELOPE and BAD_PAYLOAD', async () => {
    expect((await checkTransaction(Buffer.alloc(0), ctx())).code).toBe(TxCode.NIL_ENVELOPE);
    const env = new common.Envelope();
    env.setPayload(Buffer.from([0xff, 0xff, 0xff]));
    expect((await checkTransaction(env.serializeBinary(), ctx())).code).toBe(TxCode.BAD_PAYLOAD);
  });

  it('BAD_CREATOR_SIGNATURE when the envelope is signed by someone else or the creator is revoked', async () => {
    const other = fake.create('Org1MSP', 'client2', 'client');
    const { envelope } = endorsedEnvelope(client, { endorsers: [p1, p2], envelopeSigner: other });
    expect((await checkTransaction(envelope, ctx())).code).toBe(TxCode.BAD_CREATOR_SIGNATURE);
    const { envelope: e2 } = endorsedEnvelope(other, { endorsers: [p1, p2] });
    fake.revoked.add('client2');
    expect((await checkTransaction(e2, ctx())).code).toBe(TxCode.BAD_CREATOR_SIGNATURE);
    fake.revoked.delete('client2');
  });

  it('BAD_PROPOSAL_TXID when the txid is not SHA-256(nonce ‖ creator)', async () => {
    const { envelope } = endorsedEnvelope(client, { endorsers: [p1, p2], txIdOverride: 'f'.repeat(64) });
    expect((await checkTransaction(envelope, ctx())).code).toBe(TxCode.BAD_PROPOSAL_TXID);
  });

  it('INVALID_ENDORSER_TRANSACTION when the proposal hash does not match', async () => {
    const { envelope } = endorsedEnvelope(client, { endorsers: [p1, p2], tamperProposalHash: true });
    expect((await checkTransaction(envelope, ctx())).code).toBe(TxCode.INVALID_ENDORSER_TRANSACTION);
  });

  it('DUPLICATE_TXID when the txid is already in the ledger', async () => {
    const { envelope, txId } = endorsedEnvelope(client, { endorsers: [p1, p2] });
    expect((await checkTransaction(envelope, ctx([txId]))).code).toBe(TxCode.DUPLICATE_TXID);
  });

  it('TARGET_CHAIN_NOT_FOUND for another channel', async () => {
    const { envelope } = endorsedEnvelope(client, { endorsers: [p1, p2], channel: 'other' });
    expect((await checkTransaction(envelope, ctx())).code).toBe(TxCode.TARGET_CHAIN_NOT_FOUND);
  });

  it('ENDORSEMENT_POLICY_FAILURE with one org, or the same endorser twice (de-duplicated)', async () => {
    const one = endorsedEnvelope(client, { endorsers: [p1] });
    expect((await checkTransaction(one.envelope, ctx())).code).toBe(TxCode.ENDORSEMENT_POLICY_FAILURE);
    const twice = endorsedEnvelope(client, { endorsers: [p1, p1again] });
    expect((await checkTransaction(twice.envelope, ctx())).code).toBe(TxCode.ENDORSEMENT_POLICY_FAILURE);
  });

  it('ignores endorsements whose signature does not verify', async () => {
    const { envelope } = endorsedEnvelope(client, { endorsers: [p1, p2] });
    const { parseEnvelopeHeader, parseEndorserTransaction } = await import('../../src/peer/transaction');
    const { validEndorsers } = await import('../../src/peer/txValidator');
    const tx = parseEndorserTransaction(parseEnvelopeHeader(envelope));
    const badSig = Buffer.from(nth(tx.endorsements, 1).signature);
    badSig.writeUInt8(badSig.readUInt8(10) ^ 0xff, 10);
    const ids = validEndorsers(tx.prpBytes, [nth(tx.endorsements, 0), { endorser: nth(tx.endorsements, 1).endorser, signature: badSig }], fake);
    expect(ids.map((i) => i.id)).toEqual(['peer1']);
  });

  // Fabric 3.1.5 plugindispatcher/dispatcher.go L159-160: wrNamespace[ccID] = true — the invoked chaincode's
  // namespace is validated even without writes, and statebased v20 CheckCCEPIfNoEPChecked then applies its policy.
  it('policy-checks a read-only transaction against the invoked chaincode policy, as Fabric does', async () => {
    const rw = rwsetBytes([{ ns: 'cc', reads: [{ key: 'k' }] }]);
    const lone = endorsedEnvelope(client, { endorsers: [p1], rwset: rw });
    expect((await checkTransaction(lone.envelope, ctx())).code).toBe(TxCode.ENDORSEMENT_POLICY_FAILURE);
    const majority = endorsedEnvelope(client, { endorsers: [p1, p2], rwset: rw });
    expect((await checkTransaction(majority.envelope, ctx())).code).toBe(TxCode.VALID);
  });

  it('policy-checks the invoked chaincode even when its namespace is absent from the rwset', async () => {
    const empty = rwsetBytes([]);
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p1], rwset: empty }).envelope, ctx())).code).toBe(
      TxCode.ENDORSEMENT_POLICY_FAILURE,
    );
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p1, p2], rwset: empty }).envelope, ctx())).code).toBe(TxCode.VALID);
  });

  it('does not policy-check a namespace that is only read and not invoked', async () => {
    // written 'cc' key answers to a key-level policy Org1 alone satisfies; 'other' (no definition) is only read
    const rw = rwsetBytes([{ ns: 'cc', writes: [{ key: 'sbe', value: '1' }] }, { ns: 'other', reads: [{ key: 'x' }] }]);
    const sbe = { sbe: signaturePolicyEnvelope(1, ['Org1MSP.member']) };
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p1], rwset: rw }).envelope, ctx([], sbe))).code).toBe(TxCode.VALID);
  });

  it('INVALID_CHAINCODE when the invoked chaincode has no definition, even read-only', async () => {
    const rw = rwsetBytes([{ ns: 'nocc', reads: [{ key: 'k' }] }]);
    const { envelope } = endorsedEnvelope(client, { endorsers: [p1, p2], rwset: rw, chaincode: 'nocc' });
    expect((await checkTransaction(envelope, ctx())).code).toBe(TxCode.INVALID_CHAINCODE);
  });

  it('uses the collection endorsement policy for private writes', async () => {
    const rw = rwsetBytes([{ ns: 'cc', collections: [{ name: 'open', hashedWrites: [collHash] }] }]);
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p1], rwset: rw }).envelope, ctx())).code).toBe(TxCode.VALID);
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p2], rwset: rw }).envelope, ctx())).code).toBe(
      TxCode.ENDORSEMENT_POLICY_FAILURE,
    );
  });

  it('INVALID_CHAINCODE for an empty chaincode version or an undefined written namespace', async () => {
    const noVersion = endorsedEnvelope(client, { endorsers: [p1, p2], ccVersion: '' });
    expect((await checkTransaction(noVersion.envelope, ctx())).code).toBe(TxCode.INVALID_CHAINCODE);
    const rw = rwsetBytes([{ ns: 'other', writes: [{ key: 'x', value: '1' }] }]);
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p1, p2], rwset: rw }).envelope, ctx())).code).toBe(
      TxCode.INVALID_CHAINCODE,
    );
  });

  it('ILLEGAL_WRITESET when a namespace appears twice', async () => {
    const rw = rwsetBytes([{ ns: 'cc', writes: [{ key: 'a', value: '1' }] }, { ns: 'cc', writes: [{ key: 'b', value: '1' }] }]);
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p1, p2], rwset: rw }).envelope, ctx())).code).toBe(
      TxCode.ILLEGAL_WRITESET,
    );
  });

  it('INVALID_OTHER_REASON when the event names another chaincode; keeps a matching event', async () => {
    const bad = endorsedEnvelope(client, { endorsers: [p1, p2], event: { chaincodeId: 'x', name: 'E' } });
    expect((await checkTransaction(bad.envelope, ctx())).code).toBe(TxCode.INVALID_OTHER_REASON);
    const good = endorsedEnvelope(client, { endorsers: [p1, p2], event: { chaincodeId: 'cc', name: 'E' } });
    const r = await checkTransaction(good.envelope, ctx());
    expect(r.code).toBe(TxCode.VALID);
    expect(r.event).toMatchObject({ chaincodeId: 'cc', eventName: 'E', txId: good.txId });
  });

  it('key-level (state-based) policies: a key with VALIDATION_PARAMETER answers to it, others to the chaincode policy', async () => {
    const p3 = fake.byLabel.get('peer3') ?? fake.create('Org3MSP', 'peer3', 'peer');
    const sbe = { owned: signaturePolicyEnvelope(1, ['Org3MSP.peer']) };
    expect(signaturePolicyEnvelopeToText(sbe.owned)).toBe("OutOf(1, 'Org3MSP.peer')");
    const writeOwned = rwsetBytes([{ ns: 'cc', writes: [{ key: 'owned', value: 'x' }] }]);
    // MAJORITY is met, but the key's own policy (Org3 peer) is not
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p1, p2], rwset: writeOwned }).envelope, ctx([], sbe))).code).toBe(
      TxCode.ENDORSEMENT_POLICY_FAILURE,
    );
    // the key's policy alone suffices when no other key is written
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p3], rwset: writeOwned }).envelope, ctx([], sbe))).code).toBe(TxCode.VALID);
    // a second, policy-less key brings the chaincode policy back
    const both = rwsetBytes([{ ns: 'cc', writes: [{ key: 'owned', value: 'x' }, { key: 'free', value: 'y' }] }]);
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p3], rwset: both }).envelope, ctx([], sbe))).code).toBe(
      TxCode.ENDORSEMENT_POLICY_FAILURE,
    );
    expect((await checkTransaction(endorsedEnvelope(client, { endorsers: [p2, p3], rwset: both }).envelope, ctx([], sbe))).code).toBe(TxCode.VALID);
  });
});
