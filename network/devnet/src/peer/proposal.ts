/**
 * Unpacking of a client's SignedProposal (P§2.3) the way Fabric's endorser does it
 * (F core/endorser/msgvalidation.go UnpackProposal). Shared by the endorser and the gateway
 * (the gateway needs channel, chaincode and "has transient data" before it picks endorsers).
 */
import { createHash } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';

export class ProposalFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProposalFormatError';
  }
}

export interface UnpackedProposal {
  signedProposal: Buffer;
  proposalBytes: Buffer;
  signature: Buffer;
  channelHeaderBytes: Buffer;
  signatureHeaderBytes: Buffer;
  channelHeader: common.ChannelHeader;
  headerType: number;
  channelId: string;
  txId: string;
  epoch: number;
  timestamp: { seconds: number; nanos: number };
  creator: Buffer;
  nonce: Buffer;
  chaincodeName: string;
  /** protos.ChaincodeInput bytes (args) from the invocation spec */
  input: Buffer;
  transient: Map<string, Buffer>;
  /** ChaincodeProposalPayload{input} re-marshalled WITHOUT the transient map (P§8.8) */
  payloadWithoutTransient: Buffer;
  /** SHA-256(channel_header ‖ signature_header ‖ payloadWithoutTransient) (P§2.3) */
  proposalHash: Buffer;
}

const b = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** hex SHA-256(nonce ‖ creator): the only valid transaction id for a proposal (P§4.1). */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

export function proposalHash(channelHeader: Uint8Array, signatureHeader: Uint8Array, payload: Uint8Array): Buffer {
  return createHash('sha256').update(channelHeader).update(signatureHeader).update(payload).digest();
}

function decode<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ProposalFormatError(`error unmarshalling ${what}: ${(err as Error).message}`);
  }
}

/**
 * Unpacked proposals by the very bytes object they came from. The gateway unpacks a proposal and
 * hands the same bytes to every endorser it calls; each would otherwise decode the seven nested
 * messages again. Same bytes object ⇒ same result (the result is treated as read-only).
 */
const unpacked = new WeakMap<Uint8Array, UnpackedProposal>();

export function unpackSignedProposal(signedProposalBytes: Uint8Array): UnpackedProposal {
  const hit = unpacked.get(signedProposalBytes);
  if (hit) return hit;
  const sp = decode('SignedProposal', () => peer.SignedProposal.deserializeBinary(signedProposalBytes));
  const up = unpackProposalMessage(sp, b(signedProposalBytes));
  unpacked.set(signedProposalBytes, up);
  return up;
}

export function unpackProposalMessage(sp: peer.SignedProposal, signedProposalBytes?: Buffer): UnpackedProposal {
  const proposalBytes = b(sp.getProposalBytes_asU8());
  const prop = decode('Proposal', () => peer.Proposal.deserializeBinary(proposalBytes));
  const hdr = decode('Header', () => common.Header.deserializeBinary(prop.getHeader_asU8()));
  const chBytes = b(hdr.getChannelHeader_asU8());
  const shBytes = b(hdr.getSignatureHeader_asU8());
  const ch = decode('ChannelHeader', () => common.ChannelHeader.deserializeBinary(chBytes));
  const sh = decode('SignatureHeader', () => common.SignatureHeader.deserializeBinary(shBytes));
  const ext = decode('ChaincodeHeaderExtension', () => peer.ChaincodeHeaderExtension.deserializeBinary(ch.getExtension_asU8()));
  const cpp = decode('ChaincodeProposalPayload', () => peer.ChaincodeProposalPayload.deserializeBinary(prop.getPayload_asU8()));
  const cis = decode('ChaincodeInvocationSpec', () => peer.ChaincodeInvocationSpec.deserializeBinary(cpp.getInput_asU8()));
  const spec = cis.getChaincodeSpec();
  const inputMsg = spec?.getInput();
  const input = inputMsg ? b(inputMsg.serializeBinary()) : Buffer.alloc(0);
  const transient = new Map<string, Buffer>();
  cpp.getTransientmapMap().forEach((v, k) => transient.set(k, b(typeof v === 'string' ? Buffer.from(v, 'base64') : v)));
  const stripped = new peer.ChaincodeProposalPayload();
  stripped.setInput(cpp.getInput_asU8());
  const payloadWithoutTransient = b(stripped.serializeBinary());
  const ts = ch.getTimestamp();
  const chaincodeName = ext.getChaincodeId()?.getName() || spec?.getChaincodeId()?.getName() || '';
  return {
    signedProposal: signedProposalBytes ?? b(sp.serializeBinary()),
    proposalBytes,
    signature: b(sp.getSignature_asU8()),
    channelHeaderBytes: chBytes,
    signatureHeaderBytes: shBytes,
    channelHeader: ch,
    headerType: ch.getType(),
    channelId: ch.getChannelId(),
    txId: ch.getTxId(),
    epoch: ch.getEpoch(),
    timestamp: { seconds: ts?.getSeconds() ?? 0, nanos: ts?.getNanos() ?? 0 },
    creator: b(sh.getCreator_asU8()),
    nonce: b(sh.getNonce_asU8()),
    chaincodeName,
    input,
    transient,
    payloadWithoutTransient,
    proposalHash: proposalHash(chBytes, shBytes, payloadWithoutTransient),
  };
}
