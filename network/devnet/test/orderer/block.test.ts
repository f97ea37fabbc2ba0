import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { generateKeyPairSync } from 'node:crypto';
import { signLowS, verifyLowS } from '../../src/identity/crypto';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, buildBlock, setTransactionsFilter, signBlock, transactionsFilter } from '../../src/orderer/block';
import { BlockCutter } from '../../src/orderer/blockCutter';
import { nth } from '../lists';

describe('block header hashing (P§1.4)', () => {
  it('DER-encodes SEQUENCE{INTEGER number, OCTET STRING prev, OCTET STRING dataHash} like Go encoding/asn1', () => {
    const prev = Buffer.alloc(32, 0xaa);
    const data = Buffer.alloc(32, 0xbb);
    const der = blockHeaderBytes(1, prev, data);
    expect(der.subarray(0, 5).toString('hex')).toBe('3047020101');
    expect(der.subarray(5, 7).toString('hex')).toBe('0420');
    expect(der.length).toBe(2 + 3 + 34 + 34);
    // 128 needs a leading zero byte (two's complement), 0 is one zero byte
    expect(blockHeaderBytes(128, Buffer.alloc(0), Buffer.alloc(0)).toString('hex')).toBe('3008020200800400' + '0400');
    expect(blockHeaderBytes(0, Buffer.alloc(0), Buffer.alloc(0)).toString('hex')).toBe('3007020100' + '0400' + '0400');
  });

  it('long-form lengths for big headers', () => {
    const der = blockHeaderBytes(1, Buffer.alloc(200), Buffer.alloc(0));
    // content = INTEGER (3) + OCTET STRING 200 bytes (3 + 200) + empty OCTET STRING (2) = 208
    expect(der.subarray(0, 3).toString('hex')).toBe('3081d0');
    expect(der.subarray(6, 9).toString('hex')).toBe('0481c8');
  });

  it('data hash is SHA-256 over the concatenated envelopes; header hash chains blocks', () => {
    const envs = [Buffer.from('one'), Buffer.from('two')];
    expect(blockDataHash(envs).equals(createHash('sha256').update('onetwo').digest())).toBe(true);
    const b0 = buildBlock(0, Buffer.alloc(0), envs);
    const h0 = blockHeaderHash(b0.getHeader()!);
    const b1 = buildBlock(1, h0, [Buffer.from('three')]);
    expect(Buffer.from(b1.getHeader()!.getPreviousHash_asU8()).equals(h0)).toBe(true);
    expect(h0.equals(createHash('sha256').update(blockHeaderBytes(0, Buffer.alloc(0), blockDataHash(envs))).digest())).toBe(true);
  });

  it('has five metadata slots and a TRANSACTIONS_FILTER with one code per tx', () => {
    const b = buildBlock(3, Buffer.alloc(32), [Buffer.from('a'), Buffer.from('b')]);
    expect(b.getMetadata()!.getMetadataList().length).toBe(5);
    setTransactionsFilter(b, [0, 11]);
    const round = common.Block.deserializeBinary(b.serializeBinary());
    expect([...transactionsFilter(round)]).toEqual([0, 11]);
  });
});

describe('block signature (SIGNATURES metadata)', () => {
  it('signs value ‖ signature header ‖ DER header; survives the TRANSACTIONS_FILTER update', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b = buildBlock(7, Buffer.alloc(32, 1), [Buffer.from('tx')]);
    signBlock(b, { serialized: Buffer.from('orderer-id'), sign: (m) => signLowS(privateKey, m) }, Buffer.alloc(24, 2));
    setTransactionsFilter(b, [0]);
    const round = common.Block.deserializeBinary(b.serializeBinary());
    const meta = common.Metadata.deserializeBinary(nth(round.getMetadata()!.getMetadataList_asU8(), common.BlockMetadataIndex.SIGNATURES));
    const lastConfig = common.OrdererBlockMetadata.deserializeBinary(meta.getValue_asU8()).getLastConfig()!.getIndex();
    expect(lastConfig).toBe(0);
    const sig = nth(meta.getSignaturesList(), 0);
    const sh = common.SignatureHeader.deserializeBinary(sig.getSignatureHeader_asU8());
    expect(Buffer.from(sh.getCreator_asU8()).toString()).toBe('orderer-id');
    const h = round.getHeader()!;
    const signed = Buffer.concat([meta.getValue_asU8(), sig.getSignatureHeader_asU8(), blockHeaderBytes(h.getNumber(), h.getPreviousHash_asU8(), h.getDataHash_asU8())]);
    expect(verifyLowS(publicKey, signed, sig.getSignature_asU8())).toBe(true);
  });
});

describe('BlockCutter', () => {
  it('cuts at maxMessageCount and on demand', () => {
    const c = new BlockCutter<string>(3);
    expect(c.ordered('a')).toEqual([]);
    expect(c.ordered('b')).toEqual([]);
    expect(c.ordered('c')).toEqual([['a', 'b', 'c']]);
    expect(c.pendingCount).toBe(0);
    c.ordered('d');
    expect(c.cut()).toEqual(['d']);
    expect(c.cut()).toEqual([]);
  });
  it('rejects a non-positive batch size', () => {
    expect(() => new BlockCutter(0)).toThrow(RangeError);
  });
});
