import { status as Grpc } from '@grpc/grpc-js';
import { CommitError, CommitStatusError, EndorseError, GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { classifyFailure, extractChaincodeFailure, LedgerError, normalizeLedgerError } from '../src/fabric/errors';
import { ledgerProblem } from '../src/rest/problem';

const detail = (message: string) => ({ address: 'peer0.utility1:7051', mspId: 'Utility1MSP', message });

describe('chaincode message extraction (devnet-protocol.md §6)', () => {
  it('reads the code and text from details[].message', () => {
    expect(extractChaincodeFailure([detail('chaincode response 500, [NOT_FOUND] participant p9 does not exist')])).toEqual({
      status: 500,
      message: '[NOT_FOUND] participant p9 does not exist',
      code: 'NOT_FOUND',
      text: 'participant p9 does not exist',
    });
    expect(extractChaincodeFailure([], 'evaluate call to endorser returned error: chaincode response 500, [CONFLICT] x')).toMatchObject({ code: 'CONFLICT', text: 'x' });
    expect(extractChaincodeFailure([detail('chaincode response 500, You\'ve asked to invoke a function that does not exist: nope')])).not.toHaveProperty('code');
    expect(extractChaincodeFailure([detail('ProposalResponsePayloads do not match')])).toBeUndefined();
  });

  it('reads the sub-code and the structured payload of `[CODE:SUB_CODE] detail\\n{payload}` (chaincode kernel/errors.ts)', () => {
    expect(extractChaincodeFailure([detail('chaincode response 500, [CONFLICT:ALREADY_CONTRIBUTED] Utility1MSP already contributed to task t-1 round 0\n{"mspId":"Utility1MSP","round":0,"taskId":"t-1"}')])).toEqual({
      status: 500,
      message: '[CONFLICT:ALREADY_CONTRIBUTED] Utility1MSP already contributed to task t-1 round 0\n{"mspId":"Utility1MSP","round":0,"taskId":"t-1"}',
      code: 'CONFLICT',
      subCode: 'ALREADY_CONTRIBUTED',
      payload: { mspId: 'Utility1MSP', round: 0, taskId: 't-1' },
      text: 'Utility1MSP already contributed to task t-1 round 0',
    });
    expect(extractChaincodeFailure([detail('chaincode response 500, [FORBIDDEN:OTHER_METER] meter m-1 may only post its own readings')])).toEqual({
      status: 500,
      message: '[FORBIDDEN:OTHER_METER] meter m-1 may only post its own readings',
      code: 'FORBIDDEN',
      subCode: 'OTHER_METER',
      text: 'meter m-1 may only post its own readings',
    });
  });

  it('exposes the sub-code and payload in problem+json', () => {
    const e = new LedgerError({ stage: 'endorse', message: 'x', grpcCode: Grpc.ABORTED, txId: 'tx7', details: [detail('chaincode response 500, [CONFLICT:ALREADY_VOTED] p-1 already voted\n{"taskId":"t-9"}')] });
    const p = ledgerProblem(e);
    expect(p.status).toBe(409);
    expect(p.body()).toMatchObject({ detail: 'p-1 already voted', chaincodeCode: 'CONFLICT', subCode: 'ALREADY_VOTED', chaincodePayload: { taskId: 't-9' }, txId: 'tx7' });
  });
});

describe('problem mapping from the real fabric-gateway error classes', () => {
  const endorse = (msg: string, code = 10) =>
    new EndorseError({ code, message: `${code} ABORTED: failed to endorse transaction`, details: [detail(msg), detail(msg)], transactionId: 'tx9', cause: new Error('x') } as never);

  it.each([
    ['INVALID_ARGUMENT', 400],
    ['UNAUTHENTICATED', 401],
    ['FORBIDDEN', 403],
    ['NOT_FOUND', 404],
    ['CONFLICT', 409],
    ['PRECONDITION_FAILED', 412],
    ['INSUFFICIENT_FUNDS', 422],
    ['INSUFFICIENT_ENERGY', 422],
  ])('[%s] → %i', (code, status) => {
    const e = normalizeLedgerError(endorse(`chaincode response 500, [${code}] something specific`), 'endorse');
    expect(e.stage).toBe('endorse');
    expect(classifyFailure(e)).toBe('permanent');
    const p = ledgerProblem(e);
    expect(p.status).toBe(status);
    expect(p.body()).toMatchObject({ detail: 'something specific', chaincodeCode: code, txId: 'tx9' });
  });

  it('evaluate GatewayError with a chaincode message', () => {
    const g = new GatewayError({ code: Grpc.UNKNOWN, message: '2 UNKNOWN: evaluate call to endorser returned error: chaincode response 500, [NOT_FOUND] no wallet', details: [detail('chaincode response 500, [NOT_FOUND] no wallet')], cause: new Error('x') } as never);
    expect(ledgerProblem(normalizeLedgerError(g, 'evaluate')).status).toBe(404);
  });

  it('a chaincode error without a code is a 502', () => {
    const e = normalizeLedgerError(endorse("chaincode response 500, You've asked to invoke a function that does not exist: x"), 'endorse');
    expect(ledgerProblem(e)).toMatchObject({ status: 502, slug: 'chaincode-error' });
  });

  it('CommitError MVCC/phantom → conflict (new proposal); other codes permanent', () => {
    const mvcc = normalizeLedgerError(new CommitError({ code: StatusCode.MVCC_READ_CONFLICT, transactionId: 't1', message: 'Transaction t1 failed to commit with status code 11 (MVCC_READ_CONFLICT)' } as never), 'submit');
    expect(mvcc).toMatchObject({ stage: 'commit', validationCode: StatusCode.MVCC_READ_CONFLICT, txId: 't1', validationName: 'MVCC_READ_CONFLICT' });
    expect(classifyFailure(mvcc)).toBe('conflict');
    expect(ledgerProblem(mvcc, 5)).toMatchObject({ status: 409, slug: 'ledger-conflict' });
    const phantom = new LedgerError({ stage: 'commit', message: 'x', validationCode: StatusCode.PHANTOM_READ_CONFLICT });
    expect(classifyFailure(phantom)).toBe('conflict');
    const policy = new LedgerError({ stage: 'commit', message: 'x', validationCode: StatusCode.ENDORSEMENT_POLICY_FAILURE });
    expect(classifyFailure(policy)).toBe('permanent');
    expect(ledgerProblem(policy).body()).toMatchObject({ status: 502, validationCode: 'ENDORSEMENT_POLICY_FAILURE' });
  });

  it('CommitStatusError deadline → unknown outcome, 504 with the tx id', () => {
    const e = normalizeLedgerError(new CommitStatusError({ code: Grpc.DEADLINE_EXCEEDED, message: '4 DEADLINE_EXCEEDED: Deadline exceeded', details: [], transactionId: 'tx7', cause: new Error('x') } as never), 'commitStatus');
    expect(e.stage).toBe('commitStatus');
    expect(classifyFailure(e)).toBe('unknown-outcome');
    expect(ledgerProblem(e)).toMatchObject({ status: 504, slug: 'commit-status-unknown' });
    expect(ledgerProblem(e).body().txId).toBe('tx7');
  });

  it('transient gRPC failures: new proposal before ordering, resend after', () => {
    expect(classifyFailure(new LedgerError({ stage: 'endorse', message: 'x', grpcCode: Grpc.UNAVAILABLE }))).toBe('retry-endorse');
    expect(classifyFailure(new LedgerError({ stage: 'endorse', message: 'x', grpcCode: Grpc.DEADLINE_EXCEEDED }))).toBe('retry-endorse');
    expect(classifyFailure(new LedgerError({ stage: 'submit', message: 'x', grpcCode: Grpc.UNAVAILABLE }))).toBe('resend');
    expect(classifyFailure(new LedgerError({ stage: 'endorse', message: 'x', grpcCode: Grpc.ABORTED, details: [detail('error in simulation: chaincode stream terminated')] }))).toBe('retry-endorse');
    expect(ledgerProblem(new LedgerError({ stage: 'endorse', message: '14 UNAVAILABLE: No connection established', grpcCode: Grpc.UNAVAILABLE }))).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
  });

  it('endorsements that differ between peers are transient (new proposal), 503 once retries run out', () => {
    // Fabric 2.5+/3.x: the mismatch is a detail of an ABORTED endorse; 2.4: in the message of "failed to assemble transaction"
    const inDetails = normalizeLedgerError(
      new EndorseError({ code: Grpc.ABORTED, message: '10 ABORTED: failed to collect enough transaction endorsements, see attached details for more info', details: [detail('ProposalResponsePayloads do not match')], transactionId: 'tx4', cause: new Error('x') } as never),
      'endorse',
    );
    expect(classifyFailure(inDetails)).toBe('endorsement-mismatch');
    const inMessage = new LedgerError({ stage: 'endorse', message: '10 ABORTED: failed to assemble transaction: ProposalResponsePayloads do not match (base64): CiAx…', grpcCode: Grpc.ABORTED });
    expect(classifyFailure(inMessage)).toBe('endorsement-mismatch');
    expect(ledgerProblem(inDetails, 5)).toMatchObject({ status: 503, slug: 'endorsements-differ', headers: { 'Retry-After': '1' } });
    expect(ledgerProblem(inDetails, 5).message).toMatch(/different results on each of 5 attempts/);
    // a chaincode verdict in the details still wins: that is not a mismatch
    const verdict = new LedgerError({ stage: 'endorse', message: 'x', grpcCode: Grpc.ABORTED, details: [detail('chaincode response 500, [CONFLICT] offer closed'), detail('ProposalResponsePayloads do not match')] });
    expect(classifyFailure(verdict)).toBe('permanent');
  });

  it('discovery failures are infrastructure (retried, 503), not verdicts', () => {
    const e = new LedgerError({ stage: 'endorse', grpcCode: Grpc.FAILED_PRECONDITION, message: '9 FAILED_PRECONDITION: no combination of peers can be derived which satisfy the endorsement policy: required chaincodes are not installed on sufficient peers' });
    expect(classifyFailure(e)).toBe('retry-endorse');
    expect(ledgerProblem(e)).toMatchObject({ status: 503, slug: 'endorsers-unavailable' });
  });

  it('an identity refused by the peer is a 403', () => {
    const e = new LedgerError({ stage: 'evaluate', message: '9 FAILED_PRECONDITION: evaluate call to endorser returned error: error validating proposal: access denied: channel [energy] creator org [Utility1MSP]', grpcCode: Grpc.FAILED_PRECONDITION });
    expect(classifyFailure(e)).toBe('permanent');
    expect(ledgerProblem(e)).toMatchObject({ status: 403, slug: 'identity-refused' });
  });
});
