/**
 * The one family of transaction-argument parsers. Every Fabric argument is a string; these turn it
 * into a value or refuse with INVALID_ARGUMENT naming the argument and what to fix. Caller-supplied
 * text is quoted with `quote()` (first 64 characters), never echoed in full.
 *
 * No Fabric dependency: domain modules use `inputOf` too.
 */
import { checkInput, ID_PATTERN_SOURCE, type InputSchemaName } from '@gridledger/protocol';
import { fail, quote } from './errors';

/** Ids of ledger objects (offers, trades, auctions, packets, participants) as they appear in arguments (packages/protocol/src/schemas/fields.ts). */
export const ID_PATTERN = new RegExp(ID_PATTERN_SOURCE);

/**
 * A parsed JSON input checked against its one schema (packages/protocol/src/schemas, docs/transactions.md)
 * by the validator compiled ahead at the protocol package's build — no hand-written field loops. A
 * refusal is INVALID_ARGUMENT with the field schema's sub-code and a detail naming the field;
 * `what` names the value (e.g. `offer`, `voteJson`).
 */
export function inputOf<T>(name: InputSchemaName, value: unknown, what: string): T {
  const r = checkInput<T>(name, value, what, quote);
  if (!r.ok) fail('INVALID_ARGUMENT', r.subCode, r.detail);
  return r.value;
}

/** Caller-supplied JSON (an argument or a transient value) of any shape; `expected` names the shape for the message. */
export function jsonArg(text: string, name: string, expected = 'a JSON object'): unknown {
  try {
    return JSON.parse(text);
  } catch {
    fail('INVALID_ARGUMENT', 'NOT_JSON', `${name} is not valid JSON (it did not parse); send ${expected}`);
  }
}

/** A caller-supplied JSON object argument. */
export function jsonObjectArg(text: string, name: string): Record<string, unknown> {
  const v = jsonArg(text, name);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('INVALID_ARGUMENT', 'NOT_OBJECT', `${name} must be a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * A JSON object argument, or — when the argument is empty — the same JSON from the transient map
 * (kept off the block). `transient` is `ctx.stub.getTransient()`.
 */
export function jsonObjectArgOrTransient(transient: Map<string, Uint8Array>, text: string, name: string, transientName: string): Record<string, unknown> {
  if (text !== undefined && text !== '') return jsonObjectArg(text, name);
  const bytes = transient.get(transientName);
  if (!bytes || bytes.length === 0) fail('INVALID_ARGUMENT', 'MISSING_ARGUMENT', `${name} is empty and transient "${transientName}" is missing`);
  return jsonObjectArg(Buffer.from(bytes).toString('utf8'), `transient ${transientName}`);
}

/** An integer argument in decimal digits, within [min, max]. */
export function intArg(text: string, name: string, min: number, max: number): number {
  const t = typeof text === 'string' ? text.trim() : '';
  if (!/^-?\d{1,16}$/.test(t)) fail('INVALID_ARGUMENT', 'NOT_INTEGER', `${name} must be an integer in decimal digits, got ${quote(text)}`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max) fail('INVALID_ARGUMENT', 'OUT_OF_RANGE', `${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A free-text argument of `min` to `max` characters (a reason, a reference). */
export function textArg(v: string, name: string, min: number, max: number): string {
  if (typeof v !== 'string' || v.length < min || v.length > max) fail('INVALID_ARGUMENT', 'BAD_FORMAT', `${name} must be ${min}-${max} characters, got ${quote(v)}`);
  return v;
}

/** An id argument (ID_PATTERN). */
export function idArg(v: string, name: string): string {
  if (typeof v !== 'string' || !ID_PATTERN.test(v)) fail('INVALID_ARGUMENT', 'BAD_ID', `${name} is not a valid id (1-128 of A-Z a-z 0-9 . _ : -), got ${quote(v)}`);
  return v;
}


/** A yes/no argument: "true", or "false" / "" (absent) for no; anything else is refused. */
export function flagArg(v: string | undefined, name: string): boolean {
  if (v === undefined || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  fail('INVALID_ARGUMENT', 'NOT_ALLOWED_VALUE', `${name} must be "true" or "false" ("" = false), got ${quote(v)}`);
}
