/**
 * Trades and their validated settlement (seed 002 Fig. 5; seed 001 scenario 4), pure.
 *
 *   AWAITING_ENERGY ──seller moves packets into escrow before deliveryDeadline──▶ EXECUTION
 *   AWAITING_ENERGY ──deadline passes (timeout, or a late deliverEnergy)──▶ FAILED_LATE   (seller fault)
 *   EXECUTION ──Conditions 1–2 hold + 2f+1 approvals (or stage window over)──▶ FINAL
 *   EXECUTION ──f+1 rejections, or facts fail when the window closes──▶ DECLINED
 *   FINAL ──buyer's meter evidence recorded, Conditions 3–4 + 2f+1 approvals (or window over)──▶ SETTLED
 *   FINAL ──buyer's declared receipt contradicts its meter, or no evidence by the window's end──▶ SETTLED as buyer fault
 *   FINAL ──f+1 rejections──▶ DECLINED
 *
 * The stored shape (`Trade`) and the formulas clients recompute (`tradeIdFor`, `contractHashOf`) are
 * the wire contract's (packages/protocol/src/trade.ts); this module owns the state machine.
 *
 * Money and energy only ever move as the facts say: approvals cannot move money against the facts,
 * and when the committee does not reach a quorum in time the facts decide (liveness fallback).
 */
import { contractHashOf, tradeIdFor, type PacketUse, type Trade, type TradeFault as Fault, type TradeOutcomeRecord as Outcome, type TradeState } from '@gridledger/protocol';
import { bpsOf, costOf } from './money';
import { MarketParams } from './params';
import { fail } from '../../kernel/errors';

export type Stage = 'execution' | 'final';

export interface TradeTerms {
  origin: 'offer' | 'auction';
  originId: string;
  seller: { participantId: string; mspId: string; meterId: string };
  buyer: { participantId: string; mspId: string; meterId: string };
  amountWh: number;
  pricePerKwh: number;
  collateral: number;
  deliveryStart: number;
  deliveryLength: number;
}

/** Preparation stage: the contract, both escrows already locked, committee and leader assigned. */
export function newTrade(terms: TradeTerms, taskId: string, now: number, params: MarketParams): Trade {
  const tradeId = tradeIdFor(terms.origin, terms.originId);
  const cost = costOf(terms.amountWh, terms.pricePerKwh);
  const base = {
    tradeId,
    seller: terms.seller.participantId,
    buyer: terms.buyer.participantId,
    amountWh: terms.amountWh,
    pricePerKwh: terms.pricePerKwh,
    cost,
    deliveryStart: terms.deliveryStart,
    deliveryLength: terms.deliveryLength,
  };
  return {
    ...base,
    origin: terms.origin,
    originId: terms.originId,
    sellerMspId: terms.seller.mspId,
    buyerMspId: terms.buyer.mspId,
    sellerMeterId: terms.seller.meterId,
    buyerMeterId: terms.buyer.meterId,
    contractHash: contractHashOf(base),
    paymentEscrow: cost,
    collateralEscrow: terms.collateral,
    energyEscrowWh: 0,
    packets: [],
    deliveryDeadline: terms.deliveryStart + terms.deliveryLength + params.deliveryGraceSeconds,
    faultForfeitBps: params.faultForfeitBps,
    stageWindowSeconds: params.stageWindowSeconds,
    createdAt: now,
    state: 'AWAITING_ENERGY',
    validation: { taskId, opened: false, honest: [], contrary: [], decidedByFacts: false },
  };
}

export function isTerminal(t: Trade): boolean {
  return t.state === 'SETTLED' || t.state === 'DECLINED' || t.state === 'FAILED_LATE';
}

/** Execution stage, Condition 1: seller's energy moved into escrow per contract (never more than contracted). */
export function condition1(t: Trade): boolean {
  return t.energyEscrowWh > 0 && t.energyEscrowWh <= t.amountWh;
}
/** Execution stage, Condition 2: buyer's funds moved into escrow per contract. */
export function condition2(t: Trade): boolean {
  return t.paymentEscrow === t.cost;
}
/** Final stage, Condition 3: the buyer's energy update matches its own meter's evidence. */
export function condition3(t: Trade): boolean {
  return t.meteredWh !== undefined && t.buyerDeclaredWh === t.meteredWh;
}
/** Final stage, Condition 4: the seller's funds equal the contract price of the delivered energy. */
export function condition4(t: Trade): boolean {
  return t.meteredWh !== undefined && costOf(Math.min(t.meteredWh, t.amountWh), t.pricePerKwh) <= t.paymentEscrow;
}

export function stageOf(t: Trade): Stage {
  if (t.state === 'EXECUTION') return 'execution';
  if (t.state === 'FINAL') return 'final';
  return fail('CONFLICT', 'WRONG_STATE', `trade ${t.tradeId} is ${t.state}; no validation stage is open`);
}

/** The facts a stage's committee attests, as the chaincode itself evaluates them. */
export function stageFacts(t: Trade, stage: Stage): { hold: boolean; conditions: Record<string, boolean> } {
  const conditions: Record<string, boolean> =
    stage === 'execution' ? { condition1: condition1(t), condition2: condition2(t) } : { condition3: condition3(t), condition4: condition4(t) };
  return { hold: Object.values(conditions).every(Boolean), conditions };
}

