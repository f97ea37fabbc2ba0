import * as grpc from '@grpc/grpc-js';
// The real client's decoder: what EndorseError/SubmitError details are built from.
import { newGatewayError } from '@hyperledger/fabric-gateway/dist/gatewayerror';
import { rpcError, toServiceError } from '../../src/gateway/errors';

describe('gateway gRPC error encoding (P§6.1)', () => {
  it('round-trips code, message and ErrorDetails through the real client decoder', () => {
    const err = rpcError(grpc.status.ABORTED, 'failed to endorse transaction, see attached details for more info', [
      { address: 'peer0.org1:7051', mspId: 'Org1MSP', message: 'chaincode response 500, boom' },
      { address: 'peer0.org2:9051', mspId: 'Org2MSP', message: 'ProposalResponsePayloads do not match' },
    ]);
    const se = toServiceError(err);
    expect(se.code).toBe(grpc.status.ABORTED);
    expect(se.details).toBe('failed to endorse transaction, see attached details for more info');
    // two grpc-js copies (devnet pins its own) — the client only reads code, message and metadata.get
    const ge = newGatewayError(Object.assign(new Error(`10 ABORTED: ${se.details}`), se) as never);
    expect(ge.code).toBe(grpc.status.ABORTED);
    expect(ge.details).toEqual([
      { address: 'peer0.org1:7051', mspId: 'Org1MSP', message: 'chaincode response 500, boom' },
      { address: 'peer0.org2:9051', mspId: 'Org2MSP', message: 'ProposalResponsePayloads do not match' },
    ]);
  });

  it('sends no trailer when there are no endpoint details', () => {
    const se = toServiceError(rpcError(grpc.status.INVALID_ARGUMENT, 'prepared transaction must be signed'));
    expect(se.metadata!.get('grpc-status-details-bin')).toEqual([]);
  });

  it('maps unexpected errors to INTERNAL', () => {
    expect(toServiceError(new Error('bug')).code).toBe(grpc.status.INTERNAL);
  });
});
