import { generateKeyPairSync } from 'node:crypto';
import { p256 } from '@noble/curves/nist';
import { derToPem, isHighS, normalizeHex, pemToDer, sha256, signLowS, splitPem, verifyLowS } from '../../src/identity/crypto';

const N = p256.CURVE.n;

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey };
}

/** The same signature with S replaced by n − S (valid ECDSA, but high-S). */
function flipS(der: Uint8Array): Buffer {
  const sig = p256.Signature.fromDER(der);
  return Buffer.from(new p256.Signature(sig.r, N - sig.s).toDERRawBytes());
}

describe('crypto', () => {
  test('sha256 hashes the concatenation of its parts', () => {
    expect(sha256(Buffer.from('ab'), Buffer.from('c')).toString('hex')).toBe(sha256(Buffer.from('abc')).toString('hex'));
    expect(sha256(Buffer.from('abc')).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('signLowS always yields low-S signatures that verify', () => {
    const { privateKey, publicKey } = keyPair();
    const msg = Buffer.from('proposal bytes');
    for (let i = 0; i < 40; i++) {
      const sig = signLowS(privateKey, msg);
      expect(isHighS(sig)).toBe(false);
      expect(verifyLowS(publicKey, msg, sig)).toBe(true);
    }
  });

  test('verifyLowS rejects the high-S twin of a valid signature, wrong keys, wrong messages and bad DER', () => {
    const { privateKey, publicKey } = keyPair();
    const other = keyPair();
    const msg = Buffer.from('hello');
    const sig = signLowS(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), msg);
    const high = flipS(sig);
    expect(isHighS(high)).toBe(true);
    expect(verifyLowS(publicKey, msg, high)).toBe(false);
    expect(verifyLowS(other.publicKey, msg, sig)).toBe(false);
    expect(verifyLowS(publicKey, Buffer.from('hellO'), sig)).toBe(false);
    expect(verifyLowS(publicKey, msg, Buffer.from([0x30, 0x02, 0x01]))).toBe(false);
    expect(verifyLowS(publicKey.export({ type: 'spki', format: 'pem' }).toString(), msg, sig)).toBe(true);
  });

  test('the DER and low-S rules agree with @noble/curves, and only strict DER verifies', () => {
    const { privateKey, publicKey } = keyPair();
    const msg = Buffer.from('envelope payload');
    for (let i = 0; i < 60; i++) {
      const sig = signLowS(privateKey, msg);
      const parsed = p256.Signature.fromDER(sig);
      expect(Buffer.from(parsed.toDERRawBytes()).equals(sig)).toBe(true); // canonical DER
      expect(parsed.hasHighS()).toBe(false);
      const high = flipS(sig);
      expect(isHighS(high)).toBe(p256.Signature.fromDER(high).hasHighS());
      expect(verifyLowS(publicKey, msg, high)).toBe(false);
    }
    const sig = signLowS(privateKey, msg);
    const { r, s } = p256.Signature.fromDER(sig);
    const int = (v: bigint, pad = 0): Buffer => {
      let b = Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
      while (b.length > 1 && b[0] === 0 && !(b[1]! & 0x80)) b = b.subarray(1);
      if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
      b = Buffer.concat([Buffer.alloc(pad), b]);
      return Buffer.concat([Buffer.from([0x02, b.length]), b]);
    };
    const seq = (body: Buffer, longForm = false): Buffer =>
      Buffer.concat([Buffer.from(longForm ? [0x30, 0x81, body.length] : [0x30, body.length]), body]);
    expect(seq(Buffer.concat([int(r), int(s)])).equals(sig)).toBe(true);
    expect(verifyLowS(publicKey, msg, seq(Buffer.concat([int(r, 1), int(s)])))).toBe(false); // non-minimal r
    expect(verifyLowS(publicKey, msg, seq(Buffer.concat([int(r), int(s, 1)])))).toBe(false); // non-minimal s
    expect(verifyLowS(publicKey, msg, seq(Buffer.concat([int(r), int(s)]), true))).toBe(false); // long-form length
    expect(verifyLowS(publicKey, msg, Buffer.concat([sig, Buffer.from([0])]))).toBe(false); // trailing byte
    expect(verifyLowS(publicKey, msg, seq(Buffer.concat([int(s), int(r)])))).toBe(false); // swapped
    expect(() => isHighS(Buffer.from([0x30, 0x00]))).toThrow();
  });

  test('signatures whose S (or R) is shorter than 32 bytes verify (compared as numbers, not byte strings)', () => {
    const { privateKey, publicKey } = keyPair();
    let shortS = 0; // S in [2^247, 2^248): 31 significant bytes, the first with its high bit set
    let shortR = 0;
    // About 1 in 256 signatures has such an S; every short one must still verify and be low-S.
    for (let i = 0; i < 20000 && (shortS < 1 || shortR < 1); i++) {
      const msg = Buffer.from(`message ${i}`);
      const sig = signLowS(privateKey, msg);
      const { r, s } = p256.Signature.fromDER(sig);
      if (s >= 1n << 248n && r >= 1n << 248n) continue;
      if (s < 1n << 248n && s >= 1n << 247n) shortS++;
      if (r < 1n << 248n) shortR++;
      expect(isHighS(sig)).toBe(false);
      expect(verifyLowS(publicKey, msg, sig)).toBe(true);
      expect(isHighS(flipS(sig))).toBe(true);
    }
    expect(shortS).toBeGreaterThan(0);
    expect(shortR).toBeGreaterThan(0);
  });

  test('PEM helpers round-trip and split bundles', () => {
    const der = Buffer.from('0123456789abcdef'.repeat(10));
    const pem = derToPem(der, 'CERTIFICATE');
    expect(pemToDer(pem, 'CERTIFICATE').equals(der)).toBe(true);
    expect(splitPem(pem + pem)).toHaveLength(2);
    expect(() => pemToDer('nothing', 'CERTIFICATE')).toThrow(/no PEM block/);
  });

  test('normalizeHex strips colons and leading zeros, lowercases', () => {
    expect(normalizeHex('00:0A:bC')).toBe('abc');
    expect(normalizeHex('000')).toBe('0');
  });
});
