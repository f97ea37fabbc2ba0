/**
 * The ledger views the agents read, as the chaincode returns them (chaincode/src/governance/ledger/tasks.ts,
 * chaincode/src/market/domain/*.ts). Only the fields a duty decides on are typed; stored field names
 * are those of today's chaincode. The trade is the wire contract's (packages/protocol/src/trade.ts).
 */
import type { AuctionStatus, BallotStatus, OfferStatus, ParticipantStatus, TaskOutcome, TaskStatus, Trade, TradeValidation } from '@gridledger/protocol';

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
  status: TaskStatus;
  /** '' while the task is open */
  outcome: TaskOutcome | '';
  round: number;
  f: number;
  n: number;
  /** Unix seconds, like every ledger time. */
  genesisAt: number;
  slotSeconds: number;
  committee: string[];
  leaderOffset: number;
  deadlineAt: number;
}

export interface EntryView {
  leader: string;
  slot: number | string;
  at: number;
  txId: string;
  payloadHash?: string;
  payload?: Record<string, unknown>;
  /** the leader's block: every ballot it entered in this slot with this transaction (absent before blocks) */
  block?: Array<{ taskId: string; ballot: string }>;
}

export interface BallotView {
  taskId: string;
  name: string;
  round: number;
  status: BallotStatus;
  entry?: EntryView;
}

export interface VoteView {
  voter: string;
  approve: boolean;
  round: number;
  ballot: string;
  /** when it was recorded, Unix seconds */
  at?: number;
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

/**
 * `committees:getMemberView` — a member duty's ONE read: the task, its ballots in order up to the first not
 * approved in the current round (each as `committees:getBallot` answers it, with its name), and with
 * `withSubject` the candidate (as `participants:get`) or the trade and its packets (as `trades:get`, `energy:get`).
 */
export interface MemberViewState {
  task: TaskView;
  ballots: Array<BallotState & { name: string }>;
  subject: { participant: ParticipantView } | { trade: TradeView; packets: PacketView[] } | null;
}

export interface ParticipantView {
  participantId: string;
  mspId: string;
  zone: string;
  status: ParticipantStatus;
  admissionTaskId?: string;
  bannedUntil?: number;
  /** `participants:get` only: score credits not folded into the record yet, and when the oldest and newest were earned (Unix seconds, 0 = none) */
  pendingCredits?: number;
  oldestCreditAt?: number;
  newestCreditAt?: number;
}

/** The fields of the protocol's `Trade` (`trades:get`) a duty decides on. */
export type TradeView = Pick<
  Trade,
  | 'tradeId' | 'seller' | 'buyer' | 'sellerMeterId' | 'buyerMeterId' | 'amountWh' | 'pricePerKwh' | 'cost' | 'contractHash'
  | 'paymentEscrow' | 'energyEscrowWh' | 'packets' | 'deliveryStart' | 'deliveryLength' | 'deliveryDeadline' | 'state'
  | 'stageDeadline' | 'buyerDeclaredWh' | 'meteredWh'
> &
  Partial<Pick<Trade, 'sellerMspId' | 'buyerMspId'>> & { validation: Pick<TradeValidation, 'taskId' | 'opened'> };

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
  status: OfferStatus;
  /** the seller's utility: its keeper expires the offer first (keeper.ts `keeperDelayMs`) */
  sellerMspId?: string;
}

export interface AuctionView {
  requestId: string;
  t1: number;
  t2: number;
  claimDeadline: number;
  status: AuctionStatus;
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
