/**
 * Generic committee + quorum machinery (issue 8 items 4–7), used by prosumer admission and by
 * trade validation. A TASK is one unit of committee work on a subject (a join request, a trade):
 *
 *   openTask ──► utilities contribute beacon signatures ──► (quorum) committee drawn
 *     ──► per ballot: slot leader records an entry, in one block per leader and slot that may carry
 *         several tasks' ballots (Condition 1: it leads the slot in each task; Condition 2: no other
 *         block by it in that slot) ──► members vote, one key per vote
 *     ──► decideBallot: 2f+1 approvals ⇒ approved, f+1 refusals ⇒ rejected
 *     ──► after the deadline without a decision: redrawTask (new round, fresh beacon, new committee)
 *
 * Domain effects of a decision (admitting a prosumer, releasing escrow) belong to the caller:
 * `decideBallot` returns a `Decision` and the caller acts on it in the same transaction.
 * Every function takes the guarded time `now` (`await ctx.time()`) and the parameters it needs.
 */
import { createHash } from 'crypto';
import { checkSignatureHex, combineSeed, streamValue, verifyContribution } from '../domain/entropy';
import { LedSlot, leaderIndex, slotOf, slotsLedBy } from '../domain/leader';
import { isEligibleForCommittee } from '../domain/participant';
import { committeeSize, StoredParameters } from '../domain/parameters';
import { BallotOutcome, decide, approvalQuorum, blockingQuorum, maxCustodianSeats } from '../domain/quorum';
import { clusteredDraw } from '../domain/sampling';
import { beaconMessage, EVENTS, MAX_BLOCK_ENTRIES, taskIdFor } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { canonicalJson } from '../../kernel/codec';
import { lookupSlot, readZones } from '../ledger/eligibilityIndex';
import { readParticipant } from '../ledger/participants';
import { holdsWithCredits } from './reputation';
import {
  Ballot,
  BallotSpec,
  mustReadTask,
  readBallot,
  readBeaconKeys,
  readLeaderEntry,
  readTask,
  readVote,
  readVotes,
  Task,
  Vote,
  writeBallot,
  writeLeaderEntry,
  writeTask,
  writeVote,
} from '../ledger/tasks';
import { fail, quote } from '../../kernel/errors';
import { isoOf } from '../../kernel/clock';
import { GridLedgerContext } from '../../kernel/context';
import type { Caller } from '../../kernel/caller';
import { checkKeyPart } from '../../kernel/keys';
import { present } from '../../kernel/invariant';

export type { Ballot, BallotSpec, Task, Vote } from '../ledger/tasks';
export { readTask } from '../ledger/tasks';

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Sub-code (and `drawError` prefix) of a draw that could not keep every utility below 2f+1 seats. */
export const CUSTODIAN_CAP = 'CUSTODIAN_CAP';


export interface OpenTaskInput {
  /** e.g. 'admission', 'trade' (lowercase, ≤ 32 chars). */
  kind: string;
  /** What the task is about (participant id, trade id); unique per kind. */
  subjectId: string;
  /** Participant ids that must not sit on the committee (requester, seller, buyer). */
  parties: string[];
  ballots: BallotSpec[];
}

