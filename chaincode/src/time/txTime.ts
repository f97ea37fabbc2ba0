/**
 * The time every time-keyed rule must use: the transaction timestamp, bounded by the clock guard
 * with the regulator's tolerance. Returns integer milliseconds since the Unix epoch.
 */
import type { Context } from 'fabric-contract-api';
import type { StoredParameters } from '../domain/parameters';
import { readParameters } from '../ledger/parametersStore';
import { guardedTxTimeMs } from './clock';

export async function txTimeMs(ctx: Context, params?: StoredParameters): Promise<number> {
  const p = params ?? (await readParameters(ctx));
  return guardedTxTimeMs(ctx, p.clockToleranceSeconds);
}
