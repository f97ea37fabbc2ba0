/**
 * Channel MSPs: deserialises msp.SerializedIdentity bytes and validates the certificate the way
 * Fabric's bccsp MSP does with NodeOUs enabled (P§4.3, F `msp/mspimplvalidate.go`):
 *   - the cert chains to one of the MSP's root certs (expiry is NOT checked);
 *   - a CA certificate cannot be an identity;
 *   - exactly one NodeOU (client | peer | admin | orderer) among the subject's OUs;
 *   - not listed in a CRL of the MSP that is signed by the issuing CA (matched by AKI = CA SKI).
 * Everything is synchronous; validated certificates are cached by hash, revocation is re-checked
 * on every call so a CRL update is effective at once.
 */
import { X509Certificate } from 'node:crypto';
import { msp as mspProto } from '@hyperledger/fabric-protos';
import { certificateInfo, parseCrl } from './certificates';
import { pemToDer, sha256Hex, verifyLowS } from './crypto';

export type NodeOuRole = 'client' | 'peer' | 'admin' | 'orderer';
export const NODE_OU_ROLES: readonly NodeOuRole[] = ['client', 'peer', 'admin', 'orderer'];

export interface Identity {
  mspId: string;
  certPem: string;
  role: NodeOuRole; // from the cert's OU (NodeOUs), P§4.3
  /** hex SHA-256 of the certificate DER; used to de-duplicate endorsements */
  id: string;
  serialized: Buffer; // msp.SerializedIdentity bytes as received
}

export type MspFailure = 'unknown-msp' | 'malformed' | 'invalid' | 'revoked';

export class MspError extends Error {
  readonly kind: MspFailure;
  readonly mspId?: string;
  constructor(kind: MspFailure, message: string, mspId?: string) {
    super(message);
    this.name = 'MspError';
    this.kind = kind;
    if (mspId !== undefined) this.mspId = mspId;
  }
}

export interface MspDefinition {
  mspId: string;
  rootCertsPem: string[];
  crlsPem: string[];
}

export interface MspPrincipal {
  mspId: string;
  role: 'member' | NodeOuRole;
}

interface RootCa {
  pem: string;
  cert: X509Certificate;
  skiHex: string;
}

interface LoadedMsp {
  def: MspDefinition;
  roots: RootCa[];
  /** revoked serials per issuing CA SKI, from CRLs that verified against that CA */
  revokedBySki: Map<string, Set<string>>;
}

interface Validated {
  role: NodeOuRole;
  issuerSki: string;
  serialHex: string;
}

/** Encodes msp.SerializedIdentity{mspid, id_bytes = PEM cert}. */
export function serializeIdentity(mspId: string, certPem: string): Buffer {
  const si = new mspProto.SerializedIdentity();
  si.setMspid(mspId);
  si.setIdBytes(Buffer.from(certPem, 'utf8'));
  return Buffer.from(si.serializeBinary());
}

export class MspRegistry {
  private readonly msps = new Map<string, LoadedMsp>();
  /** mspId + cert hash ⇒ validation result (chain/OU checks are pure functions of the cert). */
  private readonly cache = new Map<string, Validated>();
  /**
   * Serialized identity bytes (latin1) ⇒ what deserialize derived from them before revocation:
   * a transaction carries the same few identities five or more times (proposal, endorsements,
   * envelope, commit status request), each would be protobuf-decoded, PEM-decoded and hashed again.
   * Per MSP, dropped when the MSP is (re)loaded; revocation is still checked on every call.
   */
  private readonly bySerialized = new Map<string, { mspId: string; certPem: string; id: string; v: Validated }>();
  private static readonly MAX_SERIALIZED = 10_000;

  constructor(defs: MspDefinition[]) {
    for (const d of defs) this.load(d);
  }

  private load(def: MspDefinition): void {
    const roots: RootCa[] = def.rootCertsPem.map((pem) => {
      try {
        return { pem, cert: new X509Certificate(pem), skiHex: certificateInfo(pem).skiHex };
      } catch (err) {
        throw new MspError('malformed', `MSP ${def.mspId}: root certificate unparsable: ${(err as Error).message}`, def.mspId);
      }
    });
    const loaded: LoadedMsp = { def: { ...def, crlsPem: [...def.crlsPem] }, roots, revokedBySki: new Map() };
    this.applyCrls(loaded, def.crlsPem);
    this.msps.set(def.mspId, loaded);
    for (const key of [...this.cache.keys()]) if (key.startsWith(`${def.mspId}\u0000`)) this.cache.delete(key);
    for (const [key, e] of [...this.bySerialized]) if (e.mspId === def.mspId) this.bySerialized.delete(key);
  }

  private applyCrls(m: LoadedMsp, crlsPem: string[]): void {
    // Built aside and swapped in, so a bad CRL leaves the previous state untouched.
    const next = new Map<string, Set<string>>();
    for (const pem of crlsPem) {
      let crl;
      try {
        crl = parseCrl(pem);
      } catch (err) {
        throw new MspError('malformed', `MSP ${m.def.mspId}: CRL unparsable: ${(err as Error).message}`, m.def.mspId);
      }
      // A CRL only counts for the CA that signed it (AKI match + signature), as in Fabric.
      for (const root of m.roots) {
        if (crl.akiHex !== '' && crl.akiHex !== root.skiHex) continue;
        if (!crl.verifiedBy(root.pem)) continue;
        const set = next.get(root.skiHex) ?? new Set<string>();
        for (const s of crl.revokedSerials) set.add(s);
        next.set(root.skiHex, set);
      }
    }
    m.revokedBySki = next;
  }