export async function openTask(ctx: GridLedgerContext, input: OpenTaskInput, now: number, params: StoredParameters): Promise<Task> {
  if (!NAME.test(input.kind)) fail('INVALID_ARGUMENT', 'BAD_TASK_KIND', `task kind ${quote(input.kind)} must match ${NAME.source}`);
  checkKeyPart(input.subjectId, 'task subjectId');
  if (input.ballots.length === 0) fail('INVALID_ARGUMENT', 'NO_BALLOTS', 'a task needs at least one ballot');
  const names = new Set<string>();
  for (const b of input.ballots) {
    if (!NAME.test(b.name) || names.has(b.name)) fail('INVALID_ARGUMENT', 'BAD_BALLOT_NAME', `ballot name "${b.name}" must be unique and match ${NAME.source}`);
    names.add(b.name);
  }
  const taskId = taskIdFor(input.kind, input.subjectId);
  if (await readTask(ctx, taskId)) fail('CONFLICT', 'TASK_EXISTS', `task ${taskId} for ${input.kind} ${input.subjectId} already exists`);

  const keys = await readBeaconKeys(ctx);
  if (keys.length < params.beaconQuorum) {
    fail('PRECONDITION_FAILED', 'TOO_FEW_BEACON_KEYS', 
      `committee beacon needs ${params.beaconQuorum} utility keys, ${keys.length} registered; operators call committees:registerBeaconKey`,
    );
  }
  const beaconKeys: Record<string, string> = {};
  for (const k of keys) beaconKeys[k.mspId] = k.publicKeyHex;

  const task: Task = {
    taskId,
    kind: input.kind,
    subjectId: input.subjectId,
    parties: [...new Set(input.parties)].sort(),
    ballots: input.ballots.map((b) => ({ name: b.name, conditions: [...b.conditions], requiresEntry: b.requiresEntry })),
    status: 'AWAITING_ENTROPY',
    outcome: '',
    round: 0,
    f: params.f,
    n: committeeSize(params.f),
    genesisAt: params.genesisAt,
    slotSeconds: params.slotSeconds,
    deadlineSeconds: params.taskDeadlineSeconds,
    beaconQuorum: params.beaconQuorum,
    beaconKeys,
    contributions: [],
    seedHex: '',
    committee: [],
    committeeZones: [],
    leaderOffset: 0,
    drawError: '',
    openedAt: now,
    roundOpenedAt: now,
    drawnAt: 0,
    deadlineAt: 0,
    closedAt: 0,
  };
  await writeTask(ctx, task);
  emitTaskOpened(ctx, task);
  return task;
}

function emitTaskOpened(ctx: GridLedgerContext, t: Task): void {
  emit(ctx, EVENTS.taskOpened, {
    taskId: t.taskId,
    kind: t.kind,
    subjectId: t.subjectId,
    round: t.round,
    beaconMessage: beaconMessage(ctx.stub.getChannelID(), t.taskId, t.round),
    utilities: Object.keys(t.beaconKeys).sort(),
    // how many contributions draw the committee: the gateways contribute in turns until it is reached
    quorum: t.beaconQuorum,
  });
}

/**
 * A utility's beacon contribution for the task's current round: its unique BLS signature on
 * `beaconMessage(channel, taskId, round)`. When `beaconQuorum` utilities have contributed, the seed
 * is fixed and the committee is drawn in the same transaction.
 */
export async function contributeEntropy(
  ctx: GridLedgerContext,
  taskId: string,
  round: number,
  signatureHex: string,
  contributorMspId: string,
  now: number,
  params: StoredParameters,
): Promise<Task> {
  checkSignatureHex(signatureHex);
  const task = await mustReadTask(ctx, taskId);
  if (round !== task.round) fail('CONFLICT', 'WRONG_ROUND', `task ${taskId} is in round ${task.round}, not ${round}; sign the current round's beacon message`);
  if (task.status !== 'AWAITING_ENTROPY') fail('CONFLICT', 'BEACON_COMPLETE', `task ${taskId} round ${round} already has its beacon (status ${task.status})`);
  const publicKey = task.beaconKeys[contributorMspId];
  if (!publicKey) fail('FORBIDDEN', 'NO_BEACON_KEY', `${contributorMspId} had no beacon key when task ${taskId} was opened, so it cannot contribute`);
  if (task.contributions.some((c) => c.mspId === contributorMspId)) {
    fail('CONFLICT', 'ALREADY_CONTRIBUTED', `${contributorMspId} already contributed to task ${taskId} round ${round}`, { taskId, round, mspId: contributorMspId });
  }
  if (!verifyContribution(publicKey, signatureHex, beaconMessage(ctx.stub.getChannelID(), taskId, round))) {
    fail('INVALID_ARGUMENT', 'BAD_SIGNATURE', `signatureHex is not ${contributorMspId}'s BLS signature of the beacon message for ${taskId} round ${round}`);
  }
  task.contributions.push({ mspId: contributorMspId, signatureHex, at: now });
  emit(ctx, EVENTS.entropyContributed, { taskId, round, mspId: contributorMspId, contributions: task.contributions.length, quorum: task.beaconQuorum });
  if (task.contributions.length >= task.beaconQuorum) {
    task.seedHex = combineSeed(taskId, round, task.contributions);
    task.status = 'SEEDED';
    await drawInto(ctx, task, now, params);
  }
  await writeTask(ctx, task);
  return task;
}

/**
 * Draws the committee of a seeded task; on too few eligible members, or when the custodian rule
 * cannot be met, the task stays seeded with `drawError` saying why (`retryDraw` then fails with
 * TOO_FEW_ELIGIBLE or CUSTODIAN_CAP). Custodian of a member = the MSP of the utility that enrolled
 * its meter (`Participant.mspId`, read with the eligibility check — no extra key per attempt).
 */
