import { status as Grpc } from '@grpc/grpc-js';
import { CommitError, CommitStatusError, EndorseError, GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { parseErrorMessage } from '@gridledger/protocol';

/** peer.TxValidationCode names by value (fabric-gateway's `StatusCode`), as Fabric prints them. */
const TX_VALIDATION_NAMES = new Map<number, string>(Object.entries(StatusCode).map(([name, code]) => [code as number, name]));

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
  readonly grpcCode: Grpc | undefined;
  readonly validationCode: number | undefined;
  readonly details: Array<{ address: string; mspId: string; message: string }>;
  readonly txId: string | undefined;
  readonly chaincode: ChaincodeFailure | undefined;

  constructor(o: {
    stage: LedgerStage;
    message: string;
    grpcCode?: Grpc;
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
    return this.validationCode === undefined ? undefined : (TX_VALIDATION_NAMES.get(this.validationCode) ?? `CODE_${this.validationCode}`);
  }
}

const CHAINCODE_RESPONSE = /^chaincode response (\d+), ([\s\S]*)$/;

/**
 * Extracts the chaincode's own message from details[].message (devnet-protocol.md §6) and reads its
 * `[CODE:SUB_CODE] detail` + optional payload line with the protocol's `parseErrorMessage`
 * (packages/protocol/src/errors.ts; `[CODE] detail` from older chaincode).
 */
export function extractChaincodeFailure(details: Array<{ message: string }>, statusMessage = ''): ChaincodeFailure | undefined {
  const candidates = [...details.map((d) => d.message), statusMessage.replace(/^.*?returned error: /, '')];
  for (const m of candidates) {
    const match = CHAINCODE_RESPONSE.exec(m);
    if (!match) continue;
    const message = match[2]!;
    const parsed = parseErrorMessage(message);
    if (!parsed) return { status: Number(match[1]), message, text: message };
    return {
      status: Number(match[1]),
      message,
      code: parsed.code,
      ...(parsed.subCode ? { subCode: parsed.subCode } : {}),
      ...(parsed.payload ? { payload: parsed.payload } : {}),
      text: parsed.detail,
    };
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
    ...(typeof anyErr?.code === 'number' ? { grpcCode: anyErr.code as Grpc } : {}),
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
    return e.validationCode === StatusCode.MVCC_READ_CONFLICT || e.validationCode === StatusCode.PHANTOM_READ_CONFLICT ? 'conflict' : 'permanent';
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
