import { GridLedgerContext } from '../../src/kernel/context';
import { Q_SCALE } from '../../src/governance/domain/fixedPoint';
import { readParameters } from '../../src/governance/ledger/parameters';
import { castVote, decideBallot, openTask, recordLeaderEntry } from '../../src/governance/services/tasks';
import { settleTradeReputation } from '../../src/governance/services/reputation';
import { FakeClientIdentity, identities } from '../support/fakeIdentity';
import { FakeStub } from '../support/fakeStub';
import { expectCode, TestLedger } from '../support/ledger';
import { Member, registerUtilities, regulator, runBeacon, seedMembers, whenLeads } from '../support/community';
import { nth, take } from '../support/lists';

/** Runs a library function inside one transaction on the ledger and commits it (like a market contract would). */
async function inTx<T>(ledger: TestLedger, who: Member | null, fn: (ctx: GridLedgerContext, now: number) => Promise<T>, txId = `lib-${Math.floor(ledger.now)}`): Promise<T> {
  const stub = new FakeStub(ledger.world, { txId, timestamp: ledger.now, creatorMspId: who?.identity.mspId ?? 'RegulatorMSP' });
  const ctx = new GridLedgerContext();
  (ctx as { stub: unknown }).stub = stub;
  ctx.clientIdentity = new FakeClientIdentity(who?.identity ?? regulator);
  const out = await fn(ctx, ledger.now);
  stub.commitTo(ledger.world);
  return out;
}

const viewer = identities.meter('Org1MSP', 'viewer', 'z1');

const score = async (ledger: TestLedger, pid: string) =>
  (await ledger.evaluate<{ qScore: number; penaltyCount: number; status: string }>(regulator, 'participants:get', [pid]));