async function drawInto(ctx: GridLedgerContext, task: Task, now: number, params: StoredParameters): Promise<void> {
  const zones = await readZones(ctx);
  const excluded = new Set(task.parties);
  const maxSeats = maxCustodianSeats(task.f);
  const result = await clusteredDraw(
    task.seedHex,
    task.n,
    zones,
    excluded,
    (zone, position) => lookupSlot(ctx, zone, position),
    async (pid) => {
      const p = await readParticipant(ctx, pid);
      // the record first: its pending score credits are only read when its own score misses minQScore
      return p !== undefined && (await holdsWithCredits(ctx, p, params, (q) => isEligibleForCommittee(q, now, params)));
    },
    {
      maxSeats,
      // The state view returns the record the eligibility check just read.
      custodianOf: async (pid) => (await readParticipant(ctx, pid))?.mspId ?? '',
    },
  );
  if (result.members.length < task.n && result.custodianSkips > 0) {
    task.drawError =
      `${CUSTODIAN_CAP}: only ${result.members.length} of ${task.n} members found in ${result.attempts} attempts without giving one utility more than ` +
      `${maxSeats} seats (2f; ${result.custodianSkips} eligible candidates skipped because their utility was full); ` +
      `members of more utilities must be eligible (stake and Q-score) before committees:draw can succeed`;
    return;
  }
  if (result.members.length < task.n) {
    task.drawError = `only ${result.members.length} of ${task.n} eligible members found in ${result.attempts} attempts; retry with committees:draw when more participants are eligible`;
    return;
  }
  task.drawError = '';
  task.committee = result.members;
  task.committeeZones = result.memberZones;
  task.leaderOffset = Number(streamValue(task.seedHex, 'leader', 0) % BigInt(task.n));
  task.status = 'ACTIVE';
  task.drawnAt = now;
  task.deadlineAt = now + task.deadlineSeconds;
  emit(ctx, EVENTS.committeeDrawn, {
    taskId: task.taskId,
    kind: task.kind,
    subjectId: task.subjectId,
    round: task.round,
    committee: task.committee,
    zones: task.committeeZones,
    deadlineAt: task.deadlineAt,
  });
}

/** Retries the draw of a seeded task (e.g. after more participants became eligible). */
export async function retryDraw(ctx: GridLedgerContext, taskId: string, now: number, params: StoredParameters): Promise<Task> {
  const task = await mustReadTask(ctx, taskId);
  if (task.status !== 'SEEDED') fail('CONFLICT', 'NOT_SEEDED', `task ${taskId} is ${task.status}; only a seeded task without committee can be drawn`);
  await drawInto(ctx, task, now, params);
  if ((task.status as string) !== 'ACTIVE') {
    if (task.drawError.startsWith(CUSTODIAN_CAP)) fail('PRECONDITION_FAILED', 'CUSTODIAN_CAP', `task ${taskId}: ${task.drawError}`);
    fail('PRECONDITION_FAILED', 'TOO_FEW_ELIGIBLE', `task ${taskId}: ${task.drawError}`);
  }
  await writeTask(ctx, task);
  return task;
}

/** The committee member leading the slot that contains `time` (Eq. (1) with the task offset). */
export function leaderAt(task: Task, time: number): { leader: string; slot: string } {
  if (task.committee.length === 0) fail('PRECONDITION_FAILED', 'NO_COMMITTEE', `task ${task.taskId} has no committee (status ${task.status})`);
  const idx = leaderIndex(time, task.genesisAt, task.slotSeconds, task.n, task.leaderOffset);
  return { leader: present(task.committee[idx], 'slot leader (leaderIndex is below the committee size)'), slot: slotOf(time, task.genesisAt, task.slotSeconds).toString() };
}

/**
 * The next `count` slots (from the one containing `time`) in which `memberId` leads the task's
 * current round — what a member needs to schedule its leader entry instead of polling leaderOf.
 */
export function nextLeaderSlots(task: Task, memberId: string, time: number, count: number): LedSlot[] {
  if (task.committee.length === 0) fail('PRECONDITION_FAILED', 'NO_COMMITTEE', `task ${task.taskId} has no committee (status ${task.status})`);
  const index = task.committee.indexOf(memberId);
  if (index < 0) fail('NOT_FOUND', 'NOT_A_MEMBER', `${memberId} is not on the committee of task ${task.taskId} round ${task.round}`, { taskId: task.taskId, round: task.round });
  return slotsLedBy(index, time, task.genesisAt, task.slotSeconds, task.n, task.leaderOffset, count);
}

