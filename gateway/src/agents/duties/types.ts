/**
 * The ledger views the agents read, as the chaincode returns them (chaincode/src/governance/ledger/tasks.ts,
 * chaincode/src/market/domain/*.ts). Only the fields a duty decides on are typed; stored field names
 * are those of today's chaincode.
 */

export interface BallotSpecView {
  name: string;
  conditions: string[];
  requiresEntry: boolean;
}

export interface TaskView {
  taskId: string;
  kind: string;
  subjectId: string;
  parties: string[];
  ballots: BallotSpecView[];
  status: 'awaiting-entropy' | 'seeded' | 'active' | 'closed' | string;
  outcome: string;
  round: number;
  f: number;
  n: number;
  genesisMs: number;
  slotSeconds: number;
  committee: string[];
  leaderOffset: number;
  deadlineMs: number;
}

export interface EntryView {
  leader: string;
  slot: number | string;
  atMs: number;
  txId: string;
  payloadHash?: string;
  payload?: Record<string, unknown>;
}

export interface BallotView {
  taskId: string;
  name: string;
  round: number;
  status: 'open' | 'approved' | 'rejected' | string;
  entry?: EntryView;
}

export interface VoteView {
  voter: string;
  approve: boolean;
  round: number;
  ballot: string;
  conditions?: Record<string, boolean>;
  reason?: string;
  txId?: string;
}

/** `committees:getBallot` */
export interface BallotState {
  ballot: BallotView | null;
  round: number;
  votes: VoteView[];
}

export interface ParticipantView {
  participantId: string;
  mspId: string;
  zone: string;
  status: string;
  admissionTaskId?: string;
  bannedUntilMs?: number;
}

export interface TradeView {
  tradeId: string;
  seller: string;
  buyer: string;
  sellerMspId?: string;
  buyerMspId?: string;
  sellerMeterId: string;
  buyerMeterId: string;
  amountWh: number;
  pricePerKwh: number;
  cost: number;
  contractHash: string;
  paymentEscrow: number;
  energyEscrowWh: number;
  packets: Array<{ packetId: string; amountWh: number }>;
  deliveryStart: number;
  deliveryLength: number;
  deliveryDeadline: number;
  state: 'AWAITING_ENERGY' | 'EXECUTION' | 'FINAL' | 'SETTLED' | 'DECLINED' | 'FAILED_LATE' | string;
  stageDeadline?: number;
  buyerDeclaredWh?: number;
  meteredWh?: number;
  validation: { taskId: string; opened: boolean };
}

export interface PacketView {
  packetId: string;
  owner: string;
  meterId: string;
  intervalStart: number;
  escrowedWh: number;
  availableWh?: number;
  tradeId?: string;
}

export interface OfferView {
  offerId: string;
  expiresAt: number;
  status: 'OPEN' | 'ACCEPTED' | 'WITHDRAWN' | 'EXPIRED' | string;
}

export interface AuctionView {
  requestId: string;
  t1: number;
  t2: number;
  claimDeadline: number;
  status: 'OPEN' | 'AWARDED' | 'NO_WINNER' | 'TRADED' | 'FAILED' | string;
  winnerOfferId?: string;
  buyerClaim?: { participantId: string };
  sellerClaim?: { participantId: string };
}

/** A condition verdict: each named condition and, for the log and the vote's reason, why one failed. */
export interface Verdict {
  conditions: Record<string, boolean>;
  reasons: string[];
}

export const holds = (v: Verdict): boolean => Object.values(v.conditions).every(Boolean);
