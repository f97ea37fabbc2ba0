import { status as Grpc } from '@grpc/grpc-js';
import { LedgerError } from '../src/fabric/errors';
import { backoffMs, Submitter } from '../src/fabric/submitter';
import { chaincodeError, FakeLedger, identity, mismatch, unavailable } from './helpers/fakeLedger';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

function submitterWith(ledger: FakeLedger) {
  const delays: number[] = [];
  const retries: string[] = [];
  const s = new Submitter(ledger, policy, async (ms) => {
    delays.push(ms);
  });
  return { s, delays, retries };
}

describe('backoff', () => {
  it('is exponential with full jitter, capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, policy, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(3, policy, () => 0)).toBe(0);
    expect(backoffMs(3, policy, () => 0.5)).toBe(200);
  });
});

describe('Submitter', () => {
  it('submits once when all goes well', async () => {
    const ledger = new FakeLedger();
    const { s, delays } = submitterWith(ledger);
    const endorsed: string[] = [];
    const r = await s.submit(identity(), 'wallets:credit', ['p', '1', 'r'], { onEndorsed: (t) => endorsed.push(t.txId) });
    expect(r).toMatchObject({ txId: 'tx1', attempts: 1, blockNumber: 1 });
    expect(endorsed).toEqual(['tx1']);
    expect(delays).toEqual([]);
  });

  it('MVCC conflict → a NEW proposal (new tx id), with backoff', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'conflict' }, { stage: 'conflict' });
    const { s, delays } = submitterWith(ledger);
    const reasons: string[] = [];
    const r = await s.submit(identity(), 'f', [], { onRetry: (cls) => reasons.push(cls) });
    expect(r).toMatchObject({ txId: 'tx3', attempts: 3 });
    expect(reasons).toEqual(['conflict', 'conflict']);
    expect(delays).toHaveLength(2);
    expect(ledger.applied.map((t) => t.txId)).toEqual(['tx3']);
  });

  it('endorsement mismatch (peers at different heights) → a NEW proposal with backoff, bounded by maxAttempts', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'endorse', error: mismatch() }, { stage: 'endorse', error: mismatch() });
    const { s, delays } = submitterWith(ledger);
    const reasons: string[] = [];
    const r = await s.submit(identity(), 'offers:accept', ['o-1'], { onRetry: (cls) => reasons.push(cls) });
    expect(r).toMatchObject({ txId: 'tx1', attempts: 3 });
    expect(reasons).toEqual(['endorsement-mismatch', 'endorsement-mismatch']);
    expect(delays).toHaveLength(2);
    expect(ledger.endorseCalls).toBe(3);
    for (let i = 0; i < 4; i++) ledger.script.push({ stage: 'endorse', error: mismatch() });
    await expect(s.submit(identity(), 'f', [])).rejects.toMatchObject({ stage: 'endorse', grpcCode: Grpc.ABORTED, attempts: 4 });
    expect(ledger.endorseCalls).toBe(7);
    expect(ledger.submitCalls).toBe(1);
  });

  it('transient send failure → the SAME transaction is re-sent', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'submit', error: unavailable('submit') });
    const { s } = submitterWith(ledger);
    const r = await s.submit(identity(), 'f', []);
    expect(r).toMatchObject({ txId: 'tx1', attempts: 2 });
    expect(ledger.endorseCalls).toBe(1);
    expect(ledger.submitCalls).toBe(2);
  });

  it('transient endorsement failure → retried; gives up after maxAttempts with the last error', async () => {
    const ledger = new FakeLedger();
    for (let i = 0; i < 4; i++) ledger.script.push({ stage: 'endorse', error: unavailable() });
    const { s, delays } = submitterWith(ledger);
    await expect(s.submit(identity(), 'f', [])).rejects.toMatchObject({ grpcCode: Grpc.UNAVAILABLE, attempts: 4 });
    expect(delays).toHaveLength(3);
  });

  it('never retries a chaincode error or an unknown commit outcome', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[FORBIDDEN] no') });
    const { s } = submitterWith(ledger);
    await expect(s.submit(identity(), 'f', [])).rejects.toMatchObject({ chaincode: { code: 'FORBIDDEN' }, attempts: 1 });
    ledger.script.push({ stage: 'commitStatus', error: new LedgerError({ stage: 'commitStatus', message: '4 DEADLINE_EXCEEDED', grpcCode: Grpc.DEADLINE_EXCEEDED }) });
    await expect(s.submit(identity(), 'f', [])).rejects.toMatchObject({ stage: 'commitStatus', txId: 'tx1', attempts: 1 });
    expect(ledger.endorseCalls).toBe(2);
  });
});
