import { CommitError, CommitStatusError, EndorseError, GatewayError } from '@hyperledger/fabric-gateway';

/** gRPC status codes used below (grpc-js `status`). */
export const Grpc = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
} as const;

/** peer.TxValidationCode names (devnet-protocol.md §5). */
export const TX_VALIDATION_NAMES: Record<number, string> = {
  0: 'VALID', 1: 'NIL_ENVELOPE', 2: 'BAD_PAYLOAD', 3: 'BAD_COMMON_HEADER', 4: 'BAD_CREATOR_SIGNATURE',
  5: 'INVALID_ENDORSER_TRANSACTION', 6: 'INVALID_CONFIG_TRANSACTION', 7: 'UNSUPPORTED_TX_PAYLOAD',
  8: 'BAD_PROPOSAL_TXID', 9: 'DUPLICATE_TXID', 10: 'ENDORSEMENT_POLICY_FAILURE', 11: 'MVCC_READ_CONFLICT',
  12: 'PHANTOM_READ_CONFLICT', 13: 'UNKNOWN_TX_TYPE', 14: 'TARGET_CHAIN_NOT_FOUND', 15: 'MARSHAL_TX_ERROR',
  16: 'NIL_TXACTION', 17: 'EXPIRED_CHAINCODE', 18: 'CHAINCODE_VERSION_CONFLICT', 19: 'BAD_HEADER_EXTENSION',
  20: 'BAD_CHANNEL_HEADER', 21: 'BAD_RESPONSE_PAYLOAD', 22: 'BAD_RWSET', 23: 'ILLEGAL_WRITESET',
  24: 'INVALID_WRITESET', 25: 'INVALID_CHAINCODE', 254: 'NOT_VALIDATED', 255: 'INVALID_OTHER_REASON',
};
export const MVCC_READ_CONFLICT = 11;
export const PHANTOM_READ_CONFLICT = 12;

export type LedgerStage = 'connect' | 'evaluate' | 'endorse' | 'submit' | 'commitStatus' | 'commit';

export interface ChaincodeFailure {
  /** chaincode response status (500 for every contract error) */
  status: number;
  /** the chaincode's full message, e.g. `[FORBIDDEN] meter m-17 may only post its own readings` */
  message: string;
  /** the bracketed code, when the chaincode used one (CONTRACTS.md "Errors") */
  code?: string;
  /** which rule refused, e.g. `ALREADY_CONTRIBUTED` from `[CONFLICT:ALREADY_CONTRIBUTED] …`; stable, so branch on it, never on `text` */
  subCode?: string;
  /** the chaincode's structured facts of the refusal (the JSON line after the detail), when it sent one */
  payload?: Record<string, unknown>;
  /** the message without its `[CODE:SUB_CODE] ` prefix and payload line */
  text: string;
}

/** One normalised failure of a ledger call, whatever class the Fabric client threw. */
export class LedgerError extends Error {
  readonly stage: LedgerStage;
  readonly grpcCode: number | undefined;
  readonly validationCode: number | undefined;
  readonly details: Array<{ address: string; mspId: string; message: string }>;
  readonly txId: string | undefined;
  readonly chaincode: ChaincodeFailure | undefined;

  constructor(o: {
    stage: LedgerStage;
    message: string;
    grpcCode?: number;
    validationCode?: number;
    details?: Array<{ address: string; mspId: string; message: string }>;
    txId?: string;
    cause?: unknown;
  }) {
    super(o.message, { cause: o.cause });
    this.name = 'LedgerError';
    this.stage = o.stage;
    this.grpcCode = o.grpcCode;
    this.validationCode = o.validationCode;
    this.details = o.details ?? [];
    this.txId = o.txId;
    this.chaincode = extractChaincodeFailure(this.details, o.message);
  }

  get validationName(): string | undefined {
    return this.validationCode === undefined ? undefined : (TX_VALIDATION_NAMES[this.validationCode] ?? `CODE_${this.validationCode}`);
  }
}

const CHAINCODE_RESPONSE = /^chaincode response (\d+), ([\s\S]*)$/;
// `[CODE:SUB_CODE] detail` + optional `\n{payload}` (chaincode/src/kernel/errors.ts); `[CODE] detail` from older chaincode.
const BRACKET_CODE = /^\[([A-Z][A-Z0-9_]*)(?::([A-Z][A-Z0-9_]*))?\]\s*([\s\S]*)$/;
const PAYLOAD_LINE = /\n(\{[^\n]*\})$/;

/** Extracts the chaincode's own message from details[].message (devnet-protocol.md §6). */
export function extractChaincodeFailure(details: Array<{ message: string }>, statusMessage = ''): ChaincodeFailure | undefined {
  const candidates = [...details.map((d) => d.message), statusMessage.replace(/^.*?returned error: /, '')];
  for (const m of candidates) {
    const match = CHAINCODE_RESPONSE.exec(m);
    if (!match) continue;
    const message = match[2]!;
    const coded = BRACKET_CODE.exec(message);
    if (!coded) return { status: Number(match[1]), message, text: message };
    let text = coded[3]!;
    let payload: Record<string, unknown> | undefined;
    const line = PAYLOAD_LINE.exec(text);
    if (line) {
      try {
        const parsed: unknown = JSON.parse(line[1]!);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          payload = parsed as Record<string, unknown>;
          text = text.slice(0, line.index);
        }
      } catch {
        // not a payload line: keep it as part of the text
      }
    }
    return { status: Number(match[1]), message, code: coded[1]!, ...(coded[2] ? { subCode: coded[2] } : {}), ...(payload ? { payload } : {}), text };
  }
  return undefined;
}

