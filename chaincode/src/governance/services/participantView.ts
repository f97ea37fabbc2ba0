/**
 * What a caller may see of a participant, in one place: `participants:get` answers it, the participants
 * contract's writes answer the full record to the caller they concern, and `committees:getMemberView`
 * answers an admission's candidate with exactly what `participants:get` would show the same caller.
 */
import type { Caller } from '../../kernel/caller';
import { GridLedgerContext } from '../../kernel/context';
import { effectiveStatus, Participant } from '../domain/participant';
import type { StoredParameters } from '../domain/parameters';
import { creditedScore, creditSummary, mustReadParticipant, pendingScoreCredits } from '../ledger/participants';
import { canManage } from './registry';

/**
 * The owner, its utility's operators and the regulator see the whole record; everyone else sees the
 * pseudonymous public view (no meterId), as spec §5 asks.
 */
export function participantView(p: Participant, now: number, full: boolean): Record<string, unknown> {
  const pub = {
    participantId: p.participantId,
    mspId: p.mspId,
    zone: p.zone,
    status: effectiveStatus(p, now),
    bannedUntil: p.bannedUntil,
    qScore: p.qScore,
    stake: p.stake,
    penaltyCount: p.penaltyCount,
    joinedAt: p.joinedAt,
    admittedAt: p.admittedAt,
    admissionTaskId: p.admissionTaskId,
  };
  return full ? { ...pub, meterId: p.meterId, attempts: p.attempts } : pub;
}

/**
 * A participant as `caller` may see it, with the score the rules see (the record's plus its pending
 * credits, ledger/participants.ts) and how many credits are pending since when (what the keeper's
 * `participants:foldScore` decides on, docs/agents.md §3).
 */
export async function participantSeenBy(ctx: GridLedgerContext, caller: Caller, participantId: string, params: StoredParameters, now: number): Promise<Record<string, unknown>> {
  const record = await mustReadParticipant(ctx, participantId);
  const credits = await pendingScoreCredits(ctx, participantId);
  const p = { ...record, qScore: creditedScore(record.qScore, credits, params.qScoreMax) };
  return { ...participantView(p, now, caller.participantId === p.participantId || canManage(caller, p)), ...creditSummary(credits) };
}
