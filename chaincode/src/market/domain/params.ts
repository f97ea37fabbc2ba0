/**
 * Market parameters set by the regulator (seed 000 P_k; seed 001 collateral and forfeits).
 * All integers: prices in minor units per kWh, shares in basis points, durations in seconds.
 * The penalty threshold k and the ban length are governance parameters (governance:setParameters),
 * because a ban is a participant status shared with committee eligibility.
 */
import { INTERVAL_LENGTHS, PRODUCTION_MIN_INTERVAL_SECONDS } from './reading';
import { Obj } from './validate';
import { fail } from '../../kernel/errors';
import { inputOf } from '../../kernel/args';

export interface MarketParams {
  /** P_k: minimum price per kWh a seller may receive (seed 000). */
  minPricePerKwh: number;
  /** Optional cap on any price per kWh; 0 = no cap. */
  maxPricePerKwh: number;
  /** Seller collateral (commitment to send, CTS) as a share of the offer's cost. */
  collateralBps: number;
  /** Share of the collateral kept when the seller gives up BEFORE expiry (seed 001 scenario 2). */
  giveUpForfeitBps: number;
  /** Share of the collateral kept when the seller is late or at fault (seed 001 scenario 4). */
  faultForfeitBps: number;
  /** Offer expiry bounds (acceptance window), seconds after creation. */
  minOfferTtlSeconds: number;
  maxOfferTtlSeconds: number;
  /** After the delivery interval ends, the seller has this long to move the energy into escrow. */
  deliveryGraceSeconds: number;
  /** Each validation stage (execution, final) waits this long for 2f+1 attestations before facts decide. */
  stageWindowSeconds: number;
  /** After the auction's t2, winners have this long to reveal their identity and escrow. */
  auctionClaimSeconds: number;
  /**
   * Shortest metering interval (readings, offers' and auctions' delivery intervals) this network
   * accepts: one of 60, 300, 900, 1800, 3600. Production keeps 300; 60 is for development and test
   * networks, set at bootstrap from test-network-config/network.yaml `development.intervalSeconds`
   * (docs/operations.md).
   */
  minIntervalSeconds: number;
}

export const DEFAULT_MARKET_PARAMS: MarketParams = {
  minPricePerKwh: 5,
  maxPricePerKwh: 0,
  collateralBps: 2_000,
  giveUpForfeitBps: 1_000,
  faultForfeitBps: 2_500,
  minOfferTtlSeconds: 60,
  maxOfferTtlSeconds: 30 * 86_400,
  deliveryGraceSeconds: 3_600,
  stageWindowSeconds: 3_600,
  auctionClaimSeconds: 3_600,
  minIntervalSeconds: PRODUCTION_MIN_INTERVAL_SECONDS,
};

/** Validates a full or partial update from the regulator and returns the merged parameters. */
export function mergeMarketParams(current: MarketParams, update: Obj): MarketParams {
  // each field's type and range: the one schema (MarketParametersInput, packages/protocol)
  const next: MarketParams = { ...current, ...inputOf<Partial<MarketParams>>('MarketParametersInput', update, 'marketParams') };
  if (next.minPricePerKwh < 1) fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', 'marketParams.minPricePerKwh (P_k) must be at least 1');
  if (next.maxPricePerKwh !== 0 && next.maxPricePerKwh < next.minPricePerKwh) {
    fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', 'marketParams.maxPricePerKwh must be 0 (no cap) or at least minPricePerKwh');
  }
  if (next.minOfferTtlSeconds < 1 || next.maxOfferTtlSeconds < next.minOfferTtlSeconds) {
    fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', 'marketParams: need 1 <= minOfferTtlSeconds <= maxOfferTtlSeconds');
  }
  if (next.stageWindowSeconds < 60 || next.auctionClaimSeconds < 60) {
    fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', 'marketParams: stageWindowSeconds and auctionClaimSeconds must be at least 60 (clock-guard tolerance)');
  }
  if (!(INTERVAL_LENGTHS as readonly number[]).includes(next.minIntervalSeconds)) {
    fail('INVALID_ARGUMENT', 'INCONSISTENT_PARAMETERS', `marketParams.minIntervalSeconds must be one of ${INTERVAL_LENGTHS.join(', ')} (60 only on development and test networks)`);
  }
  return next;
}

export function checkPrice(price: number, p: MarketParams, what: string): void {
  if (price < p.minPricePerKwh) fail('PRECONDITION_FAILED', 'PRICE_BELOW_MINIMUM', `${what} ${price} is below the regulator's minimum price P_k = ${p.minPricePerKwh} per kWh`);
  if (p.maxPricePerKwh !== 0 && price > p.maxPricePerKwh) {
    fail('PRECONDITION_FAILED', 'PRICE_ABOVE_CAP', `${what} ${price} is above the regulator's price cap ${p.maxPricePerKwh} per kWh`);
  }
}
