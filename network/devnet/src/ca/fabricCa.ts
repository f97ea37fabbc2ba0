/**
 * One Fabric CA (P§7): registration, enrolment, re-enrolment, revocation and CRL generation with
 * Fabric CA 1.5's rules, independent of HTTP. The REST server (fabricCaServer.ts) and the
 * first-start org material generation (identity/orgMaterial.ts) both issue through this class, so
 * every devnet identity looks exactly like a Fabric CA-issued one.
 *
 * Errors are CaError values carrying the HTTP status and Fabric CA error code; authentication and
 * authorization failures are "masked" (remote code 20 / 71) exactly as Fabric CA does, the real
 * reason stays in `localMessage` for logs.
 */
import { randomInt, X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
import { CertAndKey, certificateInfo, createCrl, issueCertificate, parseCsr } from '../identity/certificates';
import { normalizeHex, verifyLowS } from '../identity/crypto';
import { CaRegistry, CertRecord, hashSecret, RegisteredAttribute, RegisteredIdentity, secretMatches } from './registry';

export const FABRIC_CA_VERSION = '1.5.21';

/** Fabric CA error codes (CA `lib/caerrors/servererror.go`) used here. */
export const CaErrorCode = {
  Unknown: 0,
  MethodNotAllowed: 1,
  NoAuthHeader: 2,
  BadRequestBody: 5,
  RevokedCertNotFound: 8,
  CertWrongOwner: 9,
  RevokeIdNotFound: 10,
  MissingRevokeArgs: 15,
  CaNotFound: 19,
  AuthenticationFailure: 20,
  BadCsr: 31,
  GettingAffiliation: 63,
  CertAlreadyRevoked: 66,
  AuthorizationFailure: 71,
  ModifyingIdentity: 58,
  DBGet: 63,
  DuplicateIdentity: 74,
  CnInvalidEnroll: 77,
} as const;

export class CaError extends Error {
  /** Code/message returned to the client (masked for authn/authz failures). */
  readonly code: number;
  readonly localMessage: string;
  constructor(
    readonly httpStatus: number,
    code: number,
    message: string,
    remote?: { code: number; message: string },
  ) {
    super(remote ? remote.message : message);
    this.name = 'CaError';
    this.code = remote ? remote.code : code;
    this.localMessage = `code ${code}: ${message}`;
  }
}

function authenticationError(message: string): CaError {
  return new CaError(401, CaErrorCode.AuthenticationFailure, message, {
    code: CaErrorCode.AuthenticationFailure,
    message: 'Authentication failure',
  });
}

function authorizationError(message: string): CaError {
  return new CaError(403, CaErrorCode.AuthorizationFailure, message, {
    code: CaErrorCode.AuthorizationFailure,
    message: 'Authorization failure',
  });
}

export interface RegisterRequest {
  id: string;
  type?: string;
  secret?: string;
  maxEnrollments?: number;
  affiliation?: string;
  attrs?: Array<{ name: string; value: string; ecert?: boolean }>;
}

/** CA `api.ModifyIdentityRequest` (`PUT /api/v1/identities/{id}`): empty/0 fields leave the value as it is. */
export interface ModifyIdentityRequest {
  type?: string;
  affiliation?: string;
  attrs?: Array<{ name: string; value: string; ecert?: boolean }>;
  /** 0 or absent: unchanged; -2: set to 0 (the CA's maximum); anything else: set */
  maxEnrollments?: number;
  secret?: string;
}

/** CA `api.GetIDResponse` / `api.IdentityResponse` (JSON names as Fabric CA writes them). */
export interface IdentityInfo {
  id: string;
  type: string;
  affiliation: string;
  attrs: Array<{ name: string; value: string; ecert: boolean }>;
  max_enrollments: number;
}

export interface AttributeRequest {
  name: string;
  optional?: boolean;
}

export interface EnrollRequest {
  csrPem: string;
  profile?: string;
  /** undefined = default (all ecert:true attributes); an array = exactly those (P§7.4). */
  attrReqs?: AttributeRequest[] | null;
  hosts?: string[];
}

export interface ServerInfo {
  CAName: string;
  CAChain: string;
  IssuerPublicKey: string;
  IssuerRevocationPublicKey: string;
  Version: string;
}

export interface EnrollResult {
  certPem: string;
  serialHex: string;
  /** As sent on the wire: `{Cert: b64(PEM), ServerInfo}` */
  response: { Cert: string; ServerInfo: ServerInfo };
}

export interface RevokeRequest {
  id?: string;
  aki?: string;
  serial?: string;
  reason?: string;
  gencrl?: boolean;
}

export interface GenCrlRequest {
  revokedBefore?: string;
  revokedAfter?: string;
  expireBefore?: string;
  expireAfter?: string;
}

export interface FabricCaOptions {
  caName: string;
  /** The CA's signing certificate (self-signed root) and key. */
  signer: CertAndKey;
  /** Directory of the persistent registry (`<home>/ca/<org>`). */
  registryDir: string;
  bootstrap?: { id: string; secret: string };
  /** Affiliation tree, dotted paths; parents are implied. Default: Fabric CA's default tree. */
  affiliations?: string[];
}

/** RFC 5280 reason codes by Fabric CA's names (CA `util.RevocationReasonCodes`). */
const REASONS: Record<string, number> = {
  unspecified: 0,
  keycompromise: 1,
  cacompromise: 2,
  affiliationchange: 3,
  affiliationchanged: 3,
  superseded: 4,
  cessationofoperation: 5,
  certificatehold: 6,
  removefromcrl: 8,
  privilegewithdrawn: 9,
  aacompromise: 10,
};

const BOOLEAN_HF_ATTRS = ['hf.Revoker', 'hf.GenCRL', 'hf.IntermediateCA', 'hf.AffiliationMgr'];
const FIXED_HF_ATTRS = ['hf.EnrollmentID', 'hf.Type', 'hf.Affiliation'];
const SECRET_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomSecret(len = 12): string {
  let s = '';
  for (let i = 0; i < len; i++) s += SECRET_CHARS[randomInt(SECRET_CHARS.length)];
  return s;
}

function attrValue(identity: RegisteredIdentity, name: string): string | undefined {
  return identity.attrs.find((a) => a.name === name)?.value;
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && ['true', '1', 't'].includes(v.toLowerCase());
}

function listValue(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `*` matches everything, `a.b*` matches by prefix (CA `lib/attr` wildcard rules). */
function allowedBy(patterns: string[], name: string): boolean {
  return patterns.some((p) => p === '*' || p === name || (p.endsWith('*') && name.startsWith(p.slice(0, -1))));
}

function parseDate(v: string | undefined, field: string): Date | undefined {
  if (v === undefined || v === '' || v.startsWith('0001-01-01')) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new CaError(400, CaErrorCode.BadRequestBody, `Invalid '${field}' value '${v}'`);
  return d;
}

/** Where an org's CA keeps its registry: `<home>/ca/<org>` (TLS CA: `<home>/ca/<org>/tlsca`). */
export function caRegistryDir(home: string, orgName: string, tls = false): string {
  return tls ? join(home, 'ca', orgName, 'tlsca') : join(home, 'ca', orgName);
}

/** The CA name an org's Fabric CA answers to, as in test-network (`ca-org1`). */
export function caNameOf(orgName: string): string {
  return `ca-${orgName}`;
}

/** Fabric CA's default affiliation tree plus the org's own `<org>` and `<org>.department1`. */
export function defaultAffiliations(orgName: string): string[] {
  return ['org1.department1', 'org1.department2', 'org2.department1', `${orgName}.department1`];
}

const OPEN_CAS = new Map<string, FabricCa>();

export class FabricCa {
  readonly caName: string;
  readonly signer: CertAndKey;
  private readonly registry: CaRegistry;
  private readonly affiliations: Set<string>;
  private readonly caCert: X509Certificate;
  private readonly caSkiHex: string;
  private refs = 1;

  private constructor(opts: FabricCaOptions, registry: CaRegistry) {
    this.caName = opts.caName;
    this.signer = opts.signer;
    this.registry = registry;
    this.caCert = new X509Certificate(opts.signer.certPem);
    this.caSkiHex = certificateInfo(opts.signer.certPem).skiHex;
    this.affiliations = new Set();
    for (const a of opts.affiliations ?? ['org1.department1', 'org1.department2', 'org2.department1']) {
      const parts = a.split('.');
      for (let i = 1; i <= parts.length; i++) this.affiliations.add(parts.slice(0, i).join('.'));
    }
  }

  /**
   * Opens the CA's registry (creating the bootstrap admin on first use). One instance per registry
   * directory per process, so org material generation and the REST server never overwrite each
   * other's registry file; `close()` drops it (a later open re-reads the file).
   */
  static open(opts: FabricCaOptions): FabricCa {
    const key = resolve(opts.registryDir);
    const existing = OPEN_CAS.get(key);
    if (existing) {
      existing.refs += 1;
      return existing;
    }
    const ca = new FabricCa(opts, CaRegistry.open(opts.registryDir));
    OPEN_CAS.set(key, ca);
    const boot = opts.bootstrap ?? { id: 'admin', secret: 'adminpw' };
    if (!ca.registry.getIdentity(boot.id)) {
      // Fabric CA's default bootstrap identity (P§7.5): type client, root affiliation, all hf.* powers.
      const { salt, hash } = hashSecret(boot.secret);
      ca.registry.putIdentity({
        id: boot.id,
        type: 'client',
        affiliation: '',
        attrs: [
          { name: 'hf.Registrar.Roles', value: '*', ecert: false },
          { name: 'hf.Registrar.DelegateRoles', value: '*', ecert: false },
          { name: 'hf.Revoker', value: 'true', ecert: false },
          { name: 'hf.IntermediateCA', value: 'true', ecert: false },
          { name: 'hf.GenCRL', value: 'true', ecert: false },
          { name: 'hf.Registrar.Attributes', value: '*', ecert: false },
          { name: 'hf.AffiliationMgr', value: 'true', ecert: false },
          { name: 'hf.EnrollmentID', value: boot.id, ecert: true },
          { name: 'hf.Type', value: 'client', ecert: true },
          { name: 'hf.Affiliation', value: '', ecert: true },
        ],
        maxEnrollments: -1,
        enrollments: 0,
        state: 0,
        secretSalt: salt,
        secretHash: hash,
      });
    }
    return ca;
  }

  /** Releases this handle; the last close forgets the instance. */
  close(): void {
    this.refs -= 1;
    if (this.refs <= 0) OPEN_CAS.delete(resolve(this.registry.directory));
  }

  get caCertPem(): string {
    return this.signer.certPem;
  }

  serverInfo(): ServerInfo {
    return {
      CAName: this.caName,
      CAChain: Buffer.from(this.signer.certPem).toString('base64'),
      IssuerPublicKey: '',
      IssuerRevocationPublicKey: '',
      Version: FABRIC_CA_VERSION,
    };
  }

  getIdentity(id: string): RegisteredIdentity | undefined {
    return this.registry.getIdentity(id);
  }

  certificates(): CertRecord[] {
    return this.registry.allCerts();
  }

  // ---------------------------------------------------------------- authentication

  /** Basic auth for enroll: known, active identity with the right secret and enrolments left. */
  authenticateBasic(id: string, secret: string): RegisteredIdentity {
    const identity = this.registry.getIdentity(id);
    if (!identity) throw authenticationError(`Unknown identity '${id}'`);
    if (identity.state !== 0) throw authenticationError(`Identity '${id}' is revoked`);
    if (!secretMatches(identity, secret)) throw authenticationError(`Incorrect secret for '${id}'`);
    if (identity.maxEnrollments !== -1 && identity.enrollments >= identity.maxEnrollments) {
      throw authenticationError(`Identity '${id}' has already enrolled ${identity.enrollments} times (max ${identity.maxEnrollments})`);
    }
    return identity;
  }

  /**
   * Token auth (P§7.3): `b64(certPEM).b64(sig)`, sig = low-S ECDSA over
   * SHA-256("METHOD.b64(uri).b64(body).b64(cert)"); the cert must be issued by this CA, be in the
   * registry, not revoked and not expired, and its identity must be active.
   */
  authenticateToken(
    method: string,
    uri: string,
    body: Buffer,
    authorization: string | undefined,
  ): { identity: RegisteredIdentity; certPem: string } {
    if (!authorization) throw new CaError(401, CaErrorCode.NoAuthHeader, 'No authorization header');
    const parts = authorization.split('.');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw authenticationError('Invalid token in authorization header');
    const [b64Cert, b64Sig] = parts as [string, string];
    const certPem = Buffer.from(b64Cert, 'base64').toString('utf8');
    const sig = Buffer.from(b64Sig, 'base64');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch {
      throw authenticationError('Token certificate is unparsable');
    }
    const b64Body = body.length > 0 ? body.toString('base64') : '';
    const full = `${method.toUpperCase()}.${Buffer.from(uri).toString('base64')}.${b64Body}.${b64Cert}`;
    const compat = `${b64Body}.${b64Cert}`; // compMode1_3
    if (!verifyLowS(cert.publicKey, Buffer.from(full), sig) && !verifyLowS(cert.publicKey, Buffer.from(compat), sig)) {
      throw authenticationError('Token signature does not verify');
    }
    let issued = false;
    try {
      issued = cert.checkIssued(this.caCert) && cert.verify(this.caCert.publicKey);
    } catch {
      issued = false;
    }
    if (!issued) throw authenticationError('Token certificate was not issued by this CA');
    if (new Date(cert.validTo).getTime() < Date.now()) throw authenticationError('Token certificate has expired');
    const info = certificateInfo(certPem);
    const rec = this.registry.getCert(info.serialHex, info.akiHex);
    if (!rec) throw authenticationError('Token certificate is not in the certificate database');
    if (rec.status !== 'good') throw authenticationError('Token certificate has been revoked');
    const identity = this.registry.getIdentity(rec.id);
    if (!identity) throw authenticationError(`Identity '${rec.id}' of token certificate not found`);
    if (identity.state !== 0) throw authenticationError(`Identity '${rec.id}' is revoked`);
    return { identity, certPem };
  }

  // ---------------------------------------------------------------- register

  /** Registers `req` on behalf of `registrar` (already authenticated). Returns the secret. */
  register(registrar: RegisteredIdentity, req: RegisterRequest): { secret: string } {
    if (!req.id) throw new CaError(400, CaErrorCode.BadRequestBody, 'Registration request must have an id');
    let affiliation = req.affiliation ?? '';
    if (affiliation === '') affiliation = registrar.affiliation;
    else if (affiliation === '.') affiliation = '';
    const type = req.type && req.type !== '' ? req.type : registrar.type;

    // CanActOnType: hf.Registrar.Roles
    const roles = listValue(attrValue(registrar, 'hf.Registrar.Roles'));
    if (!roles.includes('*') && !roles.includes(type)) {
      throw authorizationError(`Registrar '${registrar.id}' may not act on type '${type}'`);
    }
    // Affiliation: the registrar's own affiliation must be equal to or above the requested one.
    if (!this.affiliationCovers(registrar.affiliation, affiliation)) {
      throw authorizationError(`Registrar '${registrar.id}' is not affiliated with '${affiliation}'`);
    }
    if (affiliation !== '' && !this.affiliations.has(affiliation)) {
      throw new CaError(400, CaErrorCode.GettingAffiliation, `Failed getting affiliation '${affiliation}': affiliation does not exist`);
    }
    const attrs: RegisteredAttribute[] = (req.attrs ?? []).map((a) => ({
      name: a.name,
      value: String(a.value ?? ''),
      ecert: a.ecert === true,
    }));
    this.checkAttributePermissions(registrar, attrs);

    if (this.registry.getIdentity(req.id)) {
      throw new CaError(409, CaErrorCode.DuplicateIdentity, `Identity '${req.id}' is already registered`);
    }
    const max = req.maxEnrollments ?? 0;
    if (!Number.isInteger(max) || max < -1) {
      throw new CaError(400, CaErrorCode.BadRequestBody, `Max enrollment value ${String(max)} is invalid`);
    }
    const secret = req.secret && req.secret !== '' ? req.secret : randomSecret();
    const { salt, hash } = hashSecret(secret);
    attrs.push(
      { name: 'hf.EnrollmentID', value: req.id, ecert: true },
      { name: 'hf.Type', value: type, ecert: true },
      { name: 'hf.Affiliation', value: affiliation, ecert: true },
    );
    this.registry.putIdentity({
      id: req.id,
      type,
      affiliation,
      attrs,
      // 0 = "use the CA's maximum", which is unlimited (registry.maxenrollments -1)
      maxEnrollments: max === 0 ? -1 : max,
      enrollments: 0,
      state: 0,
      secretSalt: salt,
      secretHash: hash,
    });
    return { secret };
  }

  private affiliationCovers(parent: string, child: string): boolean {
    return parent === '' || child === parent || child.startsWith(`${parent}.`);
  }

  /** CA `lib/attr` CanRegisterRequestedAttributes, for the attributes the devnet supports. */
  private checkAttributePermissions(registrar: RegisteredIdentity, attrs: RegisteredAttribute[]): void {
    if (attrs.length === 0) return;
    const allowedRaw = attrValue(registrar, 'hf.Registrar.Attributes');
    if (allowedRaw === undefined) {
      throw authorizationError(`Registrar '${registrar.id}' does not have any values for 'hf.Registrar.Attributes'`);
    }
    const allowed = listValue(allowedRaw);
    for (const a of attrs) {
      if (FIXED_HF_ATTRS.includes(a.name)) {
        throw authorizationError(`Cannot register fixed value attribute '${a.name}'`);
      }
      if (!allowedBy(allowed, a.name)) {
        throw authorizationError(`Registrar '${registrar.id}' is not allowed to register attribute '${a.name}'`);
      }
      if (BOOLEAN_HF_ATTRS.includes(a.name) && isTrue(a.value) && !isTrue(attrValue(registrar, a.name))) {
        throw authorizationError(`Registrar '${registrar.id}' cannot grant '${a.name}' it does not hold`);
      }
      if (a.name === 'hf.Registrar.Roles' || a.name === 'hf.Registrar.DelegateRoles') {
        const delegate = listValue(attrValue(registrar, 'hf.Registrar.DelegateRoles'));
        for (const r of listValue(a.value)) {
          if (!delegate.includes('*') && !delegate.includes(r)) {
            throw authorizationError(`Registrar '${registrar.id}' cannot delegate role '${r}'`);
          }
        }
      }
      if (a.name === 'hf.Registrar.Attributes') {
        for (const p of listValue(a.value)) {
          if (!allowedBy(allowed, p.endsWith('*') ? p.slice(0, -1) : p) && !allowed.includes('*')) {
            throw authorizationError(`Registrar '${registrar.id}' cannot delegate attribute '${p}'`);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- identities (GET / PUT)

  /**
   * The target of an identities request, as CA `lib/serverrequestcontext.go` `GetUser` finds it: an
   * unknown id is 404 code 63 ("Failed to get User"), then `CanManageUser`: the caller must be a
   * registrar, affiliated at or above the target and allowed its type (else 403/71, masked).
   */
  private manageable(caller: RegisteredIdentity, id: string): RegisteredIdentity {
    const target = this.registry.getIdentity(id);
    if (!target) throw new CaError(404, CaErrorCode.DBGet, 'Failed to get User: sql: no rows in result set');
    if (listValue(attrValue(caller, 'hf.Registrar.Roles')).length === 0) {
      throw authorizationError(`'${caller.id}' is not allowed to manage users`);
    }
    this.checkCanManage(caller, target);
    return target;
  }

  private identityInfo(identity: RegisteredIdentity): IdentityInfo {
    return {
      id: identity.id,
      type: identity.type,
      affiliation: identity.affiliation,
      attrs: identity.attrs.map((a) => ({ name: a.name, value: a.value, ecert: a.ecert })),
      max_enrollments: identity.maxEnrollments,
    };
  }

  /** `GET /api/v1/identities/{id}` (CA `lib/serveridentities.go` `getID`). The enrolment count is not shown. */
  getIdentityInfo(caller: RegisteredIdentity, id: string): IdentityInfo {
    return this.identityInfo(this.manageable(caller, id));
  }

  /**
   * `PUT /api/v1/identities/{id}` (CA `lib/serveridentities.go` `processPutRequest`/`getModifyReq`,
   * `CanModifyUser`): a new secret, max enrolments, type, affiliation or attributes. As in Fabric CA the
   * number of enrolments already made (`state`) is kept: a new secret alone does not let an identity
   * that used up its enrolments enrol again; raising `max_enrollments` above that number does.
   * Answers the identity with the secret that was set (CA `getIDResp`).
   */
  modifyIdentity(caller: RegisteredIdentity, id: string, req: ModifyIdentityRequest): IdentityInfo & { secret?: string } {
    const target = this.manageable(caller, id);
    const affiliation = req.affiliation ?? '';
    if (affiliation !== '' && affiliation !== '.' && !this.affiliations.has(affiliation)) {
      throw new CaError(400, CaErrorCode.ModifyingIdentity, `Affiliation '${affiliation}' is not supported`);
    }
    if (affiliation !== '' && !this.affiliationCovers(caller.affiliation, affiliation === '.' ? '' : affiliation)) {
      throw authorizationError(`Caller does not have authority to act on affiliation '${affiliation}'`);
    }
    const type = req.type ?? '';
    if (type !== '') {
      const roles = listValue(attrValue(caller, 'hf.Registrar.Roles'));
      if (!roles.includes('*') && !roles.includes(type)) throw authorizationError(`Registrar does not have authority to act on type '${type}'`);
    }
    const reqAttrs: RegisteredAttribute[] = (req.attrs ?? []).map((a) => ({ name: a.name, value: String(a.value ?? ''), ecert: a.ecert === true }));
    // Fabric checks the requested attributes only (not the hf.Type/hf.Affiliation it adds itself below)
    this.checkAttributePermissions(caller, reqAttrs);

    // Changed in place, as enrollWithSecret changes the same object: an enrolment in flight then keeps
    // its reserved count and writes back the modified identity, not an older copy.
    const updated = target;
    const attrs = target.attrs.map((a) => ({ ...a }));
    if (req.secret !== undefined && req.secret !== '') {
      const { salt, hash } = hashSecret(req.secret);
      updated.secretSalt = salt;
      updated.secretHash = hash;
    }
    const max = req.maxEnrollments ?? 0;
    if (max === -2) updated.maxEnrollments = 0;
    else if (max !== 0) updated.maxEnrollments = max;
    if (affiliation !== '') {
      updated.affiliation = affiliation === '.' ? '' : affiliation;
      reqAttrs.push({ name: 'hf.Affiliation', value: updated.affiliation, ecert: true });
    }
    if (type !== '') {
      updated.type = type;
      reqAttrs.push({ name: 'hf.Type', value: type, ecert: true });
    }
    // CA getNewAttributes: update by name, add new ones, an empty value deletes
    for (const a of reqAttrs) {
      const i = attrs.findIndex((x) => x.name === a.name);
      if (i >= 0 && a.value === '') attrs.splice(i, 1);
      else if (i >= 0) attrs[i] = { ...attrs[i]!, value: a.value, ecert: a.ecert };
      else if (a.value !== '') attrs.push(a);
    }
    updated.attrs = attrs;
    this.registry.putIdentity(updated);
    return { ...this.identityInfo(updated), ...(req.secret ? { secret: req.secret } : {}) };
  }

  // ---------------------------------------------------------------- enroll / reenroll

  /** Enrol with id+secret (basic auth) — used by the REST handler and by org material generation. */
  async enrollWithSecret(id: string, secret: string, req: EnrollRequest): Promise<EnrollResult> {
    const identity = this.authenticateBasic(id, secret);
    // Reserve the enrolment before the async issuing, so concurrent enrols cannot exceed the max.
    identity.enrollments += 1;
    try {
      const result = await this.issueFor(identity, req);
      this.registry.putIdentity(identity);
      return result;
    } catch (err) {
      identity.enrollments -= 1;
      throw err;
    }
  }

  /** Re-enrol an identity already authenticated by token (does not count against max enrolments). */
  async reenroll(caller: RegisteredIdentity, req: EnrollRequest): Promise<EnrollResult> {
    return this.issueFor(caller, req);
  }

  private async issueFor(identity: RegisteredIdentity, req: EnrollRequest): Promise<EnrollResult> {
    let csr;
    try {
      csr = await parseCsr(req.csrPem);
    } catch (err) {
      throw new CaError(400, CaErrorCode.BadCsr, `Failed to parse certificate signing request: ${(err as Error).message}`);
    }
    if (csr.commonName !== identity.id) {
      throw new CaError(
        403,
        CaErrorCode.CnInvalidEnroll,
        `The CSR subject common name must equal the enrollment ID`,
      );
    }
    const profile = req.profile ?? '';
    if (profile !== '' && profile !== 'tls') {
      throw new CaError(400, CaErrorCode.Unknown, `Invalid profile '${profile}'`);
    }
    const attrs = this.selectAttributes(identity, req.attrReqs);
    const hosts = req.hosts && req.hosts.length > 0 ? req.hosts : csr.hosts;
    const issued = await issueCertificate({
      issuer: this.signer,
      publicKeyPem: csr.publicKeyPem,
      // Identity type first, then each affiliation segment; CSR OUs are dropped (P§7.5).
      subject: {
        commonName: identity.id,
        organizationalUnits: [identity.type, ...(identity.affiliation === '' ? [] : identity.affiliation.split('.'))],
      },
      profile: profile === 'tls' ? 'tls' : 'ecert',
      attrs,
      hosts,
    });
    this.registry.putCert({
      id: identity.id,
      serialHex: issued.serialHex,
      akiHex: issued.akiHex,
      pem: issued.certPem,
      status: 'good',
      notAfter: issued.notAfter.toISOString(),
    });
    return {
      certPem: issued.certPem,
      serialHex: issued.serialHex,
      response: { Cert: Buffer.from(issued.certPem).toString('base64'), ServerInfo: this.serverInfo() },
    };
  }

  /** P§7.4: no attr_reqs ⇒ every ecert:true attribute; attr_reqs ⇒ exactly those, missing required ⇒ 500. */
  private selectAttributes(identity: RegisteredIdentity, attrReqs: AttributeRequest[] | null | undefined): Record<string, string> | null {
    const out: Record<string, string> = {};
    if (attrReqs === undefined || attrReqs === null) {
      for (const a of identity.attrs) if (a.ecert) out[a.name] = a.value;
    } else {
      const missing: string[] = [];
      for (const r of attrReqs) {
        const a = identity.attrs.find((x) => x.name === r.name);
        if (a) out[a.name] = a.value;
        else if (!r.optional) missing.push(r.name);
      }
      if (missing.length > 0) {
        throw new CaError(
          500,
          CaErrorCode.Unknown,
          `Failed to find requested attributes: The following required attributes are missing: [${missing.join(' ')}]`,
        );
      }
    }
    return Object.keys(out).length > 0 ? out : null;
  }

  // ---------------------------------------------------------------- revoke / gencrl

  async revoke(
    caller: RegisteredIdentity,
    callerCertPem: string | undefined,
    req: RevokeRequest,
  ): Promise<{ RevokedCerts: Array<{ Serial: string; AKI: string }>; CRL: string }> {
    if (!isTrue(attrValue(caller, 'hf.Revoker'))) {
      throw authorizationError(`Caller '${caller.id}' does not have authority to revoke`);
    }
    const serial = req.serial ? normalizeHex(req.serial) : '';
    const aki = req.aki ? normalizeHex(req.aki) : '';
    const reasonName = (req.reason ?? '').toLowerCase();
    const reason = REASONS[reasonName] ?? 0;
    const now = new Date().toISOString();
    const revoked: Array<{ Serial: string; AKI: string }> = [];
    if (serial !== '' && aki !== '') {
      const cert = this.registry.getCert(serial, aki);
      if (!cert) {
        throw new CaError(404, CaErrorCode.RevokedCertNotFound, `Certificate with serial ${serial} and AKI ${aki} was not found`);
      }
      if (cert.status === 'revoked') {
        throw new CaError(404, CaErrorCode.CertAlreadyRevoked, `Certificate with serial ${serial} and AKI ${aki} was already revoked`);
      }
      if (req.id && req.id !== cert.id) {
        throw new CaError(400, CaErrorCode.CertWrongOwner, `Certificate with serial ${serial} and AKI ${aki} is not owned by ${req.id}`);
      }
      const owner = this.registry.getIdentity(cert.id);
      if (!owner) throw new CaError(404, CaErrorCode.RevokeIdNotFound, `Identity ${cert.id} was not found`);
      const own = callerCertPem !== undefined && certificateInfo(callerCertPem).serialHex === serial;
      if (!own) this.checkCanManage(caller, owner);
      this.registry.putCert({ ...cert, status: 'revoked', revokedAt: now, reason });
      revoked.push({ Serial: serial, AKI: aki });
    } else if (req.id) {
      const target = this.registry.getIdentity(req.id);
      if (!target) throw new CaError(404, CaErrorCode.RevokeIdNotFound, `Identity ${req.id} was not found`);
      if (target.id !== caller.id) this.checkCanManage(caller, target);
      this.registry.batch(() => {
        this.registry.putIdentity({ ...target, state: -1 });
        for (const c of this.registry.certsOf(target.id)) {
          if (c.status === 'revoked') continue;
          this.registry.putCert({ ...c, status: 'revoked', revokedAt: now, reason });
          revoked.push({ Serial: c.serialHex, AKI: c.akiHex });
        }
      });
    } else {
      throw new CaError(400, CaErrorCode.MissingRevokeArgs, 'Either Name or Serial and AKI are required for a revoke request');
    }
    let crl = '';
    if (req.gencrl && revoked.length > 0) crl = Buffer.from(await this.crlPem({})).toString('base64');
    return { RevokedCerts: revoked, CRL: crl };
  }

  /** CA `CanManageUser`: caller's affiliation at or above the target's, and its type among hf.Registrar.Roles. */
  private checkCanManage(caller: RegisteredIdentity, target: RegisteredIdentity): void {
    if (!this.affiliationCovers(caller.affiliation, target.affiliation)) {
      throw authorizationError(`Caller '${caller.id}' is not affiliated with '${target.affiliation}'`);
    }
    const roles = listValue(attrValue(caller, 'hf.Registrar.Roles'));
    if (!roles.includes('*') && !roles.includes(target.type)) {
      throw authorizationError(`Caller '${caller.id}' may not act on type '${target.type}'`);
    }
  }

  async genCrl(caller: RegisteredIdentity, req: GenCrlRequest): Promise<{ CRL: string }> {
    if (!isTrue(attrValue(caller, 'hf.GenCRL'))) {
      throw authorizationError(`Caller '${caller.id}' does not have authority to generate a CRL`);
    }
    return { CRL: Buffer.from(await this.crlPem(req)).toString('base64') };
  }

  /** PEM ("X509 CRL") of the revoked certificates matching the filters, signed by this CA. */
  async crlPem(req: GenCrlRequest): Promise<string> {
    const revokedBefore = parseDate(req.revokedBefore, 'revokedbefore');
    const revokedAfter = parseDate(req.revokedAfter, 'revokedafter');
    const expireBefore = parseDate(req.expireBefore, 'expirebefore');
    const expireAfter = parseDate(req.expireAfter, 'expireafter');
    const entries = this.registry
      .allCerts()
      .filter((c) => c.status === 'revoked' && c.akiHex === this.caSkiHex)
      .filter((c) => {
        const rev = new Date(c.revokedAt ?? 0);
        const exp = new Date(c.notAfter);
        if (revokedBefore && !(rev < revokedBefore)) return false;
        if (revokedAfter && !(rev > revokedAfter)) return false;
        if (expireBefore && !(exp < expireBefore)) return false;
        if (expireAfter && !(exp > expireAfter)) return false;
        return true;
      })
      .map((c) => ({ serialHex: c.serialHex, revokedAt: new Date(c.revokedAt ?? 0), ...(c.reason !== undefined ? { reason: c.reason } : {}) }));
    return createCrl({ issuer: this.signer, entries });
  }
}
