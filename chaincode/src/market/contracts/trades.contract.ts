import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { GridLedgerContext } from '../../kernel/context';
import { createHash } from 'crypto';
import { flowProofRecord } from '../domain/reading';
import * as T from '../domain/trade';
import { EVENTS, type PacketUse, type Trade } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireMeter } from '../../kernel/caller';
import { canonicalJson, decode } from '../../kernel/codec';
import { ImportClaim, importClaimKey } from '../ledger/energy';
import { MKT } from '../ledger/keys';
import { transientProof, verifiedProof } from '../ledger/readings';
import { getTrade, putTrade, tradeKey } from '../ledger/trades';
import { fail } from '../../kernel/errors';
import { idArg, inputOf, intArg, jsonArg, jsonObjectArg } from '../../kernel/args';
import { pageByPartialKey, pageSizeArg } from '../../kernel/paging';
import { castVote, recordLeaderEntry, type VoteInput } from '../../governance';
import { openMarketTx } from '../services/session';
import { closeTrade, decideStage, endStage, escrowEnergy, tradeEntryOf } from '../services/settlement';
import { present } from '../../kernel/invariant';

/**
 * Validated settlement of trades (seed 002 Fig. 5 on top of seed 001's escrow). See docs/market.md
 * for the state machine; every stage needs 2f+1 attestations of the governance committee.
 */
@Info({ title: 'trades', description: 'Escrowed trades validated by a rotating committee' })
export class TradesContract extends GridLedgerContract {
  constructor() {
    super('trades');
  }

  /**
   * Seller (seed 001 sendenergy): `packetsJson` = [{packetId, amountWh}] from its own meter's
   * packets of the delivery interval. After the delivery deadline this does not escrow: the trade
   * fails as late delivery (buyer refunded, collateral share forfeited, seller penalised).
   */
  @Transaction()
  @Returns('string')
  async deliverEnergy(ctx: GridLedgerContext, tradeId: string, packetsJson: string): Promise<string> {
    const m = requireMeter(ctx, 'trades:deliverEnergy');
    const { gov } = await openMarketTx(ctx);
    const t = await getTrade(ctx, idArg(tradeId, 'tradeId'));
    if (t.seller !== m.participantId) fail('FORBIDDEN', 'NOT_SELLER', `only the seller of trade ${t.tradeId} may deliver its energy`);
    if (t.state !== 'AWAITING_ENERGY') fail('CONFLICT', 'WRONG_STATE', `trade ${t.tradeId} is ${t.state}; energy was already escrowed or the trade is closed`);
    if (ctx.now >= t.deliveryDeadline) return canonicalJson(await closeTrade(ctx, gov, t, 'late'));
    const uses = inputOf<PacketUse[]>('PacketsInput', jsonArg(packetsJson, 'packetsJson', 'a JSON array of {packetId, amountWh}'), 'packetsJson');
    const next = await escrowEnergy(ctx, gov, t, uses);
    await putTrade(ctx, next);
    // state and stage window in the event: a timeout keeper learns when the execution stage ends without reading the trade (docs/agents.md §3)
    emit(ctx, EVENTS.tradeEnergyEscrowed, { tradeId: t.tradeId, energyEscrowWh: next.energyEscrowWh, taskId: next.validation.taskId, state: next.state, stageDeadline: next.stageDeadline });
    return canonicalJson(next);
  }

