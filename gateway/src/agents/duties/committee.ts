/**
 * A committee member's next step on a task (admission or trade validation), as a pure function of what
 * the agent read from the ledger a moment ago. The agent re-reads and re-decides after every event that
 * names the task and at the slot starts this returns, so a crash, a lost race or a restart only ever
 * leads to the same decision on fresher facts (the ledger, not the agent's memory, says what was done).
 *
 * Quorums (docs/governance.md §7): a ballot is approved by 2f+1 approvals and rejected by f+1 refusals;
 * the leader's entry counts as its approval.
 */
import type { Behaviour } from '../behaviour';
import { leaderAt, nextLeadSlot } from './slots';
import { holds, type BallotSpecView, type BallotState, type TaskView, type Verdict, type VoteView } from './types';

export type MemberStep =
  /** record the slot leader's entry for `ballot` now (this meter leads the current slot), in this slot's block */
  | { kind: 'enter'; ballot: string; slot: number }
  /** vote on `ballot` with these conditions */
  | { kind: 'vote'; ballot: string; approve: boolean; conditions: Record<string, boolean>; reason: string }
  /** tally `ballot`: it has its quorum */
  | { kind: 'decide'; ballot: string }
  /** nothing to do until `atMs` (a slot this meter leads), or until an event names the task (`atMs` undefined) */
  | { kind: 'wait'; atMs?: number; why: string }
  /** this meter's part in this task round is over */
  | { kind: 'done'; why: string };

export const approvalQuorum = (f: number) => 2 * f + 1;
export const blockingQuorum = (f: number) => f + 1;

/** Whether a ballot is decided by its votes: 2f+1 approvals or f+1 refusals. */
export const hasQuorum = (f: number, approvals: number, refusals: number) => approvals >= approvalQuorum(f) || refusals >= blockingQuorum(f);

/**
 * The votes that count on a ballot: those of the task's current round by members of its committee (the
 * chaincode counts no other: chaincode/src/governance/services/tasks.ts). The one place the duties and
 * their wake-up rules derive a ballot's votes from a read.
 */
export function countedVotes(task: Pick<TaskView, 'committee' | 'round'>, state: BallotState | undefined): VoteView[] {
  return (state?.round === task.round ? state.votes : []).filter((v) => task.committee.includes(v.voter));
}

/**
 * Members take turns to call decide once a ballot has its quorum: one decide is enough, and when every
 * member raced, all but one committed as MVCC-invalid transactions (bench:market counted 166 for 30
 * trades, docs/benchmarks.md). Turn 0 is the leader of the slot in which the quorum's last vote landed,
 * then the members after it in committee order, a gap apart (`decideGapMs`); a member whose turn comes
 * finds the ballot decided (and stops) unless every earlier member is silent or down. All members compute
 * the same order from the ledger, so the order needs no coordination.
 *
 * DECIDE_TURN_MS is the gap until the gateway has observed enough commits to derive one: 5 s covered the
 * commit latency measured on a loaded machine (load average 30), where 2 s turns still left 98
 * MVCC-invalid decides for 44 decisions (docs/benchmarks.md).
 */
export const DECIDE_TURN_MS = 5_000;
/** Bounds of the derived gap: a silent turn-0 member delays the decision by one gap, at most half a 30 s slot. */
export const DECIDE_GAP_MIN_MS = 2_000;
export const DECIDE_GAP_MAX_MS = 15_000;
/** Commit latencies needed before the gap is derived from them (fewer: DECIDE_TURN_MS). */
export const DECIDE_GAP_MIN_SAMPLES = 5;

const p90 = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)]!;
};

