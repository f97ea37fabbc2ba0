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
import { holdsWithCredits, penalise, raiseScore, settleTradeReputation, withCreditedScore } from '../../src/governance/services/reputation';
import { FOLD_PAGE } from '../../src/governance/services/registry';
import { FakeClientIdentity, identities, type IdentitySpec } from '../support/fakeIdentity';
import { FakeStub } from '../support/fakeStub';
import { TestLedger } from '../support/ledger';
import { Member, registerUtilities, regulator, seedMembers, UTILITIES } from '../support/community';
import { nth, take } from '../support/lists';

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

/** `participants:get`: the participant with its credited score and the credit summary the keeper decides on */
const get = (ledger: TestLedger, pid: string) =>
  ledger.evaluate<Participant & { pendingCredits: number; oldestCreditAt: number; newestCreditAt: number }>(regulator, 'participants:get', [pid]);
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

/**
 * participants:foldScore (the keeper duty `score-fold`, docs/agents.md §3): the fold a lowering does,
 * on its own, so the record, history and leaderboard catch up with a participant that only earns.
 */
describe('participants:foldScore', () => {
  type Fold = { participantId: string; folded: number; more: boolean; qScore: number; change: 'folded' | 'none' };
  type Board = { entries: Array<{ participantId: string; qScore: number }> };
  const operatorOf = (m: Member) => identities.operator(m.identity.mspId);
  const fold = (l: TestLedger, who: IdentitySpec, pid: string) => l.submit<Fold>(who, 'participants:foldScore', [pid]);
  const board = async (l: TestLedger) => (await l.evaluate<Board>(regulator, 'participants:leaderboard', ['100', ''])).entries;
  const record = (l: TestLedger, pid: string) => inTx(l, (ctx) => mustReadParticipant(ctx, pid), `read-${pid}`);

  it('records exactly what the fold before a lowering records, and writes only the participant\'s own keys', async () => {
    await inTx(ledger, success('trd-1'), 'tx-1');
    ledger.advance(60);
    await inTx(ledger, success('trd-2'), 'tx-2');
    const listed = await history(ledger, seller.participantId); // the pending raises, as the fold will record them
    const lowered = ledger.fork();

    const r = await fold(ledger, operatorOf(seller), seller.participantId);
    expect(r.result).toEqual({ participantId: seller.participantId, folded: 2, more: false, qScore: INITIAL + 2 * STEP, change: 'folded' });
    expect(r.events).toEqual([]); // like every fold: each credit was announced when it was earned
    // concurrency: it reads the record and its credit range, and writes only this participant's keys —
    // folds of different participants never conflict; a credit for this one committed meanwhile is a phantom (code 12)
    expect([...r.stub.writes.keys()].every((k) => k.includes(seller.participantId))).toBe(true);
    expect(r.stub.readRanges.map((x) => x.start)).toEqual([expect.stringContaining(`gl.qcredit\u0000${seller.participantId}`)]);
    expect(await history(ledger, seller.participantId)).toEqual(listed);
    expect((await record(ledger, seller.participantId)).qScore).toBe(INITIAL + 2 * STEP);
    expect((await get(ledger, seller.participantId)).qScore).toBe(INITIAL + 2 * STEP); // the score did not change

    // the same credits folded by a lowering (a penalty): the same entries, then the penalty's
    await inTx(lowered, async (ctx, now) => penalise(ctx, await mustReadParticipant(ctx, seller.participantId), params, 'test penalty', 'ref', now), 'tx-3');
    const after = await history(lowered, seller.participantId);
    expect(after.slice(0, -1)).toEqual(listed);
    expect(nth(after, -1)).toMatchObject({ delta: -STEP, qScore: INITIAL + STEP });
  });

  it('moves the leaderboard rank key: the board orders by the folded score; a second fold is a no-op', async () => {
    const [other] = take(await seedMembers(ledger, 1, ['z1'], 'quiet'), 1); // never credited
    await inTx(ledger, success('trd-1'), 'tx-1');
    const stale = await board(ledger);
    expect(stale.find((e) => e.participantId === seller.participantId)?.qScore).toBe(INITIAL); // the score of record
    expect(stale.find((e) => e.participantId === other.participantId)?.qScore).toBe(INITIAL);

    await fold(ledger, seller.identity, seller.participantId); // the meter itself may fold
    const fresh = await board(ledger);
    expect(fresh).toHaveLength(stale.length); // the old rank key is gone, one entry per participant
    expect(nth(fresh, 0)).toEqual({ participantId: seller.participantId, qScore: INITIAL + STEP });
    expect(fresh.filter((e) => e.participantId === seller.participantId)).toHaveLength(1);

    const again = await fold(ledger, regulator, seller.participantId);
    expect(again.result).toEqual({ participantId: seller.participantId, folded: 0, more: false, qScore: INITIAL + STEP, change: 'none' });
    expect(again.stub.writes.size).toBe(0);
    expect(await board(ledger)).toEqual(fresh);
  });

  it('participants:get says how many raises are pending and since when; none after the fold', async () => {
    const t1 = ledger.now;
    await inTx(ledger, success('trd-1'), 'tx-1');
    ledger.advance(90);
    await inTx(ledger, success('trd-2'), 'tx-2');
    expect(await get(ledger, h1.participantId)).toMatchObject({ qScore: INITIAL + 2 * STEP, pendingCredits: 2, oldestCreditAt: t1, newestCreditAt: t1 + 90 });
    await fold(ledger, operatorOf(h1), h1.participantId);
    expect(await get(ledger, h1.participantId)).toMatchObject({ qScore: INITIAL + 2 * STEP, pendingCredits: 0, oldestCreditAt: 0, newestCreditAt: 0 });
  });

  it('folds at most a page per transaction; the pages add up to the one fold a lowering makes', async () => {
    const raises = FOLD_PAGE + 20;
    await inTx(ledger, async (ctx, now) => {
      for (let i = 0; i < raises; i++) await raiseScore(ctx, h2.participantId, STEP / 4, 'test raise', `r-${i}`, now + i);
    }, 'tx-raises');
    const whole = ledger.fork();
    const page1 = await fold(ledger, operatorOf(h2), h2.participantId);
    expect(page1.result).toMatchObject({ folded: FOLD_PAGE, more: true });
    expect((await get(ledger, h2.participantId)).pendingCredits).toBe(20);
    const page2 = await fold(ledger, operatorOf(h2), h2.participantId);
    expect(page2.result).toMatchObject({ folded: 20, more: false, change: 'folded' });

    await whole.submit(h2.identity, 'participants:setStake', ['1']); // folds every credit at once
    expect(await history(ledger, h2.participantId)).toEqual(await history(whole, h2.participantId));
    expect((await record(ledger, h2.participantId)).qScore).toBe((await record(whole, h2.participantId)).qScore);
  });

  it('is refused for outsiders, a malformed id and an unknown participant', async () => {
    await inTx(ledger, success('trd-1'), 'tx-1');
    const otherUtility = identities.operator(nth(UTILITIES.filter((m) => m !== seller.identity.mspId), 0));
    await expect(fold(ledger, otherUtility, seller.participantId)).rejects.toThrow(/\[FORBIDDEN:NOT_MANAGER\]/);
    await expect(fold(ledger, buyer.identity, seller.participantId)).rejects.toThrow(/\[FORBIDDEN:NOT_MANAGER\]/);
    await expect(fold(ledger, regulator, 'p-1/2')).rejects.toThrow(/\[INVALID_ARGUMENT:BAD_ID\]/);
    await expect(fold(ledger, regulator, 'p-unknown')).rejects.toThrow(/\[NOT_FOUND:PARTICIPANT_NOT_FOUND\]/);
    expect((await get(ledger, seller.participantId)).pendingCredits).toBe(1); // nothing folded by the refusals
  });
});