  /**
   * Buyer's meter evidence (seed 001 ERC): `receivedWh` is what the buyer declares; transient
   * `importProof` is its meter's import proof for the delivery interval (meters:getProof), checked
   * against the channel hash — the endorsers learn that interval's import only. The
   * chaincode records min(escrowed energy, unclaimed import) as metered delivery.
   */
  @Transaction()
  @Returns('string')
  async confirmDelivery(ctx: GridLedgerContext, tradeId: string, receivedWh: string): Promise<string> {
    const m = requireMeter(ctx, 'trades:confirmDelivery');
    const declared = intArg(receivedWh, 'receivedWh', 0, 10_000_000);
    await openMarketTx(ctx);
    const t = await getTrade(ctx, idArg(tradeId, 'tradeId'));
    if (t.buyer !== m.participantId || t.buyerMeterId !== m.meterId) fail('FORBIDDEN', 'NOT_BUYER', `only the buyer's meter of trade ${t.tradeId} may confirm delivery`);
    if (t.state !== 'FINAL') fail('CONFLICT', 'WRONG_STATE', `trade ${t.tradeId} is ${t.state}; delivery is confirmed in the FINAL stage, after the execution stage is approved`);
    const proof = transientProof(ctx, 'importProof');
    if (!proof) fail('INVALID_ARGUMENT', 'MISSING_PROOF', 'trades:confirmDelivery needs the buyer meter\'s import proof for the delivery interval (meters:getProof) as transient "importProof"');
    if (proof.direction !== 'import' || proof.meterId !== m.meterId || proof.intervalStart !== t.deliveryStart) {
      fail('INVALID_ARGUMENT', 'WRONG_PROOF', `transient importProof must be meter ${m.meterId}'s import proof of interval ${t.deliveryStart}`);
    }
    await verifiedProof(ctx, m.mspId, proof, 'trades:confirmDelivery');
    const evidenceHash = createHash('sha256').update(flowProofRecord(proof), 'utf8').digest('hex');
    const ckey = importClaimKey(ctx, m.mspId, m.meterId, t.deliveryStart);
    const claim = (await ctx.state.get<ImportClaim>(ckey)) ?? { claimedWh: 0 };
    const next = T.recordEvidence(t, declared, Math.max(0, proof.wh - claim.claimedWh), evidenceHash);
    await ctx.state.put(ckey, { claimedWh: claim.claimedWh + (next.meteredWh as number) });
    await putTrade(ctx, next);
    emit(ctx, EVENTS.tradeDeliveryEvidenced, { tradeId: t.tradeId, declaredWh: declared, meteredWh: next.meteredWh });
    return canonicalJson(next);
  }

  /**
   * The committee's slot leader records the stage entry (Conditions 1–2 / 3–4 facts as payload).
   * Its vote is its verdict on those same facts, as the chaincode evaluates them (stageFacts): it
   * approves when they hold and refuses with the failing conditions when they do not, so an honest
   * leader is never recorded contrary to a committee that correctly refuses.
   */
  @Transaction()
  @Returns('string')
  async recordEntry(ctx: GridLedgerContext, tradeId: string): Promise<string> {
    const m = requireMeter(ctx, 'trades:recordEntry');
    await openMarketTx(ctx);
    const item = tradeEntryOf(await getTrade(ctx, idArg(tradeId, 'tradeId')));
    // a block of one (committees:recordEntries enters several tasks' ballots at once)
    const ballot = await recordLeaderEntry(ctx, item.taskId, item.ballot, m.participantId, item.payload, ctx.now, item.verdict);
    return canonicalJson(ballot);
  }

  /** A committee member attests the current stage: `voteJson` = {approve, conditions?: {conditionN: bool}, reason?}. */
  @Transaction()
  @Returns('string')
  async vote(ctx: GridLedgerContext, tradeId: string, voteJson: string): Promise<string> {
    const m = requireMeter(ctx, 'trades:vote');
    const v = inputOf<VoteInput>('VoteInput', jsonObjectArg(voteJson, 'voteJson'), 'voteJson');
    await openMarketTx(ctx);
    const t = await getTrade(ctx, idArg(tradeId, 'tradeId'));
    const stage = T.stageOf(t);
    if (stage === 'final' && t.meteredWh === undefined) fail('PRECONDITION_FAILED', 'NO_DELIVERY_EVIDENCE', `trade ${t.tradeId}: nothing to attest before the buyer's delivery evidence`);
    const vote = await castVote(ctx, t.validation.taskId, stage, m.participantId, v, ctx.now);
    return canonicalJson(vote);
  }

