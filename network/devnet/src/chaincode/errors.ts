/**
 * Failures of the chaincode runtime that are NOT chaincode results (a chaincode error is a
 * COMPLETED message with status 500 and comes back as a normal SimulationResult, P§8.3).
 * Messages follow Fabric's text so the endorser can prefix "error in simulation: " and surface
 * the same details as a real peer (P§6.2, row "chaincode server unreachable / crashed").
 */
export type ChaincodeFailure =
  | 'launch' // could not dial / handshake with the chaincode server
  | 'stream-terminated' // the Connect stream ended while the tx was executing
  | 'timeout' // executetimeout expired
  | 'duplicate-txid' // a context for this channel+txid is already executing on this stream
  | 'chaincode-error' // chaincode answered ERROR instead of COMPLETED
  | 'closed'; // runtime was closed

export class ChaincodeRuntimeError extends Error {
  constructor(
    readonly kind: ChaincodeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ChaincodeRuntimeError';
  }
}

/** An error answered to one chaincode request; becomes an ERROR message "<TYPE> failed: ...". */
export class HandlerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandlerError';
  }
}
