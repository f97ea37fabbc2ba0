/**
 * Certificates, CSRs and CRLs the way Fabric CA 1.5 writes them (P§7.4, P§7.5), built with
 * @peculiar/x509 so no ASN.1 is hand-made here. Issuing is async (WebCrypto); reading a
 * certificate (`certificateInfo`) is synchronous so MSP checks never wait.
 */
import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  verify as nodeVerify,
  webcrypto,
  X509Certificate as NodeX509,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { p256 } from '@noble/curves/nist';
import { derToPem, normalizeHex, pemToDer } from './crypto';

/**
 * Fabric CA signs with bccsp, which always emits low-S ECDSA signatures (P§4.2) — certificates
 * and CRLs included. WebCrypto does not normalise, so @peculiar/x509 gets a provider whose
 * `subtle.sign` normalises ECDSA P-256 output (IEEE-P1363 r||s) to low-S.
 */
const lowSSubtle = new Proxy(webcrypto.subtle, {
  get(target, prop) {
    if (prop === 'sign') {
      return async (alg: unknown, key: webcrypto.CryptoKey, data: webcrypto.BufferSource): Promise<ArrayBuffer> => {
        const sig = await target.sign(alg as webcrypto.AlgorithmIdentifier, key, data);
        const name = typeof alg === 'string' ? alg : (alg as { name?: string }).name;
        if (name?.toUpperCase() !== 'ECDSA' || sig.byteLength !== 64) return sig;
        const low = p256.Signature.fromCompact(new Uint8Array(sig)).normalizeS().toCompactRawBytes();
        return low.buffer.slice(low.byteOffset, low.byteOffset + low.byteLength) as ArrayBuffer;
      };
    }
    const v: unknown = Reflect.get(target, prop, target);
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  },
});
x509.cryptoProvider.set({
  subtle: lowSSubtle,
  getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
  randomUUID: webcrypto.randomUUID.bind(webcrypto),
});

/** Fabric CA attribute extension (CA `lib/attrmgr/attrmgr.go`). */
export const ATTR_EXTENSION_OID = '1.2.3.4.5.6.7.8.1';
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const HOUR_MS = 3600_000;

export interface CertAndKey {
  certPem: string;
  keyPem: string;
}

export interface SubjectSpec {
  commonName: string;
  /** In order; Fabric CA puts the identity type first, then affiliation segments. */
  organizationalUnits?: string[];
  country?: string;
  province?: string;
  locality?: string;
  organization?: string;
}

export type CertProfile = 'ecert' | 'tls';

// WebCrypto key type without relying on DOM lib typings.
type WebKey = webcrypto.CryptoKey;

function subtle(): webcrypto.SubtleCrypto {
  return webcrypto.subtle;
}

async function importSigningKey(keyPem: string): Promise<WebKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return subtle().importKey('pkcs8', der, EC_P256, false, ['sign']);
}

async function importPublicKey(publicKeyPem: string): Promise<WebKey> {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return subtle().importKey('spki', der, EC_P256, true, ['verify']);
}

/** Subject in Go pkix.Name order: C, ST, L, O, OU..., CN (CA certs and ecerts alike). */
function toJsonName(s: SubjectSpec): x509.JsonName {
  const name: x509.JsonName = [];
  if (s.country) name.push({ C: [s.country] });
  if (s.province) name.push({ ST: [s.province] });
  if (s.locality) name.push({ L: [s.locality] });
  if (s.organization) name.push({ O: [s.organization] });
  for (const ou of s.organizationalUnits ?? []) name.push({ OU: [ou] });
  name.push({ CN: [s.commonName] });
  return name;
}

/**
 * 20-byte random serial with the top bit cleared (positive INTEGER), first byte non-zero so the
 * DER encoding stays 20 bytes and minimal (CA `cfssl/signer`).
 */
export function randomSerialHex(): string {
  const b = randomBytes(20);
  b[0] = (b[0]! & 0x7f) || 0x01;
  return b.toString('hex');
}

function floorToMinute(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 60_000) * 60_000);
}

/** A self-signed ECDSA P-256 root as Fabric CA's `initca` makes it (pathlen 1, 131400h). */
export async function createSelfSignedCa(opts: {
  subject: SubjectSpec;
  keyPem: string;
  now?: Date;
  validityHours?: number;
}): Promise<string> {
  const now = opts.now ?? new Date();
  const priv = await importSigningKey(opts.keyPem);
  const pub = await importPublicKey(createPublicKey(opts.keyPem).export({ type: 'spki', format: 'pem' }).toString());
  const name = toJsonName(opts.subject);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: name,
    issuer: name,
    // Back-dated a little so clocks that lag behind the devnet still accept it.
    notBefore: new Date(floorToMinute(now).getTime() - 5 * 60_000),
    notAfter: new Date(floorToMinute(now).getTime() + (opts.validityHours ?? 131400) * HOUR_MS),
    signingAlgorithm: ECDSA_SHA256,
    publicKey: pub,
    signingKey: priv,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      new x509.BasicConstraintsExtension(true, 1, true),
      await x509.SubjectKeyIdentifierExtension.create(pub),
    ],
  });
  return derToPem(new Uint8Array(cert.rawData), 'CERTIFICATE');
}

