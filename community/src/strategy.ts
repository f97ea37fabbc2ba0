/**
 * The households' trading strategy: pure decisions, no I/O. The simulator feeds them what it read from
 * the ledger (market parameters, open offers and auctions) and its forecasts, and submits what they say.
 *
 * - A household whose forecast for the delivery interval is an export SELLS a safe share of it
 *   (`SELL_MARGIN`): the chaincode mints only what the meter proves it exported, and a seller who
 *   delivers less than it sold is penalised, so it offers less than it expects. It offers in lots sized
 *   like a neighbour's need (an acceptance takes a whole offer), a few per interval, each a little
 *   dearer than the last (a supply curve).
 * - Its price lies between the regulator's floor P_k (`minPricePerKwh`) and the retail price: the more
 *   of its capacity it has to sell, the lower it goes (a PV owner with a big surplus wants it gone), with
 *   a small seeded jitter so sellers differ. Grid Singularity's gsy-e PV agents likewise move between an
 *   initial and a final selling rate; here the position is set once per offer.
 * - A household with a forecast deficit BUYS at most `BUY_MARGIN` of it (a buyer whose meter shows less
 *   import than it bought leaves the seller's energy undelivered by the meter), taking the cheapest open
 *   offers that fit its need, never above the retail price (it can always buy from its utility at retail).
 * - A seeded share of buyers runs a sealed-bid reverse auction instead (max price = retail); sellers with
 *   a forecast surplus at the auction's delivery interval bid their ask price if it is within
 *   [P_k, max price] and they can cover the whole amount (the auction's filter 1: E_s ≥ E_a).
 */
import { stream } from './prng';

/** Share of the forecast surplus a seller offers. */
export const SELL_MARGIN = 0.7;
/** Share of the forecast deficit a buyer buys. */
export const BUY_MARGIN = 0.8;
/** Smallest offer / purchase worth a transaction, Wh. */
export const MIN_TRADE_WH = 20;

export interface PriceBand {
  /** P_k: the regulator's floor, minor units per kWh */
  floor: number;
  /** the utility's retail price, minor units per kWh (a buyer never pays more) */
  retail: number;
}

/** Energy rounded down to 10 Wh (round numbers on the order book). */
function down10(wh: number): number {
  return Math.floor(wh / 10) * 10;
}

/** Wh a seller can offer for a forecast export (0 = nothing worth offering). */
export function offerAmountWh(forecastExportWh: number): number {
  if (forecastExportWh <= 0) return 0;
  const wh = down10(forecastExportWh * SELL_MARGIN);
  return wh >= MIN_TRADE_WH ? wh : 0;
}

/**
 * How many intervals ahead of the one just begun a seller offers: the next one when an offer made now
 * (phase A, up to 15 s after the boundary) can still live the market's minimum TTL until 15 s before its
 * delivery; otherwise further ahead (60 s intervals with a 60 s minimum TTL: two). Buyers still take
 * offers for the interval after the running one, so the offer made now is taken one interval later.
 */
export function offerLeadIntervals(intervalSeconds: number, minOfferTtlSeconds: number): number {
  return Math.max(1, Math.ceil((minOfferTtlSeconds + 30) / intervalSeconds));
}

/** Wh a buyer wants for a forecast import (0 = none). */
export function purchaseNeedWh(forecastImportWh: number): number {
  if (forecastImportWh <= 0) return 0;
  const wh = down10(forecastImportWh * BUY_MARGIN);
  return wh >= MIN_TRADE_WH ? wh : 0;
}

/**
 * Splits what a seller can offer into lots: an acceptance takes a whole offer (it restates amount and
 * price), so offers sized like a neighbour's need sell where one big offer would find no buyer.
 * `lotWh` lots, at most `maxLots` (the rest of its surplus goes to the grid); a seller with less than one
 * lot offers what it has.
 */
export function lots(offerableWh: number, lotWh: number, maxLots: number): number[] {
  if (offerableWh < MIN_TRADE_WH || maxLots < 1) return [];
  const n = Math.min(maxLots, Math.floor(offerableWh / lotWh));
  return n === 0 ? [down10(offerableWh)] : Array.from({ length: n }, () => lotWh);
}

/**
 * The lot size of a community: 30 % of the average household's consumption over one interval (what a
 * buyer with a deficit typically needs at the 80 % margin, leaving room for several lots), in 10 Wh.
 */
