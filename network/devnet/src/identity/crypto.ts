/**
 * Hashing, ECDSA P-256 signing/verification with Fabric's low-S rule (P§4.2, P§8.15), key
 * generation and PEM helpers. Everything here is synchronous so the hot paths (proposal and
 * endorsement checks) never wait on WebCrypto.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  X509Certificate,
} from 'node:crypto';

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function sha256Hex(...parts: Uint8Array[]): string {
  return sha256(...parts).toString('hex');
}

function toPrivateKey(key: string | KeyObject): KeyObject {
  return typeof key === 'string' ? createPrivateKey(key) : key;
}

function toPublicKey(key: string | KeyObject | X509Certificate): KeyObject {
  if (key instanceof X509Certificate) return key.publicKey;
  if (typeof key === 'string') {
    // A PEM certificate is accepted as well as a PEM public key: callers usually hold certs.
    if (key.includes('BEGIN CERTIFICATE')) return new X509Certificate(key).publicKey;
    return createPublicKey(key);
  }
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** P-256 group order n, and n/2 as 32 big-endian bytes: S above it is "high" (Fabric's bccsp IsLowS). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = Buffer.from((P256_N >> 1n).toString(16).padStart(64, '0'), 'hex');

/**
 * The S integer of a DER ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) as 32 unsigned
 * big-endian bytes, or null unless the encoding is strict DER (short-form lengths — a P-256 signature is at most
 * 72 bytes —, minimal positive integers, nothing trailing), as Go's encoding/asn1 requires in Fabric.
 */
function derSignatureS(der: Uint8Array): Buffer | null {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2 || der[1] >= 0x80) return null;
  let at = 2;
  let s: Buffer | null = null;
  for (let i = 0; i < 2; i++) {
    if (der[at] !== 0x02) return null;
    const len = der[at + 1]!;
    const start = at + 2;
    if (len === 0 || len > 33 || start + len > der.length) return null;
    if (der[start]! & 0x80) return null; // negative
    if (der[start] === 0 && (len === 1 || !(der[start + 1]! & 0x80))) return null; // not minimal (or zero)
    if (i === 1) s = Buffer.from(der.buffer, der.byteOffset + start, len);
    at = start + len;
  }
  if (at !== der.length || !s) return null;
  const value = s[0] === 0 ? s.subarray(1) : s;
  if (value.length > 32) return null; // ≥ 2^256 > n: not a P-256 signature
  // Left-padded to 32 bytes so that byte comparison with HALF_N is numeric comparison.
  return value.length === 32 ? value : Buffer.concat([Buffer.alloc(32 - value.length), value]);
}

function derInteger(v: Buffer): Buffer {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const body = v[i]! & 0x80 ? Buffer.concat([Buffer.from([0]), v.subarray(i)]) : v.subarray(i);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/**
 * ECDSA P-256 over SHA-256(message), DER, normalised to low-S (Fabric rejects high-S).
 * Node's crypto.sign does not normalise, so we sign in IEEE-P1363 form (r ‖ s), replace a high S
 * by n − S and DER-encode.
 */
export function signLowS(privateKeyPem: string | KeyObject, message: Uint8Array): Buffer {
  const raw = nodeSign('sha256', message, { key: toPrivateKey(privateKeyPem), dsaEncoding: 'ieee-p1363' });
  let s = raw.subarray(32);
  if (Buffer.compare(s, HALF_N) > 0) s = Buffer.from((P256_N - BigInt(`0x${s.toString('hex')}`)).toString(16).padStart(64, '0'), 'hex');
  const body = Buffer.concat([derInteger(raw.subarray(0, 32)), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** True when a DER ECDSA P-256 signature has S > n/2 (what Fabric's bccsp refuses). Throws on bad DER. */
export function isHighS(derSignature: Uint8Array): boolean {
  const s = derSignatureS(derSignature);
  if (!s) throw new Error('not a DER ECDSA signature');
  return Buffer.compare(s, HALF_N) > 0;
}

/**
 * Verifies ECDSA over SHA-256(message); returns false for high-S, non-strict DER or wrong key.
 * OpenSSL verifies the DER form directly (and itself refuses non-canonical encodings).
 */
export function verifyLowS(
  publicKey: string | KeyObject | X509Certificate,
  message: Uint8Array,
  derSignature: Uint8Array,
): boolean {
  const s = derSignatureS(derSignature);
  if (!s || Buffer.compare(s, HALF_N) > 0) return false;
  try {
    return nodeVerify('sha256', message, { key: toPublicKey(publicKey), dsaEncoding: 'der' }, derSignature);
  } catch {
    return false;
  }
}

/** A fresh P-256 key pair as PKCS#8 / SPKI PEM (the keystore format fabric-ca-client and Fabric use). */
export function generateEcKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** DER bytes of the first PEM block with the given label (e.g. 'CERTIFICATE'). */
export function pemToDer(pem: string, label?: string): Buffer {
  const re = label
    ? new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`)
    : /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/;
  const m = re.exec(pem);
  if (!m || m[1] === undefined) throw new Error(`no PEM block${label ? ` labelled ${label}` : ''} found`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** All PEM blocks with a given label, in order (chains, bundles). */
export function splitPem(text: string, label = 'CERTIFICATE'): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return (text.match(re) ?? []).map((b) => `${b}\n`);
}

/** Hex SHA-256 of a PEM certificate's DER — the identity id used for de-duplication. */
export function certHash(certPem: string): string {
  return sha256Hex(pemToDer(certPem, 'CERTIFICATE'));
}

/**
 * Serial numbers and key identifiers as Fabric CA compares them: lowercase hex, colons and
 * leading zeros stripped (CA `lib/serverrevoke.go`).
 */
export function normalizeHex(hex: string): string {
  const s = hex.replace(/:/g, '').toLowerCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}
