/**
 * The participant record and the rules on its status (spec §2). Pure.
 *
 * status: PENDING (asked to join, admission task open) → ACTIVE (admitted) | REJECTED;
 * active ⇄ suspended (operator/regulator); banned with `bannedUntil` (regulator, or automatic
 * when the penalty count exceeds k). A ban expires by itself: rules compare with the guarded time,
 * so no transaction is needed to lift it.
 */
import type { GovernanceParameters } from './parameters';

import type { ParticipantStatus } from '@gridledger/protocol';
export type { ParticipantStatus };

export interface Participant {
  participantId: string;
  mspId: string;
  meterId: string;
  zone: string;
  status: ParticipantStatus;
  /** While status is BANNED: end of the ban (Unix seconds). */
  bannedUntil: number;
  /** Fixed point, Q_SCALE = 10^6; bounded by qScoreMin/qScoreMax. */
  qScore: number;
  /** Q-score pledged for committee service (≤ qScore); 0 = not volunteering. */
  stake: number;
  penaltyCount: number;
  /** Admission attempts so far (a rejected participant may ask again; each attempt is a task). */
  attempts: number;
  /** Current or last admission task. */
  admissionTaskId: string;
  joinedAt: number;
  admittedAt: number;
  /** Number of Q-score history entries (next sequence number). */
  qHistoryCount: number;
}

/** Status as of `now`: a ban that has run out reads as active. */
export function effectiveStatus(p: Participant, now: number): ParticipantStatus {
  if (p.status === 'BANNED' && now >= p.bannedUntil) return 'ACTIVE';
  return p.status;
}

/**
 * Whether the participant belongs in the committee index (`ledger/eligibilityIndex.ts`): admitted
 * and not out for a lasting reason (suspended, or banned with the ban still running). Only status
 * decides: Q-score and stake move with every trade and are checked lazily at draw time
 * (`isEligibleForCommittee`), so that trades never move index entries (MVCC hot spots).
 */
export function belongsInCommitteeIndex(p: Participant, now: number): boolean {
  return effectiveStatus(p, now) === 'ACTIVE';
}

/** Committee eligibility (spec §3): active, Q-score and stake at least the regulator's minimum. */
export function isEligibleForCommittee(p: Participant, now: number, params: GovernanceParameters): boolean {
  return effectiveStatus(p, now) === 'ACTIVE' && p.qScore >= params.minQScore && p.stake >= params.minStake && p.stake > 0;
}

/** Trading eligibility (Q-score gates trading, spec §5): active or ban expired, Q ≥ minTradingQScore. */
export function canTrade(p: Participant, now: number, params: GovernanceParameters): boolean {
  return effectiveStatus(p, now) === 'ACTIVE' && p.qScore >= params.minTradingQScore;
}