export interface IssueRequest {
  issuer: CertAndKey;
  /** SPKI PEM of the subject's key (from the CSR). */
  publicKeyPem: string;
  subject: SubjectSpec;
  profile: CertProfile;
  /** Attribute extension content; omitted when null/empty (P§7.4). */
  attrs?: Record<string, string> | null;
  /** DNS names / IP addresses for subjectAltName. */
  hosts?: string[];
  serialHex?: string;
  now?: Date;
  validityHours?: number;
}

export interface IssuedCertificate {
  certPem: string;
  serialHex: string; // normalised (lowercase, no leading zeros)
  akiHex: string;
  notAfter: Date;
}

/** The raw JSON Fabric CA puts into the attribute extension: Go map ⇒ keys sorted. */
export function attributeExtensionValue(attrs: Record<string, string>): Buffer {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort()) sorted[k] = attrs[k]!;
  return Buffer.from(JSON.stringify({ attrs: sorted }), 'utf8');
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Issues an ecert or TLS certificate with Fabric CA's default profile (P§7.5). */
export async function issueCertificate(req: IssueRequest): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(req.issuer.certPem);
  const caKey = await importSigningKey(req.issuer.keyPem);
  const pub = await importPublicKey(req.publicKeyPem);
  const now = req.now ?? new Date();
  let notAfter = new Date(floorToMinute(now).getTime() + (req.validityHours ?? 8760) * HOUR_MS);
  if (notAfter > caCert.notAfter) notAfter = caCert.notAfter;
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error('issuing CA certificate has no SubjectKeyIdentifier');
  const serialHex = req.serialHex ?? randomSerialHex();
  const extensions: x509.Extension[] = [];
  if (req.profile === 'tls') {
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
    );
  } else {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
  }
  extensions.push(
    new x509.BasicConstraintsExtension(false, undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(pub),
    new x509.AuthorityKeyIdentifierExtension(ski.keyId, false),
  );
  if (req.hosts && req.hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        req.hosts.map((h) => (IPV4.test(h) || h.includes(':') ? { type: 'ip', value: h } : { type: 'dns', value: h })),
        false,
      ),
    );
  }
  if (req.attrs && Object.keys(req.attrs).length > 0) {
    extensions.push(new x509.Extension(ATTR_EXTENSION_OID, false, attributeExtensionValue(req.attrs)));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: toJsonName(req.subject),
    issuer: caCert.subjectName,
    // Fabric CA clamps a zero NotBefore to the CA's NotBefore (P§7.5).
    notBefore: caCert.notBefore,
    notAfter,
    signingAlgorithm: ECDSA_SHA256,
    publicKey: pub,
    signingKey: caKey,
    extensions,
  });
  return {
    certPem: derToPem(new Uint8Array(cert.rawData), 'CERTIFICATE'),
    serialHex: normalizeHex(serialHex),
    akiHex: normalizeHex(ski.keyId),
    notAfter,
  };
}

export interface CrlEntry {
  serialHex: string;
  revokedAt: Date;
  /** RFC 5280 reason code (0 unspecified … 10). */
  reason?: number;
}

/** A CRL signed by the CA, with its AKI (which the MSP matches against the CA's SKI), PEM "X509 CRL". */
export async function createCrl(opts: {
  issuer: CertAndKey;
  entries: CrlEntry[];
  now?: Date;
  validityHours?: number;
}): Promise<string> {
  const caCert = new x509.X509Certificate(opts.issuer.certPem);
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error('issuing CA certificate has no SubjectKeyIdentifier');
  const now = opts.now ?? new Date();
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subjectName,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + (opts.validityHours ?? 24) * HOUR_MS),
    signingAlgorithm: ECDSA_SHA256,
    signingKey: (await importSigningKey(opts.issuer.keyPem)),
    extensions: [new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)],
    entries: opts.entries.map((e) => ({
      serialNumber: e.serialHex.length % 2 === 1 ? `0${e.serialHex}` : e.serialHex,
      revocationDate: e.revokedAt,
      ...(e.reason !== undefined && e.reason !== 0 ? { reason: e.reason as x509.X509CrlReason } : {}),
    })),
  });
  return derToPem(new Uint8Array(crl.rawData), 'X509 CRL');
}

export interface ParsedCsr {
  commonName: string;
  publicKeyPem: string;
  /** DNS/IP subjectAltNames requested in the CSR (Fabric CA uses them when the request has no hosts). */
  hosts: string[];
}

