/**
 * PBFT-style quorum rule (spec §3): committee n = 3f + 1; a ballot is approved by 2f + 1
 * approvals and rejected by f + 1 refusals. With one vote per member both cannot happen
 * (2f+1 + f+1 > n), so f Byzantine members can neither forge an approval (they would need f+1
 * honest approvals more) nor stop honest members from rejecting; f + 1 refusals block an approval.
 */
export type BallotOutcome = 'APPROVED' | 'REJECTED';

export interface Tally {
  approvals: number;
  refusals: number;
}

export function approvalQuorum(f: number): number {
  return 2 * f + 1;
}
export function blockingQuorum(f: number): number {
  return f + 1;
}

/**
 * Most seats one custodian (a utility holding its meters' keys) may hold: one short of the
 * approval quorum, so no utility approves alone (docs/governance.md "Independence of committee
 * members"). It still may hold f + 1 and block; blocking only declines and refunds.
 */
export function maxCustodianSeats(f: number): number {
  return approvalQuorum(f) - 1;
}

/** The decided outcome, or undefined while neither quorum is reached. */
export function decide(t: Tally, f: number): BallotOutcome | undefined {
  if (t.approvals >= approvalQuorum(f)) return 'APPROVED';
  if (t.refusals >= blockingQuorum(f)) return 'REJECTED';
  return undefined;
}
