/**
 * The participant record and the rules on its status (spec §2). Pure.
 *
 * status: pending (asked to join, admission task open) → active (admitted) | rejected;
 * active ⇄ suspended (operator/regulator); banned with `bannedUntilMs` (regulator, or automatic
 * when the penalty count exceeds k). A ban expires by itself: rules compare with the guarded time,
 * so no transaction is needed to lift it.
 */
import type { GovernanceParameters } from './parameters';

export type ParticipantStatus = 'pending' | 'active' | 'suspended' | 'banned' | 'rejected';

export interface Participant {
  participantId: string;
  mspId: string;
  meterId: string;
  zone: string;
  status: ParticipantStatus;
  /** While status is banned: end of the ban (ms). */
  bannedUntilMs: number;
  /** Fixed point, Q_SCALE = 10^6; bounded by qScoreMin/qScoreMax. */
  qScore: number;
  /** Q-score pledged for committee service (≤ qScore); 0 = not volunteering. */
  stake: number;
  penaltyCount: number;
  /** Admission attempts so far (a rejected participant may ask again; each attempt is a task). */
  attempts: number;
  /** Current or last admission task. */
  admissionTaskId: string;
  joinedAtMs: number;
  admittedAtMs: number;
  /** Number of Q-score history entries (next sequence number). */
  qHistoryCount: number;
}

/** Status as of `nowMs`: a ban that has run out reads as active. */
export function effectiveStatus(p: Participant, nowMs: number): ParticipantStatus {
  if (p.status === 'banned' && nowMs >= p.bannedUntilMs) return 'active';
  return p.status;
}

/**
 * Whether the participant belongs in the committee index (`ledger/eligibilityIndex.ts`): admitted
 * and not out for a lasting reason (suspended, or banned with the ban still running). Only status
 * decides: Q-score and stake move with every trade and are checked lazily at draw time
 * (`isEligibleForCommittee`), so that trades never move index entries (MVCC hot spots).
 */
export function belongsInCommitteeIndex(p: Participant, nowMs: number): boolean {
  return effectiveStatus(p, nowMs) === 'active';
}

/** Committee eligibility (spec §3): active, Q-score and stake at least the regulator's minimum. */
export function isEligibleForCommittee(p: Participant, nowMs: number, params: GovernanceParameters): boolean {
  return effectiveStatus(p, nowMs) === 'active' && p.qScore >= params.minQScore && p.stake >= params.minStake && p.stake > 0;
}

/** Trading eligibility (Q-score gates trading, spec §5): active or ban expired, Q ≥ minTradingQScore. */
export function canTrade(p: Participant, nowMs: number, params: GovernanceParameters): boolean {
  return effectiveStatus(p, nowMs) === 'active' && p.qScore >= params.minTradingQScore;
}
