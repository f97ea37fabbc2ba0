/**
 * Input-shape checks shared by the market rules. Every check names the field and says what to fix,
 * because these messages reach the app developer through the gateway unchanged.
 * Only integers are accepted for quantities: money is in minor units, energy in Wh, time in seconds.
 */
import { fail } from './fail';

/** Largest quantity we accept anywhere (Wh, minor units, seconds); keeps every product inside BigInt-free sums. */
export const MAX_QUANTITY = 1_000_000_000_000; // 1e12 < 2^53 / 1000

export type Obj = Record<string, unknown>;

export function parseObject(json: string, what: string): Obj {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    fail('INVALID_ARGUMENT', `${what} must be a JSON object (it did not parse)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('INVALID_ARGUMENT', `${what} must be a JSON object`);
  }
  return value as Obj;
}

export function onlyKeys(obj: Obj, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail('INVALID_ARGUMENT', `${what}: unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

export function int(obj: Obj, field: string, min: number, max: number, what: string): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    fail('INVALID_ARGUMENT', `${what}.${field} must be an integer`);
  }
  if (v < min || v > max) fail('INVALID_ARGUMENT', `${what}.${field} must be between ${min} and ${max} (got ${v})`);
  return v;
}

export function optInt(obj: Obj, field: string, min: number, max: number, what: string, dflt: number): number {
  return obj[field] === undefined ? dflt : int(obj, field, min, max, what);
}

export function str(obj: Obj, field: string, pattern: RegExp, what: string, hint: string): string {
  const v = obj[field];
  if (typeof v !== 'string' || !pattern.test(v)) fail('INVALID_ARGUMENT', `${what}.${field} must be ${hint}`);
  return v;
}

export function optStr(obj: Obj, field: string, pattern: RegExp, what: string, hint: string, dflt: string): string {
  return obj[field] === undefined ? dflt : str(obj, field, pattern, what, hint);
}

export function oneOf<T extends string>(obj: Obj, field: string, values: readonly T[], what: string): T {
  const v = obj[field];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    fail('INVALID_ARGUMENT', `${what}.${field} must be one of ${values.join(', ')}`);
  }
  return v as T;
}

export function argInt(value: string, name: string, min: number, max: number): number {
  if (!/^-?\d{1,16}$/.test(value)) fail('INVALID_ARGUMENT', `${name} must be an integer in decimal digits`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) fail('INVALID_ARGUMENT', `${name} must be between ${min} and ${max}`);
  return n;
}

export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const HEX64 = /^[0-9a-f]{64}$/;
export const NONCE_PATTERN = /^[A-Za-z0-9._:-]{0,128}$/;
export const SECRET_PATTERN = /^[\x21-\x7e]{16,256}$/;
