/**
 * Fixed-price offers with escrow (seed 001), pure state transitions.
 *
 *   OPEN ──accept (before expiry, amount & price match, funds locked)──▶ ACCEPTED (a trade exists)
 *   OPEN ──giveUp before expiry──▶ WITHDRAWN   (giveUpForfeitBps of the collateral is kept: scenario 2)
 *   OPEN ──giveUp / expire at or after expiry──▶ EXPIRED (collateral returned in full: scenarios 2, 3)
 *
 * An acceptance at or after expiry is refused with PRECONDITION_FAILED and nothing is taken from the
 * buyer (seed 001 scenario 3's "refund" is atomic on Fabric: the payment is never locked); the
 * seller's collateral comes back in full through giveUp/expire.
 */
import { createHash } from 'crypto';
import { bpsOf, costOf } from './money';
import { MarketParams, checkPrice } from './params';
import { checkIntervalLength } from './reading';
import { Obj } from './validate';
import { fail } from '../../kernel/errors';
import { inputOf } from '../../kernel/args';

import type { OfferStatus } from '@gridledger/protocol';
export type { OfferStatus };

export interface Offer {
  offerId: string;
  seller: string;
  sellerMspId: string;
  sellerMeterId: string;
  amountWh: number;
  pricePerKwh: number;
  cost: number;
  collateral: number;
  deliveryStart: number;
  deliveryLength: number;
  createdAt: number;
  expiresAt: number;
  status: OfferStatus;
  tradeId?: string;
  closedAt?: number;
  collateralReturned?: number;
  forfeited?: number;
}

export interface OfferInput {
  amountWh: number;
  pricePerKwh: number;
  deliveryStart: number;
  deliveryLength: number;
  ttlSeconds: number;
}

/** `offerJson`, checked against its schema (OfferInput, packages/protocol). */
export function parseOfferInput(o: Obj): OfferInput {
  return inputOf<OfferInput>('OfferInput', o, 'offer');
}

/**
 * A delivery interval is exactly one metering interval of this network (market parameter
 * `minIntervalSeconds`), so both meters' readings can evidence it.
 */
export function checkDeliveryInterval(start: number, length: number, params: MarketParams, what: string): void {
  checkIntervalLength(length, params.minIntervalSeconds, `${what}.deliveryLength (one metering interval)`);
  if (start % length !== 0) fail('INVALID_ARGUMENT', 'BAD_INTERVAL', `${what}.deliveryStart must be aligned to deliveryLength`);
}

export function offerIdFor(txId: string): string {
  return 'ofr-' + createHash('sha256').update(`gridledger/offer\n${txId}`).digest('hex').slice(0, 32);
}

export function newOffer(
  input: OfferInput,
  seller: { participantId: string; mspId: string; meterId: string },
  now: number,
  params: MarketParams,
  offerId: string,
): Offer {
  checkDeliveryInterval(input.deliveryStart, input.deliveryLength, params, 'offer');
  checkPrice(input.pricePerKwh, params, 'offer.pricePerKwh');
  if (input.ttlSeconds < params.minOfferTtlSeconds || input.ttlSeconds > params.maxOfferTtlSeconds) {
    fail('INVALID_ARGUMENT', 'OUT_OF_RANGE', `offer.ttlSeconds must be between ${params.minOfferTtlSeconds} and ${params.maxOfferTtlSeconds}`);
  }
  const expiresAt = now + input.ttlSeconds;
  if (input.deliveryStart < expiresAt) {
    fail('INVALID_ARGUMENT', 'BAD_WINDOW', `offer.deliveryStart (${input.deliveryStart}) must not be before the offer expires (${expiresAt}): acceptance closes before delivery begins`);
  }
  const cost = costOf(input.amountWh, input.pricePerKwh);
  if (cost < 1) fail('INVALID_ARGUMENT', 'COST_TOO_SMALL', 'offer: amountWh * pricePerKwh / 1000 must be at least 1 minor unit');
  return {
    offerId,
    seller: seller.participantId,
    sellerMspId: seller.mspId,
    sellerMeterId: seller.meterId,
    amountWh: input.amountWh,
    pricePerKwh: input.pricePerKwh,
    cost,
    collateral: bpsOf(cost, params.collateralBps),
    deliveryStart: input.deliveryStart,
    deliveryLength: input.deliveryLength,
    createdAt: now,
    expiresAt,
    status: 'OPEN',
  };
}

/** Checks an acceptance (CTP). Throws when it must be refused; nothing is written then. */
export function checkAcceptance(offer: Offer, buyer: string, amountWh: number, pricePerKwh: number, now: number): void {
  if (offer.status !== 'OPEN') fail('CONFLICT', 'WRONG_STATE', `offer ${offer.offerId} is ${offer.status}, not OPEN`);
  if (now >= offer.expiresAt) {
    fail('PRECONDITION_FAILED', 'EXPIRED', `offer ${offer.offerId} expired at ${offer.expiresAt} (ledger time ${now}); nothing was charged`);
  }
  if (buyer === offer.seller) fail('FORBIDDEN', 'SELF_TRADE', 'a participant cannot accept its own offer');
  if (amountWh !== offer.amountWh || pricePerKwh !== offer.pricePerKwh) {
    fail('CONFLICT', 'TERMS_MISMATCH', `acceptance must match the offer exactly: amountWh ${offer.amountWh} and pricePerKwh ${offer.pricePerKwh} (got ${amountWh} and ${pricePerKwh})`);
  }
}

export interface OfferClosure {
  offer: Offer;
  returned: number;
  forfeited: number;
}

/** giveUp by the seller (CCS): before expiry a share is forfeited, at/after expiry all is returned. */
export function giveUp(offer: Offer, now: number, params: MarketParams): OfferClosure {
  if (offer.status !== 'OPEN') fail('CONFLICT', 'WRONG_STATE', `offer ${offer.offerId} is ${offer.status}; only an OPEN offer can be given up`);
  const early = now < offer.expiresAt;
  const forfeited = early ? bpsOf(offer.collateral, params.giveUpForfeitBps) : 0;
  const returned = offer.collateral - forfeited;
  return {
    offer: { ...offer, status: early ? 'WITHDRAWN' : 'EXPIRED', closedAt: now, collateralReturned: returned, forfeited },
    returned,
    forfeited,
  };
}

/** Anyone may close an expired OPEN offer; the seller's collateral is returned in full. */
export function expire(offer: Offer, now: number): OfferClosure {
  if (offer.status !== 'OPEN') fail('CONFLICT', 'WRONG_STATE', `offer ${offer.offerId} is ${offer.status}, not OPEN`);
  if (now < offer.expiresAt) fail('PRECONDITION_FAILED', 'NOT_EXPIRED', `offer ${offer.offerId} expires at ${offer.expiresAt}; ledger time is ${now}`);
  return { offer: { ...offer, status: 'EXPIRED', closedAt: now, collateralReturned: offer.collateral, forfeited: 0 }, returned: offer.collateral, forfeited: 0 };
}
