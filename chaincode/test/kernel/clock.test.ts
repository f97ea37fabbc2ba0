import { checkTxTime } from '../../src/kernel/clock';
import { identities } from '../support/fakeIdentity';
import { expectCode, T0, TestLedger } from '../support/ledger';

describe('clock guard', () => {
  it('accepts timestamps within the tolerance and refuses those outside, both directions', () => {
    expect(() => checkTxTime(T0 + 60_000, T0, 60)).not.toThrow();
    expect(() => checkTxTime(T0 - 60_000, T0, 60)).not.toThrow();
    expect(() => checkTxTime(T0 + 60_001, T0, 60)).toThrow(/^\[PRECONDITION_FAILED:CLOCK_SKEW\] .*±60 s/);
    expect(() => checkTxTime(T0 - 61_000, T0, 60)).toThrow(/-61 s from the endorsing peer's clock/);
  });

  it('fails a time-keyed transaction whose timestamp is far from the peer clock and writes nothing', async () => {
    const ledger = new TestLedger();
    ledger.nowMs = T0 + 86_400_000;
    const regulator = identities.regulator();
    await expectCode(
      ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ banSeconds: 3600 })], {
        at: ledger.nowMs - 3_600_000, // an hour in the past
        peerClockMs: ledger.nowMs,
      }),
      'PRECONDITION_FAILED',
      /clock guard/,
    );
    expect(ledger.world.state.size).toBe(0);
    const ok = await ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ banSeconds: 3600 })], {
      peerClockMs: ledger.nowMs + 30_000,
    });
    expect((ok.result as { banSeconds: number }).banSeconds).toBe(3600);
  });
});