describe('generic quorum machinery as the market uses it (two ordered ballots)', () => {
  it('opens a task with parties excluded, enforces ballot order, and decides each ballot by quorum', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const members = await seedMembers(ledger, 10, ['z1', 'z2']);
    const [seller, buyer] = take(members, 2);
    const params = await inTx(ledger, null, (ctx) => readParameters(ctx));
    const task = await inTx(ledger, null, (ctx, now) =>
      openTask(ctx, {
        kind: 'exchange',
        subjectId: 'x-1',
        parties: [seller.participantId, buyer.participantId],
        ballots: [
          { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
          { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
        ],
      }, now, params),
    );
    await expectCode(inTx(ledger, null, (ctx, now) => openTask(ctx, { kind: 'exchange', subjectId: 'x-1', parties: [], ballots: task.ballots }, now, params)), 'CONFLICT', /already exists/);
    const drawn = await runBeacon(ledger, task.taskId);
    expect(drawn.committee).not.toContain(seller.participantId);
    expect(drawn.committee).not.toContain(buyer.participantId);
    const m = (pid: string) => members.find((x) => x.participantId === pid) as Member;
    const [l, a, b, c] = take(drawn.committee, 4);
    ledger.now = whenLeads(drawn, l, ledger.now);
    await expectCode(inTx(ledger, m(l), (ctx, now) => recordLeaderEntry(ctx, task.taskId, 'final', l, {}, now)), 'PRECONDITION_FAILED', /after ballot "execution" is approved/);
    await inTx(ledger, m(l), (ctx, now) => recordLeaderEntry(ctx, task.taskId, 'execution', l, { escrowed: true }, now));
    await inTx(ledger, m(a), (ctx, now) => castVote(ctx, task.taskId, 'execution', a, { approve: true, conditions: { condition1: true, condition2: true } }, now));
    await inTx(ledger, m(b), (ctx, now) => castVote(ctx, task.taskId, 'execution', b, { approve: true }, now));
    await expectCode(inTx(ledger, m(c), (ctx, now) => castVote(ctx, task.taskId, 'execution', c, { approve: false, conditions: { condition3: false } }, now)), 'INVALID_ARGUMENT', /no condition "condition3"/);
    const d1 = await inTx(ledger, null, (ctx, now) => decideBallot(ctx, task.taskId, 'execution', now));
    expect(d1).toMatchObject({ outcome: 'APPROVED', taskClosed: false, leader: l, approvals: 3 });
    // final stage: a new slot, a new entry, and a rejection by f+1
    const l2 = nth(drawn.committee, 1);
    ledger.now = whenLeads(drawn, l2, ledger.now + 1);
    await inTx(ledger, m(l2), (ctx, now) => recordLeaderEntry(ctx, task.taskId, 'final', l2, {}, now));
    await inTx(ledger, m(c), (ctx, now) => castVote(ctx, task.taskId, 'final', c, { approve: false, conditions: { condition3: false } }, now));
    await inTx(ledger, m(l), (ctx, now) => castVote(ctx, task.taskId, 'final', l, { approve: false, conditions: { condition4: false } }, now));
    const d2 = await inTx(ledger, null, (ctx, now) => decideBallot(ctx, task.taskId, 'final', now));
    expect(d2).toMatchObject({ outcome: 'REJECTED', taskClosed: true, refusals: 2, contrary: [l2] });
    const closed = await ledger.evaluate<{ status: string; outcome: string }>(regulator, 'committees:getTask', [task.taskId]);
    expect(closed).toMatchObject({ status: 'CLOSED', outcome: 'REJECTED' });
  });
});

describe('trade outcome → Q-scores (spec §5) through settleTradeReputation', () => {
  async function community() {
    const ledger = new TestLedger();
    const members = await seedMembers(ledger, 6, ['z1']);
    const params = await inTx(ledger, null, (ctx) => readParameters(ctx));
    const [s, b, l, v1, v2] = take(members.map((x) => x.participantId), 5);
    return { ledger, params, s, b, l, v1, v2, untouched: nth(members, 5).participantId };
  }

  it('success raises seller, buyer, leader and honest validators, and records Eq. (2) for the trade', async () => {
    const { ledger, params, s, b, l, v1, v2, untouched } = await community();
    const r = await inTx(ledger, null, (ctx, now) => settleTradeReputation(ctx, { tradeId: 'tr-1', seller: s, buyer: b, leader: l, honest: [v1, v2, l], outcome: { kind: 'success' } }, params, now));
    // x = 1: v = mean(10,10) = 10, L = 10, f = S + B = 20 → Q = 40
    expect(r.eq2).toEqual({ v: String(10 * Q_SCALE), L: String(10 * Q_SCALE), f: String(20 * Q_SCALE), q: String(40 * Q_SCALE) });
    for (const pid of [s, b, l, v1, v2]) expect((await score(ledger, pid)).qScore).toBe(11 * Q_SCALE);
    expect((await score(ledger, untouched)).qScore).toBe(10 * Q_SCALE);
  });

  it('a seller fault lowers only the seller; a buyer fault only the buyer', async () => {
    const { ledger, params, s, b, l, v1 } = await community();
    await inTx(ledger, null, (ctx, now) => settleTradeReputation(ctx, { tradeId: 'tr-1', seller: s, buyer: b, leader: l, honest: [v1], outcome: { kind: 'seller-fault', contractedWh: 1000, deliveredWh: 0 } }, params, now), 'a');
    expect((await score(ledger, s)).qScore).toBe(9 * Q_SCALE);
    for (const pid of [b, l, v1]) expect((await score(ledger, pid)).qScore).toBe(10 * Q_SCALE);
    await inTx(ledger, null, (ctx, now) => settleTradeReputation(ctx, { tradeId: 'tr-2', seller: s, buyer: b, leader: l, honest: [v1], outcome: { kind: 'buyer-fault' } }, params, now), 'b');
    expect((await score(ledger, b)).qScore).toBe(9 * Q_SCALE);
    expect((await score(ledger, s)).qScore).toBe(9 * Q_SCALE);
  });

  it('one call applies the outcome AND the faulty party\'s penalty (seller or buyer), ban beyond k', async () => {
    const { ledger, params, s, b, l, v1 } = await community();
    const k = params.penaltyThreshold;
    await inTx(ledger, null, (ctx, now) => settleTradeReputation(ctx, { tradeId: 'tr-1', seller: s, buyer: b, leader: l, honest: [v1], outcome: { kind: 'seller-fault', contractedWh: 1000, deliveredWh: 0 }, penaliseFaulty: { reason: 'late' } }, params, now), 'a');
    const seller = await score(ledger, s);
    // Eq. (2) update (−Δ) then the penalty (−qStep) on the same record: both survive, count + 1
    expect(seller.qScore).toBe(9 * Q_SCALE - params.qStep);
    expect(seller.penaltyCount).toBe(1);
    expect((await score(ledger, b)).penaltyCount).toBe(0);
    // A buyer fault counts against the buyer (spec §3: the faulty party is penalised); k + 1 of them ban it.
    for (let i = 0; i <= k; i++) {
      await inTx(ledger, null, (ctx, now) => settleTradeReputation(ctx, { tradeId: `tb-${i}`, seller: s, buyer: b, honest: [], outcome: { kind: 'buyer-fault' }, penaliseFaulty: { reason: 'withheld evidence' } }, params, now), `b${i}`);
    }
    const buyer = await score(ledger, b);
    expect(buyer.penaltyCount).toBe(k + 1);
    expect(buyer.status).toBe('BANNED');
    expect((await score(ledger, s)).penaltyCount).toBe(1);
  });

  it('history and a leaderboard of pseudonyms, highest first, paginated', async () => {
    const { ledger, params, s, b, l } = await community();
    await inTx(ledger, null, (ctx, now) => settleTradeReputation(ctx, { tradeId: 'tr-1', seller: s, buyer: b, leader: l, honest: [], outcome: { kind: 'seller-fault', contractedWh: 100, deliveredWh: 50 } }, params, now));
    const h = await ledger.evaluate<{ entries: Array<{ delta: number; reason: string; ref: string }> }>(regulator, 'participants:getQScoreHistory', [s, '10', '']);
    // x = −0.5: Δ·x⁵ = −0.03125
    expect(h.entries).toEqual([expect.objectContaining({ delta: -31_250, qScore: 10 * Q_SCALE - 31_250, ref: 'tr-1', reason: 'trade declined: seller-fault' })]);
    const page1 = await ledger.evaluate<{ entries: Array<{ participantId: string; qScore: number }>; bookmark: string }>(viewer, 'participants:leaderboard', ['4', '']);
    expect(page1.entries).toHaveLength(4);
    expect(page1.entries.map((e) => e.qScore)).toEqual([...page1.entries.map((e) => e.qScore)].sort((x, y) => y - x));
    expect(Object.keys(nth(page1.entries, 0)).sort()).toEqual(['participantId', 'qScore']);
    const page2 = await ledger.evaluate<{ entries: Array<{ participantId: string; qScore: number }>; bookmark: string }>(viewer, 'participants:leaderboard', ['4', page1.bookmark]);
    expect(page2.entries.map((e) => e.participantId)).toContain(s);
    expect(page2.entries[page2.entries.length - 1]).toEqual({ participantId: s, qScore: 10 * Q_SCALE - 31_250 });
    expect(page2.bookmark).toBe('');
  });
});
