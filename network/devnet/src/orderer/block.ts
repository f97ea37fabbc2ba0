/**
 * Block construction and hashing exactly as Fabric does it (P§1.4, F protoutil/blockutils.go):
 * data_hash = SHA-256(concatenation of data[]), header hash = SHA-256(DER SEQUENCE{INTEGER number,
 * OCTET STRING previous_hash, OCTET STRING data_hash}), five metadata slots.
 */
import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { present } from '../present';

export const METADATA_SLOTS = 5; // SIGNATURES, LAST_CONFIG, TRANSACTIONS_FILTER, ORDERER, COMMIT_HASH

export function blockDataHash(data: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const d of data) h.update(d);
  return h.digest();
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}
/** Minimal two's-complement big-endian encoding of a non-negative integer, as Go's encoding/asn1. */
function derUint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0); // the do-while leaves at least one byte
  return tlv(0x02, Buffer.from(bytes));
}

/** DER bytes of the block header as Fabric hashes them. */
export function blockHeaderBytes(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  return tlv(0x30, Buffer.concat([derUint(number), tlv(0x04, Buffer.from(previousHash)), tlv(0x04, Buffer.from(dataHash))]));
}

export function blockHeaderHash(header: common.BlockHeader): Buffer {
  return createHash('sha256').update(blockHeaderBytes(header.getNumber(), header.getPreviousHash_asU8(), header.getDataHash_asU8())).digest();
}

/** A new block with empty metadata slots, except SIGNATURES/ORDERER-style last-config info (config block 0). */
export function buildBlock(number: number, previousHash: Uint8Array, envelopes: Uint8Array[]): common.Block {
  const header = new common.BlockHeader();
  header.setNumber(number);
  header.setPreviousHash(previousHash);
  header.setDataHash(blockDataHash(envelopes));
  const data = new common.BlockData();
  data.setDataList(envelopes);
  const lastConfig = new common.LastConfig();
  lastConfig.setIndex(0);
  const obm = new common.OrdererBlockMetadata();
  obm.setLastConfig(lastConfig);
  // The SIGNATURES slot carries the OrdererBlockMetadata with last_config as Fabric's does;
  // the orderer adds its signature with signBlock.
  const sigMeta = new common.Metadata();
  sigMeta.setValue(obm.serializeBinary());
  const metaList: Uint8Array[] = Array.from({ length: METADATA_SLOTS }, () => new Uint8Array(0));
  metaList[common.BlockMetadataIndex.SIGNATURES] = sigMeta.serializeBinary();
  const meta = new common.BlockMetadata();
  meta.setMetadataList(metaList);
  const block = new common.Block();
  block.setHeader(header);
  block.setData(data);
  block.setMetadata(meta);
  return block;
}

/** Sets TRANSACTIONS_FILTER: one byte per transaction, its TxValidationCode (written by the committer). */
export function setTransactionsFilter(block: common.Block, codes: number[]): void {
  const meta = block.getMetadata() ?? new common.BlockMetadata();
  const list = meta.getMetadataList_asU8().slice();
  while (list.length < METADATA_SLOTS) list.push(new Uint8Array(0));
  list[common.BlockMetadataIndex.TRANSACTIONS_FILTER] = Uint8Array.from(codes);
  meta.setMetadataList(list);
  block.setMetadata(meta);
}

export function transactionsFilter(block: common.Block): Uint8Array {
  return block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array(0);
}

/**
 * Orderer signature over a block (F protoutil BlockSignatureVerifier / orderer blockwriter):
 * SIGNATURES metadata = Metadata{value = OrdererBlockMetadata, signatures = [MetadataSignature{
 * signature_header = SignatureHeader{creator, nonce}, signature = sign(value ‖ signature_header ‖
 * DER block header)}]}.
 */
export function signBlock(block: common.Block, signer: { serialized: Buffer; sign(message: Uint8Array): Buffer }, nonce: Uint8Array): void {
  const metaList = block.getMetadata()!.getMetadataList_asU8().slice();
  const meta = common.Metadata.deserializeBinary(present(metaList[common.BlockMetadataIndex.SIGNATURES], 'the SIGNATURES metadata slot of a block the orderer built'));
  const sh = new common.SignatureHeader();
  sh.setCreator(signer.serialized);
  sh.setNonce(nonce);
  const shBytes = sh.serializeBinary();
  const h = block.getHeader()!;
  const signed = Buffer.concat([meta.getValue_asU8(), shBytes, blockHeaderBytes(h.getNumber(), h.getPreviousHash_asU8(), h.getDataHash_asU8())]);
  const ms = new common.MetadataSignature();
  ms.setSignatureHeader(shBytes);
  ms.setSignature(signer.sign(signed));
  meta.setSignaturesList([ms]);
  metaList[common.BlockMetadataIndex.SIGNATURES] = meta.serializeBinary();
  block.getMetadata()!.setMetadataList(metaList);
}
