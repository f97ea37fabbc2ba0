/**
 * Trades on the ledger: the record and its per-party index (persistence only; the settlement that
 * moves escrows and drives the validation task is market/services/settlement.ts).
 */
import type { Trade } from '@gridledger/protocol';
import { MKT } from './keys';
import { fail } from '../../kernel/errors';
import { GridLedgerContext } from '../../kernel/context';

export const tradeKey = (ctx: GridLedgerContext, tradeId: string): string => ctx.state.key(MKT.trade, [tradeId]);

export async function getTrade(ctx: GridLedgerContext, tradeId: string): Promise<Trade> {
  const t = await ctx.state.get<Trade>(tradeKey(ctx, tradeId));
  if (!t) fail('NOT_FOUND', 'TRADE_NOT_FOUND', `trade ${tradeId} does not exist`);
  return t;
}

export async function putTrade(ctx: GridLedgerContext, t: Trade, isNew = false): Promise<void> {
  if (isNew) {
    if (await ctx.state.get(tradeKey(ctx, t.tradeId))) fail('CONFLICT', 'TRADE_EXISTS', `trade ${t.tradeId} already exists`);
    await ctx.state.put(ctx.state.key(MKT.tradeByParty, [t.seller, t.tradeId]), { role: 'seller' });
    await ctx.state.put(ctx.state.key(MKT.tradeByParty, [t.buyer, t.tradeId]), { role: 'buyer' });
  }
  await ctx.state.put(tradeKey(ctx, t.tradeId), t);
}
