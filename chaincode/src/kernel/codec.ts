/**
 * Canonical JSON for everything the chaincode writes, returns or emits.
 *
 * Endorsing peers must produce byte-identical write sets, responses and events, so:
 * - object keys are sorted (by UTF-16 code unit, which is what Array.prototype.sort does and is the
 *   same on every Node version), at every depth;
 * - numbers must be safe integers: no floats on the ledger (money in minor units, energy in Wh,
 *   Q-scores fixed-point). A float or an unsafe integer is a programming error and throws;
 * - BigInt values are written as decimal strings (JSON has no BigInt); read them back with
 *   `toBigInt`;
 * - `undefined` object members are dropped (as JSON.stringify does) so optional fields do not
 *   change bytes; `undefined` inside arrays is an error.
 */
import { fail, quote } from './errors';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function canon(value: unknown, path: string): Json {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new Error(`codec: ${path} is ${value}; only safe integers may be stored (use fixed-point or BigInt)`);
      }
      return value;
    case 'bigint':
      return value.toString(10);
    case 'object': {
      if (Array.isArray(value)) {
        return value.map((v, i) => {
          if (v === undefined) throw new Error(`codec: ${path}[${i}] is undefined`);
          return canon(v, `${path}[${i}]`);
        });
      }
      if (value instanceof Uint8Array) {
        throw new Error(`codec: ${path} is binary; encode it as hex or base64 first`);
      }
      const out: { [key: string]: Json } = {};
      for (const k of Object.keys(value).sort()) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined) continue;
        out[k] = canon(v, `${path}.${k}`);
      }
      return out;
    }
    default:
      throw new Error(`codec: ${path} has unsupported type ${typeof value}`);
  }
}

/** Canonical JSON text: sorted keys, integers only, BigInt as decimal strings. */
export function canonicalJson(value: unknown): string {
  // JSON.stringify keeps insertion order, and canon() inserted the keys sorted.
  return JSON.stringify(canon(value, '$'));
}

export function encode(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

export function decode<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

/** Reads a BigInt written by the codec (decimal string) or a safe integer. */
export function toBigInt(value: unknown, field = 'value'): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?(0|[1-9][0-9]*)$/.test(value)) return BigInt(value);
  fail('INVALID_ARGUMENT', 'NOT_INTEGER', `${field} must be an integer (number or decimal string), got ${quote(value)}`);
}
