import { contracts } from '../../src';
import { identities } from '../support/fakeIdentity';
import { TestLedger } from '../support/ledger';

describe('health:ping', () => {
  it('answers any caller with the agreed shape and writes nothing', async () => {
    const ledger = new TestLedger();
    const r = await ledger.run(identities.meter('Org1MSP', 'm-1', 'z1'), 'health:ping');
    expect(r.raw).toBe('{"chaincode":"gridledger","status":"ok","version":"0.2.0"}');
    expect(r.stub.writes.size).toBe(0);
  });

  it('exports a contracts array that other areas can append to', () => {
    expect(Array.isArray(contracts)).toBe(true);
    expect(contracts.length).toBeGreaterThan(0);
  });
});
