/**
 * A trade as the ledger stores and returns it (`trades:get`; chaincode/src/market/domain/trade.ts
 * owns its state machine, docs/market.md), and the pure formulas both the chaincode and the
 * gateway's committee agents compute from its terms (gateway/src/agents/duties/conditions.ts).
 * Deterministic (the chaincode imports it): hashing and integer arithmetic only.
 */
import { createHash } from 'crypto';

export type TradeState = 'AWAITING_ENERGY' | 'EXECUTION' | 'FINAL' | 'SETTLED' | 'DECLINED' | 'FAILED_LATE';
export type TradeFault = 'none' | 'seller' | 'buyer';

/** The governance committee task validating this trade (chaincode/src/governance/services/tasks.ts). */
export interface TradeValidation {
  /** taskIdFor('trade', tradeId): fixed at creation, opened when the execution stage begins. */
  taskId: string;
  opened: boolean;
  /** Committee members whose votes matched every decided ballot they voted on (rewarded on success). */
  honest: string[];
  /** Members who voted against a decided ballot (penalised by governance, never rewarded). */
  contrary: string[];
  leader?: string;
  /** Set when a stage was decided by the facts after its window closed without a committee decision. */
  decidedByFacts: boolean;
}

export interface PacketUse {
  packetId: string;
  amountWh: number;
}

export interface TradeOutcomeRecord {
  fault: TradeFault;
  reason: string;
  paidToSeller: number;
  refundedToBuyer: number;
  collateralReturned: number;
  forfeited: number;
  energyToBuyerWh: number;
  energyReturnedWh: number;
  closedAt: number;
}

export interface Trade {
  tradeId: string;
  origin: 'offer' | 'auction';
  originId: string;
  seller: string;
  buyer: string;
  sellerMspId: string;
  buyerMspId: string;
  sellerMeterId: string;
  buyerMeterId: string;
  amountWh: number;
  pricePerKwh: number;
  cost: number;
  /** SHA-256 of the contract terms (`contractHashOf`); validators attest against it (seed 002 "smart contract"). */
  contractHash: string;
  paymentEscrow: number;
  collateralEscrow: number;
  energyEscrowWh: number;
  packets: PacketUse[];
  deliveryStart: number;
  deliveryLength: number;
  deliveryDeadline: number;
  /** Snapshotted at creation so a later parameter change never alters a running trade. */
  faultForfeitBps: number;
  stageWindowSeconds: number;
  createdAt: number;
  state: TradeState;
  validation: TradeValidation;
  /** Eq. (2) record of the trade once closed (fixed point, decimal strings). */
  qScore?: { x: string; alpha: number; v: string; L: string; f: string; q: string };
  stageDeadline?: number;
  /** What the buyer declared it received, and what its meter evidences (both Wh). */
  buyerDeclaredWh?: number;
  meteredWh?: number;
  evidenceReadingHash?: string;
  outcome?: TradeOutcomeRecord;
}

/** The terms the contract hash covers. */
export type ContractTerms = Pick<Trade, 'tradeId' | 'seller' | 'buyer' | 'amountWh' | 'pricePerKwh' | 'cost' | 'deliveryStart' | 'deliveryLength'>;

/** A trade's id from what created it (an offer or an auction), so a retried acceptance finds the same trade. */
export function tradeIdFor(origin: string, originId: string): string {
  return 'trd-' + createHash('sha256').update(`gridledger/trade\n${origin}\n${originId}`).digest('hex').slice(0, 32);
}

/** SHA-256 of the contract terms, one per line, under the `gridledger/contract/v1` tag. */
export function contractHashOf(t: ContractTerms): string {
  const text = [t.tradeId, t.seller, t.buyer, t.amountWh, t.pricePerKwh, t.cost, t.deliveryStart, t.deliveryLength].join('\n');
  return createHash('sha256').update(`gridledger/contract/v1\n${text}`).digest('hex');
}

/** A trade's cost in minor units: floor(amountWh × pricePerKwh / 1000), exact in BigInt. */
export function tradeCost(amountWh: number, pricePerKwh: number): bigint {
  return (BigInt(amountWh) * BigInt(pricePerKwh)) / 1000n;
}
