/**
 * Participant documents and their indexes:
 * - `gl.participant~<pid>`: the record (one key per participant: no shared hot key on updates);
 * - `gl.enrolment~<mspId>~<meterId>`: the utility's registration of a meter (identity check of the
 *   join request), later pointing at the participant;
 * - `gl.qrank~<inverted score>~<pid>`: leaderboard order (highest first) without a scan-and-sort;
 * - `gl.qhist~<pid>~<seq>`: per-participant Q-score history.
 */
import type { Context } from 'fabric-contract-api';
import type { Participant } from '../domain/participant';
import { compositeKey, KEY, padUint } from './keys';
import { getJson, mustGetJson, putJson } from './state';

export interface Enrolment {
  mspId: string;
  meterId: string;
  zone: string;
  enrolledAtMs: number;
  /** Pseudonym of the operator who enrolled it. */
  enrolledBy: string;
  /** Set when the meter asks to join. */
  participantId?: string;
}

export interface QScoreHistoryEntry {
  seq: number;
  atMs: number;
  txId: string;
  delta: number;
  qScore: number;
  reason: string;
  /** Task or trade id the change came from. */
  ref: string;
}

/** Scores are bounded far below this (parameter ranges), so RANK_OFFSET − score is positive. */
const RANK_OFFSET = 1_000_000_000_000_000n;

export const participantKey = (ctx: Context, pid: string) => compositeKey(ctx, KEY.participant, [pid]);
export const enrolmentKey = (ctx: Context, mspId: string, meterId: string) => compositeKey(ctx, KEY.enrolment, [mspId, meterId]);

export function readParticipant(ctx: Context, pid: string): Promise<Participant | undefined> {
  return getJson<Participant>(ctx, participantKey(ctx, pid));
}

export function mustReadParticipant(ctx: Context, pid: string): Promise<Participant> {
  return mustGetJson<Participant>(ctx, participantKey(ctx, pid), `participant ${pid}`, 'PARTICIPANT_NOT_FOUND');
}

function rankKey(ctx: Context, qScore: number, pid: string): string {
  return compositeKey(ctx, KEY.qscoreRank, [padUint(RANK_OFFSET - BigInt(qScore), 20), pid]);
}

/**
 * Writes the record. `previousScore` is the score the leaderboard currently lists it under
 * (undefined for a participant not yet on the leaderboard); the rank key moves if it changed.
 * Only active-or-later participants are ranked (pending ones have no score yet).
 */
export async function writeParticipant(ctx: Context, p: Participant, previousScore?: number): Promise<void> {
  await putJson(ctx, participantKey(ctx, p.participantId), p);
  if (p.status === 'pending' || p.status === 'rejected') return;
  if (previousScore === p.qScore) return;
  if (previousScore !== undefined) await ctx.stub.deleteState(rankKey(ctx, previousScore, p.participantId));
  await putJson(ctx, rankKey(ctx, p.qScore, p.participantId), { participantId: p.participantId, qScore: p.qScore });
}

export async function appendQScoreHistory(ctx: Context, p: Participant, e: Omit<QScoreHistoryEntry, 'seq' | 'txId'>): Promise<void> {
  const seq = p.qHistoryCount;
  p.qHistoryCount = seq + 1;
  const entry: QScoreHistoryEntry = { ...e, seq, txId: ctx.stub.getTxID() };
  await putJson(ctx, compositeKey(ctx, KEY.qscoreHistory, [p.participantId, padUint(seq, 10)]), entry);
}

export async function readEnrolment(ctx: Context, mspId: string, meterId: string): Promise<Enrolment | undefined> {
  return getJson<Enrolment>(ctx, enrolmentKey(ctx, mspId, meterId));
}

export async function writeEnrolment(ctx: Context, e: Enrolment): Promise<void> {
  await putJson(ctx, enrolmentKey(ctx, e.mspId, e.meterId), e);
}