function requireActive(task: Task, now: number): void {
  if (task.status === 'CLOSED') fail('CONFLICT', 'TASK_CLOSED', `task ${task.taskId} is closed (${task.outcome})`);
  if (task.status !== 'ACTIVE') fail('PRECONDITION_FAILED', 'NO_COMMITTEE', `task ${task.taskId} has no committee yet (status ${task.status})`);
  if (now > task.deadlineAt) {
    fail('PRECONDITION_FAILED', 'DEADLINE_PASSED', `task ${task.taskId} round ${task.round} passed its deadline ${isoOf(task.deadlineAt)}; call committees:redraw`);
  }
}

function ballotSpec(task: Task, name: string): BallotSpec {
  const spec = task.ballots.find((b) => b.name === name);
  if (!spec) fail('NOT_FOUND', 'BALLOT_NOT_FOUND', `task ${task.taskId} has no ballot "${name}" (ballots: ${task.ballots.map((b) => b.name).join(', ')})`);
  return spec;
}

/** The ballot as seen in the current round: an undecided ballot of an earlier round counts as absent. */
async function currentBallot(ctx: GridLedgerContext, task: Task, name: string): Promise<Ballot | undefined> {
  const b = await readBallot(ctx, task.taskId, name);
  if (!b) return undefined;
  if (b.status === 'OPEN' && b.round !== task.round) return undefined;
  return b;
}

/** Ballots are decided in order: a later stage opens only after the earlier one was approved. */
async function requirePreviousApproved(ctx: GridLedgerContext, task: Task, name: string): Promise<void> {
  const i = task.ballots.findIndex((b) => b.name === name);
  if (i <= 0) return;
  const prevName = present(task.ballots[i - 1], 'the previous ballot (i > 0)').name;
  const prev = await readBallot(ctx, task.taskId, prevName);
  if (!prev || prev.status !== 'APPROVED') fail('PRECONDITION_FAILED', 'PREVIOUS_BALLOT_OPEN', `ballot "${name}" opens after ballot "${prevName}" is approved`);
}

function checkConditions(spec: BallotSpec, conditions: Record<string, boolean>, approve: boolean): void {
  for (const [k, v] of Object.entries(conditions)) {
    if (!spec.conditions.includes(k)) fail('INVALID_ARGUMENT', 'UNKNOWN_CONDITION', `ballot "${spec.name}" has no condition ${quote(k)} (conditions: ${spec.conditions.join(', ')})`);
    if (typeof v !== 'boolean') fail('INVALID_ARGUMENT', 'BAD_CONDITION', `condition ${k} must be true or false`);
  }
  if (approve && spec.conditions.some((c) => conditions[c] === false)) {
    fail('INVALID_ARGUMENT', 'APPROVAL_WITH_FAILED_CONDITION', 'an approving vote cannot report a failed condition; vote approve=false instead');
  }
}

/** The leader's own verdict on the ballot's conditions, recorded as its vote with the entry. */
export interface LeaderVerdict {
  approve: boolean;
  conditions: Record<string, boolean>;
  reason: string;
}

/** One ballot of a leader's block: what the leader records for it and its own verdict (default: approve). */
export interface EntryItem {
  taskId: string;
  ballot: string;
  payload: unknown;
  verdict?: LeaderVerdict;
}

/** A leader's block as recorded: one transaction, one slot, one or more tasks' ballots. */
export interface LeaderBlock {
  leader: string;
  slot: string;
  at: number;
  txId: string;
  ballots: Ballot[];
}

/**
 * The slot leader's entry — seed 002's block — carrying the open ballot of one or more tasks it leads
 * in this slot (Fig. 4: the leader "adds the request to a block, or creates a new block depending on
 * the block's current size"). For every item: the task is active, the ballot takes an entry and has
 * none in this round, the earlier ballots are approved, and the caller leads the slot of the guarded tx
 * time in THAT task (Condition 1, Eq. (1) with the task's own committee and offset — a leader cannot
 * enter a task it does not lead). Once for the block: the leader made no other block in that slot, for
 * any task (Condition 2, `gl.entry~leader~slot`, which records the block's ballots). Every ballot gets
 * its own entry (payload, hash, the block's list) and the leader's own vote with ITS verdict on that
 * ballot's conditions, so an honest leader is never recorded contrary to a committee that correctly
 * refuses one of its ballots (docs/governance.md §7). All or nothing: one refused item refuses the block.
 *
 * MVCC: the block reads each task, ballot (and previous ballot) and the leader's slot key, and writes each
 * ballot, the leader's vote keys and the slot key once. Members' votes write only their own vote keys and
 * need the entry first, so they never collide with it; a block conflicts only where its single entries
 * would (a write to one of its tasks or subjects meanwhile), and then the submitter retries it whole.
 */