/**
 * The gap between decide turns, from what this gateway observed (docs/agents.md §2):
 * - `latenciesMs`: its own acts' commit latencies (submit → committed, retries included). Turn k+1
 *   re-reads the ballot at quorumAt + gap; by then turn k must have seen the quorum's last vote commit (one
 *   commit latency after quorumAt, plus up to 1 s since ledger time is whole seconds), read the ballot, and
 *   seen its own decide commit (a second commit latency): 1 s + 2 × the 90th percentile + 0.5 s for the
 *   reads; DECIDE_TURN_MS until DECIDE_GAP_MIN_SAMPLES were seen;
 * - `turn0DecideMs`: how long its own turn-0 decides took from the quorum's ledger time to their commit —
 *   exactly what the next member must wait out, event delivery, queueing and reads included (the commit
 *   latencies alone under-estimated it: bench:market still counted redundant decides); its 90th
 *   percentile + 0.5 s when larger.
 * Within [DECIDE_GAP_MIN_MS, DECIDE_GAP_MAX_MS]. A gap shorter than a turn-0 decide takes is what makes
 * the next member submit a second decide that fails validation (docs/benchmarks.md "Decide races").
 */
export function decideGapMs(latenciesMs: readonly number[], turn0DecideMs: readonly number[] = []): number {
  const fromCommits = latenciesMs.length < DECIDE_GAP_MIN_SAMPLES ? DECIDE_TURN_MS : Math.ceil(1_500 + 2 * p90(latenciesMs));
  const observed = turn0DecideMs.length ? Math.ceil(p90(turn0DecideMs) + 500) : 0;
  return Math.min(DECIDE_GAP_MAX_MS, Math.max(DECIDE_GAP_MIN_MS, fromCommits, observed));
}

/**
 * When a ballot's quorum was reached (Unix seconds; 0 if the view has no times): the time of the counted
 * vote that completed 2f+1 approvals or f+1 refusals, in the order the votes were recorded, and never
 * before the entry (nobody votes before it: chaincode tasks.ts NO_ENTRY_YET). Votes after the quorum do
 * not move it, so every member computes the same instant — and so the same decide turns — whether its read
 * came before or after a late vote. Without a quorum in the view: its latest counted vote or entry.
 */
export function quorumTime(task: Pick<TaskView, 'committee' | 'round' | 'f'>, state: BallotState | undefined): number {
  const ballot = state?.ballot && state.ballot.round === task.round ? state.ballot : null;
  const entryAt = ballot?.entry?.at ?? 0;
  const votes = countedVotes(task, state).sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  let approvals = 0;
  for (const [i, v] of votes.entries()) {
    if (v.approve) approvals++;
    if (hasQuorum(task.f, approvals, i + 1 - approvals)) return Math.max(entryAt, v.at ?? 0);
  }
  return Math.max(entryAt, ...votes.map((v) => v.at ?? 0));
}

export function decideTurn(task: Pick<TaskView, 'committee' | 'genesisAt' | 'slotSeconds' | 'leaderOffset' | 'n'>, me: string, quorumAt: number): number {
  const { leader } = leaderAt(task, quorumAt);
  const n = task.committee.length;
  return (((task.committee.indexOf(me) - task.committee.indexOf(leader)) % n) + n) % n;
}

/** The ballot that is open now: the first one not approved (ballots open in order). */
export function currentBallot(task: Pick<TaskView, 'ballots'>, states: Record<string, BallotState | undefined>, round: number): { spec: BallotSpecView; state: BallotState | undefined } | { closed: string } {
  for (const spec of task.ballots) {
    const s = states[spec.name];
    const b = s?.ballot && s.ballot.round === round ? s.ballot : null;
    if (b?.status === 'APPROVED') continue;
    if (b?.status === 'REJECTED') return { closed: `ballot "${spec.name}" was rejected` };
    return { spec, state: s };
  }
  return { closed: 'every ballot is approved' };
}

/**
 * The ballot this member works on, with its counted votes: undefined unless the task is active, the member
 * sits on its committee and a ballot is open. (`nextMemberStep` says why not, case by case; the wake-up
 * rules only need to know whether.)
 */
function openBallotOf(task: TaskView, ballots: Record<string, BallotState | undefined>, me: string): { spec: BallotSpecView; votes: VoteView[] } | undefined {
  if (task.status !== 'ACTIVE' || !task.committee.includes(me)) return undefined;
  const cur = currentBallot(task, ballots, task.round);
  return 'closed' in cur ? undefined : { spec: cur.spec, votes: countedVotes(task, cur.state) };
}

