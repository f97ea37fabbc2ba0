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
import { p256 } from '@noble/curves/nist';

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

/**
 * ECDSA P-256 over SHA-256(message), DER, normalised to low-S (Fabric rejects high-S).
 * Node's crypto.sign does not normalise, so we sign in IEEE-P1363 form and re-encode.
 */
export function signLowS(privateKeyPem: string | KeyObject, message: Uint8Array): Buffer {
  const raw = nodeSign('sha256', message, { key: toPrivateKey(privateKeyPem), dsaEncoding: 'ieee-p1363' });
  const sig = p256.Signature.fromCompact(raw).normalizeS();
  return Buffer.from(sig.toDERRawBytes());
}

/** True when a DER ECDSA P-256 signature has S > n/2 (what Fabric's bccsp refuses). */
export function isHighS(derSignature: Uint8Array): boolean {
  return p256.Signature.fromDER(derSignature).hasHighS();
}

/** Verifies ECDSA over SHA-256(message); returns false for high-S, bad DER or wrong key. */
export function verifyLowS(
  publicKey: string | KeyObject | X509Certificate,
  message: Uint8Array,
  derSignature: Uint8Array,
): boolean {
  let compact: Uint8Array;
  try {
    const sig = p256.Signature.fromDER(derSignature);
    if (sig.hasHighS()) return false;
    compact = sig.toCompactRawBytes();
  } catch {
    return false;
  }
  try {
    return nodeVerify('sha256', message, { key: toPublicKey(publicKey), dsaEncoding: 'ieee-p1363' }, compact);
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
