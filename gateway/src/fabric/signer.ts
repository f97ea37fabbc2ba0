import crypto from 'node:crypto';
import { hash, signers, type Hash, type Signer } from '@hyperledger/fabric-gateway';

/** Order of the NIST P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = P256_N >> 1n;

/** What `connect()` needs to sign: the signer and the hash it expects fabric-gateway to apply first. */
export interface GatewaySigning {
  signer: Signer;
  hash: Hash;
  /** `node:crypto` (native ECDSA P-256) or `fabric-gateway` (its pure-JS signer, for other key types) */
  implementation: 'node:crypto' | 'fabric-gateway';
}

/**
 * Signing for a Fabric identity. P-256 keys (what Fabric CA issues) sign with node:crypto — native
 * OpenSSL ECDSA, several times faster than fabric-gateway's pure-JS `newPrivateKeySigner` — other key
 * types keep fabric-gateway's signer.
 *
 * node:crypto cannot sign a precomputed digest with ECDSA, so the node:crypto signer is given the
 * whole message (`hash.none`) and hashes it with SHA-256 itself: the signature is the same ECDSA
 * P-256 / SHA-256 signature over the same message, DER-encoded, as fabric-gateway's default
 * (`hash.sha256` + signer over the digest).
 */
export function newGatewaySigning(key: crypto.KeyObject): GatewaySigning {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { signer: newNodeP256Signer(key), hash: hash.none, implementation: 'node:crypto' };
  }
  return { signer: signers.newPrivateKeySigner(key), hash: hash.sha256, implementation: 'fabric-gateway' };
}

/**
 * A fabric-gateway Signer over the FULL message (use with `hash.none`): ECDSA P-256 with SHA-256 by
 * node:crypto, low-S normalised (Fabric refuses s > n/2: such an s becomes n − s) and DER-encoded.
 */
export function newNodeP256Signer(key: crypto.KeyObject): Signer {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`newNodeP256Signer needs a P-256 private key, got ${key.type} ${key.asymmetricKeyType ?? ''} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  }
  return (message: Uint8Array) => {
    const raw = crypto.sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
    return Promise.resolve(p1363ToLowSDer(raw));
  };
}

/** r‖s (32 + 32 bytes) → DER `SEQUENCE { INTEGER r, INTEGER s }` with s ≤ n/2. */
export function p1363ToLowSDer(raw: Uint8Array): Uint8Array {
  if (raw.length !== 64) throw new Error(`expected a 64-byte P-256 signature, got ${raw.length} bytes`);
  const r = bigintOf(raw.subarray(0, 32));
  let s = bigintOf(raw.subarray(32));
  if (s > HALF_N) s = P256_N - s;
  return derSignature(r, s);
}

/** DER-encodes an ECDSA signature (minimal INTEGERs, as Fabric and Go's asn1 expect). */
export function derSignature(r: bigint, s: bigint): Uint8Array {
  const ri = derInteger(r);
  const si = derInteger(s);
  const body = Buffer.concat([ri, si]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]); // < 128 bytes for P-256
}

/** Parses a DER ECDSA signature into r and s (strict: the encoding must be the minimal one). */
export function parseDerSignature(der: Uint8Array): { r: bigint; s: bigint } {
  const b = Buffer.from(der);
  const fail = () => {
    throw new Error(`not a DER ECDSA signature: ${b.toString('hex')}`);
  };
  if (b[0] !== 0x30 || b[1] !== b.length - 2) fail();
  let at = 2;
  const int = (): bigint => {
    if (b[at] !== 0x02) fail();
    const len = b[at + 1]!;
    const bytes = b.subarray(at + 2, at + 2 + len);
    if (bytes.length !== len || len === 0) fail();
    if (bytes[0]! & 0x80) fail(); // negative
    if (len > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) fail(); // not minimal
    at += 2 + len;
    return bigintOf(bytes);
  };
  const r = int();
  const s = int();
  if (at !== b.length) fail();
  return { r, s };
}

function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function bigintOf(bytes: Uint8Array): bigint {
  return bytes.length ? BigInt(`0x${Buffer.from(bytes).toString('hex')}`) : 0n;
}
