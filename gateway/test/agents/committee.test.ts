import { ARRIVAL_WINDOW_MS, BLOCK_HOLD_MAX_MS, BLOCK_MARGIN_MIN_MS, blockHold, blockMarginMs, countedVotes, hasQuorum, nextEntryImminent, quorumTime, DECIDE_GAP_MAX_MS, DECIDE_GAP_MIN_MS, DECIDE_TURN_MS, decideGapMs, decideTurn, decisionClosesTask, needsOwnCheck, enterAsLeader, entryBlock, nextMemberStep, tallyOf, voteFor, voteWakeup, type MemberInput } from '../../src/agents/duties/committee';
import { leaderAt, nextLeadSlot, slotOf } from '../../src/agents/duties/slots';
import type { Verdict } from '../../src/agents/duties/types';
import { ballot, GENESIS, inSlot, inSlotAt, SLOT, task } from './fixtures';

const ok: Verdict = { conditions: { condition1: true, condition2: true }, reasons: [] };
const bad: Verdict = { conditions: { condition1: false, condition2: true }, reasons: ['Condition 1: the entry is by p-X'] };

const input = (over: Partial<MemberInput> = {}): MemberInput => ({
  task: task(),
  ballots: { admission: ballot('admission') },
  me: 'p-A',
  nowMs: inSlot(11), // slot 11 is led by committee[(11 + 1) mod 4] = p-A
  behaviour: 'honest',
  verdict: ok,
  ...over,
});

describe('Eq. (1) slots', () => {
  it('computes the leader of a slot from the task offset, like committees:leaderOf', () => {
    expect(slotOf(inSlotAt(11), GENESIS, 30)).toBe(11);
    expect(leaderAt(task(), inSlotAt(11))).toEqual({ leader: 'p-A', slot: 11 });
    expect(leaderAt(task(), inSlotAt(12)).leader).toBe('p-B');
    expect(leaderAt(task(), inSlotAt(14)).leader).toBe('p-D');
    expect(leaderAt(task(), GENESIS - 1).slot).toBe(-1); // floor also before t0
  });

  it('tells each member when its next slot starts (so the agent sleeps until then instead of polling)', () => {
    expect(nextLeadSlot(task(), 'p-A', inSlotAt(11))).toEqual({ slot: 11, startAt: GENESIS + 11 * SLOT });
    expect(nextLeadSlot(task(), 'p-A', inSlotAt(12))).toEqual({ slot: 15, startAt: GENESIS + 15 * SLOT });
    expect(nextLeadSlot(task(), 'p-C', inSlotAt(11))).toEqual({ slot: 13, startAt: GENESIS + 13 * SLOT });
    expect(nextLeadSlot(task(), 'p-X', inSlotAt(11))).toBeUndefined();
    for (let s = 0; s < 12; s++) {
      const next = nextLeadSlot(task(), 'p-D', inSlotAt(s))!;
      expect(leaderAt(task(), next.startAt).leader).toBe('p-D');
      expect(next.slot - s).toBeLessThan(4);
    }
  });
});

