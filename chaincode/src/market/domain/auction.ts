/**
 * Sealed-bid reverse auction (seed 000), pure.
 *
 *   OPEN (now < t1: hashed offers; filter 1 E_s >= E_a)
 *     ─ t1 ≤ now < t2: reveals; filter 2 P_k ≤ P_s ≤ P_m and the hash matches ─
 *   close (now ≥ t2) ─▶ AWARDED (lowest P_s, deterministic tie-break) │ NO_WINNER
 *   AWARDED ─ buyer and winning seller reveal identities (U_vb / U_vs) and escrow before claimDeadline ─▶ TRADED
 *   AWARDED ─ claimDeadline passes without both claims ─▶ FAILED (whatever was escrowed is returned)
 *
 * Commitments (hex SHA-256, computed by the client; see docs/market.md):
 *   identity: H("gridledger/auction/identity\n" + participantId + "\n" + secret)   (U_vb, U_vs)
 *   price:    H("gridledger/auction/price\n" + requestId + "\n" + P_s + "\n" + salt)
 * Binding the participant id into the identity commitment means a revealed secret only works for
 * the participant who committed it. Binding the request id into the price commitment stops a
 * commitment being replayed in another auction. No price is on the ledger before its reveal.
 */
import { createHash } from 'crypto';
import { MarketParams, checkPrice } from './params';
import { checkDeliveryInterval } from './offer';
import { Obj, SECRET_PATTERN } from './validate';
import { fail } from '../../kernel/errors';
import { inputOf } from '../../kernel/args';

import type { AuctionStatus, BidStatus } from '@gridledger/protocol';
export type { AuctionStatus, BidStatus };

export interface AuctionRequest {
  requestId: string;
  amountWh: number; // E_a
  maxPricePerKwh: number; // P_m
  t1: number;
  t2: number;
  claimDeadline: number;
  buyerCommitment: string; // H(U_vb)
  deliveryStart: number;
  deliveryLength: number;
  createdAt: number;
  status: AuctionStatus;
  winnerOfferId?: string;
  winnerPricePerKwh?: number;
  tieBreakBeacon?: string;
  buyerClaim?: { participantId: string; mspId: string; meterId: string; payment: number };
  sellerClaim?: { participantId: string; mspId: string; meterId: string; collateral: number };
  tradeId?: string;
  closedAt?: number;
  /** Winners that did not claim in time; the award passes to the next-ranked valid bid. */
  passedOver?: string[];
}

export interface AuctionBid {
  requestId: string;
  offerId: string;
  energyWh: number; // E_s
  priceCommitment: string; // H(P_s ‖ salt)
  sellerCommitment: string; // H(U_vs)
  committedAt: number;
  status: BidStatus;
  pricePerKwh?: number;
  salt?: string;
  revealedAt?: number;
  filterReason?: string;
}

export function sha256hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function identityCommitment(participantId: string, secret: string): string {
  return sha256hex(`gridledger/auction/identity\n${participantId}\n${secret}`);
}

export function priceCommitment(requestId: string, pricePerKwh: number, salt: string): string {
  return sha256hex(`gridledger/auction/price\n${requestId}\n${pricePerKwh}\n${salt}`);
}

export function requestIdFor(txId: string, buyerCommitment: string): string {
  return 'req-' + sha256hex(`gridledger/auction/request\n${txId}\n${buyerCommitment}`).slice(0, 32);
}

export function bidIdFor(requestId: string, sellerCommitment: string): string {
  return 'bid-' + sha256hex(`gridledger/auction/bid\n${requestId}\n${sellerCommitment}`).slice(0, 32);
}

export function parseRequest(o: Obj, now: number, params: MarketParams, requestId: string): AuctionRequest {
  const i = inputOf<Pick<AuctionRequest, 'amountWh' | 'maxPricePerKwh' | 't1' | 't2' | 'buyerCommitment' | 'deliveryStart' | 'deliveryLength'>>('AuctionRequestInput', o, 'auctionRequest');
  const r: AuctionRequest = {
    requestId,
    amountWh: i.amountWh,
    maxPricePerKwh: i.maxPricePerKwh,
    t1: i.t1,
    t2: i.t2,
    claimDeadline: 0,
    buyerCommitment: i.buyerCommitment,
    deliveryStart: i.deliveryStart,
    deliveryLength: i.deliveryLength,
    createdAt: now,
    status: 'OPEN',
  };
  // Seed 000: rejected unless P_m > P_k.
  if (!(r.maxPricePerKwh > params.minPricePerKwh)) {
    fail('PRECONDITION_FAILED', 'PRICE_BELOW_MINIMUM', `auctionRequest.maxPricePerKwh (P_m = ${r.maxPricePerKwh}) must exceed the regulator's minimum P_k = ${params.minPricePerKwh}`);
  }
  if (!(now < r.t1 && r.t1 < r.t2)) fail('INVALID_ARGUMENT', 'BAD_WINDOW', `auctionRequest: need ledger time (${now}) < t1 < t2`);
  r.claimDeadline = r.t2 + params.auctionClaimSeconds;
  checkDeliveryInterval(r.deliveryStart, r.deliveryLength, params, 'auctionRequest');
  if (r.deliveryStart < r.claimDeadline) {
    fail('INVALID_ARGUMENT', 'BAD_WINDOW', `auctionRequest.deliveryStart must not be before the claim deadline t2 + ${params.auctionClaimSeconds} = ${r.claimDeadline}`);
  }
  return r;
}

