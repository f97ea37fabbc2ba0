/**
 * Participant documents and their indexes:
 * - `gl.participant~<pid>`: the record (one key per participant: no shared hot key on updates);
 * - `gl.enrolment~<mspId>~<meterId>`: the utility's registration of a meter (identity check of the
 *   join request), later pointing at the participant;
 * - `gl.qrank~<inverted score>~<pid>`: leaderboard order (highest first) without a scan-and-sort;
 * - `gl.qhist~<pid>~<seq>`: per-participant Q-score history;
 * - `gl.qcredit~<pid>~<localId>`: a raise of the score not yet folded into the record.
 *
 * Why credits (docs/governance.md §8 "Score credits"): a settled trade raises the scores of its
 * seller, buyer, leader and honest members. Written into the records, those raises made every
 * settlement, committee draw and offer that read one of those records fail MVCC validation (code 11)
 * against each other (docs/benchmarks.md "Hot records"). A raise is therefore a new key of its own,
 * written without reading anything (like wallet credits, market/ledger/wallets.ts); the record keeps
 * the score of record and changes only when something else changes it (status, stake, a penalty or
 * other lowering, which fold the credits first). Raises commute with the upper bound
 * (min(q + a + b, max) whatever the order), so the score = min(record + Σ credits, qScoreMax)
 * exactly, and the record's score is never above it: a threshold the record meets is met.
 */
import type { Participant } from '../domain/participant';
import { KEY } from './keys';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';
import type { Entry } from '../../kernel/state';

export interface Enrolment {
  mspId: string;
  meterId: string;
  zone: string;
  enrolledAt: number;
  /** Pseudonym of the operator who enrolled it. */
  enrolledBy: string;
  /** Set when the meter asks to join. */
  participantId?: string;
}

export interface QScoreHistoryEntry {
  seq: number;
  at: number;
  txId: string;
  delta: number;
  qScore: number;
  reason: string;
  /** Task or trade id the change came from. */
  ref: string;
}

/** Scores are bounded far below this (parameter ranges), so RANK_OFFSET − score is positive. */
const RANK_OFFSET = 1_000_000_000_000_000n;

export const participantKey = (ctx: GridLedgerContext, pid: string) => ctx.state.key(KEY.participant, [pid]);
export const enrolmentKey = (ctx: GridLedgerContext, mspId: string, meterId: string) => ctx.state.key(KEY.enrolment, [mspId, meterId]);

export function readParticipant(ctx: GridLedgerContext, pid: string): Promise<Participant | undefined> {
  return ctx.state.get<Participant>(participantKey(ctx, pid));
}

export function mustReadParticipant(ctx: GridLedgerContext, pid: string): Promise<Participant> {
  return ctx.state.mustGet<Participant>(participantKey(ctx, pid), `participant ${pid}`, 'PARTICIPANT_NOT_FOUND');
}

function rankKey(ctx: GridLedgerContext, qScore: number, pid: string): string {
  return ctx.state.key(KEY.qscoreRank, [padUint(RANK_OFFSET - BigInt(qScore), 20), pid]);
}

/**
 * Writes the record. `previousScore` is the score the leaderboard currently lists it under
 * (undefined for a participant not yet on the leaderboard); the rank key moves if it changed.
 * Only active-or-later participants are ranked (pending ones have no score yet).
 */
export async function writeParticipant(ctx: GridLedgerContext, p: Participant, previousScore?: number): Promise<void> {
  await ctx.state.put(participantKey(ctx, p.participantId), p);
  if (p.status === 'PENDING' || p.status === 'REJECTED') return;
  if (previousScore === p.qScore) return;
  if (previousScore !== undefined) await ctx.state.del(rankKey(ctx, previousScore, p.participantId));
  await ctx.state.put(rankKey(ctx, p.qScore, p.participantId), { participantId: p.participantId, qScore: p.qScore });
}

/** `txId`: the transaction the change came from (a folded credit's own transaction; default this one). */
export async function appendQScoreHistory(ctx: GridLedgerContext, p: Participant, e: Omit<QScoreHistoryEntry, 'seq' | 'txId'>, txId = ctx.stub.getTxID()): Promise<void> {
  const seq = p.qHistoryCount;
  p.qHistoryCount = seq + 1;
  const entry: QScoreHistoryEntry = { ...e, seq, txId };
  await ctx.state.put(ctx.state.key(KEY.qscoreHistory, [p.participantId, padUint(seq, 10)]), entry);
}

export async function readEnrolment(ctx: GridLedgerContext, mspId: string, meterId: string): Promise<Enrolment | undefined> {
  return ctx.state.get<Enrolment>(enrolmentKey(ctx, mspId, meterId));
}

export async function writeEnrolment(ctx: GridLedgerContext, e: Enrolment): Promise<void> {
  await ctx.state.put(enrolmentKey(ctx, e.mspId, e.meterId), e);
}

/** A raise of a participant's score that its record does not hold yet (`gl.qcredit`). */
export interface ScoreCredit {
  /** > 0, fixed point; unbounded here: the upper bound applies to the sum */
  delta: number;
  at: number;
  txId: string;
  reason: string;
  ref: string;
}

/** Records a raise without reading anything: one new key per raise, never shared with another transaction. */
export async function addScoreCredit(ctx: GridLedgerContext, pid: string, c: Omit<ScoreCredit, 'txId'>): Promise<void> {
  if (!Number.isSafeInteger(c.delta) || c.delta <= 0) throw new Error(`score credit of ${c.delta} is not a positive integer`);
  await ctx.state.put(ctx.state.key(KEY.qscoreCredit, [pid, ctx.nextLocalId()]), { ...c, txId: ctx.txId });
}

/**
 * The participant's credits not yet folded, in key order (a range bounded by its own raises since its
 * last fold); with `limit`, only the first `limit` of them (kernel/state.ts `list`).
 */
export function pendingScoreCredits(ctx: GridLedgerContext, pid: string, limit?: number): Promise<Array<Entry<ScoreCredit>>> {
  return ctx.state.list<ScoreCredit>(KEY.qscoreCredit, [pid], limit);
}

/** How many raises are pending and when the oldest and newest were earned (Unix seconds; 0 when none). Pure. */
export function creditSummary(credits: ReadonlyArray<Entry<ScoreCredit>>): { pendingCredits: number; oldestCreditAt: number; newestCreditAt: number } {
  // key order is not time order (a credit's key carries its transaction id): take the extremes
  let oldest = 0;
  let newest = 0;
  for (const { value: c } of credits) {
    if (oldest === 0 || c.at < oldest) oldest = c.at;
    if (c.at > newest) newest = c.at;
  }
  return { pendingCredits: credits.length, oldestCreditAt: oldest, newestCreditAt: newest };
}

/** The score a record and its pending credits add up to: raises commute with the upper bound. */
export function creditedScore(recordScore: number, credits: ReadonlyArray<Entry<ScoreCredit>>, qScoreMax: number): number {
  return Math.min(qScoreMax, credits.reduce((s, c) => s + c.value.delta, recordScore));
}