export async function recordLeaderBlock(ctx: GridLedgerContext, callerPid: string, items: EntryItem[], now: number): Promise<LeaderBlock> {
  if (items.length === 0 || items.length > MAX_BLOCK_ENTRIES) {
    fail('INVALID_ARGUMENT', 'BAD_ENTRIES', `a leader's block carries 1 to ${MAX_BLOCK_ENTRIES} ballots, not ${items.length}`);
  }
  const seen = new Set<string>();
  const planned: Array<{ task: Task; spec: BallotSpec; item: EntryItem }> = [];
  let blockSlot: string | undefined;
  for (const item of items) {
    if (seen.has(item.taskId)) fail('INVALID_ARGUMENT', 'BAD_ENTRIES', `task ${item.taskId} is listed twice; a block enters each task's open ballot once`);
    seen.add(item.taskId);
    const task = await mustReadTask(ctx, item.taskId);
    requireActive(task, now);
    const spec = ballotSpec(task, item.ballot);
    if (!spec.requiresEntry) fail('CONFLICT', 'NO_ENTRY_BALLOT', `ballot "${item.ballot}" of task ${task.taskId} takes no leader entry`);
    if (!task.committee.includes(callerPid)) fail('FORBIDDEN', 'NOT_ON_COMMITTEE', `${callerPid} is not on the committee of task ${task.taskId} round ${task.round}`);
    await requirePreviousApproved(ctx, task, item.ballot);
    const { leader, slot } = leaderAt(task, now);
    if (leader !== callerPid) {
      fail('FORBIDDEN', 'NOT_SLOT_LEADER', `Condition 1: slot ${slot} of task ${task.taskId} is led by ${leader}, not ${callerPid}; wait for your slot`, { taskId: task.taskId, slot, leader });
    }
    // Slots count from each task's snapshotted genesis and slot length; a block belongs to one slot.
    if (blockSlot !== undefined && slot !== blockSlot) {
      fail('INVALID_ARGUMENT', 'MIXED_SLOTS', `task ${task.taskId} is in slot ${slot}, the block's first task in slot ${blockSlot} (their slot parameters differ); enter them in separate slots`);
    }
    blockSlot = slot;
    const existing = await currentBallot(ctx, task, item.ballot);
    if (existing?.entry || (existing && existing.status !== 'OPEN')) fail('CONFLICT', 'ENTRY_EXISTS', `ballot "${item.ballot}" of task ${task.taskId} already has a leader entry`);
    planned.push({ task, spec, item });
  }
  const slot = present(blockSlot, 'the block\'s slot (items is not empty)');
  const previous = await readLeaderEntry(ctx, callerPid, slot);
  if (previous) {
    fail('CONFLICT', 'LEADER_SLOT_USED', `Condition 2: leader ${callerPid} already made an entry in slot ${slot} (task ${previous.taskId}, ballot ${previous.ballot}); one block per leader per slot`);
  }
  const txId = ctx.stub.getTxID();
  const block = planned.map(({ task, item }) => ({ taskId: task.taskId, ballot: item.ballot }));
  const ballots: Ballot[] = [];
  for (const { task, spec, item } of planned) {
    const payloadText = canonicalJson(item.payload ?? {});
    const ballot: Ballot = {
      taskId: task.taskId,
      name: item.ballot,
      round: task.round,
      status: 'OPEN',
      entry: { leader: callerPid, slot, at: now, txId, payloadHash: createHash('sha256').update(payloadText).digest('hex'), payload: JSON.parse(payloadText), block },
      approvals: 0,
      refusals: 0,
      honest: [],
      contrary: [],
      decidedAt: 0,
    };
    const conditions: Record<string, boolean> = {};
    for (const c of spec.conditions) conditions[c] = true;
    const own: LeaderVerdict = item.verdict ?? { approve: true, conditions, reason: 'leader entry' };
    checkConditions(spec, own.conditions, own.approve);
    await writeBallot(ctx, ballot);
    await writeVote(ctx, { taskId: task.taskId, round: task.round, ballot: item.ballot, voter: callerPid, approve: own.approve, conditions: own.conditions, reason: own.reason, at: now, txId });
    emit(ctx, EVENTS.leaderEntryRecorded, { taskId: task.taskId, ballot: item.ballot, round: task.round, leader: callerPid, slot, block: block.length });
    ballots.push(ballot);
  }
  const first = present(block[0], 'the block\'s first ballot');
  await writeLeaderEntry(ctx, callerPid, slot, { taskId: first.taskId, ballot: first.ballot, txId, block });
  return { leader: callerPid, slot, at: now, txId, ballots };
}