describe('committee member: the slot leader', () => {
  it('enters when its meter leads the current slot and its own check holds', () => {
    expect(nextMemberStep(input())).toEqual({ kind: 'enter', ballot: 'admission', slot: 11 });
  });

  it('waits for the start of its own slot when another member leads', () => {
    const step = nextMemberStep(input({ me: 'p-C' }));
    expect(step).toEqual({ kind: 'wait', atMs: (GENESIS + 13 * SLOT) * 1000, why: 'this meter leads slot 13' });
  });

  it('does not enter when its check fails but the verdict recorded with the entry would approve, nor when it behaves refuse-all or silent', () => {
    expect(nextMemberStep(input({ verdict: bad })).kind).toBe('wait');
    expect(nextMemberStep(input({ verdict: bad, entryApproves: true })).kind).toBe('wait');
    expect(nextMemberStep(input({ me: 'p-C', verdict: bad }))).toEqual({ kind: 'wait', why: 'ballot "admission" waits for another member\'s entry' });
    expect(nextMemberStep(input({ behaviour: 'refuse-all' })).kind).toBe('wait');
    expect(nextMemberStep(input({ behaviour: 'silent' }))).toEqual({ kind: 'done', why: 'behaviour silent' });
    expect(nextMemberStep(input({ behaviour: 'approve-all', verdict: bad })).kind).toBe('enter');
  });

  it('enters with a refusal when its own check fails and the verdict recorded with the entry is a refusal too', () => {
    // a trade stage whose facts fail (e.g. the buyer declared less than its meter): the chaincode's stageFacts refuse
    expect(nextMemberStep(input({ verdict: bad, entryApproves: false }))).toEqual({ kind: 'enter', ballot: 'admission', slot: 11 });
    // not its slot: it waits for the slot it leads, as when approving
    expect(nextMemberStep(input({ me: 'p-C', verdict: bad, entryApproves: false }))).toEqual({ kind: 'wait', atMs: (GENESIS + 13 * SLOT) * 1000, why: 'this meter leads slot 13' });
    // Condition 2 still holds for a refusing entry
    expect(nextMemberStep(input({ verdict: bad, entryApproves: false, enteredSlots: new Set([11]) })).kind).toBe('wait');
    // refuse-all never enters; approve-all enters whatever the verdict
    expect(nextMemberStep(input({ verdict: bad, entryApproves: false, behaviour: 'refuse-all' })).kind).toBe('wait');
    expect(nextMemberStep(input({ verdict: bad, entryApproves: false, behaviour: 'approve-all' })).kind).toBe('enter');
  });

  it('does not enter an approval the chaincode would record as a refusal (its check holds, the recorded facts fail)', () => {
    expect(nextMemberStep(input({ verdict: ok, entryApproves: false })).kind).toBe('wait');
  });

  it('enterAsLeader: the recorded verdict must be its own', () => {
    const spec = task().ballots[0]!;
    expect(enterAsLeader({ behaviour: 'honest', verdict: ok }, spec)).toBe(true);
    expect(enterAsLeader({ behaviour: 'honest', verdict: ok, entryApproves: true }, spec)).toBe(true);
    expect(enterAsLeader({ behaviour: 'honest', verdict: bad, entryApproves: false }, spec)).toBe(true);
    expect(enterAsLeader({ behaviour: 'honest', verdict: bad, entryApproves: true }, spec)).toBe(false);
    expect(enterAsLeader({ behaviour: 'lying-buyer', verdict: bad, entryApproves: false }, spec)).toBe(true); // a household fault, an honest validator
    expect(enterAsLeader({ behaviour: 'honest', verdict: undefined, entryApproves: false }, spec)).toBe(false);
  });

  it('after an entry in this slot for another task (Condition 2) it waits for its next slot', () => {
    expect(nextMemberStep(input({ enteredSlots: new Set([11]) }))).toEqual({ kind: 'wait', atMs: (GENESIS + 15 * SLOT) * 1000, why: 'this meter leads slot 15' });
  });

  it('gives up leading once its next slot would start after the round deadline', () => {
    const step = nextMemberStep(input({ me: 'p-C', task: task({ deadlineAt: inSlotAt(12) }) }));
    expect(step.kind).toBe('wait');
    expect((step as { atMs?: number }).atMs).toBeUndefined();
  });
});

