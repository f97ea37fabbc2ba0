/**
 * The participant registry (issue 8 items 1–2): enrolment of meters by their utility, join
 * requests, admission, suspension, bans, stake. Callers pass the already-checked caller and the
 * guarded time; every function validates its own preconditions and throws typed errors.
 *
 * Committee index maintenance (`ledger/eligibilityIndex.ts`, docs/governance.md §6): a
 * participant is in its zone's index exactly while its status is active (`belongsInCommitteeIndex`).
 * The governance transactions that change a status keep it so: admission adds; `suspend` and
 * `ban` remove (swap-with-last); `reinstate` re-adds. A ban EXPIRES lazily (`effectiveStatus`
 * compares `bannedUntil` with the guarded time; no transaction runs at expiry), so the
 * participant re-enters the index with the next transaction that syncs it:
 * `participants:syncCommitteeIndex` (any caller — it only makes the index agree with the record,
 * and writes nothing when they already agree) or its own `participants:setStake`. Until then it is
 * simply not drawn, which is safe (a draw can only miss it, never pick an ineligible member).
 * Bans imposed by a penalty inside a trade settlement or committee decision (`reputation.ts`) do
 * not touch the index on the hot path; such entries are skipped lazily at draw time until synced
 * (`admissions:decide`, itself a governance transaction, syncs the voters it banned).
 */
import { belongsInCommitteeIndex, effectiveStatus, isEligibleForCommittee, Participant, ParticipantStatus } from '../domain/participant';
import { committeeSize, StoredParameters } from '../domain/parameters';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { Caller, MeterCaller, NAME_PATTERN, privateCollectionOf } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { addToIndex, backfillPositions, lookupSlot, readIndexEntry, readZones, removeFromIndex, requireMaintainedZone, zoneIsMaintained } from '../ledger/eligibilityIndex';
import { enrolmentKey, mustReadParticipant, readEnrolment, readParticipant, writeEnrolment, writeParticipant } from '../ledger/participants';
import { cancelTask, openTask } from './tasks';
import { foldScoreCredits, holdsWithCredits } from './reputation';
import { fail } from '../../kernel/errors';
import { jsonArg } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';

export const ADMISSION_KIND = 'admission';
export const ADMISSION_BALLOT = 'admission';
/** Fig. 4: replicas check Condition 1 (entry by the slot's leader) and Condition 2 (no other entry by it in the slot). */
export const ADMISSION_CONDITIONS = ['condition1', 'condition2'];

export async function enrolMeter(ctx: GridLedgerContext, operator: Caller, meterId: string, zone: string, now: number) {
  if (!NAME_PATTERN.test(meterId)) fail('INVALID_ARGUMENT', 'BAD_METER_ID', `meterId must match ${NAME_PATTERN.source}`);
  if (!NAME_PATTERN.test(zone)) fail('INVALID_ARGUMENT', 'BAD_ZONE', `zone must match ${NAME_PATTERN.source}`);
  const existing = await readEnrolment(ctx, operator.mspId, meterId);
  if (existing) {
    if (existing.zone === zone) return existing; // idempotent re-post
    fail('CONFLICT', 'METER_ENROLLED_ELSEWHERE', `meter ${meterId} of ${operator.mspId} is already enrolled in zone ${existing.zone}`);
  }
  const e = { mspId: operator.mspId, meterId, zone, enrolledAt: now, enrolledBy: operator.participantId };
  await writeEnrolment(ctx, e);
  emit(ctx, EVENTS.meterEnrolled, { mspId: operator.mspId, meterId, zone });
  return e;
}

/**
 * A meter asks to join (Fig. 4 "join request"). Its certificate's meterId and zone must match
 * what its utility enrolled (the "identity provided by the certified authority" check). Opens the
 * admission task; contact data, if given in the transient map under `contact`, goes only to the
 * utility's private collection.
 */