/** A block of one: the slot leader's entry for one ballot (`recordLeaderBlock`). */
export async function recordLeaderEntry(
  ctx: GridLedgerContext,
  taskId: string,
  ballotName: string,
  callerPid: string,
  payload: unknown,
  now: number,
  verdict?: LeaderVerdict,
): Promise<Ballot> {
  const block = await recordLeaderBlock(ctx, callerPid, [{ taskId, ballot: ballotName, payload, ...(verdict ? { verdict } : {}) }], now);
  return present(block.ballots[0], 'the one ballot of the block');
}

/**
 * What a leader records for a task of one kind: the open ballot, its payload and the leader's verdict,
 * read from the task's subject in the entry's own transaction (admission: the join request as enrolled;
 * trade: the stage's facts). Governance does not know the market, so the kinds are registered by the
 * chaincode's composition root (chaincode/src/index.ts); `committees:recordEntries` looks them up.
 */
export type EntryBuilder = (ctx: GridLedgerContext, task: Task, now: number) => Promise<EntryItem>;

const entryBuilders = new Map<string, EntryBuilder>();

export function registerEntryKind(kind: string, builder: EntryBuilder): void {
  entryBuilders.set(kind, builder);
}

/** The entry a leader makes for `task` now, by its kind's builder. */
export async function entryItemFor(ctx: GridLedgerContext, task: Task, now: number): Promise<EntryItem> {
  const builder = entryBuilders.get(task.kind);
  if (!builder) fail('INVALID_ARGUMENT', 'BAD_TASK_KIND', `task ${task.taskId} is of kind ${quote(task.kind)}, which takes no leader entry (kinds: ${[...entryBuilders.keys()].sort().join(', ')})`);
  return builder(ctx, task, now);
}

/**
 * What a member checks a task's open ballot against, for a task of one kind, as the caller may see it
 * (`committees:getMemberView` with `withSubject`): admission — `{participant}` as `participants:get`
 * shows it to the caller; trade — `{trade, packets}` as `trades:get` and `energy:get` show them. Registered
 * by the composition root (chaincode/src/index.ts) like the entry builders: governance does not know the market.
 */
export type SubjectReader = (ctx: GridLedgerContext, task: Task, caller: Caller) => Promise<Record<string, unknown>>;

const subjectReaders = new Map<string, SubjectReader>();

export function registerSubjectKind(kind: string, reader: SubjectReader): void {
  subjectReaders.set(kind, reader);
}

/** One ballot as `committees:getBallot` answers it, with its name. */
export interface BallotWithVotes {
  name: string;
  ballot: Ballot | null;
  round: number;
  votes: Vote[];
}

export interface MemberView {
  task: Task;
  ballots: BallotWithVotes[];
  subject: Record<string, unknown> | null;
}

/**
 * A committee member's whole view of a task in one read (`committees:getMemberView`): the task; its
 * ballots in order, each with the current round's votes, up to the first one not approved in this round
 * (ballots open in order, so later ones have nothing yet); and, when asked, the subject by its kind's
 * reader. Exactly what `getTask`, `getBallot` per ballot and the subject's own reads return.
 */
export async function memberViewOf(ctx: GridLedgerContext, task: Task, caller: Caller, withSubject: boolean): Promise<MemberView> {
  const ballots: BallotWithVotes[] = [];
  for (const spec of task.ballots) {
    const ballot = (await readBallot(ctx, task.taskId, spec.name)) ?? null;
    ballots.push({ name: spec.name, ballot, round: task.round, votes: await readVotes(ctx, task.taskId, task.round, spec.name) });
    if (ballot?.status !== 'APPROVED' || ballot.round !== task.round) break;
  }
  let subject: Record<string, unknown> | null = null;
  if (withSubject) {
    const reader = subjectReaders.get(task.kind);
    if (!reader) fail('INVALID_ARGUMENT', 'BAD_TASK_KIND', `task ${task.taskId} is of kind ${quote(task.kind)}, whose subject has no member view (kinds: ${[...subjectReaders.keys()].sort().join(', ')}); ask without withSubject`);
    subject = await reader(ctx, task, caller);
  }
  return { task, ballots, subject };
}

