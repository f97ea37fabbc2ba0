/**
 * The chaincode's refusals as they cross the wire (chaincode/CONTRACTS.md "Errors"): the stable
 * codes, every sub-code each code may carry, the message format, and the ONE mapping of a code to
 * HTTP (status and problem title) that the gateway's problem+json uses (docs/api.md "Problem types").
 *
 * The chaincode throws with `fail(code, subCode, detail, payload?)` (chaincode/src/kernel/errors.ts),
 * typed against this catalogue, so a sub-code that is not listed here does not compile; the gateway
 * parses the message with `parseErrorMessage`. Deterministic: no clock, environment or randomness.
 *
 * Wire format (the message Fabric returns as `chaincode response 500, <message>`):
 *   `[CODE:SUB_CODE] detail` — and, when there is a payload, a second line with its canonical JSON.
 * A message that starts `[CODE] ` (no sub-code) is what chaincode before 0.2 sent; the parser accepts both.
 */

/** Every error code, in the order of CONTRACTS.md's table. */
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

export interface ErrorCodeSpec {
  /** the HTTP status the gateway answers with */
  readonly httpStatus: number;
  /** the problem+json `title` */
  readonly title: string;
  /** what kind of refusal the code means */
  readonly meaning: string;
  /** which rules may refuse with this code (stable; clients branch on them, never on the prose) */
  readonly subCodes: readonly string[];
}