export function lotSizeWh(averageAnnualKWh: number, spanSeconds: number): number {
  const wh = ((averageAnnualKWh * 1000) / (365 * 86_400)) * spanSeconds * 0.3;
  return Math.max(MIN_TRADE_WH, down10(wh));
}

/** The i-th lot's price: a supply curve rising by 2 % of the band per lot from the ask, capped at retail. */
export function lotPrice(band: PriceBand, ask: number, i: number): number {
  return Math.min(band.retail, ask + i * Math.max(1, Math.round((band.retail - band.floor) * 0.02)));
}

/**
 * The seller's ask, minor units per kWh, in [floor, retail]. `surplusWh / capacityWh` is how much of its
 * PV capacity over the interval it has spare; position = 0.8 − 0.6 · share (so 0.2–0.8 of the band),
 * ± 0.1 seeded jitter by (seed, meter, delivery interval).
 */
export function askPrice(band: PriceBand, surplusWh: number, capacityWh: number, seed: number, meterId: string, deliveryStart: number): number {
  const span = Math.max(0, band.retail - band.floor);
  const share = capacityWh > 0 ? Math.min(1, Math.max(0, surplusWh / capacityWh)) : 0;
  const jitter = (stream(seed, 'ask', meterId, deliveryStart)() - 0.5) * 0.2;
  const position = Math.min(1, Math.max(0, 0.8 - 0.6 * share + jitter));
  return Math.min(band.retail, Math.max(band.floor, band.floor + Math.round(position * span)));
}

export interface OpenOffer {
  offerId: string;
  seller: string;
  amountWh: number;
  pricePerKwh: number;
  deliveryStart: number;
  expiresAt: number;
}

export interface Buyer {
  meterId: string;
  participantId: string;
  needWh: number;
  /** highest price it pays (retail) */
  maxPricePerKwh: number;
}

export interface Acceptance {
  meterId: string;
  offerId: string;
  amountWh: number;
  pricePerKwh: number;
}

/**
 * Buyers take the cheapest offers. Offers ascending by price (then id, for a deterministic order);
 * buyers by need, largest first (then meter id). Each buyer, in turn, takes every remaining offer, cheapest
 * first, whose whole amount fits its remaining need (acceptance restates the offer's amount and price:
 * there is no partial fill) and whose price is at most its maximum; never its own offer; an offer goes to
 * one buyer only. Offers already expired at `now` are skipped.
 */
export function matchOffers(buyers: readonly Buyer[], offers: readonly OpenOffer[], now: number): Acceptance[] {
  const book = offers
    .filter((o) => o.expiresAt > now && o.amountWh > 0)
    .slice()
    .sort((a, b) => a.pricePerKwh - b.pricePerKwh || (a.offerId < b.offerId ? -1 : a.offerId > b.offerId ? 1 : 0));
  const taken = new Set<string>();
  const out: Acceptance[] = [];
  const order = buyers.slice().sort((a, b) => b.needWh - a.needWh || (a.meterId < b.meterId ? -1 : 1));
  for (const b of order) {
    let need = b.needWh;
    for (const o of book) {
      if (need < MIN_TRADE_WH) break;
      if (taken.has(o.offerId) || o.seller === b.participantId) continue;
      if (o.pricePerKwh > b.maxPricePerKwh || o.amountWh > need) continue;
      taken.add(o.offerId);
      need -= o.amountWh;
      out.push({ meterId: b.meterId, offerId: o.offerId, amountWh: o.amountWh, pricePerKwh: o.pricePerKwh });
    }
  }
  return out;
}

/** Whether this buyer runs an auction for this delivery interval (a seeded `share` of buyers). */
export function runsAuction(seed: number, meterId: string, deliveryStart: number, share: number): boolean {
  if (share <= 0) return false;
  return stream(seed, 'auction', meterId, deliveryStart)() < share;
}

/**
 * How many metering intervals sellers have to bid on an auction (and its bidders to reveal). Sellers bid
 * in the mid-interval phase, and only up to 30 s before t1 (`bidFor`). With one interval (t1 = the
 * request + L) the request's own phase came at L/2 after the boundary and, once the buyers' acceptances
 * before it had taken their commits, it ran later than t1 − 30 s: no bench run ever saw a bid, and every
 * auction ended NO_WINNER (docs/benchmarks.md "Market"). Two intervals leave a full phase of margin.
 */