export interface VoteInput {
  approve: boolean;
  conditions?: Record<string, boolean>;
  reason?: string;
}

/**
 * One committee member's vote, signed by its own identity (the caller). Writes only the vote's own
 * key, so concurrent votes never collide; the tally happens in `decideBallot`.
 */
export async function castVote(
  ctx: GridLedgerContext,
  taskId: string,
  ballotName: string,
  voterPid: string,
  input: VoteInput,
  now: number,
): Promise<Vote> {
  if (typeof input.approve !== 'boolean') fail('INVALID_ARGUMENT', 'BAD_VOTE', 'vote.approve must be true or false');
  const reason = input.reason ?? '';
  if (typeof reason !== 'string' || reason.length > 280) fail('INVALID_ARGUMENT', 'BAD_VOTE_REASON', 'vote.reason must be a string of at most 280 characters');
  const task = await mustReadTask(ctx, taskId);
  if (!task.committee.includes(voterPid)) fail('FORBIDDEN', 'NOT_ON_COMMITTEE', `${voterPid} is not on the committee of task ${taskId} round ${task.round}; only its members vote`);
  requireActive(task, now);
  const spec = ballotSpec(task, ballotName);
  const conditions = input.conditions ?? {};
  checkConditions(spec, conditions, input.approve);
  await requirePreviousApproved(ctx, task, ballotName);
  const ballot = await currentBallot(ctx, task, ballotName);
  if (ballot && ballot.status !== 'OPEN') fail('CONFLICT', 'BALLOT_DECIDED', `ballot "${ballotName}" of task ${taskId} is already ${ballot.status}`);
  if (spec.requiresEntry && !ballot?.entry) fail('PRECONDITION_FAILED', 'NO_ENTRY_YET', `ballot "${ballotName}" of task ${taskId} has no leader entry yet; nothing to vote on`);
  if (await readVote(ctx, taskId, task.round, ballotName, voterPid)) {
    fail('CONFLICT', 'ALREADY_VOTED', `${voterPid} already voted on ballot "${ballotName}" of task ${taskId} round ${task.round}; one vote per member`);
  }
  const vote: Vote = { taskId, round: task.round, ballot: ballotName, voter: voterPid, approve: input.approve, conditions, reason, at: now, txId: ctx.stub.getTxID() };
  await writeVote(ctx, vote);
  emit(ctx, EVENTS.voteRecorded, { taskId, ballot: ballotName, round: task.round, voter: voterPid, approve: input.approve });
  return vote;
}

export interface Decision {
  taskId: string;
  kind: string;
  subjectId: string;
  parties: string[];
  ballot: string;
  round: number;
  outcome: BallotOutcome;
  /** Leader who made the entry (undefined for ballots without entry). */
  leader?: string;
  approvals: number;
  refusals: number;
  /** Voters whose vote matches the outcome (incl. the leader if it does). */
  honest: string[];
  /** Voters whose vote contradicts the outcome (to be penalised). */
  contrary: string[];
  /** True when this decision closed the task (rejected, or the last ballot approved). */
  taskClosed: boolean;
}

/**
 * Tallies a ballot: 2f+1 approvals ⇒ approved, f+1 refusals ⇒ rejected, else PRECONDITION_FAILED
 * saying what is missing. Votes cast before the deadline count even if the tally comes later.
 */
