/**
 * Participant documents and their indexes:
 * - `gl.participant~<pid>`: the record (one key per participant: no shared hot key on updates);
 * - `gl.enrolment~<mspId>~<meterId>`: the utility's registration of a meter (identity check of the
 *   join request), later pointing at the participant;
 * - `gl.qrank~<inverted score>~<pid>`: leaderboard order (highest first) without a scan-and-sort;
 * - `gl.qhist~<pid>~<seq>`: per-participant Q-score history.
 */
import type { Participant } from '../domain/participant';
import { KEY } from './keys';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';

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

export async function appendQScoreHistory(ctx: GridLedgerContext, p: Participant, e: Omit<QScoreHistoryEntry, 'seq' | 'txId'>): Promise<void> {
  const seq = p.qHistoryCount;
  p.qHistoryCount = seq + 1;
  const entry: QScoreHistoryEntry = { ...e, seq, txId: ctx.stub.getTxID() };
  await ctx.state.put(ctx.state.key(KEY.qscoreHistory, [p.participantId, padUint(seq, 10)]), entry);
}

export async function readEnrolment(ctx: GridLedgerContext, mspId: string, meterId: string): Promise<Enrolment | undefined> {
  return ctx.state.get<Enrolment>(enrolmentKey(ctx, mspId, meterId));
}

export async function writeEnrolment(ctx: GridLedgerContext, e: Enrolment): Promise<void> {
  await ctx.state.put(enrolmentKey(ctx, e.mspId, e.meterId), e);
}
