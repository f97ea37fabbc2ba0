import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { mergeMarketParams } from '../domain/params';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireRegulator } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { readMarketParams, writeMarketParams } from '../ledger/params';
import { fail } from '../../kernel/errors';
import { jsonObjectArg } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';
import { openMarketTx } from '../services/session';

/** Market parameters (P_k, price cap, collateral and forfeit shares, windows), set by the regulator. */
@Info({ title: 'market', description: 'Regulator-set market parameters' })
export class MarketContract extends GridLedgerContract {
  constructor() {
    super('market');
  }

  @Transaction(false)
  @Returns('string')
  async getParameters(ctx: GridLedgerContext): Promise<string> {
    getCaller(ctx);
    await openMarketTx(ctx);
    return canonicalJson(await readMarketParams(ctx));
  }

  /** Regulator only; a partial object. Applies to offers and auctions created afterwards (they snapshot what they need). */
  @Transaction()
  @Returns('string')
  async setParameters(ctx: GridLedgerContext, paramsJson: string): Promise<string> {
    requireRegulator(ctx, 'market:setParameters');
    const update = jsonObjectArg(paramsJson, 'paramsJson');
    if (Object.keys(update).length === 0) fail('INVALID_ARGUMENT', 'EMPTY_UPDATE', 'paramsJson must set at least one parameter');
    await openMarketTx(ctx);
    const current = await readMarketParams(ctx);
    const { version, updatedAt: _u, ...values } = current;
    const next = { ...mergeMarketParams(values, update), version: version + 1, updatedAt: ctx.now };
    await writeMarketParams(ctx, next);
    emit(ctx, EVENTS.marketParametersChanged, { changed: Object.keys(update).sort(), version: next.version });
    return canonicalJson(next);
  }
}
