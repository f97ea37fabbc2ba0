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

/*
 * The gateway's own records (its SQLite store, not the ledger) follow the same convention, so a client
 * reads one dialect whichever side a value comes from (docs/api.md "Changes in 0.2.0"). The gateway's
 * stores take their SQL CHECK lists from these arrays (`sqlValues`), and a store written by 0.1.0 with
 * the lower-case spellings is converted when the gateway opens it (gateway/src/store/migrations.ts).
 */

/** A meter identity in the gateway's custodial wallet: CA registration done → key enrolled → revoked. */
export const METER_STATUSES = ['REGISTERED', 'ACTIVE', 'REVOKED'] as const;
export type MeterStatus = (typeof METER_STATUSES)[number];

/** A receipt of the gateway's durable delivery queue (`GET /receipts/{id}`). */
export const RECEIPT_STATES = ['QUEUED', 'SUBMITTED', 'COMMITTED', 'REJECTED'] as const;
export type ReceiptState = (typeof RECEIPT_STATES)[number];

/** An agent duty (`GET /agents`). */
export const DUTY_STATES = ['PENDING', 'DONE', 'FAILED'] as const;
export type DutyState = (typeof DUTY_STATES)[number];

/** A beacon contribution of the utility to one task round (`GET /beacon`). */
export const CONTRIBUTION_STATES = ['PENDING', 'CONTRIBUTED', 'SUPERSEDED', 'REFUSED'] as const;
export type ContributionState = (typeof CONTRIBUTION_STATES)[number];

/** `'A', 'B'`: a vocabulary as the list of an SQL `IN (…)` (the values are fixed identifiers, never input). */
export function sqlValues(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}
