/**
 * The auction autopilot of a meter that handed its sealed-bid secrets to its agent (docs/agents.md §4;
 * seed 001's double-blind auction, docs/market.md): a seller reveals its price and salt between t1 and t2;
 * once the auction is AWARDED, the winning seller and the buyer claim with their identity secrets before
 * the claim deadline. Pure: the agent reads the auction and decides; a re-award (the winner did not claim)
 * wakes it again, so a runner-up bid it holds claims in the new window.
 *
 * The secrets come from the meter's client (`POST /api/v1/agents/{meterId}/auction-secrets`), are kept in
 * the gateway's database, and are only ever sent to the chaincode in the reveal and claim transactions:
 * they are never logged nor returned by the API.
 */
import type { AuctionView } from './types';

export interface AuctionSecretView {
  role: 'buyer' | 'seller';
  /** the seller's bid (its offer id in this auction), price and salt; absent for a buyer */
  offerId?: string;
  pricePerKwh?: number;
  salt?: string;
}

export type AuctionStep =
  | { kind: 'reveal'; offerId: string; pricePerKwh: number; salt: string }
  | { kind: 'claim-seller' }
  | { kind: 'claim-buyer' }
  | { kind: 'wait'; atMs?: number; why: string }
  | { kind: 'done'; why: string };

const TERMINAL = new Set(['NO_WINNER', 'TRADED', 'FAILED']);

/**
 * `revealed`: this seller's reveal is on the ledger (committed by this agent, or refused as a replay).
 * `me`: this meter's participant id, to tell its own claim from another's.
 */
export function nextAuctionStep(a: AuctionView, s: AuctionSecretView, o: { nowMs: number; revealed: boolean; me?: string }): AuctionStep {
  if (TERMINAL.has(a.status)) return { kind: 'done', why: `auction ${a.status}` };
  const t1 = a.t1 * 1000;
  const t2 = a.t2 * 1000;
  if (a.status === 'OPEN') {
    if (s.role === 'seller' && !o.revealed) {
      if (s.offerId === undefined || s.pricePerKwh === undefined || s.salt === undefined) return { kind: 'done', why: 'no bid secret to reveal' };
      if (o.nowMs < t1) return { kind: 'wait', atMs: t1, why: 'reveals open at t1' };
      if (o.nowMs < t2) return { kind: 'reveal', offerId: s.offerId, pricePerKwh: s.pricePerKwh, salt: s.salt };
      return { kind: 'done', why: 'the reveal window closed before the bid was revealed' };
    }
    return { kind: 'wait', atMs: Math.max(o.nowMs, t2), why: 'the auction closes at t2 (a keeper calls auctions:close)' };
  }
  if (a.status !== 'AWARDED') return { kind: 'wait', why: `auction ${a.status}` };
  if (o.nowMs >= a.claimDeadline * 1000) return { kind: 'wait', why: 'the claim window ended: a keeper expires or re-awards the auction' };
  if (s.role === 'buyer') {
    if (a.buyerClaim) return a.buyerClaim.participantId === o.me || o.me === undefined ? { kind: 'wait', why: "claimed; waiting for the seller's claim" } : { kind: 'done', why: 'claimed by another participant' };
    return { kind: 'claim-buyer' };
  }
  if (a.winnerOfferId !== s.offerId) return { kind: 'wait', why: `offer ${a.winnerOfferId ?? '?'} won; a re-award may pass to this bid` };
  if (a.sellerClaim) return { kind: 'wait', why: "claimed; waiting for the buyer's claim" };
  return { kind: 'claim-seller' };
}