  /** Anyone: tallies the current stage (2f+1 approvals / f+1 refusals) and applies it. */
  @Transaction()
  @Returns('string')
  async decide(ctx: GridLedgerContext, tradeId: string): Promise<string> {
    getCaller(ctx);
    const { gov } = await openMarketTx(ctx);
    const t = await getTrade(ctx, idArg(tradeId, 'tradeId'));
    return canonicalJson(await decideStage(ctx, gov, t));
  }

  /**
   * Anyone, after a deadline: AWAITING_ENERGY past deliveryDeadline → late delivery (seller fault);
   * a stage past its window without a committee decision → the facts decide (liveness fallback).
   */
  @Transaction()
  @Returns('string')
  async timeout(ctx: GridLedgerContext, tradeId: string): Promise<string> {
    getCaller(ctx);
    const { gov } = await openMarketTx(ctx);
    const t = await getTrade(ctx, idArg(tradeId, 'tradeId'));
    if (t.state === 'AWAITING_ENERGY') {
      if (ctx.now < t.deliveryDeadline) fail('PRECONDITION_FAILED', 'DEADLINE_NOT_PASSED', `trade ${t.tradeId}: the seller may deliver until ${t.deliveryDeadline} (ledger time ${ctx.now})`);
      return canonicalJson(await closeTrade(ctx, gov, t, 'late'));
    }
    const stage = T.stageOf(t);
    if (ctx.now < (t.stageDeadline ?? 0)) fail('PRECONDITION_FAILED', 'DEADLINE_NOT_PASSED', `trade ${t.tradeId}: the ${stage} stage runs until ${t.stageDeadline} (ledger time ${ctx.now})`);
    const marked: Trade = { ...t, validation: { ...t.validation, decidedByFacts: true } };
    return canonicalJson(await endStage(ctx, gov, marked, stage, undefined));
  }

  /** Any caller: trades are pseudonymous (participant ids, amounts, prices after the contract). */
  @Transaction(false)
  @Returns('string')
  async get(ctx: GridLedgerContext, tradeId: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    return canonicalJson(await getTrade(ctx, idArg(tradeId, 'tradeId')));
  }

  /** A participant's trades (as seller or buyer), paginated through the per-party index. */
  @Transaction(false)
  @Returns('string')
  async listByParticipant(ctx: GridLedgerContext, participantId: string, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    const page = await pageByPartialKey<{ role: string }>(ctx, MKT.tradeByParty, [idArg(participantId, 'participantId')], pageSizeArg(pageSize), bookmark ?? '');
    const items = [];
    for (const i of page.items) items.push({ role: i.value.role, trade: await getTrade(ctx, present(i.attributes[1], 'the trade id in a trade-by-party key')) });
    return canonicalJson({ items, bookmark: page.bookmark });
  }

  /** Every committed version of the trade record, oldest first (Fabric key history), paginated by index. */
  @Transaction(false)
  @Returns('string')
  async history(ctx: GridLedgerContext, tradeId: string, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    await getTrade(ctx, idArg(tradeId, 'tradeId'));
    const size = pageSizeArg(pageSize);
    const start = bookmark ? intArg(bookmark, 'bookmark', 0, 1_000_000) : 0;
    const it = await ctx.stub.getHistoryForKey(tradeKey(ctx, tradeId));
    const all: Array<{ txId: string; timestamp: number; state: string; trade: Trade }> = [];
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const trade = decode<Trade>(r.value.value);
        all.push({ txId: r.value.txId, timestamp: Number(String(r.value.timestamp.seconds)), state: trade.state, trade });
      }
    } finally {
      await it.close();
    }
    all.reverse(); // Fabric returns newest first
    const items = all.slice(start, start + size);
    return canonicalJson({ items, bookmark: start + size < all.length ? String(start + size) : '' });
  }
}
