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
