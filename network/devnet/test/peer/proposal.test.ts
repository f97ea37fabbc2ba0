import { unpackSignedProposal } from '../../src/peer/proposal';
import { FakeMsp, signedProposal } from './txBuilder';

describe('unpackSignedProposal', () => {
  it('decodes a bytes object once (the gateway and every endorser share it) and other bytes afresh', () => {
    const client = new FakeMsp().create('Org1MSP', 'p-client', 'client');
    const sp = signedProposal(client, { args: ['put', 'k', 'v'] });
    const first = unpackSignedProposal(sp);
    expect(unpackSignedProposal(sp)).toBe(first);
    const copy = unpackSignedProposal(Buffer.from(sp));
    expect(copy).not.toBe(first);
    expect(copy.txId).toBe(first.txId);
    expect(copy.proposalHash.equals(first.proposalHash)).toBe(true);
    expect(() => unpackSignedProposal(Buffer.from([9, 9, 9]))).toThrow(/error unmarshalling SignedProposal/);
  });
});
