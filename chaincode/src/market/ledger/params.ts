/** Market parameters on the ledger: one small document, written only by the regulator. */
import { DEFAULT_MARKET_PARAMS, MarketParams } from '../domain/params';
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
