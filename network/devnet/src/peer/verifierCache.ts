/**
 * Signature verification with the identities' public keys kept, not re-parsed. MspRegistry.verify
 * parses the PEM certificate on every call, and a transaction is verified five to seven times
 * (proposal per endorser, endorsements, envelope at orderer and committer) — certificate parsing
 * was the devnet's largest CPU cost under load. Same check (verifyLowS over the cert's key), cached
 * by certificate hash; identity validation (chain, NodeOU, CRL) stays with the MSP on deserialize.
 */
import { createHash, KeyObject, X509Certificate } from 'node:crypto';
import { verifyLowS } from '../identity/crypto';
import type { ChannelMsp, PeerIdentity } from './deps';

export interface CertFacts {
  publicKey: KeyObject;
  /** NotAfter, epoch ms */
  notAfter: number;
}

export class CertCache {
  private readonly facts = new Map<string, CertFacts | null>();

  constructor(private readonly max = 10_000) {}

  /** null when the identity's certPem is not a parsable X.509 certificate */
  get(identity: Pick<PeerIdentity, 'id' | 'certPem'>): CertFacts | null {
    const hit = this.facts.get(identity.id);
    if (hit !== undefined) return hit;
    let facts: CertFacts | null = null;
    try {
      const cert = new X509Certificate(identity.certPem);
      facts = { publicKey: cert.publicKey, notAfter: Date.parse(cert.validTo) };
    } catch {
      facts = null;
    }
    // Bounded: drop the oldest entry (Map keeps insertion order).
    if (this.facts.size >= this.max) this.facts.delete(this.facts.keys().next().value as string);
    this.facts.set(identity.id, facts);
    return facts;
  }
}

/**
 * Results of verifications already done, keyed by (certificate, SHA-256 of the message, signature).
 * In one process the same signature is checked more than once: the proposal by every endorsing org,
 * the envelope by the orderer and again by the committer. Verification is a pure function of those
 * three inputs, so the remembered answer is the answer; hashing the message costs a few µs where an
 * ECDSA verification costs ~80 µs. Bounded (oldest entries dropped first).
 */
export class VerifiedSignatures {
  private readonly results = new Map<string, boolean>();

  constructor(private readonly max = 20_000) {}

  check(certId: string, message: Uint8Array, signature: Uint8Array, verify: () => boolean): boolean {
    const key = resultKey(certId, message, signature);
    const hit = this.results.get(key);
    if (hit !== undefined) return hit;
    const ok = verify();
    this.store(key, ok);
    return ok;
  }

  /**
   * A signature this process made itself with the private key of `certId`'s certificate (an
   * endorsing peer's ESCC signature): valid by construction, so the committer's check of that
   * endorsement (txValidator validEndorsers) need not run ECDSA again. Only for a key already shown to
   * match the certificate (signerMatches).
   */
  remember(certId: string, message: Uint8Array, signature: Uint8Array): void {
    this.store(resultKey(certId, message, signature), true);
  }

  private store(key: string, ok: boolean): void {
    if (this.results.size >= this.max) this.results.delete(this.results.keys().next().value as string);
    this.results.set(key, ok);
  }

  get size(): number {
    return this.results.size;
  }
}

function resultKey(certId: string, message: Uint8Array, signature: Uint8Array): string {
  return `${certId}:${createHash('sha256').update(message).digest('base64')}:${Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64')}`;
}

/** A ChannelMsp whose verify uses cached public keys and remembered results; deserialize is the MSP's own. */
export function withCachedKeys(msp: ChannelMsp, cache = new CertCache()): ChannelMsp & { certs: CertCache; verified: VerifiedSignatures } {
  const verified = new VerifiedSignatures();
  return {
    certs: cache,
    verified,
    deserialize: (bytes) => msp.deserialize(bytes),
    verify: (identity, message, signature) =>
      verified.check(identity.id, message, signature, () => {
        const facts = cache.get(identity);
        return facts ? verifyLowS(facts.publicKey, message, signature) : msp.verify(identity, message, signature);
      }),
  };
}