/**
 * Whether this member's next step can depend on its own check of the open ballot's conditions: only while
 * the ballot has no quorum and this member has not voted on it (it may still enter as leader or vote).
 * Otherwise its step is decide-at-its-turn or wait, whatever the facts, so the agent skips reading them
 * (the trade, its packets, the candidate): most wake-ups of a member duty are other members' votes and
 * decisions after it voted, and those reads were most of the agents' evaluations (docs/benchmarks.md
 * "Market"). When it does vote or enter it still reads and checks everything itself.
 */
export function needsOwnCheck(task: TaskView, ballots: Record<string, BallotState | undefined>, me: string): boolean {
  const open = openBallotOf(task, ballots, me);
  if (!open) return false;
  const approvals = open.votes.filter((v) => v.approve).length;
  if (hasQuorum(task.f, approvals, open.votes.length - approvals)) return false;
  return !open.votes.some((v) => v.voter === me);
}

export interface MemberInput {
  task: TaskView;
  /** `committees:getBallot` per ballot name (read for this round) */
  ballots: Record<string, BallotState | undefined>;
  me: string;
  nowMs: number;
  behaviour: Behaviour;
  /** this meter's own check of the open ballot's conditions, from the ledger (undefined: facts not there yet) */
  verdict: Verdict | undefined;
  /** why the facts are not there yet (e.g. waiting for the buyer's delivery evidence) */
  notReady?: string;
  /** slots in which this meter already made an entry (for any task): Condition 2 allows one */
  enteredSlots?: ReadonlySet<number>;
  /**
   * Whether the chaincode would record this meter's entry as an approval. A trade entry carries the
   * verdict the chaincode evaluates on the stage's facts (`stageFacts`, chaincode/src/market/domain/trade.ts;
   * `entryApproves` in ./conditions mirrors it); an admission entry always approves. Undefined = approves.
   */
  entryApproves?: boolean;
  /** the gap between decide turns (`decideGapMs` of this gateway's observed commit latencies); DECIDE_TURN_MS when absent */
  decideGapMs?: number;
}

/** How the behaviour turns this meter's own verdict into its vote. */
export function voteFor(behaviour: Behaviour, verdict: Verdict, spec: BallotSpecView): { approve: boolean; conditions: Record<string, boolean>; reason: string } {
  if (behaviour === 'approve-all') {
    return { approve: true, conditions: Object.fromEntries(spec.conditions.map((c) => [c, true])), reason: 'approve-all (test behaviour)' };
  }
  if (behaviour === 'refuse-all') {
    return { approve: false, conditions: { ...verdict.conditions }, reason: 'refuse-all (test behaviour)' };
  }
  const ok = holds(verdict);
  const conditions: Record<string, boolean> = {};
  for (const c of spec.conditions) conditions[c] = verdict.conditions[c] === true;
  return { approve: ok, conditions, reason: ok ? 'conditions checked on the ledger' : verdict.reasons.join('; ').slice(0, 280) };
}

/**
 * Whether this meter, as slot leader, records the entry of the open ballot. `approve-all` enters
 * whatever the facts (a Byzantine leader); `refuse-all` never enters (it would not vote with the
 * chaincode's verdict); an honest leader enters when the verdict recorded with its entry equals its own.
 */
export function enterAsLeader(i: Pick<MemberInput, 'behaviour' | 'verdict' | 'entryApproves'>, spec: BallotSpecView): boolean {
  if (!i.verdict) return false;
  if (i.behaviour === 'approve-all') return true;
  if (i.behaviour === 'refuse-all') return false;
  return voteFor(i.behaviour, i.verdict, spec).approve === (i.entryApproves ?? true);
}

