import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import * as O from '../domain/offer';
import { MAX_QUANTITY } from '../domain/validate';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireMeter } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { MKT, PENALTY_POOL } from '../ledger/keys';
import { getOffer, putOffer } from '../ledger/offers';
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
 * Fixed-price offers with escrow (seed 001): makeOffer = `create` (CTS, collateral locked),
 * acceptOffer = `accept` (CTP, payment locked, trade created), `giveUp` (CCS), `expire`.
 */
@Info({ title: 'offers', description: 'Fixed-price energy offers with escrowed collateral and payment' })
export class OffersContract extends GridLedgerContract {
  constructor() {
    super('offers');
  }

  /** `offerJson` = {amountWh, pricePerKwh, deliveryStart, deliveryLength, ttlSeconds}. */
  @Transaction()
  @Returns('string')
  async create(ctx: GridLedgerContext, offerJson: string): Promise<string> {
    const m = requireMeter(ctx, 'offers:create');
    const input = O.parseOfferInput(jsonObjectArg(offerJson, 'offerJson'));
    const { gov, market } = await openMarketTx(ctx);
    await requireTrader(ctx, gov, m.participantId, 'offers:create');
    const offer = O.newOffer(input, m, ctx.now, await market(), O.offerIdFor(ctx.txId));
    await debit(ctx, m.participantId, offer.collateral, 'collateral-lock', `offer:${offer.offerId}`);
    await putOffer(ctx, offer, true);
    // the seller (immutable) in the event: the analytics store files the offer without reading it
    emit(ctx, EVENTS.offerCreated, { offerId: offer.offerId, amountWh: offer.amountWh, pricePerKwh: offer.pricePerKwh, deliveryStart: offer.deliveryStart, expiresAt: offer.expiresAt, seller: offer.seller, sellerMspId: offer.sellerMspId, sellerMeterId: offer.sellerMeterId });
    return canonicalJson(offer);
  }

  /** The buyer restates amountWh and pricePerKwh; they must match the offer (seed 001 "P1 = P2 and X1 = X2"). */
  @Transaction()
  @Returns('string')
  async accept(ctx: GridLedgerContext, offerId: string, amountWh: string, pricePerKwh: string): Promise<string> {
    const b = requireMeter(ctx, 'offers:accept');
    const amount = intArg(amountWh, 'amountWh', 1, 10_000_000);
    const price = intArg(pricePerKwh, 'pricePerKwh', 1, MAX_QUANTITY);
    const { gov, market } = await openMarketTx(ctx);
    const offer = await getOffer(ctx, idArg(offerId, 'offerId'));
    O.checkAcceptance(offer, b.participantId, amount, price, ctx.now);
    await requireTrader(ctx, gov, b.participantId, 'offers:accept');
    const params = await market();
    await debit(ctx, b.participantId, offer.cost, 'payment-lock', `offer:${offer.offerId}`);
    const trade = await createTrade(ctx, {
      origin: 'offer',
      originId: offer.offerId,
      seller: { participantId: offer.seller, mspId: offer.sellerMspId, meterId: offer.sellerMeterId },
      buyer: { participantId: b.participantId, mspId: b.mspId, meterId: b.meterId },
      amountWh: offer.amountWh,
      pricePerKwh: offer.pricePerKwh,
      collateral: offer.collateral,
      deliveryStart: offer.deliveryStart,
      deliveryLength: offer.deliveryLength,
    }, params);
    await putOffer(ctx, { ...offer, status: 'ACCEPTED', tradeId: trade.tradeId, closedAt: ctx.now });
    emit(ctx, EVENTS.offerAccepted, { offerId: offer.offerId, tradeId: trade.tradeId });
    return canonicalJson(trade);
  }

  /** Seller withdraws: before expiry giveUpForfeitBps of the collateral goes to the penalty pool; after it, all comes back. */
  @Transaction()
  @Returns('string')
  async giveUp(ctx: GridLedgerContext, offerId: string): Promise<string> {
    const m = requireMeter(ctx, 'offers:giveUp');
    const { market } = await openMarketTx(ctx);
    const offer = await getOffer(ctx, idArg(offerId, 'offerId'));
    if (offer.seller !== m.participantId) fail('FORBIDDEN', 'NOT_SELLER', `only the seller may give up offer ${offer.offerId}`);
    const c = O.giveUp(offer, ctx.now, await market());
    await this.release(ctx, c);
    return canonicalJson(c.offer);
  }

  /** Anyone, after expiry: closes the OPEN offer and returns the seller's collateral in full. */
  @Transaction()
  @Returns('string')
  async expire(ctx: GridLedgerContext, offerId: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    const c = O.expire(await getOffer(ctx, idArg(offerId, 'offerId')), ctx.now);
    await this.release(ctx, c);
    return canonicalJson(c.offer);
  }

  @Transaction(false)
  @Returns('string')
  async get(ctx: GridLedgerContext, offerId: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    return canonicalJson(await getOffer(ctx, idArg(offerId, 'offerId')));
  }

  /** OPEN offers for one delivery interval (deliveryStart given) or all, in delivery order; paginated. */
  @Transaction(false)
  @Returns('string')
  async listOpen(ctx: GridLedgerContext, deliveryStart: string, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    const attrs = deliveryStart ? [padUint(intArg(deliveryStart, 'deliveryStart', 0, 4_102_444_800), 12)] : [];
    const page = await pageByPartialKey<{ offerId: string }>(ctx, MKT.openOffer, attrs, pageSizeArg(pageSize), bookmark ?? '');
    const items = [];
    for (const i of page.items) items.push(await getOffer(ctx, i.value.offerId));
    return canonicalJson({ items, bookmark: page.bookmark });
  }

  private async release(ctx: GridLedgerContext, c: O.OfferClosure): Promise<void> {
    const ref = `offer:${c.offer.offerId}`;
    await credit(ctx, c.offer.seller, c.returned, 'collateral-release', ref);
    await credit(ctx, PENALTY_POOL, c.forfeited, 'forfeit', ref);
    await putOffer(ctx, c.offer);
    emit(ctx, EVENTS.offerClosed, { offerId: c.offer.offerId, status: c.offer.status, returned: c.returned, forfeited: c.forfeited });
  }
}
