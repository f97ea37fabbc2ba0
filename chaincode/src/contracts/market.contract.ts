import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { mergeMarketParams } from '../domain/market/params';
import { emit, EVENTS } from '../kernel/events';
import { getCaller, requireRegulator } from '../identity/caller';
import { canonicalJson } from '../kernel/codec';
import { openMarketTx, readMarketParams, writeMarketParams } from '../ledger/market/marketParams';
import { fail } from '../kernel/errors';
import { jsonObjectArg } from '../kernel/args';

/** Market parameters (P_k, price cap, collateral and forfeit shares, windows), set by the regulator. */
@Info({ title: 'market', description: 'Regulator-set market parameters' })
export class MarketContract extends Contract {
  constructor() {
    super('market');
  }

  @Transaction(false)
  @Returns('string')
  async getParameters(ctx: Context): Promise<string> {
    getCaller(ctx);
    const { tx } = await openMarketTx(ctx);
    return canonicalJson(await readMarketParams(tx));
  }

  /** Regulator only; a partial object. Applies to offers and auctions created afterwards (they snapshot what they need). */
  @Transaction()
  @Returns('string')
  async setParameters(ctx: Context, paramsJson: string): Promise<string> {
    requireRegulator(ctx, 'market:setParameters');
    const update = jsonObjectArg(paramsJson, 'paramsJson');
    if (Object.keys(update).length === 0) fail('INVALID_ARGUMENT', 'EMPTY_UPDATE', 'paramsJson must set at least one parameter');
    const { tx } = await openMarketTx(ctx);
    const current = await readMarketParams(tx);
    const { version, updatedAt: _u, ...values } = current;
    const next = { ...mergeMarketParams(values, update), version: version + 1, updatedAt: tx.nowS };
    await writeMarketParams(tx, next);
    emit(ctx, EVENTS.marketParametersChanged, { changed: Object.keys(update).sort(), version: next.version });
    return canonicalJson(next);
  }
}