export function nextMemberStep(i: MemberInput): MemberStep {
  const { task, me, nowMs } = i;
  const now = Math.floor(nowMs / 1000); // the ledger's unit
  if (i.behaviour === 'silent') return { kind: 'done', why: 'behaviour silent' };
  if (task.status === 'CLOSED') return { kind: 'done', why: `task closed (${task.outcome})` };
  if (task.status !== 'ACTIVE') return { kind: 'done', why: `task is ${task.status} (round ${task.round} replaced)` };
  if (!task.committee.includes(me)) return { kind: 'done', why: `not on the committee of round ${task.round}` };
  const cur = currentBallot(task, i.ballots, task.round);
  if ('closed' in cur) return { kind: 'done', why: cur.closed };
  const { spec, state } = cur;
  const ballot = state?.ballot && state.ballot.round === task.round ? state.ballot : null;
  const votes = countedVotes(task, state);
  const approvals = votes.filter((v) => v.approve).length;
  if (hasQuorum(task.f, approvals, votes.length - approvals)) {
    const quorumAt = quorumTime(task, state);
    const dueMs = quorumAt * 1000 + decideTurn(task, me, quorumAt) * (i.decideGapMs ?? DECIDE_TURN_MS);
    if (nowMs < dueMs) return { kind: 'wait', atMs: dueMs, why: `ballot "${spec.name}" has its quorum; this member decides at its turn unless another did` };
    return { kind: 'decide', ballot: spec.name };
  }
  if (now > task.deadlineAt) return { kind: 'wait', why: `round ${task.round} passed its deadline; a keeper re-draws the committee` };
  if (!i.verdict) return { kind: 'wait', why: i.notReady ?? 'facts not on the ledger yet' };

  if (spec.requiresEntry && !ballot?.entry) {
    // The entry is also the leader's vote, with the verdict the chaincode records for it. So a leader
    // enters when that verdict is its own: an approval when its check holds, or — since the hardening
    // change (docs/governance.md "Leader entry") — a refusal when its check fails and the recorded
    // facts fail too; then the committee can refuse by votes instead of waiting out the stage window.
    // It does not enter when the recorded verdict would contradict its own check.
    if (!enterAsLeader(i, spec)) return { kind: 'wait', why: `ballot "${spec.name}" waits for another member's entry` };
    const { leader, slot } = leaderAt(task, now);
    if (leader === me && !i.enteredSlots?.has(slot)) return { kind: 'enter', ballot: spec.name, slot };
    const next = nextLeadSlot(task, me, now + (leader === me ? task.slotSeconds : 0));
    if (!next || next.startAt > task.deadlineAt) return { kind: 'wait', why: `ballot "${spec.name}" waits for another member's entry` };
    return { kind: 'wait', atMs: next.startAt * 1000, why: `this meter leads slot ${next.slot}` };
  }
  if (votes.some((v) => v.voter === me)) return { kind: 'wait', why: `voted on ballot "${spec.name}"; waiting for the quorum` };
  return { kind: 'vote', ballot: spec.name, ...voteFor(i.behaviour, i.verdict, spec) };
}

/** One task a meter sits on, with the step `nextMemberStep` chose for it on fresh reads. */
export interface EntryCandidate {
  taskId: string;
  step: MemberStep;
}

/**
 * The tasks this meter enters in its block for `slot` — seed 002's one block per leader per slot, which may
 * carry several requests (docs/governance.md §7): every task whose step is to enter in THIS slot (the tasks
 * it leads now whose open ballot waits for an entry and whose facts it would sign), in the order given, at
 * most `max`. None when it already made its block in this slot (Condition 2; e.g. after a restart, the
 * entries it saw on the ledger): a second block would be refused, and the tasks wait for their next leader.
 * A task led by another member in this slot is never in it: its step is to wait, not to enter.
 */
export function entryBlock(candidates: readonly EntryCandidate[], slot: number, enteredSlots: ReadonlySet<number> | undefined, max: number): string[] {
  if (enteredSlots?.has(slot)) return [];
  const taskIds: string[] = [];
  for (const c of candidates) {
    if (taskIds.length >= max) break;
    if (c.step.kind === 'enter' && c.step.slot === slot && !taskIds.includes(c.taskId)) taskIds.push(c.taskId);
  }
  return taskIds;
}

/**
 * Whether a task's next ballot is about to open for an entry, though none can be made now (so a slot leader
 * of the task may hold its block for it, `blockHold`): the open ballot has its entry and a later ballot
 * needs one (a trade's final stage opens once the execution ballot is decided and the buyer confirmed), or
 * the open ballot needs an entry whose facts are not on the ledger yet (`hasFacts` false: the final stage
 * waits for the buyer's delivery evidence). Nothing is imminent in a task that is not active or past its
 * round's deadline.
 */
