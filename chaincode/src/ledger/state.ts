/**
 * Typed reads and writes of canonical-JSON documents. Remember Fabric has no read-your-writes:
 * `getJson` after `putJson` in the same transaction returns the committed value, so domain code
 * keeps the updated object in memory instead of re-reading it.
 */
import type { Context } from 'fabric-contract-api';
import { decode, encode } from '../kernel/codec';
import { fail } from '../kernel/errors';

export async function getJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return decode<T>(bytes);
}

export async function mustGetJson<T>(ctx: Context, key: string, what: string, subCode: string): Promise<T> {
  const v = await getJson<T>(ctx, key);
  if (v === undefined) fail('NOT_FOUND', subCode, `${what} does not exist`);
  return v;
}

export async function putJson(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, encode(value));
}

/** Reads every entry under a partial composite key. Use only where the set is bounded by design. */
export async function listByPartialKey<T>(
  ctx: Context,
  objectType: string,
  attrs: string[],
): Promise<Array<{ key: string; attributes: string[]; value: T }>> {
  const out: Array<{ key: string; attributes: string[]; value: T }> = [];
  const it = await ctx.stub.getStateByPartialCompositeKey(objectType, attrs);
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const { attributes } = ctx.stub.splitCompositeKey(r.value.key);
      const bytes = r.value.value;
      out.push({ key: r.value.key, attributes, value: bytes && bytes.length ? decode<T>(bytes) : (undefined as T) });
    }
  } finally {
    await it.close();
  }
  return out;
}