/** Parses a PEM CSR and checks its self-signature; throws on anything malformed. */
export async function parseCsr(csrPem: string): Promise<ParsedCsr> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error('CSR signature does not verify');
  const cn = csr.subjectName.getField('CN')[0] ?? '';
  const spki = Buffer.from(csr.publicKey.rawData);
  const publicKeyPem = createPublicKey({ key: spki, format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const hosts: string[] = [];
  const sanExt = csr.extensions.find((e) => e.type === '2.5.29.17');
  const san = sanExt ? new x509.SubjectAlternativeNameExtension(sanExt.rawData) : undefined;
  for (const n of san?.names.items ?? []) if (n.type === 'dns' || n.type === 'ip') hosts.push(n.value);
  return { commonName: cn, publicKeyPem, hosts };
}

/** A CSR with subject CN=<commonName>, as fabric-ca-client's enroll() makes one. */
export async function createCsr(keyPem: string, commonName: string, hosts: string[] = []): Promise<string> {
  const privateKey = await importSigningKey(keyPem);
  const publicKey = await importPublicKey(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString());
  const extensions: x509.Extension[] = [];
  if (hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => (IPV4.test(h) || h.includes(':') ? { type: 'ip', value: h } : { type: 'dns', value: h })),
      ),
    );
  }
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys: { privateKey, publicKey },
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  });
  return derToPem(new Uint8Array(csr.rawData), 'CERTIFICATE REQUEST');
}

export interface CertificateInfo {
  commonName: string;
  organizationalUnits: string[];
  serialHex: string; // normalised
  /** SubjectKeyIdentifier, normalised hex; '' when absent. */
  skiHex: string;
  /** AuthorityKeyIdentifier key id, normalised hex; '' when absent. */
  akiHex: string;
  isCa: boolean;
  notBefore: Date;
  notAfter: Date;
  /** Fabric CA attributes from OID 1.2.3.4.5.6.7.8.1, or null when the extension is absent. */
  attrs: Record<string, string> | null;
}

/** Synchronous read of the fields Fabric's MSP and CA look at. Throws on unparsable input. */
export function certificateInfo(certPem: string | Uint8Array): CertificateInfo {
  const der = typeof certPem === 'string' ? pemToDer(certPem, 'CERTIFICATE') : certPem;
  const cert = new x509.X509Certificate(der);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  let attrs: Record<string, string> | null = null;
  const ext = cert.extensions.find((e) => e.type === ATTR_EXTENSION_OID);
  if (ext) {
    try {
      const parsed = JSON.parse(Buffer.from(ext.value).toString('utf8')) as { attrs?: Record<string, string> };
      attrs = parsed.attrs ?? {};
    } catch {
      attrs = {};
    }
  }
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organizationalUnits: cert.subjectName.getField('OU'),
    serialHex: normalizeHex(cert.serialNumber),
    skiHex: ski ? normalizeHex(ski.keyId) : '',
    akiHex: aki?.keyId ? normalizeHex(aki.keyId) : '',
    isCa: bc?.ca ?? false,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    attrs,
  };
}

/** DER ECDSA signatureValue of a certificate (to check it is low-S, as Fabric CA's always are). */
export function certificateSignature(certPem: string): Buffer {
  const cert = new x509.X509Certificate(certPem);
  // `asn` is protected in the typings; signatureValue is the DER ECDSA signature.
  return Buffer.from((cert as unknown as { asn: { signatureValue: ArrayBuffer } }).asn.signatureValue);
}

export interface ParsedCrl {
  /** AKI of the CRL (normalised hex); '' when absent. */
  akiHex: string;
  revokedSerials: Set<string>; // normalised hex
  thisUpdate: Date;
  /** Verifies the CRL signature synchronously against an issuer certificate. */
  verifiedBy(issuerCertPem: string): boolean;
}

/** Parses a PEM ("X509 CRL" or "CRL") or DER CRL synchronously. */
export function parseCrl(crl: string | Uint8Array): ParsedCrl {
  const der = typeof crl === 'string' ? pemToDer(crl) : crl;
  const parsed = new x509.X509Crl(der);
  const aki = parsed.extensions.find((e) => e.type === '2.5.29.35');
  const akiHex = aki ? normalizeHex(new x509.AuthorityKeyIdentifierExtension(aki.rawData).keyId ?? '') : '';
  // `asn` is protected in the typings; the raw tbsCertList is what the signature covers.
  const asn = (parsed as unknown as { asn: { tbsCertListRaw?: ArrayBuffer; signature: ArrayBuffer } }).asn;
  const tbs = asn.tbsCertListRaw;
  const signature = Buffer.from(asn.signature);
  return {
    akiHex: akiHex === '0' ? '' : akiHex,
    revokedSerials: new Set(parsed.entries.map((e) => normalizeHex(e.serialNumber))),
    thisUpdate: parsed.thisUpdate,
    verifiedBy(issuerCertPem: string): boolean {
      if (!tbs) return false;
      try {
        const issuer = new NodeX509(issuerCertPem);
        // The CRL signatureValue is a DER ECDSA signature over the raw tbsCertList bytes.
        return nodeVerify('sha256', Buffer.from(tbs), issuer.publicKey, signature);
      } catch {
        return false;
      }
    },
  };
}
