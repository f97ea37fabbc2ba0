/**
 * The peer's `protos.Endorser/ProcessProposal` (F core/endorser/endorser.go ProcessProposal), served
 * on the peer endpoint for clients that endorse without the gateway (fabric-network 2.2, the `peer`
 * CLI). The same Endorser the gateway calls: validation, simulation, ESCC signature. Like Fabric:
 * a proposal that cannot be unpacked or fails validation/ACL (preProcess) fails the call (gRPC
 * UNKNOWN with the error text); an unknown channel and every simulation failure come back as a
 * ProposalResponse with status 500 and the message; a chaincode response is returned as it is.
 */
import * as grpc from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import { Endorser, ProposalRejectedError } from '../peer/endorser';
import { ProposalFormatError } from '../peer/proposal';
import { rpcError, toServiceError } from './errors';

/** peer.EndorserService with the request left as bytes: the endorser unpacks the SignedProposal itself. */
export const RAW_ENDORSER_SERVICE: grpc.ServiceDefinition = {
  processProposal: {
    ...peer.EndorserService.processProposal,
    requestDeserialize: (b: Buffer) => b,
  },
} as unknown as grpc.ServiceDefinition;

function response500(message: string): peer.ProposalResponse {
  const r = new peer.Response();
  r.setStatus(500);
  r.setMessage(message);
  const pr = new peer.ProposalResponse();
  pr.setResponse(r);
  return pr;
}

export function endorserHandlers(endorser: Endorser): grpc.UntypedServiceImplementation {
  return {
    processProposal: (call: grpc.ServerUnaryCall<Buffer, peer.ProposalResponse>, cb: grpc.sendUnaryData<peer.ProposalResponse>) => {
      endorser.processProposal(call.request).then(
        (outcome) => cb(null, outcome.response),
        (err: Error) => {
          if (err instanceof ProposalRejectedError && /^channel '.*' not found$/.test(err.message)) return cb(null, response500(err.message));
          if (err instanceof ProposalRejectedError || err instanceof ProposalFormatError) return cb(toServiceError(rpcError(grpc.status.UNKNOWN, err.message)));
          cb(null, response500(err.message));
        },
      );
    },
  };
}