describe('committee member: one block per slot for every task it leads (seed 002)', () => {
  // p-A leads slot 11 of t-1 (offset 1, index 0), of t-2 ((11 + 2) mod 4 = 1: p-A in [p-B, p-A, …]) and of t-3
  // (a trade stage); p-B leads slot 11 of t-4 (offset 2, index 1).
  const t2 = task({ taskId: 't-2', subjectId: 'p-new2#1', committee: ['p-B', 'p-A', 'p-C', 'p-D'], leaderOffset: 2 });
  const t3 = task({ taskId: 't-3', kind: 'trade', subjectId: 'trd-3', ballots: [{ name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true }] });
  const t4 = task({ taskId: 't-4', subjectId: 'p-new4#1', leaderOffset: 2 });
  const candidate = (t: typeof t2, over: Partial<MemberInput> = {}) => ({ taskId: t.taskId, step: nextMemberStep(input({ task: t, ballots: { [t.ballots[0]!.name]: ballot(t.ballots[0]!.name) }, ...over })) });

  it('gathers every task it leads in this slot whose ballot waits for an entry into one block', () => {
    const all = [candidate(task()), candidate(t2), candidate(t3)];
    expect(all.map((c) => c.step.kind)).toEqual(['enter', 'enter', 'enter']);
    expect(entryBlock(all, 11, undefined, 16)).toEqual(['t-1', 't-2', 't-3']);
  });

  it('leaves out a task another member leads in this slot, one already entered, one whose facts it would not sign, and a later slot', () => {
    const led = candidate(t4);
    expect(led.step).toMatchObject({ kind: 'wait', why: 'this meter leads slot 14' });
    const entered = { taskId: 't-2', step: nextMemberStep(input({ task: t2, ballots: { admission: ballot('admission', { entryBy: 'p-A', slot: 11 }) } })) };
    expect(entered.step.kind).not.toBe('enter');
    const unsigned = candidate(t3, { verdict: bad, entryApproves: true });
    const later = { taskId: 't-5', step: { kind: 'enter' as const, ballot: 'admission', slot: 15 } };
    expect(entryBlock([candidate(task()), led, entered, unsigned, later], 11, undefined, 16)).toEqual(['t-1']);
  });

  it('after a restart, a block already made in this slot (seen on the ledger) means no second entry; the tasks wait for their next leader', () => {
    const seen = new Set([11]);
    expect(entryBlock([candidate(task()), candidate(t2)], 11, seen, 16)).toEqual([]);
    // and each task's own step then waits for the meter's next slot of that task (or another leader's entry)
    expect(nextMemberStep(input({ task: t2, ballots: { admission: ballot('admission') }, enteredSlots: seen }))).toMatchObject({ kind: 'wait' });
  });

  it('carries at most the bound the chaincode allows (the rest wait for the next slot it leads)', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ taskId: `t-${i}`, step: { kind: 'enter' as const, ballot: 'admission', slot: 11 } }));
    expect(entryBlock(many, 11, undefined, 16)).toHaveLength(16);
    expect(entryBlock([...many.slice(0, 2), many[0]!], 11, undefined, 16)).toEqual(['t-0', 't-1']);
  });
});

