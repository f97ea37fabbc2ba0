/**
 * The opener every market transaction starts with: the governance parameters in force and the
 * guarded time (`ctx.now` / `ctx.now` afterwards); the market parameters are read on first use.
 */
import type { StoredParameters } from '../../governance';
import { GridLedgerContext } from '../../kernel/context';
import { readMarketParams, StoredMarketParams } from '../ledger/params';

export interface MarketEnv {
  gov: StoredParameters;
  /** Loaded lazily by the functions that need it (readings only for minIntervalSeconds). */
  market: () => Promise<StoredMarketParams>;
}

export async function openMarketTx(ctx: GridLedgerContext): Promise<MarketEnv> {
  const gov = await ctx.parameters();
  await ctx.time(gov);
  let cached: StoredMarketParams | undefined;
  return { gov, market: async () => (cached ??= await readMarketParams(ctx)) };
}