export function nextEntryImminent(task: TaskView, ballots: Record<string, BallotState | undefined>, hasFacts: boolean, nowMs: number): boolean {
  if (task.status !== 'ACTIVE' || Math.floor(nowMs / 1000) > task.deadlineAt) return false;
  const cur = currentBallot(task, ballots, task.round);
  if ('closed' in cur) return false;
  const ballot = cur.state?.ballot && cur.state.ballot.round === task.round ? cur.state.ballot : null;
  if (ballot?.entry) {
    const later = task.ballots.slice(task.ballots.findIndex((b) => b.name === cur.spec.name) + 1);
    return later.some((b) => b.requiresEntry);
  }
  return cur.spec.requiresEntry && !hasFacts;
}

/**
 * Holding a leader's block (docs/agents.md §2 "Holding the block"). A meter makes ONE block per slot
 * (Condition 2), so a stage that becomes ready in its slot after it made the block waits for the task's
 * next slot leader — 30 s on the development network, the difference between settling within two slots
 * of the interval's end and not (docs/benchmarks.md "Market": every such miss was a stage one slot late).
 * So a leader waits while a stage it may have to enter is about to open:
 * - `imminent`: tasks it leads in this slot whose next ballot is about to open (`nextEntryImminent`);
 * - `arrivingEndsMs`: trades of the market whose delivery interval ended (or ends before the hold's limit)
 *   and that have no committee yet — their seller is minting and delivering, or the beacon is being
 *   completed; one of them may be this meter's to lead once drawn. A trade whose interval ended more than
 *   ARRIVAL_WINDOW_MS ago no longer counts (a seller that withholds delivery holds nobody).
 * It holds at most BLOCK_HOLD_MAX_MS after it first had a ballot to enter in the slot, and never later than
 * `marginMs` before the slot's end (`blockMarginMs`): the block's proposal time is what the chaincode places
 * in a slot (Condition 1; the clock guard only bounds how far that time may be from the endorsers' clocks,
 * chaincode/src/kernel/clock.ts), so the margin is for its commit and for retries, each a new proposal with
 * a new time. Protocol rules are unchanged: the block is made by the slot's leader, in its slot, once.
 */
export const BLOCK_HOLD_MAX_MS = 20_000;
export const ARRIVAL_WINDOW_MS = 20_000;
/** The least time left in the slot when a held block is submitted (a third of a 30 s development slot). */
export const BLOCK_MARGIN_MIN_MS = 10_000;

/**
 * The margin a held block keeps before its slot's end: BLOCK_MARGIN_MIN_MS, or room for two commits at the
 * 90th percentile of this gateway's observed commit latencies (submit → committed, retries included) plus
 * 1 s when that is longer — a block whose first proposal fails MVCC validation is proposed again.
 */
export function blockMarginMs(latenciesMs: readonly number[]): number {
  if (latenciesMs.length < DECIDE_GAP_MIN_SAMPLES) return BLOCK_MARGIN_MIN_MS;
  return Math.max(BLOCK_MARGIN_MIN_MS, Math.ceil(1_000 + 2 * p90(latenciesMs)));
}

export interface BlockHoldInput {
  nowMs: number;
  /** the slot's start (ledger seconds) and length */
  slotStartAt: number;
  slotSeconds: number;
  /** when this meter first had a ballot to enter in this slot (ms) */
  readySinceMs: number;
  /** time kept before the slot's end (`blockMarginMs`) */
  marginMs: number;
  imminent: readonly string[];
  arrivingEndsMs: readonly number[];
}

export type BlockHold = { hold: false; why: string } | { hold: true; untilMs: number; why: string; arriving: number; imminent: number };

