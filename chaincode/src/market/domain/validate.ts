/**
 * Input-shape checks shared by the market rules. Every check names the field and says what to fix,
 * because these messages reach the app developer through the gateway unchanged.
 * Only integers are accepted for quantities: money is in minor units, energy in Wh, time in seconds.
 */
import { fail } from '../../kernel/errors';

/** Largest quantity we accept anywhere (Wh, minor units, seconds); keeps every product inside BigInt-free sums. */
export const MAX_QUANTITY = 1_000_000_000_000; // 1e12 < 2^53 / 1000

export type Obj = Record<string, unknown>;

export function int(obj: Obj, field: string, min: number, max: number, what: string): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    fail('INVALID_ARGUMENT', 'NOT_INTEGER', `${what}.${field} must be an integer`);
  }
  if (v < min || v > max) fail('INVALID_ARGUMENT', 'OUT_OF_RANGE', `${what}.${field} must be between ${min} and ${max} (got ${v})`);
  return v;
}

export function optInt(obj: Obj, field: string, min: number, max: number, what: string, dflt: number): number {
  return obj[field] === undefined ? dflt : int(obj, field, min, max, what);
}

export function str(obj: Obj, field: string, pattern: RegExp, what: string, hint: string): string {
  const v = obj[field];
  if (typeof v !== 'string' || !pattern.test(v)) fail('INVALID_ARGUMENT', 'BAD_FORMAT', `${what}.${field} must be ${hint}`);
  return v;
}

export function optStr(obj: Obj, field: string, pattern: RegExp, what: string, hint: string, dflt: string): string {
  return obj[field] === undefined ? dflt : str(obj, field, pattern, what, hint);
}

export function oneOf<T extends string>(obj: Obj, field: string, values: readonly T[], what: string): T {
  const v = obj[field];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    fail('INVALID_ARGUMENT', 'NOT_ALLOWED_VALUE', `${what}.${field} must be one of ${values.join(', ')}`);
  }
  return v as T;
}

export const HEX64 = /^[0-9a-f]{64}$/;
export const NONCE_PATTERN = /^[A-Za-z0-9._:-]{0,128}$/;
export const SECRET_PATTERN = /^[\x21-\x7e]{16,256}$/;
