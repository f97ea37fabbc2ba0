/**
 * Ledger key helpers. All keys are Fabric composite keys (`\x00type\x00attr\x00...`), so they never
 * collide with plain keys and partial-key queries return them in byte order of their attributes.
 *
 * Key design rules used across the chaincode (see README): one key per object so concurrent
 * transactions on different objects do not collide (MVCC), and index keys that let hot paths read a
 * bounded number of keys instead of scanning every participant.
 */
import { fail } from './errors';

const MIN_UNICODE = '\u0000';
const MAX_UNICODE = '\u{10FFFF}';

/** Validates one attribute of a composite key (Fabric rejects these characters). */
export function checkKeyPart(part: string, what: string): string {
  if (typeof part !== 'string' || part.length === 0) fail('INVALID_ARGUMENT', 'EMPTY_KEY_PART', `${what} must be a non-empty string`);
  if (part.includes(MIN_UNICODE) || part.includes(MAX_UNICODE)) {
    fail('INVALID_ARGUMENT', 'BAD_KEY_PART', `${what} must not contain U+0000 or U+10FFFF`);
  }
  return part;
}

/** A Fabric composite key; every attribute checked first. `stub` is the transaction's ChaincodeStub. */
export function compositeKey(stub: { createCompositeKey(objectType: string, attributes: string[]): string }, objectType: string, attrs: readonly string[]): string {
  attrs.forEach((a, i) => checkKeyPart(a, `${objectType} key attribute ${i}`));
  return stub.createCompositeKey(objectType, [...attrs]);
}

/**
 * Fixed-width decimal for unsigned integers inside keys, so byte order equals numeric order
 * (e.g. slot numbers, index positions). Width 16 covers every safe integer below 10^16.
 */
export function padUint(n: number | bigint, width = 16): string {
  const s = n.toString(10);
  if (typeof n === 'number' ? !Number.isSafeInteger(n) || n < 0 : n < 0n) {
    throw new Error(`padUint: ${s} is not an unsigned integer`);
  }
  if (s.length > width) throw new Error(`padUint: ${s} does not fit in ${width} digits`);
  return s.padStart(width, '0');
}