export function blockHold(i: BlockHoldInput): BlockHold {
  const limit = Math.min(i.readySinceMs + BLOCK_HOLD_MAX_MS, (i.slotStartAt + i.slotSeconds) * 1000 - i.marginMs);
  if (i.nowMs >= limit) return { hold: false, why: 'held as long as allowed' };
  const arriving = i.arrivingEndsMs.filter((end) => end <= limit && i.nowMs <= end + ARRIVAL_WINDOW_MS).length;
  if (!i.imminent.length && !arriving) return { hold: false, why: 'no stage about to open' };
  const what = [i.imminent.length ? `${i.imminent.length} task(s) it leads about to open a ballot` : '', arriving ? `${arriving} trade(s) about to open a stage` : ''].filter(Boolean).join(', ');
  return { hold: true, untilMs: limit, why: `holding the block of this slot: ${what}`, arriving, imminent: i.imminent.length };
}

/**
 * What a member duty knows of its task's open ballot after a read: the round, the ballot, the committee's
 * votes on it so far. The vote events keep it current, so a vote that leaves the member's step unchanged
 * wakes nothing (`voteWakeup`). Held in memory only: after a restart every event wakes the duty again.
 */
export interface OpenBallotTally {
  round: number;
  ballot: string;
  f: number;
  committee: readonly string[];
  me: string;
  approvals: readonly string[];
  refusals: readonly string[];
}

/** The tally of the open ballot in a fresh view; undefined when no ballot is open (then every event wakes the duty). */
export function tallyOf(task: TaskView, ballots: Record<string, BallotState | undefined>, me: string): OpenBallotTally | undefined {
  const open = openBallotOf(task, ballots, me);
  if (!open) return undefined;
  return {
    round: task.round,
    ballot: open.spec.name,
    f: task.f,
    committee: task.committee,
    me,
    approvals: open.votes.filter((v) => v.approve).map((v) => v.voter),
    refusals: open.votes.filter((v) => !v.approve).map((v) => v.voter),
  };
}

export type VoteWakeup = { skip: true; tally: OpenBallotTally } | { skip: false; why: string; quorum?: true };

/**
 * Whether a `VoteRecorded` event must wake a member duty (docs/agents.md §1 "Wake-ups"). It may stay asleep
 * only when its step provably stays "voted; waiting for the quorum": the event is a vote on the ballot the
 * duty last saw open, in that round; this member has voted on it (the event may be its own vote); and the
 * ballot still has neither 2f+1 approvals nor f+1 refusals. Everything else wakes it — no tally (a restart,
 * or the duty woken since), another round or ballot, a quorum (the decide turns start: their timing comes
 * from the votes' times), or a member that has not voted yet (it re-checks, as before).
 */
export function voteWakeup(t: OpenBallotTally | undefined, ev: { round: number; ballot: string; voter: string; approve: boolean }): VoteWakeup {
  if (!t) return { skip: false, why: 'nothing known of the ballot' };
  if (ev.round !== t.round || ev.ballot !== t.ballot) return { skip: false, why: 'a vote on another round or ballot' };
  if (!t.committee.includes(ev.voter)) return { skip: false, why: 'a voter not on the committee' };
  const approvals = ev.approve && !t.approvals.includes(ev.voter) ? [...t.approvals, ev.voter] : t.approvals;
  const refusals = !ev.approve && !t.refusals.includes(ev.voter) ? [...t.refusals, ev.voter] : t.refusals;
  if (hasQuorum(t.f, approvals.length, refusals.length)) return { skip: false, why: 'the ballot has its quorum', quorum: true };
  if (!approvals.includes(t.me) && !refusals.includes(t.me)) return { skip: false, why: 'this member has not voted on the ballot' };
  return { skip: true, tally: { ...t, approvals, refusals } };
}

/**
 * Whether a `BallotDecided` event closed its task (the chaincode closes it on a refusal or when the last
 * ballot is approved: chaincode/src/governance/services/tasks.ts `decideBallot`); then every member duty and
 * the redraw keeper of that round are over without a read. `ballots`: the task's ballot names in order, as a
 * read showed them (fixed when the task opened); unknown (undefined) decides only a refusal.
 */
export function decisionClosesTask(outcome: string | undefined, ballot: string, ballots: readonly string[] | undefined): boolean {
  if (outcome === 'REJECTED') return true;
  return outcome === 'APPROVED' && ballots !== undefined && ballots.at(-1) === ballot;
}