/** Hashed offer before t1; filter 1 (E_s ≥ E_a) is applied on entry. */
export function newBid(req: AuctionRequest, o: Obj, now: number): AuctionBid {
  const i = inputOf<{ energyWh: number; priceCommitment: string; sellerCommitment: string }>('AuctionBidInput', o, 'auctionBid');
  if (req.status !== 'OPEN') fail('CONFLICT', 'WRONG_STATE', `auction ${req.requestId} is ${req.status}`);
  if (now >= req.t1) fail('PRECONDITION_FAILED', 'BIDDING_CLOSED', `auction ${req.requestId} stopped taking offers at t1 = ${req.t1} (ledger time ${now})`);
  const { energyWh, sellerCommitment } = i;
  if (energyWh < req.amountWh) {
    fail('PRECONDITION_FAILED', 'BID_TOO_SMALL', `filter 1: offered energy E_s = ${energyWh} Wh is less than the requested E_a = ${req.amountWh} Wh`);
  }
  if (sellerCommitment === req.buyerCommitment) fail('FORBIDDEN', 'SELF_TRADE', 'auctionBid: the buyer cannot bid in its own auction');
  return {
    requestId: req.requestId,
    offerId: bidIdFor(req.requestId, sellerCommitment),
    energyWh,
    priceCommitment: i.priceCommitment,
    sellerCommitment,
    committedAt: now,
    status: 'COMMITTED',
  };
}

/**
 * Reveal between t1 and t2 (filter 2). A hash mismatch is refused (nothing recorded, the bid stays
 * sealed and so never wins); a matching reveal outside [P_k, P_m] is recorded as FILTERED.
 */
export function reveal(req: AuctionRequest, bid: AuctionBid, o: Obj, now: number, params: MarketParams): AuctionBid {
  const { pricePerKwh, salt } = inputOf<{ pricePerKwh: number; salt: string }>('AuctionRevealInput', o, 'auctionReveal');
  if (now < req.t1) fail('PRECONDITION_FAILED', 'REVEAL_NOT_OPEN', `reveals open at t1 = ${req.t1} (ledger time ${now})`);
  if (now >= req.t2) fail('PRECONDITION_FAILED', 'REVEAL_CLOSED', `reveals closed at t2 = ${req.t2} (ledger time ${now})`);
  if (bid.status !== 'COMMITTED') fail('CONFLICT', 'ALREADY_REVEALED', `offer ${bid.offerId} was already revealed (${bid.status}); a reveal cannot be replayed`);
  if (priceCommitment(req.requestId, pricePerKwh, salt) !== bid.priceCommitment) {
    fail('INVALID_ARGUMENT', 'COMMITMENT_MISMATCH', `auctionReveal: price and salt do not match the commitment of offer ${bid.offerId}`);
  }
  const revealed: AuctionBid = { ...bid, status: 'REVEALED', pricePerKwh, salt, revealedAt: now };
  let reason: string | undefined;
  if (pricePerKwh > req.maxPricePerKwh) reason = `P_s ${pricePerKwh} > P_m ${req.maxPricePerKwh}`;
  else {
    try {
      checkPrice(pricePerKwh, params, 'P_s');
    } catch (e) {
      reason = (e as Error).message.replace(/^\[[A-Z_]+\] /, '');
    }
  }
  return reason ? { ...revealed, status: 'FILTERED', filterReason: reason } : revealed;
}

/**
 * After t2: the lowest revealed price wins. Ties break on SHA-256(beacon ‖ offerId), where the
 * beacon hashes every valid reveal's salt: salts were fixed inside commitments before t1, so no
 * bidder can steer the tie-break after seeing the others (it can only withhold its own reveal,
 * which also removes it from the auction).
 */