/** code → HTTP status, title, meaning and its sub-codes. chaincode/test/kernel/errorCatalogue.test.ts keeps it equal to what the chaincode throws and to CONTRACTS.md. */
export const ERROR_CATALOGUE = {
  INVALID_ARGUMENT: {
    httpStatus: 400,
    title: 'The ledger rejected an argument',
    meaning: 'malformed or out-of-range input (message says which field and why)',
    subCodes: [
      'APPROVAL_WITH_FAILED_CONDITION', 'BAD_ALPHA', 'BAD_BALLOT_NAME', 'BAD_BAN_SECONDS', 'BAD_BATCH', 'BAD_CONDITION',
      'BAD_DIRECTION', 'BAD_ENTRIES', 'BAD_FORMAT', 'BAD_ID', 'BAD_INTERVAL', 'BAD_KEY_PART', 'BAD_METER_ID', 'BAD_ORDER',
      'BAD_OUTCOME', 'BAD_PACKETS', 'BAD_PUBLIC_KEY', 'BAD_REFERENCE', 'BAD_REGISTER', 'BAD_SALT', 'BAD_SECRET',
      'BAD_SIGNATURE', 'BAD_STAKE', 'BAD_TASK_KIND', 'BAD_VOTE', 'BAD_VOTE_REASON', 'BAD_WINDOW', 'BAD_ZONE',
      'COMMITMENT_MISMATCH', 'COST_TOO_SMALL', 'DUPLICATE_PACKET', 'EMPTY_KEY_PART', 'EMPTY_UPDATE',
      'GENESIS_IN_FUTURE', 'INCONSISTENT_PARAMETERS', 'MISSING_ARGUMENT', 'MISSING_PROOF', 'MIXED_SLOTS', 'NOT_ALLOWED_VALUE',
      'NOT_INTEGER', 'NOT_JSON', 'NOT_OBJECT', 'NO_BALLOTS', 'OUT_OF_RANGE', 'UNKNOWN_CONDITION', 'UNKNOWN_FIELD',
      'WRONG_PROOF',
    ],
  },
  UNAUTHENTICATED: {
    httpStatus: 401,
    title: 'The ledger does not accept this identity',
    meaning: 'caller identity unusable (no role attribute, revoked per ledger list)',
    subCodes: [
      'BAD_METER_ATTRIBUTE', 'BAD_ZONE_ATTRIBUTE', 'NO_IDENTITY', 'NO_ROLE', 'UNKNOWN_ROLE',
    ],
  },
  FORBIDDEN: {
    httpStatus: 403,
    title: 'Not allowed by the ledger',
    meaning: "caller's role/identity may not do this",
    subCodes: [
      'BANNED', 'IDENTITY_MISMATCH', 'KEY_REVOKED', 'NOT_ACTIVE', 'NOT_BUYER', 'NOT_MANAGER', 'NOT_ON_COMMITTEE', 'NOT_SELLER',
      'NOT_SELLER_PACKET', 'NOT_SLOT_LEADER', 'NOT_WALLET_READER', 'NO_BEACON_KEY', 'OTHER_METER', 'OTHER_UTILITY',
      'POOL_REGULATOR_ONLY', 'Q_SCORE_TOO_LOW', 'SELF_TRADE', 'WRONG_ROLE', 'ZONE_MISMATCH',
    ],
  },
  NOT_FOUND: {
    httpStatus: 404,
    title: 'Not found on the ledger',
    meaning: 'the named object does not exist',
    subCodes: [
      'AUCTION_NOT_FOUND', 'BALLOT_NOT_FOUND', 'BEACON_KEY_NOT_FOUND', 'BID_NOT_FOUND', 'NOT_A_MEMBER', 'NO_ACCOUNT',
      'OFFER_NOT_FOUND', 'PACKET_NOT_FOUND', 'PARTICIPANT_NOT_FOUND', 'READING_NOT_FOUND', 'TASK_NOT_FOUND',
      'TRADE_NOT_FOUND', 'ZONE_NOT_FOUND',
    ],
  },
  CONFLICT: {
    httpStatus: 409,
    title: 'Conflicts with ledger state',
    meaning: 'contradicts existing state (conflicting re-post, double vote, wrong state)',
    subCodes: [
      'ALREADY_CLAIMED', 'ALREADY_CONTRIBUTED', 'ALREADY_REVEALED', 'ALREADY_VOTED', 'AUCTION_EXISTS', 'BALLOT_DECIDED',
      'BAN_EXPIRED', 'BEACON_COMPLETE', 'BEACON_KEY_EXISTS', 'BID_EXISTS', 'ENTRY_EXISTS', 'ESCROW_MISMATCH',
      'EVIDENCE_EXISTS', 'INDEX_INCONSISTENT', 'LEADER_SLOT_USED', 'METER_ALREADY_JOINED', 'METER_ENROLLED_ELSEWHERE',
      'NOT_ACTIVE', 'NOT_ADMITTED', 'NOT_PENDING', 'NOT_SEEDED', 'NOT_SUSPENDED', 'NO_ENTRY_BALLOT', 'OFFER_EXISTS',
      'OUT_OF_ORDER', 'PACKET_OWNER_CHANGE', 'PARTICIPANT_EXISTS', 'PROOF_MISMATCH', 'READING_IMMUTABLE',
      'REGISTER_MISMATCH', 'TASK_CLOSED', 'TASK_EXISTS', 'TERMS_MISMATCH', 'TRADE_EXISTS', 'WRONG_INTERVAL',
      'WRONG_METER', 'WRONG_ROUND', 'WRONG_STATE',
    ],
  },
  PRECONDITION_FAILED: {
    httpStatus: 412,
    title: 'A ledger precondition is not met',
    meaning: 'a deadline/expiry/eligibility rule is not met',
    subCodes: [
      'BAD_TIMESTAMP', 'BIDDING_CLOSED', 'BID_TOO_SMALL', 'CLAIM_CLOSED', 'CLOCK_SKEW', 'COMMUNITY_FOUNDED',
      'CUSTODIAN_CAP', 'DEADLINE_NOT_PASSED', 'DEADLINE_PASSED', 'EXPIRED', 'INDEX_NOT_BACKFILLED',
      'INTERVAL_NOT_ENDED', 'KEY_NOT_REGISTERED', 'METER_NOT_ENROLLED', 'NOT_EXPIRED', 'NOT_JOINED', 'NO_COMMITTEE', 'NO_DELIVERY_EVIDENCE',
      'NO_ENTRY_YET', 'PREVIOUS_BALLOT_OPEN', 'PRICE_ABOVE_CAP', 'PRICE_BELOW_MINIMUM', 'REVEAL_CLOSED',
      'REVEAL_NOT_OPEN', 'TOO_FEW_BEACON_KEYS', 'TOO_FEW_ELIGIBLE', 'UNDECIDED',
    ],
  },
  INSUFFICIENT_FUNDS: {
    httpStatus: 422,
    title: 'Insufficient funds',
    meaning: 'balance too low',
    subCodes: [
      'INSUFFICIENT_BALANCE',
    ],
  },
  INSUFFICIENT_ENERGY: {
    httpStatus: 422,
    title: 'Insufficient energy',
    meaning: 'energy too low',
    subCodes: [
      'MINT_EXCEEDS_EXPORT', 'PACKET_SHORT',
    ],
  },
} as const satisfies Record<ErrorCode, ErrorCodeSpec>;