export async function decideBallot(ctx: GridLedgerContext, taskId: string, ballotName: string, now: number): Promise<Decision> {
  const task = await mustReadTask(ctx, taskId);
  if (task.status === 'CLOSED') fail('CONFLICT', 'TASK_CLOSED', `task ${taskId} is closed (${task.outcome})`);
  if (task.status !== 'ACTIVE') fail('PRECONDITION_FAILED', 'NO_COMMITTEE', `task ${taskId} has no committee yet (status ${task.status})`);
  const spec = ballotSpec(task, ballotName);
  const existing = await currentBallot(ctx, task, ballotName);
  if (existing && existing.status !== 'OPEN') fail('CONFLICT', 'BALLOT_DECIDED', `ballot "${ballotName}" of task ${taskId} is already ${existing.status}`);
  if (spec.requiresEntry && !existing?.entry) fail('PRECONDITION_FAILED', 'NO_ENTRY_YET', `ballot "${ballotName}" of task ${taskId} has no leader entry yet`);
  const members = new Set(task.committee);
  const votes = (await readVotes(ctx, taskId, task.round, ballotName)).filter((v) => members.has(v.voter));
  const approvals = votes.filter((v) => v.approve).length;
  const refusals = votes.length - approvals;
  const outcome = decide({ approvals, refusals }, task.f);
  if (!outcome) {
    const late = now > task.deadlineAt ? '; the deadline has passed — call committees:redraw for a new committee' : '';
    fail('PRECONDITION_FAILED', 'UNDECIDED', 
      `ballot "${ballotName}" of task ${taskId} is undecided: ${approvals} approvals, ${refusals} refusals of ${task.n}; ` +
        `needs ${approvalQuorum(task.f)} approvals or ${blockingQuorum(task.f)} refusals${late}`,
    );
  }
  const honest = votes.filter((v) => v.approve === (outcome === 'APPROVED')).map((v) => v.voter).sort();
  const contrary = votes.filter((v) => v.approve !== (outcome === 'APPROVED')).map((v) => v.voter).sort();
  const ballot: Ballot = {
    taskId,
    name: ballotName,
    round: task.round,
    status: outcome,
    entry: existing?.entry,
    approvals,
    refusals,
    honest,
    contrary,
    decidedAt: now,
  };
  await writeBallot(ctx, ballot);
  const isLast = task.ballots.at(-1)?.name === ballotName;
  const taskClosed = outcome === 'REJECTED' || isLast;
  if (taskClosed) {
    task.status = 'CLOSED';
    task.outcome = outcome;
    task.closedAt = now;
    await writeTask(ctx, task);
  }
  emit(ctx, EVENTS.ballotDecided, { taskId, kind: task.kind, subjectId: task.subjectId, ballot: ballotName, round: task.round, outcome, approvals, refusals });
  return {
    taskId,
    kind: task.kind,
    subjectId: task.subjectId,
    parties: task.parties,
    ballot: ballotName,
    round: task.round,
    outcome,
    leader: existing?.entry?.leader,
    approvals,
    refusals,
    honest,
    contrary,
    taskClosed,
  };
}

/**
 * View change: after the deadline of a round without a decision on every ballot, start a new
 * round — fresh beacon contributions, hence a fresh committee and leader offset. Decided ballots
 * stay decided. Anyone may call it; it only works once the deadline has passed.
 */
export async function redrawTask(ctx: GridLedgerContext, taskId: string, now: number): Promise<Task> {
  const task = await mustReadTask(ctx, taskId);
  if (task.status === 'CLOSED') fail('CONFLICT', 'TASK_CLOSED', `task ${taskId} is closed (${task.outcome})`);
  if (task.status !== 'ACTIVE') fail('PRECONDITION_FAILED', 'NO_COMMITTEE', `task ${taskId} has no committee to replace (status ${task.status})`);
  if (now <= task.deadlineAt) {
    fail('PRECONDITION_FAILED', 'DEADLINE_NOT_PASSED', `task ${taskId} round ${task.round} runs until ${isoOf(task.deadlineAt)}; it can be re-drawn only after that`);
  }
  task.round += 1;
  task.status = 'AWAITING_ENTROPY';
  task.contributions = [];
  task.seedHex = '';
  task.committee = [];
  task.committeeZones = [];
  task.leaderOffset = 0;
  task.roundOpenedAt = now;
  task.drawnAt = 0;
  task.deadlineAt = 0;
  await writeTask(ctx, task);
  emitTaskOpened(ctx, task);
  return task;
}

/** Ends a task without a committee decision (e.g. the trade was cancelled before validation). */
export async function cancelTask(ctx: GridLedgerContext, taskId: string, now: number, reason: string): Promise<Task> {
  const task = await mustReadTask(ctx, taskId);
  if (task.status === 'CLOSED') fail('CONFLICT', 'TASK_CLOSED', `task ${taskId} is closed (${task.outcome})`);
  task.status = 'CLOSED';
  task.outcome = 'CANCELLED';
  task.closedAt = now;
  await writeTask(ctx, task);
  emit(ctx, EVENTS.taskCancelled, { taskId, kind: task.kind, subjectId: task.subjectId, round: task.round, reason });
  return task;
}