export const AUCTION_BID_INTERVALS = 2;

/**
 * Auction timing from `now` (wall clock): bids until t1, reveals until t2, winners claim until
 * t2 + auctionClaimSeconds, and delivery starts at the first metering interval after that plus one
 * interval of slack (the claims must be on the ledger before delivery). `bidWindow` is how long sellers
 * have to bid, the reveal window the same (the simulator: AUCTION_BID_INTERVALS intervals).
 */
export function auctionTiming(now: number, bidWindow: number, claimSeconds: number, intervalLength: number): { t1: number; t2: number; deliveryStart: number } {
  const t1 = now + bidWindow;
  const t2 = t1 + bidWindow;
  const deliveryStart = Math.ceil((t2 + claimSeconds + intervalLength) / intervalLength) * intervalLength;
  return { t1, t2, deliveryStart };
}

export interface OpenAuction {
  requestId: string;
  amountWh: number;
  maxPricePerKwh: number;
  t1: number;
  deliveryStart: number;
}

/**
 * A seller's bid on an auction, or undefined: it must still be before t1 (with `marginSeconds` for the
 * commit), its offerable surplus must cover the whole request (filter 1) and its ask must be within
 * [floor, max price] (filter 2 — a bid that the reveal would filter out is not worth its collateral).
 */
export function bidFor(auction: OpenAuction, offerableWh: number, ask: number, band: PriceBand, now: number, marginSeconds: number): { energyWh: number; pricePerKwh: number } | undefined {
  if (now + marginSeconds >= auction.t1) return undefined;
  if (offerableWh < auction.amountWh) return undefined;
  if (ask < band.floor || ask > auction.maxPricePerKwh) return undefined;
  return { energyWh: auction.amountWh, pricePerKwh: ask };
}

/** The agent behaviours a faulty household may get (issue 17 item 1); `honest` is the default. */
export const FAULTY_BEHAVIOURS = ['silent', 'refuse-all', 'approve-all', 'withhold-delivery', 'under-deliver', 'lying-buyer'] as const;
export type Behaviour = 'honest' | (typeof FAULTY_BEHAVIOURS)[number];

/**
 * Behaviours for the households: round(share · N) of them, chosen by the seed (never a founder: the
 * founders bootstrap the committee that admits everyone else), get the faulty behaviours in turn.
 */
export function assignBehaviours(seed: number, meterIds: readonly string[], founders: ReadonlySet<string>, share: number): Map<string, Behaviour> {
  const out = new Map<string, Behaviour>(meterIds.map((m) => [m, 'honest' as Behaviour]));
  const candidates = meterIds.filter((m) => !founders.has(m));
  const count = Math.min(candidates.length, Math.round(Math.max(0, Math.min(1, share)) * meterIds.length));
  const rng = stream(seed, 'behaviours');
  const pool = candidates.slice();
  for (let i = 0; i < count; i++) {
    const j = Math.floor(rng() * pool.length);
    const [m] = pool.splice(j, 1);
    out.set(m!, FAULTY_BEHAVIOURS[i % FAULTY_BEHAVIOURS.length]!);
  }
  return out;
}

/**
 * The founding members (admitted by the regulator while the community is smaller than one committee,
 * n = 3f+1): utilities in turn, so no utility holds more than ⌈n/U⌉ seats, and within a utility the
 * first household whose PV status differs from the previous founder's when there is one — so the
 * founders, who trade before any committee admits the others, include sellers and buyers.
 */
export function chooseFounders<T extends { meterId: string; org: string; kWp: number }>(households: readonly T[], n: number): T[] {
  const orgs = [...new Set(households.map((h) => h.org))];
  const left = households.slice();
  const out: T[] = [];
  for (let i = 0; out.length < n && left.length > 0; i++) {
    const org = orgs[i % orgs.length]!;
    const mine = left.filter((h) => h.org === org);
    if (mine.length === 0) {
      if (!left.some((h) => orgs.includes(h.org))) break;
      continue;
    }
    const prevPv = out.length > 0 ? out[out.length - 1]!.kWp > 0 : false;
    const pick = mine.find((h) => h.kWp > 0 !== prevPv) ?? mine[0]!;
    out.push(pick);
    left.splice(left.indexOf(pick), 1);
  }
  return out;
}
