/**
 * The chaincode's one error type (modelled on GalaChain's ChainError: a stable code, a stable key,
 * an optional payload). Every refusal is `fail(code, subCode, detail, payload?)`:
 *
 * - `code` — one of ERROR_CODES; the gateway maps it to an HTTP status (CONTRACTS.md "Errors");
 * - `subCode` — SCREAMING_SNAKE, stable, says WHICH rule refused (e.g. `ALREADY_CONTRIBUTED`), so
 *   clients branch on it instead of matching prose;
 * - `detail` — prose for the developer: what was wrong and what to do. Quote caller-supplied
 *   values with `quote()` so a huge argument is never echoed back in full;
 * - `payload` — optional structured facts (ids, numbers) a client may act on.
 *
 * Wire format (the message Fabric returns as `chaincode response 500, <message>`):
 *   `[CODE:SUB_CODE] detail` — and, when there is a payload, a second line with its canonical JSON.
 * A message that starts `[CODE] ` (no sub-code) is what chaincode before 0.2 sent; parsers accept both.
 *
 * Throwing fails the transaction as a whole: Fabric discards the simulation's writes, so a thrown
 * error never leaves half-written state. This module has no Fabric dependency, so pure domain code
 * uses it too.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'INSUFFICIENT_FUNDS',
  'INSUFFICIENT_ENERGY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Structured facts of a refusal: plain JSON values only (ids, integers, booleans). */
export type ErrorPayload = Record<string, string | number | boolean | null | string[] | number[]>;

const SUB_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

export class GridLedgerError extends Error {
  readonly code: ErrorCode;
  readonly subCode: string;
  /** The human part of the message, without the `[CODE:SUB_CODE]` prefix or the payload line. */
  readonly detail: string;
  readonly payload: ErrorPayload | undefined;

  constructor(code: ErrorCode, subCode: string, detail: string, payload?: ErrorPayload) {
    if (!SUB_CODE.test(subCode)) throw new Error(`GridLedgerError: sub-code "${subCode}" must match ${SUB_CODE.source}`);
    super(formatMessage(code, subCode, detail, payload));
    this.name = 'GridLedgerError';
    this.code = code;
    this.subCode = subCode;
    this.detail = detail;
    this.payload = payload;
  }
}

function formatMessage(code: ErrorCode, subCode: string, detail: string, payload?: ErrorPayload): string {
  const head = `[${code}:${subCode}] ${detail}`;
  if (!payload) return head;
  // Sorted keys, as everything else the chaincode returns (errors are part of the endorsed response).
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(payload).sort()) sorted[k] = payload[k];
  return `${head}\n${JSON.stringify(sorted)}`;
}

/** Throws the transaction's refusal. `never`, so TypeScript narrows after `if (...) fail(...)`. */
export function fail(code: ErrorCode, subCode: string, detail: string, payload?: ErrorPayload): never {
  throw new GridLedgerError(code, subCode, detail, payload);
}

const QUOTE_MAX = 64;

/**
 * A caller-supplied value for an error detail: at most the first 64 characters of its JSON form,
 * and the full length when it was longer — so a 300,000-character argument is never echoed back.
 */
export function quote(value: unknown, max = QUOTE_MAX): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} characters)`;
}

/** Parses a chaincode error message back into its parts (tests, and callers relaying errors). */
export function parseError(message: string): { code: ErrorCode; subCode?: string; detail: string; payload?: Record<string, unknown> } | undefined {
  const m = /^\[([A-Z_]+)(?::([A-Z][A-Z0-9_]*))?\] ([^\n]*)(?:\n(\{[\s\S]*\}))?$/.exec(message);
  if (!m || !(ERROR_CODES as readonly string[]).includes(m[1])) return undefined;
  let payload: Record<string, unknown> | undefined;
  if (m[4]) {
    try {
      payload = JSON.parse(m[4]) as Record<string, unknown>;
    } catch {
      payload = undefined;
    }
  }
  return { code: m[1] as ErrorCode, subCode: m[2], detail: m[3], payload };
}

/** The code of a `[CODE]` / `[CODE:SUB]` message, or undefined. */
export function parseErrorCode(message: string): ErrorCode | undefined {
  return parseError(message)?.code;
}
