import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import * as A from '../domain/auction';
import { bpsOf, costOf } from '../domain/money';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireMeter } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import * as store from '../ledger/auctions';
import { MKT } from '../ledger/keys';
import { StoredMarketParams } from '../ledger/params';
import { requireTrader } from '../services/parties';
import { credit, debit } from '../ledger/wallets';
import { fail } from '../../kernel/errors';
import { idArg, intArg, jsonObjectArg } from '../../kernel/args';
import { pageByPartialKey, pageSizeArg } from '../../kernel/paging';
import { GridLedgerContext } from '../../kernel/context';
import { padUint } from '../../kernel/keys';
import { openMarketTx } from '../services/session';
import { createTrade } from '../services/settlement';

/**
 * Sealed-bid reverse auction (seed 000): reqEng = `request`, sellEng = `bid`, sendPlainOffer =
 * `reveal`, getBidL1 = `close`, verifyConsumer/verifyProsumer = `claimBuyer`/`claimSeller`.
 * The winning pair's trade then settles like any other (trades contract).
 */
@Info({ title: 'auctions', description: 'Sealed-bid reverse auctions with commit-reveal prices' })
export class AuctionsContract extends GridLedgerContract {
  constructor() {
    super('auctions');
  }

  /** Buyer: {amountWh (E_a), maxPricePerKwh (P_m), t1, t2, buyerCommitment (H(U_vb)), deliveryStart, deliveryLength}. Returns the pseudonymous request. */
  @Transaction()
  @Returns('string')
  async request(ctx: GridLedgerContext, requestJson: string): Promise<string> {
    const m = requireMeter(ctx, 'auctions:request');
    const o = jsonObjectArg(requestJson, 'requestJson');
    const { gov, market } = await openMarketTx(ctx);
    await requireTrader(ctx, gov, m.participantId, 'auctions:request');
    const commitment = typeof o.buyerCommitment === 'string' ? o.buyerCommitment : '';
    const r = A.parseRequest(o, ctx.now, await market(), A.requestIdFor(ctx.txId, commitment));
    await store.putRequest(ctx, r, true);
    emit(ctx, EVENTS.auctionRequested, { requestId: r.requestId, amountWh: r.amountWh, maxPricePerKwh: r.maxPricePerKwh, t1: r.t1, t2: r.t2, deliveryStart: r.deliveryStart });
    return canonicalJson(r);
  }

  /** Seller, before t1: {energyWh (E_s), priceCommitment (H(P_s ‖ salt)), sellerCommitment (H(U_vs))}. Filter 1 on entry. */
  @Transaction()
  @Returns('string')
  async bid(ctx: GridLedgerContext, requestId: string, bidJson: string): Promise<string> {
    const m = requireMeter(ctx, 'auctions:bid');
    const o = jsonObjectArg(bidJson, 'bidJson');
    const { gov } = await openMarketTx(ctx);
    const r = await store.getRequest(ctx, idArg(requestId, 'requestId'));
    await requireTrader(ctx, gov, m.participantId, 'auctions:bid');
    const b = A.newBid(r, o, ctx.now);
    await store.putBid(ctx, b, true);
    emit(ctx, EVENTS.auctionBid, { requestId: r.requestId, offerId: b.offerId, energyWh: b.energyWh });
    return canonicalJson(b);
  }

  /** Between t1 and t2: {pricePerKwh (P_s), salt}. Filter 2; a hash mismatch is refused, a replay is a conflict. */
  @Transaction()
  @Returns('string')
  async reveal(ctx: GridLedgerContext, requestId: string, offerId: string, revealJson: string): Promise<string> {
    requireMeter(ctx, 'auctions:reveal');
    const o = jsonObjectArg(revealJson, 'revealJson');
    const { market } = await openMarketTx(ctx);
    const r = await store.getRequest(ctx, idArg(requestId, 'requestId'));
    const b = A.reveal(r, await store.getBid(ctx, r.requestId, idArg(offerId, 'offerId')), o, ctx.now, await market());
    await store.putBid(ctx, b);
    emit(ctx, EVENTS.auctionRevealed, { requestId: r.requestId, offerId: b.offerId, status: b.status, pricePerKwh: b.pricePerKwh });
    return canonicalJson(b);
  }