  /** Parses msp.SerializedIdentity bytes and validates the cert (chain, not a CA cert, one NodeOU, not revoked). */
  deserialize(serializedIdentity: Uint8Array): Identity {
    const bytes = Buffer.from(serializedIdentity.buffer, serializedIdentity.byteOffset, serializedIdentity.byteLength);
    const memoKey = bytes.toString('latin1');
    const memo = this.bySerialized.get(memoKey);
    if (memo) {
      const m = this.msps.get(memo.mspId)!;
      this.checkRevoked(m, memo.v);
      return { mspId: memo.mspId, certPem: memo.certPem, role: memo.v.role, id: memo.id, serialized: Buffer.from(bytes) };
    }
    let mspId: string;
    let idBytes: Uint8Array;
    try {
      const si = mspProto.SerializedIdentity.deserializeBinary(serializedIdentity);
      mspId = si.getMspid();
      idBytes = si.getIdBytes_asU8();
    } catch (err) {
      throw new MspError('malformed', `could not deserialize a SerializedIdentity: ${(err as Error).message}`);
    }
    const m = this.msps.get(mspId);
    if (!m) throw new MspError('unknown-msp', `MSP ${mspId} is unknown`, mspId);
    const certPem = Buffer.from(idBytes).toString('utf8');
    let der: Buffer;
    try {
      der = pemToDer(certPem, 'CERTIFICATE');
    } catch {
      throw new MspError('malformed', `identity of MSP ${mspId} does not carry a PEM certificate`, mspId);
    }
    const id = sha256Hex(der);
    const key = `${mspId}\u0000${id}`;
    let v = this.cache.get(key);
    if (!v) {
      v = this.validate(m, certPem);
      this.cache.set(key, v);
    }
    if (this.bySerialized.size >= MspRegistry.MAX_SERIALIZED) this.bySerialized.delete(this.bySerialized.keys().next().value as string);
    this.bySerialized.set(memoKey, { mspId, certPem, id, v });
    this.checkRevoked(m, v);
    return { mspId, certPem, role: v.role, id, serialized: Buffer.from(serializedIdentity) };
  }

  private checkRevoked(m: LoadedMsp, v: Validated): void {
    if (m.revokedBySki.get(v.issuerSki)?.has(v.serialHex)) {
      throw new MspError('revoked', `the certificate has been revoked (MSP ${m.def.mspId}, serial ${v.serialHex})`, m.def.mspId);
    }
  }

  private validate(m: LoadedMsp, certPem: string): Validated {
    const mspId = m.def.mspId;
    let cert: X509Certificate;
    let info;
    try {
      cert = new X509Certificate(certPem);
      info = certificateInfo(certPem);
    } catch (err) {
      throw new MspError('malformed', `certificate of MSP ${mspId} unparsable: ${(err as Error).message}`, mspId);
    }
    const key = cert.publicKey;
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new MspError('invalid', `unsupported key algorithm in certificate of MSP ${mspId}`, mspId);
    }
    if (cert.ca || info.isCa) {
      throw new MspError('invalid', `a CA certificate cannot be used as an identity (MSP ${mspId})`, mspId);
    }
    // Chain check only; validity dates are deliberately ignored (Fabric verifies at NotBefore+1s).
    const issuer = m.roots.find((r) => {
      try {
        return cert.checkIssued(r.cert) && cert.verify(r.cert.publicKey);
      } catch {
        return false;
      }
    });
    if (!issuer) {
      throw new MspError('invalid', `certificate does not chain to a root CA of MSP ${mspId}`, mspId);
    }
    const roles = info.organizationalUnits.filter((ou): ou is NodeOuRole => (NODE_OU_ROLES as readonly string[]).includes(ou));
    if (roles.length !== 1) {
      throw new MspError(
        'invalid',
        `certificate of MSP ${mspId} must carry exactly one NodeOU of ${NODE_OU_ROLES.join('|')}, found ${roles.length}`,
        mspId,
      );
    }
    return { role: roles[0]!, issuerSki: issuer.skiHex, serialHex: info.serialHex };
  }

  verify(identity: Identity, message: Uint8Array, signature: Uint8Array): boolean {
    return verifyLowS(identity.certPem, message, signature);
  }

  /** Principal as in policies: role 'member' = any valid identity of the MSP. */
  satisfiesPrincipal(identity: Identity, principal: MspPrincipal): boolean {
    if (identity.mspId !== principal.mspId) return false;
    return principal.role === 'member' || principal.role === identity.role;
  }

  /** Channel config update: replace the CRLs of an MSP (effective for later checks). */
  setCrls(mspId: string, crlsPem: string[]): void {
    const m = this.msps.get(mspId);
    if (!m) throw new MspError('unknown-msp', `MSP ${mspId} is unknown`, mspId);
    this.applyCrls(m, crlsPem);
    m.def = { ...m.def, crlsPem: [...crlsPem] };
  }

  definitions(): MspDefinition[] {
    return [...this.msps.values()].map((m) => ({ ...m.def, rootCertsPem: [...m.def.rootCertsPem], crlsPem: [...m.def.crlsPem] }));
  }

  has(mspId: string): boolean {
    return this.msps.has(mspId);
  }
}
