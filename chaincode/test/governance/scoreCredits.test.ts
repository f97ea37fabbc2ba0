/**
 * Score credits (docs/governance.md §8 "Score credits"): a raise is a key of its own, written
 * without reading; the record changes only when a lowering, a stake or a status changes it, and
 * those fold the credits first. The rules must not change: the score is the record plus its
 * credits, bounded; a lowering after raises gives what applying them in commit order gives;
 * thresholds see the whole score; the history lists every change.
 */
import { GridLedgerContext } from '../../src/kernel/context';
import { canTrade, type Participant } from '../../src/governance/domain/participant';
import { DEFAULT_PARAMETERS, type StoredParameters } from '../../src/governance/domain/parameters';
import { mustReadParticipant, pendingScoreCredits, type QScoreHistoryEntry } from '../../src/governance/ledger/participants';
import { readParameters } from '../../src/governance/ledger/parameters';
import { holdsWithCredits, penalise, settleTradeReputation, withCreditedScore } from '../../src/governance/services/reputation';
import { FakeClientIdentity } from '../support/fakeIdentity';
import { FakeStub } from '../support/fakeStub';
import { TestLedger } from '../support/ledger';
import { Member, registerUtilities, regulator, seedMembers } from '../support/community';
import { take } from '../support/lists';

const INITIAL = DEFAULT_PARAMETERS.qScoreInitial;
const STEP = DEFAULT_PARAMETERS.qStep;

async function inTx<T>(ledger: TestLedger, fn: (ctx: GridLedgerContext, now: number, stub: FakeStub) => Promise<T>, txId: string): Promise<T> {
  const stub = new FakeStub(ledger.world, { txId, timestamp: ledger.now, creatorMspId: 'RegulatorMSP' });
  const ctx = new GridLedgerContext();
  (ctx as { stub: unknown }).stub = stub;
  ctx.clientIdentity = new FakeClientIdentity(regulator);
  ctx.begin();
  const out = await fn(ctx, ledger.now, stub);
  stub.commitTo(ledger.world);
  return out;
}

const get = (ledger: TestLedger, pid: string) => ledger.evaluate<Participant>(regulator, 'participants:get', [pid]);
const history = async (ledger: TestLedger, pid: string) =>
  (await ledger.evaluate<{ entries: QScoreHistoryEntry[] }>(regulator, 'participants:getQScoreHistory', [pid, '100', ''])).entries;

let ledger: TestLedger;
let params: StoredParameters;
let seller: Member, buyer: Member, leader: Member, h1: Member, h2: Member;
beforeEach(async () => {
  ledger = new TestLedger();
  await registerUtilities(ledger);
  [seller, buyer, leader, h1, h2] = take(await seedMembers(ledger, 5, ['z1']), 5);
  params = await inTx(ledger, (ctx) => readParameters(ctx), 'params');
});

const success = (tradeId: string, p: StoredParameters = params) => (ctx: GridLedgerContext, now: number) =>
  settleTradeReputation(ctx, { tradeId, seller: seller.participantId, buyer: buyer.participantId, leader: leader.participantId, honest: [h1.participantId, h2.participantId], outcome: { kind: 'success' } }, p, now);

describe('score credits', () => {
  it('a settled trade raises seller, buyer, leader and honest members through credits only: no participant record is written', async () => {
    const writes = await inTx(ledger, async (ctx, now, stub) => (await success('trd-1')(ctx, now), [...stub.writes.keys()]), 'tx-settle');
    expect(writes.filter((k) => k.includes('gl.participant'))).toEqual([]);
    expect(writes.filter((k) => k.includes('gl.qcredit'))).toHaveLength(5);
    // the scores the rules see: Δ·x⁵ for the parties, Δ·x³ for the leader, Δ·x for honest members (x = 1)
    for (const m of [seller, buyer, leader, h1, h2]) expect((await get(ledger, m.participantId)).qScore).toBe(INITIAL + STEP);
    const record = await inTx(ledger, (ctx) => mustReadParticipant(ctx, seller.participantId), 'read');
    expect(record.qScore).toBe(INITIAL); // the record keeps the score of record until a fold
  });

  it('raises commute with the upper bound, and a lowering folds them first: the result is the commit-order result', async () => {
    const tight = { ...params, qScoreMax: INITIAL + STEP / 2 };
    await inTx(ledger, success('trd-1', tight), 'tx-1');
    await inTx(ledger, success('trd-2', tight), 'tx-2');
    const credited = await inTx(ledger, async (ctx) => withCreditedScore(ctx, await mustReadParticipant(ctx, h1.participantId), tight), 'read');
    expect(credited.qScore).toBe(INITIAL + STEP / 2); // min(initial + 2Δ, max), as initial → max → max
    await inTx(ledger, async (ctx, now) => penalise(ctx, await mustReadParticipant(ctx, h1.participantId), tight, 'test penalty', 'ref', now), 'tx-3');
    const after = await inTx(ledger, async (ctx) => ({ record: await mustReadParticipant(ctx, h1.participantId), pending: await pendingScoreCredits(ctx, h1.participantId) }), 'read2');
    expect(after.pending).toEqual([]); // folded and deleted
    expect(after.record.qScore).toBe(INITIAL + STEP / 2 - STEP); // max − Δ, as in commit order
    expect(after.record.penaltyCount).toBe(1);
    // the history: the capped raise (the second one changed nothing), then the penalty
    expect((await history(ledger, h1.participantId)).map((e) => [e.delta, e.qScore, e.txId])).toEqual([
      [STEP / 2, INITIAL + STEP / 2, 'tx-1'],
      [-STEP, INITIAL + STEP / 2 - STEP, 'tx-3'],
    ]);
  });

  it('the history lists pending raises exactly as the fold (participants:setStake) then records them', async () => {
    await inTx(ledger, success('trd-1'), 'tx-1');
    await inTx(ledger, success('trd-2'), 'tx-2');
    const before = await history(ledger, seller.participantId);
    expect(before.map((e) => [e.seq, e.delta, e.qScore, e.ref])).toEqual([[0, STEP, INITIAL + STEP, 'trd-1'], [1, STEP, INITIAL + 2 * STEP, 'trd-2']]);
    await ledger.submit(seller.identity, 'participants:setStake', [String(INITIAL + 2 * STEP)]); // a stake up to the whole score
    expect(await history(ledger, seller.participantId)).toEqual(before);
    expect((await get(ledger, seller.participantId)).stake).toBe(INITIAL + 2 * STEP);
  });

  it('a threshold the record misses is checked again with the credits; the record is enough when it meets it', async () => {
    await inTx(ledger, success('trd-1'), 'tx-1');
    const gate = (min: number) => ({ ...params, minTradingQScore: min });
    const check = (min: number) =>
      inTx(ledger, async (ctx, now, stub) => {
        const p = await mustReadParticipant(ctx, buyer.participantId);
        const ok = await holdsWithCredits(ctx, p, gate(min), (q) => canTrade(q, now, gate(min)));
        return { ok, rangeRead: stub.readRanges.length > 0 };
      }, `gate-${min}`);
    expect(await check(INITIAL)).toEqual({ ok: true, rangeRead: false }); // the record meets it: no credit range read
    expect(await check(INITIAL + STEP)).toEqual({ ok: true, rangeRead: true }); // only the credit lifts it there
    expect(await check(INITIAL + STEP + 1)).toEqual({ ok: false, rangeRead: true });
  });
});
