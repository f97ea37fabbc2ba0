/**
 * The chaincode's one error type (modelled on GalaChain's ChainError: a stable code, a stable key,
 * an optional payload). Every refusal is `fail(code, subCode, detail, payload?)`:
 *
 * - `code` — one of the protocol's ERROR_CODES; the gateway maps it to an HTTP status with the
 *   protocol's ERROR_CATALOGUE (packages/protocol/src/errors.ts; CONTRACTS.md "Errors");
 * - `subCode` — which rule refused (e.g. `ALREADY_CONTRIBUTED`), one of the sub-codes the catalogue
 *   lists under `code` (a new one is added there, or this does not compile), so clients branch on it
 *   instead of matching prose;
 * - `detail` — prose for the developer: what was wrong and what to do. Quote caller-supplied
 *   values with `quote()` so a huge argument is never echoed back in full;
 * - `payload` — optional structured facts (ids, numbers) a client may act on.
 *
 * The wire format, `[CODE:SUB_CODE] detail` plus an optional canonical-JSON payload line, is the
 * protocol's `formatErrorMessage` / `parseErrorMessage`.
 *
 * Throwing fails the transaction as a whole: Fabric discards the simulation's writes, so a thrown
 * error never leaves half-written state. This module has no Fabric dependency, so pure domain code
 * uses it too.
 */
import { formatErrorMessage, SUB_CODE_PATTERN, type ErrorCode, type ErrorPayload, type SubCodeOf } from '@gridledger/protocol';

export class GridLedgerError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly subCode: SubCodeOf<C>;
  /** The human part of the message, without the `[CODE:SUB_CODE]` prefix or the payload line. */
  readonly detail: string;
  readonly payload: ErrorPayload | undefined;

  constructor(code: C, subCode: SubCodeOf<C>, detail: string, payload?: ErrorPayload) {
    if (!SUB_CODE_PATTERN.test(subCode)) throw new Error(`GridLedgerError: sub-code "${subCode}" must match ${SUB_CODE_PATTERN.source}`);
    super(formatErrorMessage(code, subCode, detail, payload));
    this.name = 'GridLedgerError';
    this.code = code;
    this.subCode = subCode;
    this.detail = detail;
    this.payload = payload;
  }
}

/** Throws the transaction's refusal. `never`, so TypeScript narrows after `if (...) fail(...)`. */
export function fail<C extends ErrorCode>(code: C, subCode: SubCodeOf<C>, detail: string, payload?: ErrorPayload): never {
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
