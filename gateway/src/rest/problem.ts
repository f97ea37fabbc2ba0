import { status as Grpc } from '@grpc/grpc-js';
import { StatusCode } from '@hyperledger/fabric-gateway';
import { ERROR_CATALOGUE, isErrorCode } from '@gridledger/protocol';
import { classifyFailure, isEndorsementMismatch, LedgerError } from '../fabric/errors';

/** RFC 9457 problem details. `type` is a URN documented in docs/api.md ("Problem types"). */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_BASE = 'urn:gridledger:problem:';

export class HttpProblem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, slug: string, title: string, detail: string, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.extensions = extensions;
    this.headers = headers;
  }

  body(instance?: string): ProblemBody {
    return {
      type: PROBLEM_BASE + this.slug,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

/** Maps a (normalised) ledger failure to a problem. `attempts` is how many tries the submitter made. */
export function ledgerProblem(e: LedgerError, attempts?: number): HttpProblem {
  const tx = e.txId ? { txId: e.txId } : {};
  if (e.chaincode) {
    const c = e.chaincode;
    // the one code → HTTP mapping (packages/protocol/src/errors.ts ERROR_CATALOGUE; CONTRACTS.md "Errors")
    if (c.code && isErrorCode(c.code)) {
      const mapped = ERROR_CATALOGUE[c.code];
      return new HttpProblem(mapped.httpStatus, `chaincode-${c.code.toLowerCase().replace(/_/g, '-')}`, mapped.title, c.text, {
        chaincodeCode: c.code,
        ...(c.subCode ? { subCode: c.subCode } : {}),
        ...(c.payload ? { chaincodePayload: c.payload } : {}),
        chaincodeMessage: c.message,
        ...tx,
      });
    }
    return new HttpProblem(502, 'chaincode-error', 'The chaincode failed', `the chaincode answered status ${c.status}: ${c.message}`, {
      chaincodeMessage: c.message,
      ...tx,
    });
  }
  if (e.stage === 'commit') {
    const name = e.validationName ?? 'UNKNOWN';
    if (e.validationCode === StatusCode.MVCC_READ_CONFLICT || e.validationCode === StatusCode.PHANTOM_READ_CONFLICT) {
      return new HttpProblem(
        409,
        'ledger-conflict',
        'Concurrent update conflict',
        `the transaction kept conflicting with concurrent updates (${name})${attempts ? ` after ${attempts} attempts` : ''}; retry the request`,
        { validationCode: name, ...tx },
        { 'Retry-After': '1' },
      );
    }
    return new HttpProblem(502, 'transaction-invalid', 'The transaction was not valid on commit', `the ledger marked the transaction ${name}`, {
      validationCode: name,
      ...tx,
    });
  }
  if (e.stage === 'commitStatus') {
    return new HttpProblem(
      504,
      'commit-status-unknown',
      'Commit not confirmed in time',
      `transaction ${e.txId ?? '(unknown id)'} was sent to the orderer but its commit was not confirmed in time; it may still commit — retry with the same Idempotency-Key (the gateway then re-sends this same transaction), never as a new request`,
      tx,
    );
  }
  if (isEndorsementMismatch(e)) {
    return new HttpProblem(
      503,
      'endorsements-differ',
      'The endorsing peers disagreed',
      `the endorsing peers returned different results${attempts ? ` on each of ${attempts} attempts` : ''} (usually peers at different block heights while a concurrent transaction on the same data commits); nothing was submitted — retry`,
      tx,
      { 'Retry-After': '1' },
    );
  }
  const all = [e.message, ...e.details.map((d) => d.message)].join(' | ');
  if (/access denied|creator org|creator is malformed|permission denied|check policy/i.test(all)) {
    return new HttpProblem(403, 'identity-refused', 'The network refused the signing identity', `the peer or orderer refused the identity this request is signed with (revoked, unknown CA, or not a channel member): ${e.details[0]?.message ?? e.message}`, tx);
  }
  if (e.grpcCode === Grpc.FAILED_PRECONDITION && /no combination of peers|unavailability of peers|failed to find any endorsing peers|no peers available/.test(e.message)) {
    return new HttpProblem(503, 'endorsers-unavailable', 'Not enough endorsing peers', `the network could not find peers to satisfy the endorsement policy (${e.message}); retry later`, tx, { 'Retry-After': '5' });
  }
  if (e.txId && classifyFailure(e) === 'resend') {
    return new HttpProblem(
      503,
      'ledger-unavailable',
      'The ledger is unavailable',
      `sending transaction ${e.txId} to the orderer failed (${e.message}); it may have arrived — retry with the same Idempotency-Key (the gateway then re-sends this same transaction), never as a new request`,
      tx,
      { 'Retry-After': '5' },
    );
  }
  if (e.stage === 'connect' || e.grpcCode === Grpc.UNAVAILABLE || e.grpcCode === Grpc.DEADLINE_EXCEEDED || e.grpcCode === Grpc.RESOURCE_EXHAUSTED) {
    return new HttpProblem(503, 'ledger-unavailable', 'The ledger is unavailable', `the Fabric network did not answer (${e.message}); retry later`, tx, { 'Retry-After': '5' });
  }
  return new HttpProblem(502, 'ledger-error', 'The ledger call failed', e.details[0]?.message ?? e.message, tx);
}
