/**
 * Block 0 of the channel: a CONFIG transaction, as on Fabric where application transactions start
 * at block 1. The devnet's channel configuration lives in network.yaml, so the ConfigEnvelope is
 * minimal (sequence 0, empty channel group); it is signed by the orderer org's node identity so the
 * committer's header/creator/signature checks apply to it like to any other envelope.
 */
import { randomBytes } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb';
import { computeTxId } from '../peer/proposal';
import { buildBlock, signBlock } from './block';

export function genesisBlock(channel: string, creatorSerialized: Buffer, sign: (msg: Uint8Array) => Buffer): common.Block {
  const nonce = randomBytes(24);
  const ch = new common.ChannelHeader();
  ch.setType(common.HeaderType.CONFIG);
  ch.setVersion(1);
  const ts = new Timestamp();
  const now = Date.now();
  ts.setSeconds(Math.floor(now / 1000));
  ts.setNanos((now % 1000) * 1e6);
  ch.setTimestamp(ts);
  ch.setChannelId(channel);
  ch.setTxId(computeTxId(nonce, creatorSerialized));
  const sh = new common.SignatureHeader();
  sh.setCreator(creatorSerialized);
  sh.setNonce(nonce);
  const hdr = new common.Header();
  hdr.setChannelHeader(ch.serializeBinary());
  hdr.setSignatureHeader(sh.serializeBinary());
  const cfg = new common.Config();
  cfg.setSequence(0);
  cfg.setChannelGroup(new common.ConfigGroup());
  const cenv = new common.ConfigEnvelope();
  cenv.setConfig(cfg);
  const payload = new common.Payload();
  payload.setHeader(hdr);
  payload.setData(cenv.serializeBinary());
  const env = new common.Envelope();
  const pb = payload.serializeBinary();
  env.setPayload(pb);
  env.setSignature(sign(pb));
  const block = buildBlock(0, new Uint8Array(0), [env.serializeBinary()]);
  signBlock(block, { serialized: creatorSerialized, sign }, randomBytes(24));
  return block;
}