export async function requestJoin(
  ctx: GridLedgerContext,
  meter: MeterCaller,
  request: { stake?: unknown },
  now: number,
  params: StoredParameters,
): Promise<Participant> {
  const stake = request.stake ?? 0;
  if (typeof stake !== 'number' || !Number.isSafeInteger(stake) || stake < 0 || stake > params.qScoreInitial) {
    fail('INVALID_ARGUMENT', 'BAD_STAKE', `stake must be an integer in [0, qScoreInitial = ${params.qScoreInitial}] (fixed point, 10^6 = 1 point)`);
  }
  const enrolment = await readEnrolment(ctx, meter.mspId, meter.meterId);
  if (!enrolment) {
    fail('PRECONDITION_FAILED', 'METER_NOT_ENROLLED', `meter ${meter.meterId} is not enrolled by ${meter.mspId}; an operator of ${meter.mspId} must call participants:enrolMeter first`);
  }
  if (enrolment.zone !== meter.zone) {
    fail('FORBIDDEN', 'ZONE_MISMATCH', `certificate zone ${meter.zone} does not match the zone ${enrolment.zone} that ${meter.mspId} enrolled for meter ${meter.meterId}`);
  }
  if (enrolment.participantId && enrolment.participantId !== meter.participantId) {
    fail('CONFLICT', 'METER_ALREADY_JOINED', `meter ${meter.meterId} already joined under another certificate subject`);
  }
  const existing = await readParticipant(ctx, meter.participantId);
  if (existing && existing.status !== 'REJECTED') {
    fail('CONFLICT', 'PARTICIPANT_EXISTS', `participant ${meter.participantId} already exists with status ${effectiveStatus(existing, now)}`);
  }
  const attempts = (existing?.attempts ?? 0) + 1;
  const task = await openTask(
    ctx,
    {
      kind: ADMISSION_KIND,
      subjectId: `${meter.participantId}#${attempts}`,
      parties: [meter.participantId],
      ballots: [{ name: ADMISSION_BALLOT, conditions: ADMISSION_CONDITIONS, requiresEntry: true }],
    },
    now,
    params,
  );
  const p: Participant = {
    participantId: meter.participantId,
    mspId: meter.mspId,
    meterId: meter.meterId,
    zone: meter.zone,
    status: 'PENDING',
    bannedUntil: 0,
    qScore: 0,
    stake,
    penaltyCount: existing?.penaltyCount ?? 0,
    attempts,
    admissionTaskId: task.taskId,
    joinedAt: now,
    admittedAt: 0,
    qHistoryCount: existing?.qHistoryCount ?? 0,
  };
  await writeParticipant(ctx, p);
  await writeEnrolment(ctx, { ...enrolment, participantId: meter.participantId });
  const contact = ctx.stub.getTransient().get('contact');
  if (contact && contact.length > 0) {
    const parsed = jsonArg(Buffer.from(contact).toString('utf8'), 'transient "contact"', 'JSON');
    await ctx.stub.putPrivateData(privateCollectionOf(meter.mspId), enrolmentKey(ctx, meter.mspId, meter.meterId), Buffer.from(canonicalJson(parsed)));
  }
  emit(ctx, EVENTS.participantJoined, { participantId: p.participantId, mspId: p.mspId, zone: p.zone, taskId: task.taskId });
  return p;
}

/** Admission (by committee decision or founding): active, initial Q-score, into the committee index. */
export async function admit(ctx: GridLedgerContext, p: Participant, now: number, params: StoredParameters, how: string): Promise<Participant> {
  if (p.status !== 'PENDING') fail('CONFLICT', 'NOT_PENDING', `participant ${p.participantId} is ${p.status}, not pending`);
  p.status = 'ACTIVE';
  p.admittedAt = now;
  p.qScore = params.qScoreInitial;
  p.stake = Math.min(p.stake, p.qScore);
  await writeParticipant(ctx, p, undefined);
  await addToIndex(ctx, p.participantId, p.zone);
  emit(ctx, EVENTS.participantAdmitted, { participantId: p.participantId, zone: p.zone, qScore: p.qScore, how });
  return p;
}

export async function reject(ctx: GridLedgerContext, p: Participant, reason: string): Promise<Participant> {
  p.status = 'REJECTED';
  await writeParticipant(ctx, p);
  emit(ctx, EVENTS.participantRejected, { participantId: p.participantId, reason });
  return p;
}