  /** Anyone, at or after t2: lowest valid price wins (deterministic tie-break). */
  @Transaction()
  @Returns('string')
  async close(ctx: GridLedgerContext, requestId: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    const r = await store.getRequest(ctx, idArg(requestId, 'requestId'));
    const closed = A.close(r, await store.listBids(ctx, r.requestId), ctx.now);
    await store.putRequest(ctx, closed);
    emit(ctx, EVENTS.auctionClosed, { requestId: r.requestId, status: closed.status, winnerOfferId: closed.winnerOfferId, pricePerKwh: closed.winnerPricePerKwh });
    return canonicalJson(closed);
  }

  /** Buyer reveals U_vb (identity verification) and escrows E_a × P_s. */
  @Transaction()
  @Returns('string')
  async claimBuyer(ctx: GridLedgerContext, requestId: string, secret: string): Promise<string> {
    const m = requireMeter(ctx, 'auctions:claimBuyer');
    const { gov, market } = await openMarketTx(ctx);
    const r = await store.getRequest(ctx, idArg(requestId, 'requestId'));
    A.checkClaimWindow(r, ctx.now);
    if (r.buyerClaim) fail('CONFLICT', 'ALREADY_CLAIMED', `the buyer of auction ${r.requestId} has already claimed`);
    A.checkIdentity(r.buyerCommitment, m.participantId, secret, 'auctions:claimBuyer');
    await requireTrader(ctx, gov, m.participantId, 'auctions:claimBuyer');
    const payment = costOf(r.amountWh, r.winnerPricePerKwh as number);
    await debit(ctx, m.participantId, payment, 'payment-lock', `auction:${r.requestId}`);
    const next: A.AuctionRequest = { ...r, buyerClaim: { participantId: m.participantId, mspId: m.mspId, meterId: m.meterId, payment } };
    return canonicalJson(await this.maybeTrade(ctx, next, await market()));
  }

  /** Winning seller reveals U_vs (identity verification) and escrows its collateral. */
  @Transaction()
  @Returns('string')
  async claimSeller(ctx: GridLedgerContext, requestId: string, secret: string): Promise<string> {
    const m = requireMeter(ctx, 'auctions:claimSeller');
    const { gov, market } = await openMarketTx(ctx);
    const r = await store.getRequest(ctx, idArg(requestId, 'requestId'));
    A.checkClaimWindow(r, ctx.now);
    if (r.sellerClaim) fail('CONFLICT', 'ALREADY_CLAIMED', `the seller of auction ${r.requestId} has already claimed`);
    const winner = await store.getBid(ctx, r.requestId, r.winnerOfferId as string);
    A.checkIdentity(winner.sellerCommitment, m.participantId, secret, 'auctions:claimSeller');
    if (r.buyerClaim && r.buyerClaim.participantId === m.participantId) fail('FORBIDDEN', 'SELF_TRADE', 'the buyer cannot also be the seller');
    await requireTrader(ctx, gov, m.participantId, 'auctions:claimSeller');
    const params = await market();
    const collateral = bpsOf(costOf(r.amountWh, r.winnerPricePerKwh as number), params.collateralBps);
    await debit(ctx, m.participantId, collateral, 'collateral-lock', `auction:${r.requestId}`);
    const next: A.AuctionRequest = { ...r, sellerClaim: { participantId: m.participantId, mspId: m.mspId, meterId: m.meterId, collateral } };
    return canonicalJson(await this.maybeTrade(ctx, next, params));
  }

