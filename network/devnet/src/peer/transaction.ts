/**
 * The endorser transaction as it travels from gateway to orderer to committer (P§2.3):
 * assembly of the prepared (unsigned) envelope exactly as Fabric's gateway does
 * (F internal/pkg/gateway/submit.go prepareTransaction), and the reverse — decoding an envelope
 * into the parts the orderer and the committer check.
 */
import { common, peer } from '@hyperledger/fabric-protos';
import { UnpackedProposal } from './proposal';

const b = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * Builds the unsigned Envelope: the proposal's own header bytes, one TransactionAction whose
 * payload carries the first endorser's ProposalResponsePayload and the de-duplicated endorsements.
 */
export function assembleTransaction(proposal: UnpackedProposal, prpBytes: Uint8Array, endorsements: peer.Endorsement[]): common.Envelope {
  const seen = new Set<string>();
  const unique: peer.Endorsement[] = [];
  for (const e of endorsements) {
    // Fabric de-duplicates by the endorser's serialized identity bytes before assembling.
    const k = Buffer.from(e.getEndorser_asU8()).toString('base64');
    if (seen.has(k)) continue;
    seen.add(k);
    unique.push(e);
  }
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(prpBytes);
  endorsed.setEndorsementsList(unique);
  const cap = new peer.ChaincodeActionPayload();
  cap.setChaincodeProposalPayload(proposal.payloadWithoutTransient);
  cap.setAction(endorsed);
  const action = new peer.TransactionAction();
  action.setHeader(proposal.signatureHeaderBytes);
  action.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([action]);
  const header = new common.Header();
  header.setChannelHeader(proposal.channelHeaderBytes);
  header.setSignatureHeader(proposal.signatureHeaderBytes);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(tx.serializeBinary());
  const env = new common.Envelope();
  env.setPayload(payload.serializeBinary());
  return env;
}

/** Where decoding failed; the committer maps each stage to its TxValidationCode (P§5). */
export type EnvelopeStage =
  | 'envelope' | 'payload' | 'header' | 'channel-header' | 'signature-header' | 'transaction' | 'action'
  | 'action-payload' | 'prp' | 'chaincode-action';

export class EnvelopeFormatError extends Error {
  constructor(readonly stage: EnvelopeStage, message: string) {
    super(message);
    this.name = 'EnvelopeFormatError';
  }
}

export interface EnvelopeHeaderParts {
  envelope: common.Envelope;
  payloadBytes: Buffer;
  signature: Buffer;
  payload: common.Payload;
  channelHeaderBytes: Buffer;
  signatureHeaderBytes: Buffer;
  channelHeader: common.ChannelHeader;
  signatureHeader: common.SignatureHeader;
  headerType: number;
  channelId: string;
  txId: string;
  creator: Buffer;
  nonce: Buffer;
  timestamp: { seconds: number; nanos: number };
}

function stage<T>(s: EnvelopeStage, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EnvelopeFormatError) throw err;
    throw new EnvelopeFormatError(s, `cannot unmarshal ${s}: ${(err as Error).message}`);
  }
}

/** Decodes envelope → payload → header; enough for the orderer's checks and the committer's header checks. */
export function parseEnvelopeHeader(envelopeBytes: Uint8Array): EnvelopeHeaderParts {
  const envelope = stage('envelope', () => common.Envelope.deserializeBinary(envelopeBytes));
  const payloadBytes = b(envelope.getPayload_asU8());
  const payload = stage('payload', () => common.Payload.deserializeBinary(payloadBytes));
  const header = payload.getHeader();
  if (!header) throw new EnvelopeFormatError('header', 'missing header');
  const chBytes = b(header.getChannelHeader_asU8());
  const shBytes = b(header.getSignatureHeader_asU8());
  const channelHeader = stage('channel-header', () => common.ChannelHeader.deserializeBinary(chBytes));
  const signatureHeader = stage('signature-header', () => common.SignatureHeader.deserializeBinary(shBytes));
  const ts = channelHeader.getTimestamp();
  return {
    envelope,
    payloadBytes,
    signature: b(envelope.getSignature_asU8()),
    payload,
    channelHeaderBytes: chBytes,
    signatureHeaderBytes: shBytes,
    channelHeader,
    signatureHeader,
    headerType: channelHeader.getType(),
    channelId: channelHeader.getChannelId(),
    txId: channelHeader.getTxId(),
    creator: b(signatureHeader.getCreator_asU8()),
    nonce: b(signatureHeader.getNonce_asU8()),
    timestamp: { seconds: ts?.getSeconds() ?? 0, nanos: ts?.getNanos() ?? 0 },
  };
}

export interface EndorserTxParts {
  actionCount: number;
  actionHeaderBytes: Buffer;
  chaincodeProposalPayload: Buffer;
  prpBytes: Buffer;
  proposalHash: Buffer;
  endorsements: Array<{ endorser: Buffer; signature: Buffer }>;
  chaincodeAction: peer.ChaincodeAction;
  /** header-extension chaincode name (who was invoked) */
  invokedChaincode: string;
}

/** Decodes the ENDORSER_TRANSACTION body (one action, its endorsed ProposalResponsePayload). */
export function parseEndorserTransaction(h: EnvelopeHeaderParts): EndorserTxParts {
  const tx = stage('transaction', () => peer.Transaction.deserializeBinary(h.payload.getData_asU8()));
  const actions = tx.getActionsList();
  const action = actions[0];
  if (actions.length !== 1 || !action) throw new EnvelopeFormatError('transaction', `only one action per transaction is supported, tx contains ${actions.length}`);
  const cap = stage('action-payload', () => peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()));
  const endorsed = cap.getAction();
  if (!endorsed) throw new EnvelopeFormatError('action-payload', 'nil ChaincodeEndorsedAction');
  const prpBytes = b(endorsed.getProposalResponsePayload_asU8());
  const prp = stage('prp', () => peer.ProposalResponsePayload.deserializeBinary(prpBytes));
  const chaincodeAction = stage('chaincode-action', () => peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()));
  const ext = stage('channel-header', () => peer.ChaincodeHeaderExtension.deserializeBinary(h.channelHeader.getExtension_asU8()));
  return {
    actionCount: actions.length,
    actionHeaderBytes: b(action.getHeader_asU8()),
    chaincodeProposalPayload: b(cap.getChaincodeProposalPayload_asU8()),
    prpBytes,
    proposalHash: b(prp.getProposalHash_asU8()),
    endorsements: endorsed.getEndorsementsList().map((e) => ({ endorser: b(e.getEndorser_asU8()), signature: b(e.getSignature_asU8()) })),
    chaincodeAction,
    invokedChaincode: ext.getChaincodeId()?.getName() ?? '',
  };
}