function stageOf(err: unknown, fallback: LedgerStage): LedgerStage {
  if (err instanceof EndorseError) return 'endorse';
  if ((err as Error).name === 'SubmitError') return 'submit'; // SubmitError is exported as a type only
  if (err instanceof CommitStatusError) return 'commitStatus';
  return fallback;
}

/** Converts whatever the Fabric client threw into a LedgerError. `stage` is the call that was made. */
export function normalizeLedgerError(err: unknown, stage: LedgerStage): LedgerError {
  if (err instanceof LedgerError) return err;
  if (err instanceof CommitError) {
    return new LedgerError({ stage: 'commit', message: err.message, validationCode: err.code, txId: err.transactionId, cause: err });
  }
  if (err instanceof GatewayError) {
    const e = err as GatewayError & { transactionId?: string };
    return new LedgerError({
      stage: stageOf(err, stage),
      message: e.message,
      grpcCode: e.code,
      details: e.details.map((d) => ({ address: d.address, mspId: d.mspId, message: d.message })),
      ...(e.transactionId ? { txId: e.transactionId } : {}),
      cause: err,
    });
  }
  const anyErr = err as { code?: unknown; message?: unknown };
  return new LedgerError({
    stage,
    message: typeof anyErr?.message === 'string' ? anyErr.message : String(err),
    ...(typeof anyErr?.code === 'number' ? { grpcCode: anyErr.code } : {}),
    cause: err,
  });
}

/**
 * What to do about a failure:
 * - `conflict`: MVCC/phantom read conflict at commit — endorse a NEW proposal (new tx id) and retry.
 * - `endorsement-mismatch`: the endorsers' ProposalResponsePayloads differed — typically peers at different
 *   block heights while a transaction touching the same keys is being committed; nothing reached the
 *   orderer, so endorse a NEW proposal after a backoff (counted apart from other retries: if it never
 *   stops, the chaincode is not deterministic).
 * - `retry-endorse`: transient failure before anything reached the orderer — a new proposal is safe.
 * - `resend`: transient failure sending to the orderer — re-send the SAME signed transaction (same tx id; never commits twice).
 * - `unknown-outcome`: the transaction may or may not commit (commit status not known yet) — ask again later, never re-endorse.
 * - `permanent`: the ledger refused it (chaincode error, access denied, invalid commit) — report, do not retry.
 */
export type FailureClass = 'conflict' | 'endorsement-mismatch' | 'retry-endorse' | 'resend' | 'unknown-outcome' | 'permanent';

const MISMATCH = /ProposalResponsePayloads do not match/;

/** The endorsing peers returned different results for the same proposal (Fabric's gateway: ABORTED; the text is in a detail, or in the message on Fabric 2.4's "failed to assemble transaction"). */
export function isEndorsementMismatch(e: LedgerError): boolean {
  return e.stage === 'endorse' && !e.chaincode && (MISMATCH.test(e.message) || e.details.some((d) => MISMATCH.test(d.message)));
}

const TRANSIENT_GRPC = new Set<number>([Grpc.UNAVAILABLE, Grpc.DEADLINE_EXCEEDED, Grpc.RESOURCE_EXHAUSTED, Grpc.CANCELLED]);

export function classifyFailure(e: LedgerError): FailureClass {
  if (e.stage === 'commit') {
    return e.validationCode === MVCC_READ_CONFLICT || e.validationCode === PHANTOM_READ_CONFLICT ? 'conflict' : 'permanent';
  }
  if (e.stage === 'commitStatus') return 'unknown-outcome';
  if (e.chaincode) return 'permanent';
  if (isEndorsementMismatch(e)) return 'endorsement-mismatch';
  const transient = e.grpcCode !== undefined && TRANSIENT_GRPC.has(e.grpcCode);
  if (e.stage === 'submit') return transient || e.grpcCode === undefined ? 'resend' : 'permanent';
  if (e.stage === 'connect') return 'retry-endorse';
  if (transient || e.grpcCode === undefined) return 'retry-endorse';
  // Discovery could not find enough endorsing peers (peers down, chaincode not yet installed): infrastructure, not a verdict.
  if (e.grpcCode === Grpc.FAILED_PRECONDITION && /no combination of peers|unavailability of peers|failed to find any endorsing peers|no peers available/.test(e.message)) {
    return 'retry-endorse';
  }
  // ABORTED without a chaincode message: endorsement collection failed (peer crashed, chaincode unreachable).
  if (e.grpcCode === Grpc.ABORTED) return 'retry-endorse';
  return 'permanent';
}
