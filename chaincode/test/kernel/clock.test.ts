import type { Context } from 'fabric-contract-api';
import { checkTxTime, rawTxTime } from '../../src/kernel/clock';
import { FakeStub, WorldState } from '../support/fakeStub';
import { identities } from '../support/fakeIdentity';
import { expectCode, T0, TestLedger } from '../support/ledger';

describe('clock guard', () => {
  it('accepts timestamps within the tolerance and refuses those outside, both directions', () => {
    expect(() => checkTxTime(T0 + 60, T0, 60)).not.toThrow();
    expect(() => checkTxTime(T0 - 60, T0, 60)).not.toThrow();
    expect(() => checkTxTime(T0 + 61, T0, 60)).toThrow(/^\[PRECONDITION_FAILED:CLOCK_SKEW\] .*±60 s/);
    expect(() => checkTxTime(T0 - 61, T0, 60)).toThrow(/-61 s from the endorsing peer's clock/);
  });

  it('reads the tx timestamp as integer Unix seconds, dropping the sub-second part', () => {
    const stub = new FakeStub(new WorldState(), { txId: 'tx', timestamp: T0 + 7, timestampNanos: 999_999_999, creatorMspId: 'Org1MSP' });
    expect(rawTxTime({ stub } as unknown as Context)).toBe(T0 + 7);
  });

  it('fails a time-keyed transaction whose timestamp is far from the peer clock and writes nothing', async () => {
    const ledger = new TestLedger();
    ledger.now = T0 + 86_400;
    const regulator = identities.regulator();
    await expectCode(
      ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ banSeconds: 3600 })], {
        at: ledger.now - 3_600, // an hour in the past
        peerClock: ledger.now,
      }),
      'PRECONDITION_FAILED',
      /clock guard/,
    );
    expect(ledger.world.state.size).toBe(0);
    const ok = await ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ banSeconds: 3600 })], {
      peerClock: ledger.now + 30,
    });
    expect((ok.result as { banSeconds: number }).banSeconds).toBe(3600);
  });
});