/**
 * How a stage ends. `committee` is the governance ballot outcome, or undefined when the stage
 * window closed without one (then the facts decide). Money never moves against the facts: an
 * approval of a stage whose facts fail declines it all the same.
 */
export type StageEnd = 'advance' | 'settled' | 'buyer-fault' | 'seller-declined' | 'no-fault-declined';

export function stageEnd(t: Trade, stage: Stage, committee: 'APPROVED' | 'REJECTED' | undefined): StageEnd {
  const facts = stageFacts(t, stage);
  if (stage === 'execution') {
    if (facts.hold && committee !== 'REJECTED') return 'advance';
    if (!facts.conditions.condition1) return 'seller-declined';
    return 'no-fault-declined';
  }
  if (t.meteredWh === undefined) return 'buyer-fault'; // no evidence by the end of the window
  if (!facts.conditions.condition3) return 'buyer-fault';
  if (facts.hold && committee !== 'REJECTED') return 'settled';
  return 'no-fault-declined';
}

/** Energy escrow (seed 002 execution stage / seed 001 sendenergy). */
export function recordEnergyEscrow(t: Trade, uses: PacketUse[], now: number): Trade {
  if (t.state !== 'AWAITING_ENERGY') fail('CONFLICT', 'WRONG_STATE', `trade ${t.tradeId} is ${t.state}; energy can be escrowed only while AWAITING_ENERGY`);
  const total = uses.reduce((s, u) => s + u.amountWh, 0);
  return { ...t, packets: uses, energyEscrowWh: total, state: 'EXECUTION', stageDeadline: now + t.stageWindowSeconds };
}

export function recordEvidence(t: Trade, declaredWh: number, availableImportWh: number, readingHash: string): Trade {
  if (t.state !== 'FINAL') fail('CONFLICT', 'WRONG_STATE', `trade ${t.tradeId} is ${t.state}; delivery evidence is recorded in the FINAL stage`);
  if (t.meteredWh !== undefined) fail('CONFLICT', 'EVIDENCE_EXISTS', `trade ${t.tradeId} already has delivery evidence`);
  const meteredWh = Math.min(t.energyEscrowWh, availableImportWh);
  return { ...t, buyerDeclaredWh: declaredWh, meteredWh, evidenceReadingHash: readingHash };
}

/** Outcome of a trade that ends; every amount is derived from the escrows so nothing is created or lost. */
export function closeOutcome(
  t: Trade,
  kind: 'settled' | 'buyer-fault' | 'seller-declined' | 'late' | 'no-fault-declined',
  now: number,
): { trade: Trade; outcome: Outcome } {
  let deliveredWh = 0;
  let fault: Fault = 'none';
  let reason: string;
  switch (kind) {
    case 'settled':
      deliveredWh = Math.min(t.meteredWh ?? 0, t.amountWh);
      fault = deliveredWh < t.amountWh ? 'seller' : 'none';
      reason = fault === 'seller' ? `under-delivery: ${deliveredWh} of ${t.amountWh} Wh evidenced, paid pro rata` : 'delivered in full';
      break;
    case 'buyer-fault':
      // The buyer withheld or contradicted its own meter's evidence: the seller is paid for what the
      // meter shows (or, with no evidence at all, for the energy it escrowed).
      deliveredWh = Math.min(t.meteredWh ?? t.energyEscrowWh, t.amountWh);
      fault = 'buyer';
      reason = t.meteredWh === undefined ? 'buyer produced no delivery evidence in time' : `buyer declared ${t.buyerDeclaredWh} Wh but its meter evidences ${t.meteredWh} Wh`;
      break;
    case 'seller-declined':
      fault = 'seller';
      reason = `seller escrowed ${t.energyEscrowWh} Wh against a contract of ${t.amountWh} Wh (Condition 1 failed)`;
      break;
    case 'late':
      fault = 'seller';
      reason = `no energy escrowed by the delivery deadline ${t.deliveryDeadline}`;
      break;
    case 'no-fault-declined':
      reason = 'the validator committee declined the trade although the facts hold; all escrows returned';
      break;
  }
  const paidToSeller = Math.min(costOf(deliveredWh, t.pricePerKwh), t.paymentEscrow);
  const forfeited = fault === 'seller' ? bpsOf(t.collateralEscrow, t.faultForfeitBps) : 0;
  const outcome: Outcome = {
    fault,
    reason,
    paidToSeller,
    refundedToBuyer: t.paymentEscrow - paidToSeller,
    collateralReturned: t.collateralEscrow - forfeited,
    forfeited,
    energyToBuyerWh: deliveredWh,
    energyReturnedWh: t.energyEscrowWh - deliveredWh,
    closedAt: now,
  };
  const state: TradeState = kind === 'settled' || kind === 'buyer-fault' ? 'SETTLED' : kind === 'late' ? 'FAILED_LATE' : 'DECLINED';
  return { trade: { ...t, state, stageDeadline: undefined, outcome }, outcome };
}

/**
 * Splits the energy outcome over the escrowed packets in their escrow order: the first packets are
 * delivered, the remainder goes back to the seller's packets as available energy.
 */
export function splitPackets(uses: PacketUse[], deliveredWh: number): Array<PacketUse & { deliveredWh: number; returnedWh: number }> {
  let left = deliveredWh;
  return uses.map((u) => {
    const d = Math.min(u.amountWh, left);
    left -= d;
    return { ...u, deliveredWh: d, returnedWh: u.amountWh - d };
  });
}