/**
 * Bootstrap (deviation from seed 002, which does not say where the first verifiers come from):
 * while fewer than n = 3f+1 members could sit on a committee (`isEligibleForCommittee`: active,
 * Q ≥ minQScore, stake ≥ minStake and > 0), the regulator admits founding members directly.
 * Stake-0 traders are in the index but cannot verify anyone, so they do not count (issue 16).
 */
export async function admitFounding(ctx: GridLedgerContext, pid: string, now: number, params: StoredParameters): Promise<Participant> {
  const n = committeeSize(params.f);
  const eligible = await countCommitteeEligible(ctx, now, params, n);
  if (eligible >= n) {
    fail('PRECONDITION_FAILED', 'COMMUNITY_FOUNDED', `the community already has ${eligible} committee-eligible members ≥ 3f+1 = ${n}; new members are admitted by committee`);
  }
  const p = await mustReadParticipant(ctx, pid);
  const admitted = await admit(ctx, p, now, params, 'founding');
  // The founding admission closes the pending admission task without a committee.
  await cancelTask(ctx, p.admissionTaskId, now, 'founding member admitted by the regulator');
  return admitted;
}

/**
 * Committee-eligible members in the index, counted until `atLeast` is reached: a regulator-only
 * bootstrap check, so it may read up to the whole (founding-size) index, but stops as soon as the
 * answer is known — never on a hot path.
 */
async function countCommitteeEligible(ctx: GridLedgerContext, now: number, params: StoredParameters, atLeast: number): Promise<number> {
  let count = 0;
  for (const z of await readZones(ctx)) {
    for (let position = 0; position < z.count && count < atLeast; position++) {
      const pid = await lookupSlot(ctx, z.zone, position);
      const p = pid === undefined ? undefined : await readParticipant(ctx, pid);
      if (p && (await holdsWithCredits(ctx, p, params, (q) => isEligibleForCommittee(q, now, params)))) count += 1;
    }
    if (count >= atLeast) break;
  }
  return count;
}

export function canManage(caller: Caller, p: Participant): boolean {
  return caller.role === 'regulator' || (caller.role === 'operator' && caller.mspId === p.mspId);
}

export interface CommitteeIndexSync {
  participantId: string;
  zone: string;
  /** Effective status (a ban that has run out reads as active). */
  status: ParticipantStatus;
  /** In the committee index after this call. */
  indexed: boolean;
  /** Position in the zone's dense index, when indexed. */
  position?: number;
  change: 'added' | 'removed' | 'none';
}

/**
 * Makes the committee index agree with `p`'s status at `now`: adds an active participant that is
 * missing (e.g. after its ban ran out), removes a suspended or banned one that is still there
 * (e.g. banned automatically by a penalty). Writes nothing when they already agree.
 *
 * In a zone indexed before position keys existed (not yet backfilled, see
 * `backfillCommitteeIndex`) nothing is moved — entries there were never removed, so re-adding
 * could duplicate one — and the status is only checked lazily, as before; `strict` (the explicit
 * `participants:syncCommitteeIndex`) then throws PRECONDITION_FAILED naming the backfill.
 */
export async function syncCommitteeIndex(ctx: GridLedgerContext, p: Participant, now: number, strict = false): Promise<CommitteeIndexSync> {
  const entry = await readIndexEntry(ctx, p.participantId);
  const base = { participantId: p.participantId, zone: p.zone, status: effectiveStatus(p, now) };
  if (!(await zoneIsMaintained(ctx, p.zone))) {
    if (strict) await requireMaintainedZone(ctx, p.zone);
    return { ...base, indexed: entry !== undefined, position: entry?.position, change: 'none' };
  }
  const belongs = belongsInCommitteeIndex(p, now);
  if (belongs && !entry) return { ...base, indexed: true, position: await addToIndex(ctx, p.participantId, p.zone), change: 'added' };
  if (!belongs && entry) {
    await removeFromIndex(ctx, p.participantId);
    return { ...base, indexed: false, change: 'removed' };
  }
  return entry ? { ...base, indexed: true, position: entry.position, change: 'none' } : { ...base, indexed: false, change: 'none' };
}

