import { DEFAULT_PARAMETERS, StoredParameters } from '../domain/parameters';
import { KEY } from './keys';
import { GridLedgerContext } from '../../kernel/context';

/** One small document; read by most transactions, written only by the regulator. */
function parametersKey(ctx: GridLedgerContext): string {
  return ctx.state.key(KEY.parameters, ['current']);
}

export async function readParameters(ctx: GridLedgerContext): Promise<StoredParameters> {
  const stored = await ctx.state.get<StoredParameters>(parametersKey(ctx));
  return stored ?? { ...DEFAULT_PARAMETERS, version: 0, updatedAt: 0, updatedBy: '' };
}

export async function writeParameters(ctx: GridLedgerContext, p: StoredParameters): Promise<void> {
  await ctx.state.put(parametersKey(ctx), p);
}
