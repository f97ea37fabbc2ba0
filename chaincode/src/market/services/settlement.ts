/**
 * Trade settlement (seed 001 escrow + seed 002 Fig. 5 validation): creating a trade, escrowing the
 * seller's energy and opening the governance validation task, deciding a stage through the
 * committee, and closing. Every closing path goes through `closeTrade`, which moves exactly the
 * escrowed money and energy (domain/trade.ts `closeOutcome`) — so money and energy are conserved
 * by construction. Governance is reached only through governance/index.ts.
 */
import { applyCommitteeDecision, cancelTask, decideBallot, openTask, readTask } from '../../governance';
import type { EntryItem, StoredParameters, Task } from '../../governance';
import { EnergyPacket } from '../domain/energy';
import { MarketParams } from '../domain/params';
import * as T from '../domain/trade';
import { EVENTS, taskIdFor, tradeIdFor, TRADE_TASK_KIND, type PacketUse, type Trade } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getPacket, putPacket } from '../ledger/energy';
import { PENALTY_POOL } from '../ledger/keys';
import { getTrade, putTrade } from '../ledger/trades';
import { credit } from '../ledger/wallets';
import { applyReputation } from './parties';
import { openMarketTx } from './session';
import { fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';

export const STAGE_BALLOTS = [
  { name: 'execution', conditions: ['condition1', 'condition2'], requiresEntry: true },
  { name: 'final', conditions: ['condition3', 'condition4'], requiresEntry: true },
];

/**
 * What a trade task's slot leader records for the open stage: the stage's facts as payload and, as its
 * vote, its verdict on those same facts as the chaincode evaluates them (`stageFacts`): it approves when
 * they hold and refuses with the failing conditions when they do not, so an honest leader is never
 * recorded contrary to a committee that correctly refuses (docs/governance.md §7).
 */
export function tradeEntryOf(t: Trade): EntryItem {
  const stage = T.stageOf(t);
  if (stage === 'final' && t.meteredWh === undefined) fail('PRECONDITION_FAILED', 'NO_DELIVERY_EVIDENCE', `trade ${t.tradeId}: no delivery evidence yet; the final entry follows the buyer's confirmDelivery`);
  const payload = { contractHash: t.contractHash, stage, energyEscrowWh: t.energyEscrowWh, paymentEscrow: t.paymentEscrow, meteredWh: t.meteredWh, buyerDeclaredWh: t.buyerDeclaredWh };
  const facts = T.stageFacts(t, stage);
  const failing = Object.keys(facts.conditions).filter((c) => !facts.conditions[c]);
  const verdict = { approve: facts.hold, conditions: facts.conditions, reason: facts.hold ? 'leader entry' : `leader entry: ${failing.join(', ')} fail` };
  return { taskId: t.validation.taskId, ballot: stage, payload, verdict };
}

/** The trade kind's entry builder for `committees:recordEntries` (registered in chaincode/src/index.ts). */
export async function tradeEntry(ctx: GridLedgerContext, task: Task): Promise<EntryItem> {
  return tradeEntryOf(await getTrade(ctx, task.subjectId));
}

/**
 * The trade kind's subject for `committees:getMemberView`: the trade and its escrowed packets, as
 * `trades:get` and `energy:get` answer them (any caller may read both; the same opener runs first).
 */
export async function tradeSubject(ctx: GridLedgerContext, task: Task): Promise<Record<string, unknown>> {
  await openMarketTx(ctx);
  const trade = await getTrade(ctx, task.subjectId);
  const packets: EnergyPacket[] = [];
  for (const u of trade.packets) packets.push(await getPacket(ctx, u.packetId));
  return { trade, packets };
}

export async function createTrade(ctx: GridLedgerContext, terms: T.TradeTerms, params: MarketParams): Promise<Trade> {
  const tradeId = tradeIdFor(terms.origin, terms.originId);
  const t = T.newTrade(terms, taskIdFor(TRADE_TASK_KIND, tradeId), ctx.now, params);
  await putTrade(ctx, t, true);
  // deliveryLength: a listener knows when the delivery interval ends, i.e. when the trade's committee stage is
  // about to open (the agents' slot leaders hold their block for it, docs/agents.md §2). The parties (immutable):
  // a gateway knows whether the trade concerns its meters, and the analytics store files it, without reading it.
  emit(ctx, EVENTS.tradeCreated, {
    tradeId: t.tradeId, origin: t.origin, originId: t.originId, amountWh: t.amountWh, pricePerKwh: t.pricePerKwh, deliveryStart: t.deliveryStart, deliveryLength: t.deliveryLength, deliveryDeadline: t.deliveryDeadline,
    seller: t.seller, buyer: t.buyer, sellerMspId: t.sellerMspId, buyerMspId: t.buyerMspId, sellerMeterId: t.sellerMeterId, buyerMeterId: t.buyerMeterId,
  });
  return t;
}

/** Seller moves metered energy from packets of its own meter, generated in the delivery interval, into escrow. */
export async function escrowEnergy(ctx: GridLedgerContext, gov: StoredParameters, t: Trade, uses: PacketUse[]): Promise<Trade> {
  const seen = new Set<string>();
  for (const u of uses) {
    if (seen.has(u.packetId)) fail('INVALID_ARGUMENT', 'DUPLICATE_PACKET', `packet ${u.packetId} is listed twice`);
    seen.add(u.packetId);
    const p = await getPacket(ctx, u.packetId);
    if (p.owner !== t.seller || p.origin !== 'mint') fail('FORBIDDEN', 'NOT_SELLER_PACKET', `packet ${u.packetId} is not a minted packet of the trade's seller`);
    if (p.meterId !== t.sellerMeterId || p.mspId !== t.sellerMspId) fail('CONFLICT', 'WRONG_METER', `packet ${u.packetId} was not metered by the seller's meter ${t.sellerMeterId}`);
    if (p.intervalStart !== t.deliveryStart || p.intervalLength !== t.deliveryLength) {
      fail('CONFLICT', 'WRONG_INTERVAL', `packet ${u.packetId} was generated in interval ${p.intervalStart}, not in the delivery interval ${t.deliveryStart}`);
    }
    if (p.availableWh < u.amountWh) fail('INSUFFICIENT_ENERGY', 'PACKET_SHORT', `packet ${u.packetId} has ${p.availableWh} Wh available, ${u.amountWh} Wh requested`);
    await putPacket(ctx, { ...p, availableWh: p.availableWh - u.amountWh, escrowedWh: p.escrowedWh + u.amountWh }, false);
  }
  const next = T.recordEnergyEscrow(t, uses, ctx.now);
  // Preparation → execution: the validator committee is drawn for this trade now (seed 002 Fig. 5).
  await openTask(ctx, { kind: TRADE_TASK_KIND, subjectId: t.tradeId, parties: [t.seller, t.buyer], ballots: STAGE_BALLOTS }, ctx.now, gov);
  next.validation = { ...next.validation, opened: true };
  return next;
}

type CloseKind = Parameters<typeof T.closeOutcome>[1];

/** Ends a trade: pays out the escrows, settles the energy, applies reputation, closes the committee task. */
export async function closeTrade(ctx: GridLedgerContext, gov: StoredParameters, t: Trade, kind: CloseKind): Promise<Trade> {
  const { trade, outcome } = T.closeOutcome(t, kind, ctx.now);
  const ref = `trade:${t.tradeId}`;
  await credit(ctx, t.seller, outcome.paidToSeller, 'trade-payout', ref);
  await credit(ctx, t.buyer, outcome.refundedToBuyer, 'payment-refund', ref);
  await credit(ctx, t.seller, outcome.collateralReturned, 'collateral-release', ref);
  await credit(ctx, PENALTY_POOL, outcome.forfeited, 'forfeit', ref);
  for (const part of T.splitPackets(t.packets, outcome.energyToBuyerWh)) {
    const p = await getPacket(ctx, part.packetId);
    await putPacket(ctx, { ...p, escrowedWh: p.escrowedWh - part.amountWh, soldWh: p.soldWh + part.deliveredWh, availableWh: p.availableWh + part.returnedWh }, false);
  }
  if (outcome.energyToBuyerWh > 0) {
    const first = t.packets[0] ? await getPacket(ctx, t.packets[0].packetId) : undefined;
    const bought: EnergyPacket = {
      packetId: `pkt-${t.tradeId.slice(4)}`,
      owner: t.buyer,
      mspId: t.buyerMspId,
      meterId: t.buyerMeterId,
      source: first?.source ?? 'other',
      intervalStart: t.deliveryStart,
      intervalLength: t.deliveryLength,
      amountWh: outcome.energyToBuyerWh,
      availableWh: 0,
      escrowedWh: 0,
      soldWh: 0,
      claimedWh: outcome.energyToBuyerWh,
      origin: 'trade',
      tradeId: t.tradeId,
      createdAt: ctx.now,
    };
    await putPacket(ctx, bought, true);
  }
  trade.qScore = await applyReputation(ctx, gov, trade);
  if (t.validation.opened && (await readTask(ctx, t.validation.taskId))?.status !== 'CLOSED') {
    await cancelTask(ctx, t.validation.taskId, ctx.now, `trade ${t.tradeId} ${trade.state}: ${outcome.reason}`);
  }
  await putTrade(ctx, trade);
  emit(ctx, EVENTS.tradeClosed, { tradeId: t.tradeId, state: trade.state, ...outcome });
  return trade;
}

/** Applies the end of a validation stage (committee decision or window timeout). */
export async function endStage(ctx: GridLedgerContext, gov: StoredParameters, t: Trade, stage: T.Stage, committee: 'APPROVED' | 'REJECTED' | undefined): Promise<Trade> {
  const end = T.stageEnd(t, stage, committee);
  if (end === 'advance') {
    const next: Trade = { ...t, state: 'FINAL', stageDeadline: ctx.now + t.stageWindowSeconds };
    await putTrade(ctx, next);
    emit(ctx, EVENTS.tradeStageAdvanced, { tradeId: t.tradeId, state: 'FINAL', decidedBy: committee ?? 'facts', stageDeadline: next.stageDeadline });
    return next;
  }
  return closeTrade(ctx, gov, t, end);
}

/** Tally the current stage's ballot through governance, then act on it. */
export async function decideStage(ctx: GridLedgerContext, gov: StoredParameters, t: Trade): Promise<Trade> {
  const stage = T.stageOf(t);
  if (stage === 'final' && t.meteredWh === undefined) fail('PRECONDITION_FAILED', 'NO_DELIVERY_EVIDENCE', `trade ${t.tradeId}: the final stage is decided after the buyer's delivery evidence is recorded`);
  const d = await decideBallot(ctx, t.validation.taskId, stage, ctx.now);
  // Members who voted against the decided outcome lose reputation (governance rule); rewards wait for the trade's outcome.
  await applyCommitteeDecision(ctx, d, gov, ctx.now, 0n);
  // A member contrary in any ballot is never rewarded for the trade (docs/governance.md "Trade
  // outcomes"). Governance and market share ctx.state, so the records penalised above are re-read
  // with their penalty whatever the order of the calls (test/kernel/stateView.test.ts).
  const contrary = [...new Set([...t.validation.contrary, ...d.contrary])].sort();
  const honest = [...new Set([...t.validation.honest, ...d.honest])].filter((id) => !contrary.includes(id)).sort();
  const withVotes: Trade = { ...t, validation: { ...t.validation, honest, contrary, leader: d.leader ?? t.validation.leader } };
  return endStage(ctx, gov, withVotes, stage, d.outcome);
}