/** Any caller: re-syncs one participant's committee index entry with its record (see the module comment). */
export async function syncParticipantIndex(ctx: GridLedgerContext, pid: string, now: number): Promise<CommitteeIndexSync> {
  return syncCommitteeIndex(ctx, await mustReadParticipant(ctx, pid), now, true);
}

/** Credits one `participants:foldScore` folds at most: 100 history entries and 100 deletions, one small transaction. */
export const FOLD_PAGE = 100;

export interface ScoreFold {
  participantId: string;
  /** credits folded into the record (and deleted) by this call */
  folded: number;
  /** credits still pending after it (more than a page were pending): call again */
  more: boolean;
  /** the record's score after the call: the participant's score when `more` is false */
  qScore: number;
  change: 'folded' | 'none';
}

/**
 * Folds up to FOLD_PAGE of `pid`'s pending score credits into its record (docs/governance.md §8 "Score
 * credits"; the keeper duty `score-fold`, docs/agents.md §3). The score does not change, only where it
 * is stored: the record, its leaderboard rank key and its history catch up with the credits, which
 * are deleted. No credits: nothing is written (`change: 'none'`).
 *
 * Who: the participant itself, an operator of its utility or the regulator (`canManage`). Harmless as
 * that is, a fold writes the record, which every settlement, draw and offer touching the participant
 * reads: an outsider folding each new credit would invalidate them (MVCC code 11) at will. Its
 * custodian — the utility whose keeper folds — knows when the participant is quiet.
 *
 * Emits nothing, like every fold: each credit was announced by its own `QScoreChanged {credited: true}`
 * (analytics stores already added it), and the score is unchanged.
 */
export async function foldScore(ctx: GridLedgerContext, caller: Caller, pid: string, params: StoredParameters): Promise<ScoreFold> {
  const p = await mustReadParticipant(ctx, pid);
  if (caller.participantId !== pid && !canManage(caller, p)) {
    fail('FORBIDDEN', 'NOT_MANAGER', `only ${pid} itself, an operator of ${p.mspId} or the regulator may fold its score credits`);
  }
  const ranked = p.qScore;
  const entries = p.qHistoryCount;
  const { folded, more } = await foldScoreCredits(ctx, p, params, FOLD_PAGE);
  // credits that changed nothing (the score was at qScoreMax) are only deleted: the record is not rewritten
  if (p.qHistoryCount !== entries) await writeParticipant(ctx, p, ranked);
  return { participantId: pid, folded, more, qScore: p.qScore, change: folded > 0 ? 'folded' : 'none' };
}

/**
 * Upgrade step (regulator) for a zone indexed by a chaincode version without position keys:
 * writes the position keys of the next `pageSize` entries; call again until `complete`. Returns the
 * visited participants that should no longer be indexed (suspended, banned) in `outOfStep`: once
 * the zone is complete, `participants:syncCommitteeIndex` removes each of them.
 */
export async function backfillCommitteeIndex(ctx: GridLedgerContext, zone: string, pageSize: number, now: number) {
  if (!NAME_PATTERN.test(zone)) fail('INVALID_ARGUMENT', 'BAD_ZONE', `zone must match ${NAME_PATTERN.source}`);
  const page = await backfillPositions(ctx, zone, pageSize);
  const outOfStep: string[] = [];
  for (const pid of page.visited) {
    const p = await readParticipant(ctx, pid);
    if (!p || !belongsInCommitteeIndex(p, now)) outOfStep.push(pid);
  }
  return { zone, count: page.count, written: page.written, backfilledTo: page.backfilledTo, complete: page.complete, outOfStep };
}

