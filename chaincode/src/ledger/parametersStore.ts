import type { Context } from 'fabric-contract-api';
import { DEFAULT_PARAMETERS, StoredParameters } from '../domain/parameters';
import { compositeKey, KEY } from './keys';
import { getJson, putJson } from './state';

/** One small document; read by most transactions, written only by the regulator. */
function parametersKey(ctx: Context): string {
  return compositeKey(ctx, KEY.parameters, ['current']);
}

export async function readParameters(ctx: Context): Promise<StoredParameters> {
  const stored = await getJson<StoredParameters>(ctx, parametersKey(ctx));
  return stored ?? { ...DEFAULT_PARAMETERS, version: 0, updatedAtMs: 0, updatedBy: '' };
}

export async function writeParameters(ctx: Context, p: StoredParameters): Promise<void> {
  await putJson(ctx, parametersKey(ctx), p);
}
