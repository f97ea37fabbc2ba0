/**
 * Market parameters on the ledger (one small document, written only by the regulator) and the
 * transaction opener every market function starts with: guarded time + both parameter sets.
 */
import { DEFAULT_MARKET_PARAMS, MarketParams } from '../../domain/market/params';
import type { StoredParameters } from '../../domain/parameters';
import { MKT } from './keys';
import { GridLedgerContext } from '../../kernel/context';

export interface StoredMarketParams extends MarketParams {
  version: number;
  updatedAt: number;
}

export async function readMarketParams(ctx: GridLedgerContext): Promise<StoredMarketParams> {
  return (await ctx.state.get<StoredMarketParams>(ctx.state.key(MKT.params, ['current']))) ?? { ...DEFAULT_MARKET_PARAMS, version: 0, updatedAt: 0 };
}

export async function writeMarketParams(ctx: GridLedgerContext, p: StoredMarketParams): Promise<void> {
  await ctx.state.put(ctx.state.key(MKT.params, ['current']), p);
}

export interface MarketEnv {
  gov: StoredParameters;
  /** Loaded lazily by the functions that need it (readings do not). */
  market: () => Promise<StoredMarketParams>;
}

/**
 * Every market transaction starts here: the governance parameters in force and the guarded time
 * (`ctx.nowMs` / `ctx.nowS` afterwards); the market parameters are read on first use.
 */
export async function openMarketTx(ctx: GridLedgerContext): Promise<MarketEnv> {
  const gov = await ctx.parameters();
  await ctx.time(gov);
  let cached: StoredMarketParams | undefined;
  return { gov, market: async () => (cached ??= await readMarketParams(ctx)) };
}
