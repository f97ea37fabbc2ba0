/**
 * The ledger's lifecycle values, one list per record (docs/architecture.md "Time and status values":
 * UPPER_SNAKE_CASE for every `status`, `state` and `outcome`). The chaincode stores exactly these; the
 * gateway's agents, the analytics store and the dashboard compare against them. A value spelled any
 * other way (`'closed'`, `'active'`) does not type-check, which is how 0.1.0's lower-case governance
 * values are kept out after the 0.2.0 migration (docs/api.md "Changes in 0.2.0").
 */
export const PARTICIPANT_STATUSES = ['PENDING', 'ACTIVE', 'SUSPENDED', 'BANNED', 'REJECTED'] as const;
export type ParticipantStatus = (typeof PARTICIPANT_STATUSES)[number];

export const TASK_STATUSES = ['AWAITING_ENTROPY', 'SEEDED', 'ACTIVE', 'CLOSED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** A closed task's outcome. */
export const TASK_OUTCOMES = ['APPROVED', 'REJECTED', 'CANCELLED'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

export const BALLOT_STATUSES = ['OPEN', 'APPROVED', 'REJECTED'] as const;
export type BallotStatus = (typeof BALLOT_STATUSES)[number];

export const OFFER_STATUSES = ['OPEN', 'ACCEPTED', 'WITHDRAWN', 'EXPIRED'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

export const AUCTION_STATUSES = ['OPEN', 'AWARDED', 'NO_WINNER', 'TRADED', 'FAILED'] as const;
export type AuctionStatus = (typeof AUCTION_STATUSES)[number];

export const BID_STATUSES = ['COMMITTED', 'REVEALED', 'FILTERED'] as const;
export type BidStatus = (typeof BID_STATUSES)[number];