export async function suspend(ctx: GridLedgerContext, caller: Caller, pid: string, reason: string, now: number): Promise<Participant> {
  const p = await mustReadParticipant(ctx, pid);
  if (!canManage(caller, p)) fail('FORBIDDEN', 'NOT_MANAGER', `only the regulator or operators of ${p.mspId} may suspend ${pid}`);
  const status = effectiveStatus(p, now);
  if (status !== 'ACTIVE') fail('CONFLICT', 'NOT_ACTIVE', `participant ${pid} is ${status}; only active participants can be suspended`);
  p.status = 'SUSPENDED';
  p.bannedUntil = 0; // a ban that had run out is over
  await writeParticipant(ctx, p, p.qScore);
  await syncCommitteeIndex(ctx, p, now); // removes it from its zone's committee index
  emit(ctx, EVENTS.participantSuspended, { participantId: pid, reason });
  return p;
}

export async function reinstate(ctx: GridLedgerContext, caller: Caller, pid: string, now: number): Promise<Participant> {
  const p = await mustReadParticipant(ctx, pid);
  if (!canManage(caller, p)) fail('FORBIDDEN', 'NOT_MANAGER', `only the regulator or operators of ${p.mspId} may reinstate ${pid}`);
  const status = effectiveStatus(p, now);
  if (status === 'ACTIVE' && p.status === 'BANNED') {
    fail('CONFLICT', 'BAN_EXPIRED', `participant ${pid}'s ban ran out at ${p.bannedUntil}; it needs no reinstatement — call participants:syncCommitteeIndex to put it back into the committee index`);
  }
  if (status !== 'SUSPENDED' && !(status === 'BANNED' && caller.role === 'regulator')) {
    fail('CONFLICT', 'NOT_SUSPENDED', `participant ${pid} is ${status}; only suspended participants (or banned ones, by the regulator) can be reinstated`);
  }
  p.status = 'ACTIVE';
  p.bannedUntil = 0;
  await writeParticipant(ctx, p, p.qScore);
  await syncCommitteeIndex(ctx, p, now); // back into its zone's committee index
  emit(ctx, EVENTS.participantReinstated, { participantId: pid });
  return p;
}

export async function ban(ctx: GridLedgerContext, pid: string, seconds: number, reason: string, now: number): Promise<Participant> {
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 10 * 365 * 86_400) fail('INVALID_ARGUMENT', 'BAD_BAN_SECONDS', 'ban seconds must be an integer in [1, 315360000]');
  const p = await mustReadParticipant(ctx, pid);
  if (p.status === 'PENDING' || p.status === 'REJECTED') fail('CONFLICT', 'NOT_ADMITTED', `participant ${pid} is ${p.status}; only admitted participants can be banned`);
  p.status = 'BANNED';
  p.bannedUntil = now + seconds;
  await writeParticipant(ctx, p, p.qScore);
  await syncCommitteeIndex(ctx, p, now); // out of its zone's committee index for the ban
  emit(ctx, EVENTS.participantBanned, { participantId: pid, bannedUntil: p.bannedUntil, reason });
  return p;
}

/**
 * The participant's own pledge. Stake thresholds are checked lazily at draw time (a stake of 0
 * leaves the entry in the index, skipped when drawn): stake moves with the score after trades, and
 * a participant toggling its stake must not be able to rewrite its zone's counter at will. The
 * call also syncs the participant's index entry, so a participant whose ban ran out re-enters the
 * committee index by re-pledging.
 */
export async function setStake(ctx: GridLedgerContext, meter: MeterCaller, amount: number, now: number): Promise<Participant> {
  const p = await readParticipant(ctx, meter.participantId);
  if (!p) fail('NOT_FOUND', 'PARTICIPANT_NOT_FOUND', `participant ${meter.participantId} does not exist; call participants:requestJoin first`);
  // The stake is bounded by the whole score: fold the pending credits into the record first.
  const ranked = p.qScore;
  await foldScoreCredits(ctx, p, await ctx.parameters());
  if (!Number.isSafeInteger(amount) || amount < 0 || amount > p.qScore) {
    fail('INVALID_ARGUMENT', 'BAD_STAKE', `stake must be an integer in [0, your Q-score ${p.qScore}] (fixed point)`);
  }
  p.stake = amount;
  await writeParticipant(ctx, p, ranked);
  await syncCommitteeIndex(ctx, p, now);
  return p;
}

