import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { mergeParameters, StoredParameters } from '../domain/parameters';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { requireRegulator } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { readParameters, writeParameters } from '../ledger/parameters';
import { fail } from '../../kernel/errors';
import { jsonObjectArg } from '../../kernel/args';
import { GridLedgerContext } from '../../kernel/context';

@Info({ title: 'governance', description: 'Regulator-set market and committee parameters' })
export class GovernanceContract extends GridLedgerContract {
  constructor() {
    super('governance');
  }

  /** Any caller. Returns the built-in defaults (version 0) until the regulator sets parameters. */
  @Transaction(false)
  @Returns('string')
  async getParameters(ctx: GridLedgerContext): Promise<string> {
    return canonicalJson(await readParameters(ctx));
  }

  /**
   * Regulator only. `paramsJson` is a partial object; fields not given keep their value.
   * Changes apply to tasks opened afterwards: a task snapshots f, α, t_0 and its deadline.
   */
  @Transaction()
  @Returns('string')
  async setParameters(ctx: GridLedgerContext, paramsJson: string): Promise<string> {
    const regulator = requireRegulator(ctx, 'governance:setParameters');
    const update = jsonObjectArg(paramsJson, 'paramsJson');
    if (Object.keys(update).length === 0) fail('INVALID_ARGUMENT', 'EMPTY_UPDATE', 'paramsJson must set at least one parameter');
    const current = await readParameters(ctx);
    const { version: _v, updatedAt: _u, updatedBy: _b, ...currentValues } = current;
    const merged = mergeParameters(currentValues, update);
    // Time under the tolerance that will be in force: a regulator cannot widen the guard for the
    // very transaction that widens it.
    const now = await ctx.time(current);
    if (merged.genesisAt > now) fail('INVALID_ARGUMENT', 'GENESIS_IN_FUTURE', `genesisAt (${merged.genesisAt}) must not be in the future (now ${now})`);
    const next: StoredParameters = { ...merged, version: current.version + 1, updatedAt: now, updatedBy: regulator.mspId };
    await writeParameters(ctx, next);
    emit(ctx, EVENTS.parametersChanged, { changed: Object.keys(update).sort(), version: next.version });
    return canonicalJson(next);
  }
}