describe('committee member: holding its block for a stage about to open', () => {
  const stages = [
    { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
    { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
  ];
  const tradeTask = task({ kind: 'trade', subjectId: 'trd-1', ballots: stages });
  const slotStart = GENESIS + 11 * SLOT;
  const hold = (over: Partial<Parameters<typeof blockHold>[0]> = {}) =>
    blockHold({ nowMs: slotStart * 1000 + 4_000, slotStartAt: slotStart, slotSeconds: SLOT, readySinceMs: slotStart * 1000 + 4_000, marginMs: BLOCK_MARGIN_MIN_MS, imminent: [], arrivingEndsMs: [], ...over });

  it("a trade's final stage is about to open while its execution ballot has its entry, and while the buyer's evidence is missing", () => {
    const now = inSlot(11);
    expect(nextEntryImminent(tradeTask, { execution: ballot('execution', { entryBy: 'p-D', slot: 10 }) }, true, now)).toBe(true);
    const approved = ballot('execution', { entryBy: 'p-D', slot: 10, status: 'APPROVED' });
    expect(nextEntryImminent(tradeTask, { execution: approved, final: { ballot: null, round: 0, votes: [] } }, false, now)).toBe(true);
    // facts there: the step is to enter (not "imminent"); the final entered: nothing later to open
    expect(nextEntryImminent(tradeTask, { execution: approved, final: { ballot: null, round: 0, votes: [] } }, true, now)).toBe(false);
    expect(nextEntryImminent(tradeTask, { execution: approved, final: ballot('final', { entryBy: 'p-A', slot: 11 }) }, true, now)).toBe(false);
    // an admission has one ballot: once entered, nothing opens after it
    expect(nextEntryImminent(task(), { admission: ballot('admission', { entryBy: 'p-D', slot: 10 }) }, true, now)).toBe(false);
    // not active, or past the round's deadline: nothing to wait for
    expect(nextEntryImminent({ ...tradeTask, status: 'CLOSED' }, { execution: ballot('execution', { entryBy: 'p-D', slot: 10 }) }, true, now)).toBe(false);
    expect(nextEntryImminent(tradeTask, { execution: ballot('execution', { entryBy: 'p-D', slot: 10 }) }, true, (tradeTask.deadlineAt + 1) * 1000)).toBe(false);
  });

  it('makes the block at once when no stage is about to open', () => {
    expect(hold()).toEqual({ hold: false, why: 'no stage about to open' });
    // a trade whose interval ended longer ago than the arrival window holds nobody (a seller that withholds delivery)
    expect(hold({ arrivingEndsMs: [slotStart * 1000 + 4_000 - ARRIVAL_WINDOW_MS - 1] })).toMatchObject({ hold: false });
    // nor one whose interval ends after the hold's limit (it cannot be ready in time for this block)
    expect(hold({ arrivingEndsMs: [slotStart * 1000 + 60_000] })).toMatchObject({ hold: false });
  });

  it('holds while a trade is arriving or a task it leads is about to open a ballot, until the margin before the slot ends at the latest', () => {
    const arriving = hold({ arrivingEndsMs: [slotStart * 1000] });
    expect(arriving).toEqual({ hold: true, untilMs: (slotStart + SLOT) * 1000 - BLOCK_MARGIN_MIN_MS, why: 'holding the block of this slot: 1 trade(s) about to open a stage', arriving: 1, imminent: 0 });
    expect(hold({ imminent: ['t-9'] })).toMatchObject({ hold: true, why: 'holding the block of this slot: 1 task(s) it leads about to open a ballot' });
    // a longer margin (slow commits) ends the hold earlier
    expect(hold({ imminent: ['t-9'], marginMs: 16_000 })).toMatchObject({ hold: true, untilMs: (slotStart + SLOT) * 1000 - 16_000 });
    // bounded from the moment it first had a ballot to enter (BLOCK_HOLD_MAX_MS) and by the margin
    const longSlot = hold({ slotSeconds: 300, imminent: ['t-9'] });
    expect(longSlot).toMatchObject({ hold: true, untilMs: slotStart * 1000 + 4_000 + BLOCK_HOLD_MAX_MS });
    expect(hold({ imminent: ['t-9'], nowMs: (slotStart + SLOT) * 1000 - BLOCK_MARGIN_MIN_MS })).toEqual({ hold: false, why: 'held as long as allowed' });
    expect(hold({ imminent: ['t-9'], slotSeconds: 300, nowMs: slotStart * 1000 + 4_000 + BLOCK_HOLD_MAX_MS })).toMatchObject({ hold: false });
  });

  it('keeps room for two commits at the observed latency before the slot ends, at least BLOCK_MARGIN_MIN_MS', () => {
    expect(blockMarginMs([])).toBe(BLOCK_MARGIN_MIN_MS);
    expect(blockMarginMs([500, 600, 700, 800, 900])).toBe(BLOCK_MARGIN_MIN_MS);
    expect(blockMarginMs([6_000, 6_000, 6_000, 6_000, 6_000])).toBe(13_000);
  });
});

describe('committee member: votes', () => {
  it('votes with its own verdict after the entry: approve when the conditions hold, refuse with the failed condition otherwise', () => {
    const b = { admission: ballot('admission', { entryBy: 'p-D' }) };
    expect(nextMemberStep(input({ ballots: b }))).toEqual({ kind: 'vote', ballot: 'admission', approve: true, conditions: { condition1: true, condition2: true }, reason: 'conditions checked on the ledger' });
    const refusal = nextMemberStep(input({ ballots: b, verdict: bad }));
    expect(refusal).toMatchObject({ kind: 'vote', approve: false, conditions: { condition1: false, condition2: true } });
    expect((refusal as { reason: string }).reason).toContain('Condition 1');
  });

  it('votes only once: after its vote it waits for the quorum', () => {
    const b = { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-A', true]] }) };
    expect(nextMemberStep(input({ ballots: b })).kind).toBe('wait');
  });

  it('behaviours: approve-all approves failed facts, refuse-all refuses true ones', () => {
    const spec = task().ballots[0]!;
    expect(voteFor('approve-all', bad, spec)).toMatchObject({ approve: true, conditions: { condition1: true, condition2: true } });
    expect(voteFor('refuse-all', ok, spec)).toMatchObject({ approve: false });
    const b = { admission: ballot('admission', { entryBy: 'p-D' }) };
    expect(nextMemberStep(input({ ballots: b, behaviour: 'refuse-all' }))).toMatchObject({ kind: 'vote', approve: false });
  });

  it('waits while the facts are not on the ledger yet (e.g. no delivery evidence)', () => {
    const b = { admission: ballot('admission', { entryBy: 'p-D' }) };
    expect(nextMemberStep(input({ ballots: b, verdict: undefined, notReady: 'no evidence' }))).toEqual({ kind: 'wait', why: 'no evidence' });
  });
});

describe('committee member: decisions and races', () => {
  it('takes turns to decide once the quorum is in: the leader of the quorum\'s slot first, then committee order, DECIDE_TURN_MS apart', () => {
    // the quorum's last vote landed in slot 12, led by committee[(12 + 1) mod 4] = p-B
    const at = inSlotAt(12);
    const b = ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-C', true]] });
    const timed = { admission: { ...b, votes: b.votes.map((v) => ({ ...v, at })) } };
    expect(decideTurn(task(), 'p-B', at)).toBe(0);
    expect(['p-C', 'p-D', 'p-A'].map((m) => decideTurn(task(), m, at))).toEqual([1, 2, 3]);
    const step = (me: string, nowMs: number) => nextMemberStep(input({ ballots: timed, me, nowMs }));
    expect(step('p-B', at * 1000)).toEqual({ kind: 'decide', ballot: 'admission' });
    expect(step('p-C', at * 1000)).toMatchObject({ kind: 'wait', atMs: at * 1000 + DECIDE_TURN_MS });
    expect(step('p-A', at * 1000 + DECIDE_TURN_MS)).toMatchObject({ kind: 'wait', atMs: at * 1000 + 3 * DECIDE_TURN_MS });
    // p-B (and the others before p-A) silent or down: p-A decides at its turn
    expect(step('p-A', at * 1000 + 3 * DECIDE_TURN_MS)).toEqual({ kind: 'decide', ballot: 'admission' });
  });

  it('derives the decide gap from observed commit latencies: two commits and the reads after the quorum, within bounds', () => {
    expect(decideGapMs([])).toBe(DECIDE_TURN_MS); // nothing observed yet
    expect(decideGapMs([9000, 9000, 9000, 9000])).toBe(DECIDE_TURN_MS); // too few samples to trust
    // 1 s (ledger seconds) + 2 × p90 + 0.5 s of reads: p90 of ten samples is the 9th smallest, one outlier ignored
    expect(decideGapMs([1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 9000])).toBe(3_500);
    expect(decideGapMs([2600, 2500, 2400, 2200, 2000])).toBe(1_500 + 2 * 2600);
    expect(decideGapMs([100, 120, 90, 110, 100])).toBe(DECIDE_GAP_MIN_MS); // a quiet ledger: turns still 2 s apart
    expect(decideGapMs([30_000, 30_000, 30_000, 30_000, 30_000])).toBe(DECIDE_GAP_MAX_MS); // a silent turn-0 costs at most half a slot
    // what its own turn-0 decides took from the quorum to their commit, when that is longer (event delivery, queueing, reads)
    expect(decideGapMs([], [7_000])).toBe(7_500);
    expect(decideGapMs([1000, 1000, 1000, 1000, 1000], [2_000])).toBe(3_500); // the commit-latency bound is larger here
    expect(decideGapMs([1000, 1000, 1000, 1000, 1000], [6_000, 9_000, 5_000])).toBe(9_500);
    expect(decideGapMs([], [60_000])).toBe(DECIDE_GAP_MAX_MS);
  });

  it('spaces the decide turns by the gap it is given (a slow ledger: the next member waits longer than a decide takes)', () => {
    const at = inSlotAt(12); // turns p-B 0, p-C 1, p-D 2, p-A 3
    const b = ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-C', true]] });
    const timed = { admission: { ...b, votes: b.votes.map((v) => ({ ...v, at })) } };
    const step = (me: string, nowMs: number) => nextMemberStep(input({ ballots: timed, me, nowMs, decideGapMs: 9_500 }));
    expect(step('p-B', at * 1000)).toEqual({ kind: 'decide', ballot: 'admission' });
    expect(step('p-C', at * 1000 + DECIDE_TURN_MS)).toMatchObject({ kind: 'wait', atMs: at * 1000 + 9_500 });
    expect(step('p-C', at * 1000 + 9_500)).toEqual({ kind: 'decide', ballot: 'admission' });
    expect(step('p-A', at * 1000 + 9_500)).toMatchObject({ kind: 'wait', atMs: at * 1000 + 3 * 9_500 });
  });

  it('needs its own check of the facts only while it may still enter or vote: no quorum and no vote of its own', () => {
    const t = task();
    expect(needsOwnCheck(t, { admission: ballot('admission') }, 'p-A')).toBe(true); // no entry yet: it may lead
    expect(needsOwnCheck(t, { admission: ballot('admission', { entryBy: 'p-D' }) }, 'p-A')).toBe(true); // it may vote
    expect(needsOwnCheck(t, { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-A', true]] }) }, 'p-A')).toBe(false); // voted
    expect(needsOwnCheck(t, { admission: ballot('admission', { entryBy: 'p-A' }) }, 'p-A')).toBe(false); // its entry is its vote
    expect(needsOwnCheck(t, { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-C', true]] }) }, 'p-A')).toBe(false); // 2f+1: decide at its turn
    expect(needsOwnCheck(t, { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-B', false], ['p-C', false]] }) }, 'p-A')).toBe(false); // f+1 refusals
    expect(needsOwnCheck(t, { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-X', true], ['p-Y', true]] }) }, 'p-A')).toBe(true); // non-members do not count
    expect(needsOwnCheck(t, { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-A', true]], round: 1 }) }, 'p-A')).toBe(true); // a vote of an earlier round
    expect(needsOwnCheck(t, { admission: ballot('admission') }, 'p-X')).toBe(false); // not on the committee
    expect(needsOwnCheck({ ...t, status: 'CLOSED' }, { admission: ballot('admission') }, 'p-A')).toBe(false);
  });

  it('decides at 2f+1 approvals (the entry counts) and at f+1 refusals', () => {
    const approved = { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-C', true]] }) };
    expect(nextMemberStep(input({ ballots: approved }))).toEqual({ kind: 'decide', ballot: 'admission' });
    const rejected = { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-B', false], ['p-C', false]] }) };
    expect(nextMemberStep(input({ ballots: rejected }))).toEqual({ kind: 'decide', ballot: 'admission' });
    const open = { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-C', false]] }) };
    expect(nextMemberStep(input({ ballots: open })).kind).toBe('vote');
  });

  it('countedVotes: only the current round\'s votes by committee members; hasQuorum: 2f+1 approvals or f+1 refusals', () => {
    const t = task({ round: 1 });
    const stale = ballot('admission', { round: 0, votes: [['p-B', true], ['p-C', true], ['p-D', true]] });
    expect(countedVotes(t, stale)).toEqual([]); // a re-drawn round starts from no votes
    const cur = ballot('admission', { round: 1, votes: [['p-B', true], ['p-X', false], ['p-C', false]] });
    expect(countedVotes(t, cur).map((v) => v.voter)).toEqual(['p-B', 'p-C']); // p-X is not on the committee
    expect(countedVotes(t, undefined)).toEqual([]);
    expect([hasQuorum(1, 3, 0), hasQuorum(1, 2, 1), hasQuorum(1, 1, 2), hasQuorum(1, 0, 1), hasQuorum(2, 4, 2), hasQuorum(2, 0, 3)]).toEqual([true, false, true, false, false, true]);
  });

  it('quorumTime: the vote that completed the quorum, whatever came after it; never before the entry', () => {
    const t = task();
    const at = (b: ReturnType<typeof ballot>, times: number[]) => ({ ...b, votes: b.votes.map((v, i) => ({ ...v, at: times[i] })) });
    const entryAt = inSlotAt(10);
    // p-D's entry (its approval), p-B at +4 s, p-C at +9 s completes 2f+1 = 3; p-A's late approval at +30 s does not move it
    const late = at(ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-C', true], ['p-A', true]] }), [entryAt, entryAt + 4, entryAt + 9, entryAt + 30]);
    expect(quorumTime(t, late)).toBe(entryAt + 9);
    expect(quorumTime(t, { ...late, votes: late.votes.slice(0, 3) })).toBe(entryAt + 9); // a read before the late vote: the same instant
    // refusals: f+1 = 2, the second refusal completes it (votes listed out of time order)
    const refused = at(ballot('admission', { entryBy: 'p-D', votes: [['p-A', false], ['p-B', false], ['p-C', true]] }), [entryAt, entryAt + 20, entryAt + 5, entryAt + 2]);
    expect(quorumTime(t, refused)).toBe(entryAt + 20);
    // no quorum yet: the latest counted vote
    expect(quorumTime(t, at(ballot('admission', { entryBy: 'p-D', votes: [['p-B', true]] }), [entryAt, entryAt + 7]))).toBe(entryAt + 7);
    // votes without times (older views): the entry's time
    expect(quorumTime(t, ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-C', true]] }))).toBe(entryAt);
  });

  it('ignores votes of non-members when counting', () => {
    const b = { admission: ballot('admission', { entryBy: 'p-D', votes: [['p-B', true], ['p-X', true]] }) };
    expect(nextMemberStep(input({ ballots: b })).kind).toBe('vote');
  });

  it('another member decided first (lost race): re-reading shows the ballot decided and the duty ends', () => {
    const decided = { admission: ballot('admission', { entryBy: 'p-D', status: 'APPROVED' }) };
    expect(nextMemberStep(input({ ballots: decided }))).toEqual({ kind: 'done', why: 'every ballot is approved' });
    expect(nextMemberStep(input({ task: task({ status: 'CLOSED', outcome: 'APPROVED' }) }))).toEqual({ kind: 'done', why: 'task closed (APPROVED)' });
    const rejected = { admission: ballot('admission', { entryBy: 'p-D', status: 'REJECTED' }) };
    expect(nextMemberStep(input({ ballots: rejected })).kind).toBe('done');
  });

  it('a re-drawn round ends the old duty; a member not drawn again has nothing to do', () => {
    expect(nextMemberStep(input({ task: task({ status: 'AWAITING_ENTROPY', round: 1 }) })).kind).toBe('done');
    expect(nextMemberStep(input({ task: task({ committee: ['p-B', 'p-C', 'p-D', 'p-E'] }) })).kind).toBe('done');
  });

  it('after the round deadline it waits for the keeper to re-draw (votes would be refused)', () => {
    const b = { admission: ballot('admission', { entryBy: 'p-D' }) };
    expect(nextMemberStep(input({ ballots: b, task: task({ deadlineAt: inSlotAt(10) }) })).kind).toBe('wait');
  });

  it('trade tasks: the final ballot is the open one once execution is approved', () => {
    const t = task({ kind: 'trade', subjectId: 'trd-1', ballots: [
      { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
      { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
    ] });
    const ballots = { execution: ballot('execution', { entryBy: 'p-D', status: 'APPROVED' }), final: ballot('final', { entryBy: 'p-B' }) };
    const v: Verdict = { conditions: { condition3: true, condition4: true }, reasons: [] };
    expect(nextMemberStep(input({ task: t, ballots, verdict: v }))).toMatchObject({ kind: 'vote', ballot: 'final', approve: true, conditions: { condition3: true, condition4: true } });
  });
});

describe('wake-ups a vote or a decision decides without a read (docs/agents.md §1 "Wake-ups")', () => {
  // committee p-A..p-D, f = 1: 3 approvals or 2 refusals decide; p-D's entry is its approval
  const vote = (voter: string, approve = true, over: Partial<{ round: number; ballot: string }> = {}) => ({ round: 0, ballot: 'admission', voter, approve, ...over });
  const seen = (votes: Array<[string, boolean]>) => tallyOf(task(), { admission: ballot('admission', { entryBy: 'p-D', votes }) }, 'p-A');

  it('tallyOf: the open ballot\'s committee votes from a fresh view; nothing when no ballot is open or the member is not on the committee', () => {
    expect(seen([['p-A', true], ['p-X', false]])).toEqual({ round: 0, ballot: 'admission', f: 1, committee: ['p-A', 'p-B', 'p-C', 'p-D'], me: 'p-A', approvals: ['p-D', 'p-A'], refusals: [] });
    expect(tallyOf(task({ status: 'CLOSED' }), { admission: ballot('admission', { entryBy: 'p-D' }) }, 'p-A')).toBeUndefined();
    expect(tallyOf(task(), { admission: ballot('admission', { entryBy: 'p-D', status: 'APPROVED' }) }, 'p-A')).toBeUndefined();
    expect(tallyOf(task(), { admission: ballot('admission', { entryBy: 'p-D' }) }, 'p-Z')).toBeUndefined();
  });

  it('a vote that leaves the ballot without quorum after this member voted changes nothing: skipped, and counted', () => {
    const t = seen([['p-A', true]]); // approvals p-D, p-A
    const w = voteWakeup(t, vote('p-B', false)); // 2 approvals, 1 refusal: no quorum
    expect(w).toEqual({ skip: true, tally: { ...t, refusals: ['p-B'] } });
    // the next vote is counted against the updated tally: p-C's refusal is the f+1-th → wake (decide turns)
    expect(voteWakeup(w.skip ? w.tally : undefined, vote('p-C', false))).toEqual({ skip: false, why: 'the ballot has its quorum', quorum: true });
    // its own vote event (the act does not re-read): skipped while there is no quorum
    const before = seen([]);
    expect(voteWakeup(before, vote('p-A'))).toEqual({ skip: true, tally: { ...before, approvals: ['p-D', 'p-A'] } });
    // the same vote seen twice (an event replayed after a failed batch) is counted once
    const again = voteWakeup(t, vote('p-A'));
    expect(again).toEqual({ skip: true, tally: t });
  });

  it('never skips when the step could change: quorum, not voted yet, another round or ballot, a stranger, or nothing known (a restart)', () => {
    expect(voteWakeup(seen([['p-A', true]]), vote('p-B'))).toEqual({ skip: false, why: 'the ballot has its quorum', quorum: true });
    expect(voteWakeup(seen([]), vote('p-B', false))).toEqual({ skip: false, why: 'this member has not voted on the ballot' });
    expect(voteWakeup(seen([['p-A', true]]), vote('p-B', false, { round: 1 }))).toMatchObject({ skip: false });
    expect(voteWakeup(seen([['p-A', true]]), vote('p-B', false, { ballot: 'final' }))).toMatchObject({ skip: false });
    expect(voteWakeup(seen([['p-A', true]]), vote('p-X', false))).toMatchObject({ skip: false });
    expect(voteWakeup(undefined, vote('p-B', false))).toEqual({ skip: false, why: 'nothing known of the ballot' });
  });

  it('decisionClosesTask: a refusal always closes; an approval only of the task\'s last ballot, when its ballots are known', () => {
    expect(decisionClosesTask('REJECTED', 'execution', undefined)).toBe(true);
    expect(decisionClosesTask('APPROVED', 'final', ['execution', 'final'])).toBe(true);
    expect(decisionClosesTask('APPROVED', 'execution', ['execution', 'final'])).toBe(false);
    expect(decisionClosesTask('APPROVED', 'final', undefined)).toBe(false);
    expect(decisionClosesTask(undefined, 'final', ['execution', 'final'])).toBe(false);
  });
});