  /**
   * Anyone, after the claim deadline without both claims. If the buyer claimed but the winning
   * seller did not, the award passes to the next-ranked valid bid (fresh claim window; the buyer's
   * lock is returned and it claims again at the new price); otherwise the auction FAILS. Every lock
   * made so far is returned.
   */
  @Transaction()
  @Returns('string')
  async expire(ctx: GridLedgerContext, requestId: string): Promise<string> {
    getCaller(ctx);
    const { market } = await openMarketTx(ctx);
    const r = await store.getRequest(ctx, idArg(requestId, 'requestId'));
    const { request, refundBuyer, refundSeller } = A.afterClaimDeadline(r, await store.listBids(ctx, r.requestId), ctx.now, await market());
    if (r.buyerClaim) await credit(ctx, r.buyerClaim.participantId, refundBuyer, 'payment-refund', `auction:${r.requestId}`);
    if (r.sellerClaim) await credit(ctx, r.sellerClaim.participantId, refundSeller, 'collateral-release', `auction:${r.requestId}`);
    await store.putRequest(ctx, request);
    if (request.status === 'FAILED') emit(ctx, EVENTS.auctionFailed, { requestId: r.requestId, buyerClaimed: !!r.buyerClaim, sellerClaimed: !!r.sellerClaim });
    else emit(ctx, EVENTS.auctionReawarded, { requestId: r.requestId, winnerOfferId: request.winnerOfferId, pricePerKwh: request.winnerPricePerKwh, claimDeadline: request.claimDeadline });
    return canonicalJson(request);
  }

  @Transaction(false)
  @Returns('string')
  async get(ctx: GridLedgerContext, requestId: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    return canonicalJson(await store.getRequest(ctx, idArg(requestId, 'requestId')));
  }

  /** Bids of one auction: hashes until revealed, prices after; paginated. */
  @Transaction(false)
  @Returns('string')
  async listBids(ctx: GridLedgerContext, requestId: string, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    await store.getRequest(ctx, idArg(requestId, 'requestId'));
    const page = await pageByPartialKey<A.AuctionBid>(ctx, MKT.auctionBid, [requestId], pageSizeArg(pageSize), bookmark ?? '');
    return canonicalJson({ items: page.items.map((i) => i.value), bookmark: page.bookmark });
  }

  /** OPEN auctions for one delivery interval (or all), in delivery order; paginated. */
  @Transaction(false)
  @Returns('string')
  async listOpen(ctx: GridLedgerContext, deliveryStart: string, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    const attrs = deliveryStart ? [padUint(intArg(deliveryStart, 'deliveryStart', 0, 4_102_444_800), 12)] : [];
    const page = await pageByPartialKey<{ requestId: string }>(ctx, MKT.openAuction, attrs, pageSizeArg(pageSize), bookmark ?? '');
    const items = [];
    for (const i of page.items) items.push(await store.getRequest(ctx, i.value.requestId));
    return canonicalJson({ items, bookmark: page.bookmark });
  }

  /** When both winners have claimed, the escrows move into a trade (seed 000 → seed 002 settlement). */
  private async maybeTrade(ctx: GridLedgerContext, r: A.AuctionRequest, params: StoredMarketParams): Promise<A.AuctionRequest> {
    if (!r.buyerClaim || !r.sellerClaim) {
      await store.putRequest(ctx, r);
      emit(ctx, EVENTS.auctionClaimed, { requestId: r.requestId, buyerClaimed: !!r.buyerClaim, sellerClaimed: !!r.sellerClaim });
      return r;
    }
    const trade = await createTrade(ctx, {
      origin: 'auction',
      originId: r.requestId,
      seller: r.sellerClaim,
      buyer: r.buyerClaim,
      amountWh: r.amountWh,
      pricePerKwh: r.winnerPricePerKwh as number,
      collateral: r.sellerClaim.collateral,
      deliveryStart: r.deliveryStart,
      deliveryLength: r.deliveryLength,
    }, params);
    if (trade.paymentEscrow !== r.buyerClaim.payment) fail('CONFLICT', 'ESCROW_MISMATCH', 'internal: auction payment and trade cost differ');
    const traded: A.AuctionRequest = { ...r, status: 'TRADED', tradeId: trade.tradeId };
    await store.putRequest(ctx, traded);
    emit(ctx, EVENTS.auctionTraded, { requestId: r.requestId, tradeId: trade.tradeId });
    return traded;
  }
}
