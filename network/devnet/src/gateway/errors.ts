/**
 * gRPC error encoding of Fabric's gateway (P§6.1, F internal/pkg/gateway/apiutils.go newRpcError):
 * a status code, Fabric's message, and one gateway.ErrorDetail per endpoint packed as Any into a
 * google.rpc.Status in the `grpc-status-details-bin` trailer — what the real client decodes into
 * EndorseError/SubmitError/CommitStatusError details.
 */
import * as grpc from '@grpc/grpc-js';
import { gateway, google } from '@hyperledger/fabric-protos';
import { Any } from 'google-protobuf/google/protobuf/any_pb';

export interface EndpointDetail {
  address: string;
  mspId: string;
  message: string;
}

export class GatewayRpcError extends Error {
  constructor(readonly code: grpc.status, message: string, readonly details: EndpointDetail[] = []) {
    super(message);
    this.name = 'GatewayRpcError';
  }
}

export function rpcError(code: grpc.status, message: string, details: EndpointDetail[] = []): GatewayRpcError {
  return new GatewayRpcError(code, message, details);
}

export function statusDetailsBytes(code: grpc.status, message: string, details: EndpointDetail[]): Buffer {
  const status = new google.rpc.Status();
  status.setCode(code);
  status.setMessage(message);
  status.setDetailsList(
    details.map((d) => {
      const ed = new gateway.ErrorDetail();
      ed.setAddress(d.address);
      ed.setMspId(d.mspId);
      ed.setMessage(d.message);
      const any = new Any();
      any.pack(ed.serializeBinary(), 'gateway.ErrorDetail');
      return any;
    }),
  );
  return Buffer.from(status.serializeBinary());
}

/** The object grpc-js sends as the call's error status. */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof GatewayRpcError) {
    const metadata = new grpc.Metadata();
    if (err.details.length > 0) metadata.set('grpc-status-details-bin', statusDetailsBytes(err.code, err.message, err.details));
    return { code: err.code, details: err.message, metadata };
  }
  // Anything else is a devnet bug; report it as Fabric reports unexpected failures.
  return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err), metadata: new grpc.Metadata() };
}
