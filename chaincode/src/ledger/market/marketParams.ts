/**
 * Market parameters on the ledger (one small document, written only by the regulator) and the
 * transaction opener every market function starts with: guarded time + both parameter sets.
 */
import type { Context } from 'fabric-contract-api';
import { DEFAULT_MARKET_PARAMS, MarketParams } from '../../domain/market/params';
import type { StoredParameters } from '../../domain/parameters';
import { readParameters } from '../parametersStore';
import { txTimeMs } from '../../time/txTime';
import { MKT } from './keys';
import { MarketTx } from './txState';

export interface StoredMarketParams extends MarketParams {
  version: number;
  updatedAt: number;
}

export async function readMarketParams(tx: MarketTx): Promise<StoredMarketParams> {
  return (await tx.get<StoredMarketParams>(tx.key(MKT.params, ['current']))) ?? { ...DEFAULT_MARKET_PARAMS, version: 0, updatedAt: 0 };
}

export async function writeMarketParams(tx: MarketTx, p: StoredMarketParams): Promise<void> {
  await tx.put(tx.key(MKT.params, ['current']), p);
}

export interface MarketEnv {
  tx: MarketTx;
  gov: StoredParameters;
  /** Loaded lazily by the functions that need it (readings do not). */
  market: () => Promise<StoredMarketParams>;
}

/** Every market transaction: read governance parameters, bound the timestamp by the clock guard. */
export async function openMarketTx(ctx: Context): Promise<MarketEnv> {
  const gov = await readParameters(ctx);
  const tx = new MarketTx(ctx, await txTimeMs(ctx, gov));
  let cached: StoredMarketParams | undefined;
  return { tx, gov, market: async () => (cached ??= await readMarketParams(tx)) };
}
