import { status as Grpc } from '@grpc/grpc-js';
import crypto from 'node:crypto';
import { p256 } from '@noble/curves/nist';
import { connect, hash, signers, type GrpcClient } from '@hyperledger/fabric-gateway';
import { derSignature, newGatewaySigning, newNodeP256Signer, P256_N, p1363ToLowSDer, parseDerSignature } from '../src/fabric/signer';

const HALF_N = P256_N >> 1n;
const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rawPublic = publicKey.export({ format: 'der', type: 'spki' }).subarray(-65); // uncompressed point

describe('node:crypto P-256 signer (low-S, DER)', () => {
  it('signs the message with ECDSA P-256 / SHA-256 in DER that node:crypto verifies', async () => {
    const sign = newNodeP256Signer(privateKey);
    const message = Buffer.from('a proposal payload');
    const sig = await sign(message);
    expect(crypto.verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
    expect(crypto.verify('sha256', Buffer.from('another payload'), { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(false);
  });

  it('every signature is low-S and minimally DER-encoded (1000 signatures)', async () => {
    const sign = newNodeP256Signer(privateKey);
    let highBefore = 0;
    for (let i = 0; i < 1000; i++) {
      const message = crypto.randomBytes(64);
      const sig = await sign(message);
      const { r, s } = parseDerSignature(sig); // throws unless strict DER
      expect(s <= HALF_N).toBe(true);
      expect(Buffer.from(derSignature(r, s)).equals(Buffer.from(sig))).toBe(true);
      expect(crypto.verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
      // noble in lowS mode (as strict as Fabric) accepts it
      expect(p256.verify(sig, crypto.createHash('sha256').update(message).digest(), rawPublic, { lowS: true, format: 'der' })).toBe(true);
      const raw = crypto.sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      if (BigInt(`0x${raw.subarray(32).toString('hex')}`) > HALF_N) highBefore++;
    }
    // OpenSSL does not normalise: about half of its signatures are high-S, which is what the normalisation is for
    expect(highBefore).toBeGreaterThan(350);
  });

  it('turns a high-S signature into n − s (still valid, now accepted by a low-S verifier)', () => {
    const message = Buffer.from('high-S case');
    const digest = crypto.createHash('sha256').update(message).digest();
    const low = p256.sign(digest, Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'), { lowS: true });
    const high = Buffer.concat([Buffer.from(low.r.toString(16).padStart(64, '0'), 'hex'), Buffer.from((P256_N - low.s).toString(16).padStart(64, '0'), 'hex')]);
    expect(crypto.verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, high)).toBe(true); // high-S is valid ECDSA...
    expect(p256.verify(high, digest, rawPublic, { lowS: true, format: 'compact' })).toBe(false); // ...but refused by low-S rules
    const fixed = p1363ToLowSDer(high);
    expect(parseDerSignature(fixed)).toEqual({ r: low.r, s: low.s });
    expect(Buffer.from(fixed).equals(Buffer.from(low.toBytes('der')))).toBe(true);
    expect(p256.verify(fixed, digest, rawPublic, { lowS: true, format: 'der' })).toBe(true);
  });

  it('is verification-compatible with fabric-gateway\'s pure-JS signer: same message → same digest → both verify the same way', async () => {
    const ours = newGatewaySigning(privateKey);
    expect(ours.implementation).toBe('node:crypto');
    const theirs = signers.newPrivateKeySigner(privateKey);
    for (let i = 0; i < 50; i++) {
      const message = crypto.randomBytes(200);
      // fabric-gateway hashes (ours: hash.none = the message itself) and hands the result to the signer
      const a = await ours.signer(ours.hash(message));
      const b = await theirs(hash.sha256(message));
      for (const sig of [a, b]) {
        expect(crypto.verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
        expect(p256.verify(sig, hash.sha256(message), rawPublic, { lowS: true, format: 'der' })).toBe(true);
        const { s } = parseDerSignature(sig);
        expect(s <= HALF_N).toBe(true);
      }
    }
  });

  it('through fabric-gateway itself: the signed proposal it sends verifies as ECDSA-SHA256 over the proposal bytes (what a peer checks)', async () => {
    const sent: Array<{ getProposedTransaction(): { getProposalBytes_asU8(): Uint8Array; getSignature_asU8(): Uint8Array } }> = [];
    const client = {
      makeUnaryRequest: (_method: string, _ser: unknown, _de: unknown, request: (typeof sent)[number], _options: unknown, callback: (e: unknown) => void) => {
        sent.push(request);
        callback(Object.assign(new Error('14 UNAVAILABLE: test'), { code: Grpc.UNAVAILABLE, details: 'test', metadata: { getMap: () => ({}) } }));
      },
    } as unknown as GrpcClient;
    const { signer, hash: h } = newGatewaySigning(privateKey);
    const gateway = connect({ client, identity: { mspId: 'Utility1MSP', credentials: Buffer.from('CERT') }, signer, hash: h });
    const contract = gateway.getNetwork('energy').getContract('gridledger');
    await expect(contract.evaluateTransaction('health:ping')).rejects.toThrow();
    await expect(contract.newProposal('wallets:credit', { arguments: ['p', '1', 'r'] }).endorse()).rejects.toThrow();
    gateway.close();
    expect(sent).toHaveLength(2);
    for (const req of sent) {
      const signed = req.getProposedTransaction();
      const sig = signed.getSignature_asU8();
      expect(crypto.verify('sha256', signed.getProposalBytes_asU8(), { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
      expect(parseDerSignature(sig).s <= HALF_N).toBe(true);
    }
  });

  it('keeps fabric-gateway\'s signer for other key types and refuses non-P-256 keys in the node signer', () => {
    const p384 = crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    expect(newGatewaySigning(p384)).toMatchObject({ implementation: 'fabric-gateway', hash: hash.sha256 });
    expect(() => newNodeP256Signer(p384)).toThrow(/P-256 private key/);
    expect(() => newNodeP256Signer(publicKey)).toThrow(/P-256 private key/);
    expect(() => p1363ToLowSDer(new Uint8Array(63))).toThrow(/64-byte/);
  });
});