export function selectWinner(bids: AuctionBid[], exclude: readonly string[] = []): { winner?: AuctionBid; beacon: string } {
  const all = bids.filter((b) => b.status === 'REVEALED').sort((a, b) => (a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0));
  // The beacon covers every valid reveal (also passed-over ones) so re-awards use the same ranking.
  const beacon = sha256hex('gridledger/auction/tiebreak\n' + all.map((b) => `${b.offerId}:${b.salt}`).join('\n'));
  const valid = all.filter((b) => !exclude.includes(b.offerId));
  return { winner: lowest(valid, beacon), beacon };
}

function lowest(valid: AuctionBid[], beacon: string): AuctionBid | undefined {
  let winner: AuctionBid | undefined;
  let winnerKey = '';
  for (const b of valid) {
    const key = sha256hex(`${beacon}\n${b.offerId}`);
    if (!winner || (b.pricePerKwh as number) < (winner.pricePerKwh as number) || (b.pricePerKwh === winner.pricePerKwh && key < winnerKey)) {
      winner = b;
      winnerKey = key;
    }
  }
  return winner;
}

export function close(req: AuctionRequest, bids: AuctionBid[], now: number): AuctionRequest {
  if (req.status !== 'OPEN') fail('CONFLICT', 'WRONG_STATE', `auction ${req.requestId} is already ${req.status}`);
  if (now < req.t2) fail('PRECONDITION_FAILED', 'DEADLINE_NOT_PASSED', `auction ${req.requestId} can be closed at t2 = ${req.t2} (ledger time ${now})`);
  const { winner, beacon } = selectWinner(bids);
  if (!winner) return { ...req, status: 'NO_WINNER', tieBreakBeacon: beacon, closedAt: now };
  return { ...req, status: 'AWARDED', winnerOfferId: winner.offerId, winnerPricePerKwh: winner.pricePerKwh, tieBreakBeacon: beacon, closedAt: now };
}

/**
 * After the claim deadline: if the winning SELLER did not claim, the award passes to the next-ranked
 * valid bid (seed 000's list L_s), with a fresh claim window that must end before delivery starts;
 * a buyer claim made at the old price is refunded (the buyer claims again at the new price ≤ P_m).
 * If the buyer did not claim, or no bid is left, the auction fails. Returns what to refund.
 */
export function afterClaimDeadline(req: AuctionRequest, bids: AuctionBid[], now: number, params: MarketParams): { request: AuctionRequest; refundBuyer: number; refundSeller: number } {
  if (req.status !== 'AWARDED') fail('CONFLICT', 'WRONG_STATE', `auction ${req.requestId} is ${req.status}, not AWARDED`);
  if (now < req.claimDeadline) fail('PRECONDITION_FAILED', 'DEADLINE_NOT_PASSED', `claims are open until ${req.claimDeadline} (ledger time ${now})`);
  const refundBuyer = req.buyerClaim?.payment ?? 0;
  const refundSeller = req.sellerClaim?.collateral ?? 0;
  const passedOver = [...(req.passedOver ?? []), req.winnerOfferId as string];
  const next = selectWinner(bids, passedOver).winner;
  const claimDeadline = now + params.auctionClaimSeconds;
  if (!req.sellerClaim && req.buyerClaim && next && claimDeadline <= req.deliveryStart) {
    const { buyerClaim: _b, sellerClaim: _s, ...rest } = req;
    return { request: { ...rest, winnerOfferId: next.offerId, winnerPricePerKwh: next.pricePerKwh, claimDeadline, passedOver }, refundBuyer, refundSeller };
  }
  return { request: { ...req, status: 'FAILED', closedAt: now }, refundBuyer, refundSeller };
}

export function checkClaimWindow(req: AuctionRequest, now: number): void {
  if (req.status !== 'AWARDED') fail('CONFLICT', 'WRONG_STATE', `auction ${req.requestId} is ${req.status}, not AWARDED`);
  if (now >= req.claimDeadline) fail('PRECONDITION_FAILED', 'CLAIM_CLOSED', `the claim window closed at ${req.claimDeadline} (ledger time ${now})`);
}

export function checkIdentity(commitment: string, participantId: string, secret: string, who: string): void {
  if (!SECRET_PATTERN.test(secret)) fail('INVALID_ARGUMENT', 'BAD_SECRET', `${who} secret must be 16-256 printable ASCII characters`);
  if (identityCommitment(participantId, secret) !== commitment) {
    fail('FORBIDDEN', 'IDENTITY_MISMATCH', `${who}: the secret does not open the identity commitment for this caller`);
  }
}
