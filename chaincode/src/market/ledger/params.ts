/** Market parameters on the ledger: one small document, written only by the regulator. */
import { DEFAULT_MARKET_PARAMS, MarketParams } from '../domain/params';
import { MKT } from './keys';
import { GridLedgerContext } from '../../kernel/context';

export interface StoredMarketParams extends MarketParams {
  version: number;
  updatedAt: number;
}

export async function readMarketParams(ctx: GridLedgerContext): Promise<StoredMarketParams> {
  const stored = await ctx.state.get<StoredMarketParams>(ctx.state.key(MKT.params, ['current']));
  // Defaults under the stored document: a parameter added later (minIntervalSeconds) reads as its
  // production default on a ledger written before it existed.
  return stored ? { ...DEFAULT_MARKET_PARAMS, ...stored } : { ...DEFAULT_MARKET_PARAMS, version: 0, updatedAt: 0 };
}

export async function writeMarketParams(ctx: GridLedgerContext, p: StoredMarketParams): Promise<void> {
  await ctx.state.put(ctx.state.key(MKT.params, ['current']), p);
}