/** The sub-codes a code may carry, e.g. `SubCodeOf<'CONFLICT'>` includes `'ALREADY_CONTRIBUTED'`. */
export type SubCodeOf<C extends ErrorCode> = (typeof ERROR_CATALOGUE)[C]['subCodes'][number];
/** Any sub-code of any code. */
export type SubCode = SubCodeOf<ErrorCode>;

/** Structured facts of a refusal: plain JSON values only (ids, integers, booleans). */
export type ErrorPayload = Record<string, string | number | boolean | null | string[] | number[]>;

export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** Whether `subCode` is catalogued under `code`. */
export function isSubCodeOf<C extends ErrorCode>(code: C, subCode: string): subCode is SubCodeOf<C> {
  return (ERROR_CATALOGUE[code].subCodes as readonly string[]).includes(subCode);
}

/** The shape every sub-code has (SCREAMING_SNAKE, at most 64 characters). */
export const SUB_CODE_PATTERN = /^[A-Z][A-Z0-9_]{1,63}$/;

/** `[CODE:SUB_CODE] detail`, plus the payload's canonical JSON (sorted keys) on a second line. */
export function formatErrorMessage(code: ErrorCode, subCode: string, detail: string, payload?: ErrorPayload): string {
  const head = `[${code}:${subCode}] ${detail}`;
  if (!payload) return head;
  // Sorted keys, as everything else the chaincode returns (errors are part of the endorsed response).
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(payload).sort()) sorted[k] = payload[k];
  return `${head}\n${JSON.stringify(sorted)}`;
}

/** A parsed refusal. `code` is a string: a newer chaincode may send a code this build does not know (check `isErrorCode`). */
export interface ParsedError {
  code: string;
  subCode?: string;
  /** the message without its `[CODE:SUB_CODE] ` prefix and payload line */
  detail: string;
  payload?: Record<string, unknown>;
}

const BRACKET_CODE = /^\[([A-Z][A-Z0-9_]*)(?::([A-Z][A-Z0-9_]*))?\]\s*([\s\S]*)$/;
const PAYLOAD_LINE = /\n(\{[^\n]*\})$/;

/**
 * Parses a chaincode error message back into its parts; undefined when it carries no `[CODE…]` prefix.
 * A last line that is not a JSON object stays part of the detail.
 */
export function parseErrorMessage(message: string): ParsedError | undefined {
  const coded = BRACKET_CODE.exec(message);
  if (!coded) return undefined;
  let detail = coded[3] ?? '';
  let payload: Record<string, unknown> | undefined;
  const line = PAYLOAD_LINE.exec(detail);
  if (line) {
    try {
      const parsed: unknown = JSON.parse(line[1] ?? '');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        payload = parsed as Record<string, unknown>;
        detail = detail.slice(0, line.index);
      }
    } catch {
      // not a payload line: keep it as part of the detail
    }
  }
  return { code: coded[1] ?? '', ...(coded[2] ? { subCode: coded[2] } : {}), detail, ...(payload ? { payload } : {}) };
}
