/**
 * Helpers shared by the market contracts: argument parsing, pagination, canonical results.
 * Contracts stay thin: parse → check caller → domain rule → ledger module → canonical JSON.
 */
import type { Context } from 'fabric-contract-api';
import { fail } from '../domain/market/fail';
import { argInt } from '../domain/market/validate';
import { decode } from '../ledger/codec';

export const MAX_PAGE = 200;

export interface Page<T> {
  items: T[];
  bookmark: string;
}

export function pageSizeArg(v: string | undefined): number {
  return v === undefined || v === '' ? 50 : argInt(v, 'pageSize', 1, MAX_PAGE);
}

/** A page of an index (partial composite key) — paginated queries are read-only on Fabric. */
export async function pageByPartialKey<T>(ctx: Context, type: string, attrs: string[], pageSize: number, bookmark: string): Promise<Page<{ attributes: string[]; value: T }>> {
  const res = await ctx.stub.getStateByPartialCompositeKeyWithPagination(type, attrs, pageSize, bookmark);
  const items: Array<{ attributes: string[]; value: T }> = [];
  const it = res.iterator;
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      items.push({ attributes: ctx.stub.splitCompositeKey(r.value.key).attributes, value: decode<T>(r.value.value) });
    }
  } finally {
    await it.close();
  }
  return { items, bookmark: res.metadata?.bookmark ?? '' };
}

export function jsonArg(text: string, name: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail('INVALID_ARGUMENT', `${name} must be JSON (it did not parse)`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('INVALID_ARGUMENT', `${name} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** A JSON argument, or — when the argument is empty — the same JSON from the transient map (kept off the block). */
export function jsonArgOrTransient(ctx: Context, text: string, name: string, transientName: string): Record<string, unknown> {
  if (text !== undefined && text !== '') return jsonArg(text, name);
  const bytes = ctx.stub.getTransient().get(transientName);
  if (!bytes || bytes.length === 0) fail('INVALID_ARGUMENT', `${name} is empty and transient "${transientName}" is missing`);
  return jsonArg(Buffer.from(bytes).toString('utf8'), `transient ${transientName}`);
}
