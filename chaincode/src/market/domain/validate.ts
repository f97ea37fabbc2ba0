/**
 * Field checks for the inputs that have no schema of their own yet (market parameters, transient
 * reading proofs); transaction inputs are checked by their schema (kernel/args.ts `inputOf`).
 * Input-shape checks shared by the market rules. Every check names the field and says what to fix,
 * because these messages reach the app developer through the gateway unchanged.
 * Only integers are accepted for quantities: money is in minor units, energy in Wh, time in seconds.
 */
import { MAX_QUANTITY } from '@gridledger/protocol';
import { fail } from '../../kernel/errors';

/** Largest quantity we accept anywhere (Wh, minor units, seconds); keeps every product inside BigInt-free sums (packages/protocol). */
export { MAX_QUANTITY };

export type Obj = Record<string, unknown>;

export function int(obj: Obj, field: string, min: number, max: number, what: string): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    fail('INVALID_ARGUMENT', 'NOT_INTEGER', `${what}.${field} must be an integer`);
  }
  if (v < min || v > max) fail('INVALID_ARGUMENT', 'OUT_OF_RANGE', `${what}.${field} must be between ${min} and ${max} (got ${v})`);
  return v;
}

export function str(obj: Obj, field: string, pattern: RegExp, what: string, hint: string): string {
  const v = obj[field];
  if (typeof v !== 'string' || !pattern.test(v)) fail('INVALID_ARGUMENT', 'BAD_FORMAT', `${what}.${field} must be ${hint}`);
  return v;
}

export const SECRET_PATTERN = /^[\x21-\x7e]{16,256}$/;
