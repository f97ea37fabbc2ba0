/**
 * Fabric CA REST server (HTTPS) for one org — the subset of Fabric CA 1.5's API that
 * fabric-ca-client 2.2 and the GridLedger gateway use (P§7):
 *
 *   GET|POST /api/v1/cainfo     no auth
 *   POST     /api/v1/register   token auth                      201 + Location
 *   POST     /api/v1/enroll     basic auth (id:secret)          201
 *   POST     /api/v1/reenroll   token auth                      201
 *   POST     /api/v1/revoke     token auth + hf.Revoker         200 (CRL with gencrl)
 *   POST     /api/v1/gencrl     token auth + hf.GenCRL          200
 *   GET      /api/v1/identities/{id}  token auth + registrar       200 (no enrolment count, no secret)
 *   PUT      /api/v1/identities/{id}  token auth + registrar       200 (`identity modify`: secret,
 *                                      max_enrollments, type, affiliation, attrs)
 *
 * Envelope (P§7.1): success `{"result":…,"errors":[],"messages":[],"success":true}`, failure
 * `{"success":false,"result":null,"errors":[{"code":n,"message":"…"}],"messages":[]}` with the
 * error's HTTP status; authn/authz failures are masked (401/20, 403/71) and the real reason logged.
 * JSON field names are matched case-insensitively, as Go's encoding/json does.
 *
 * Signature:
 *   startCaServer(opts: {
 *     org: CaServerOrg;          // OrgMaterial works: name, caCertPem, caKeyPem, ca.tls
 *     caName: string;            // answered CA name (requests naming another CA get 404/19)
 *     port: number;              // 0 = pick a free port
 *     host?: string;             // default 127.0.0.1
 *     home: string;              // registry at <home>/ca/<org.name>/registry.json (survives restarts)
 *     logger?: CaLogger;         // pino-compatible subset
 *     bootstrap?: { id, secret } // default admin:adminpw
 *   }): Promise<{ port: number; ca: FabricCa; close(): Promise<void> }>
 */
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AttributeRequest,
  CaError,
  CaErrorCode,
  caRegistryDir,
  defaultAffiliations,
  FabricCa,
  ModifyIdentityRequest,
  RegisterRequest,
} from './fabricCa';

export interface CaLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CaServerOrg {
  name: string;
  caCertPem: string;
  caKeyPem: string;
  ca: { tls: { certPem: string; keyPem: string } };
}

export interface StartCaServerOptions {
  org: CaServerOrg;
  caName: string;
  port: number;
  host?: string;
  home: string;
  logger?: CaLogger;
  bootstrap?: { id: string; secret: string };
}

export interface RunningCaServer {
  port: number;
  ca: FabricCa;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const silent: CaLogger = { debug() {}, info() {}, warn() {}, error() {} };

type Json = Record<string, unknown>;

/** Lower-cases object keys (recursively through arrays/objects) — Go's case-insensitive field match. */
function lowerKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerKeys);
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, val] of Object.entries(v as Json)) out[k.toLowerCase()] = lowerKeys(val);
    return out;
  }
  return v;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function badBody(msg: string): CaError {
  return new CaError(400, CaErrorCode.BadRequestBody, msg);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new CaError(413, CaErrorCode.BadRequestBody, 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

function ok(res: ServerResponse, status: number, result: unknown, headers?: Record<string, string>): void {
  send(res, status, { result, errors: [], messages: [], success: true }, headers);
}

function fail(res: ServerResponse, err: CaError): void {
  send(res, err.httpStatus, { success: false, result: null, errors: [{ code: err.code, message: err.message }], messages: [] });
}

function parseAttrReqs(v: unknown): AttributeRequest[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw badBody('attr_reqs must be an array');
  return v.map((r) => {
    const o = r as Json;
    const name = str(o.name);
    if (!name) throw badBody('attr_reqs entries need a name');
    return { name, optional: o.optional === true };
  });
}

function parseAttrs(v: unknown): Array<{ name: string; value: string; ecert: boolean }> {
  const attrsRaw = v ?? [];
  if (!Array.isArray(attrsRaw)) throw badBody('attrs must be an array');
  return attrsRaw.map((a) => {
    const o = a as Json;
    const name = str(o.name);
    if (!name) throw badBody('attribute without a name');
    return { name, value: o.value === undefined || o.value === null ? '' : typeof o.value === 'string' ? o.value : JSON.stringify(o.value), ecert: o.ecert === true };
  });
}

/** CA `api.ModifyIdentityRequest`; Go's decoder refuses a field of the wrong type (400). */
function parseModify(b: Json): ModifyIdentityRequest {
  const maxRaw = b.max_enrollments;
  if (maxRaw !== undefined && maxRaw !== null && (typeof maxRaw !== 'number' || !Number.isInteger(maxRaw))) throw badBody('max_enrollments must be an integer');
  for (const f of ['type', 'affiliation', 'secret'] as const) {
    if (b[f] !== undefined && b[f] !== null && typeof b[f] !== 'string') throw badBody(`${f} must be a string`);
  }
  const req: ModifyIdentityRequest = { attrs: parseAttrs(b.attrs) };
  if (str(b.type)) req.type = str(b.type)!;
  if (str(b.affiliation)) req.affiliation = str(b.affiliation)!;
  if (str(b.secret)) req.secret = str(b.secret)!;
  if (typeof maxRaw === 'number') req.maxEnrollments = maxRaw;
  return req;
}

function parseRegister(b: Json): RegisterRequest {
  const id = str(b.id);
  if (!id) throw badBody('Registration request must have an id');
  const maxRaw = b.max_enrollments;
  if (maxRaw !== undefined && maxRaw !== null && typeof maxRaw !== 'number') throw badBody('max_enrollments must be a number');
  const req: RegisterRequest = { id, attrs: parseAttrs(b.attrs) };
  const type = str(b.type);
  if (type !== undefined) req.type = type;
  const secret = str(b.secret);
  if (secret !== undefined) req.secret = secret;
  const affiliation = str(b.affiliation);
  if (affiliation !== undefined) req.affiliation = affiliation;
  if (typeof maxRaw === 'number') req.maxEnrollments = maxRaw;
  return req;
}

export async function startCaServer(opts: StartCaServerOptions): Promise<RunningCaServer> {
  const log = opts.logger ?? silent;
  const ca = FabricCa.open({
    caName: opts.caName,
    signer: { certPem: opts.org.caCertPem, keyPem: opts.org.caKeyPem },
    registryDir: caRegistryDir(opts.home, opts.org.name),
    affiliations: defaultAffiliations(opts.org.name),
    ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const uri = req.url ?? '/';
    const url = new URL(uri, 'https://ca.invalid');
    // `identities/{id}` as CA lib/server.go registers it (gorilla mux: {id} is one path segment)
    const m = /^\/api\/v1\/([a-z]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!m) throw new CaError(404, CaErrorCode.Unknown, `Not found: ${url.pathname}`);
    const endpoint = m[1]!;
    let pathId: string | undefined;
    try {
      pathId = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    } catch {
      throw new CaError(404, CaErrorCode.Unknown, `Not found: ${url.pathname}`);
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const allowed = endpoint === 'cainfo' ? ['GET', 'POST'] : endpoint === 'identities' ? ['GET', 'PUT'] : ['POST'];
    if (!['cainfo', 'register', 'enroll', 'reenroll', 'revoke', 'gencrl', 'identities'].includes(endpoint) || (pathId !== undefined) !== (endpoint === 'identities')) {
      throw new CaError(404, CaErrorCode.Unknown, `Not found: ${url.pathname}`);
    }
    if (!allowed.includes(method)) throw new CaError(405, CaErrorCode.MethodNotAllowed, `Method ${method} is not allowed`);

    const raw = await readBody(req);
    let body: Json = {};
    if (raw.length > 0) {
      try {
        body = lowerKeys(JSON.parse(raw.toString('utf8'))) as Json;
      } catch (err) {
        throw badBody(`Invalid request body: ${(err as Error).message}`);
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw badBody('Request body must be a JSON object');
    }
    const caname = str(body.caname) || url.searchParams.get('ca') || '';
    if (caname !== '' && caname !== ca.caName) throw new CaError(404, CaErrorCode.CaNotFound, `CA '${caname}' does not exist`);
    const auth = req.headers.authorization;

    switch (endpoint) {
      case 'cainfo':
        return ok(res, 200, ca.serverInfo());
      case 'enroll': {
        if (!auth) throw new CaError(401, CaErrorCode.NoAuthHeader, 'No authorization header');
        const mm = /^Basic\s+(.+)$/i.exec(auth);
        const decoded = mm ? Buffer.from(mm[1]!, 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        if (colon <= 0) {
          throw new CaError(401, 21, 'No user/pass in authorization header', { code: 20, message: 'Authentication failure' });
        }
        const csrPem = str(body.certificate_request);
        if (!csrPem) throw badBody('certificate_request is required');
        const hosts = Array.isArray(body.hosts) ? body.hosts.filter((h): h is string => typeof h === 'string') : undefined;
        const profile = str(body.profile);
        const attrReqs = parseAttrReqs(body.attr_reqs);
        const result = await ca.enrollWithSecret(decoded.slice(0, colon), decoded.slice(colon + 1), {
          csrPem,
          ...(profile !== undefined ? { profile } : {}),
          ...(attrReqs !== undefined ? { attrReqs } : {}),
          ...(hosts ? { hosts } : {}),
        });
        log.info({ ca: ca.caName, id: decoded.slice(0, colon), serial: result.serialHex }, 'enrolled');
        return ok(res, 201, result.response);
      }
      case 'reenroll': {
        const { identity } = ca.authenticateToken(method, uri, raw, auth);
        const csrPem = str(body.certificate_request);
        if (!csrPem) throw badBody('certificate_request is required');
        const attrReqs = parseAttrReqs(body.attr_reqs);
        const result = await ca.reenroll(identity, { csrPem, ...(attrReqs !== undefined ? { attrReqs } : {}) });
        log.info({ ca: ca.caName, id: identity.id, serial: result.serialHex }, 'reenrolled');
        return ok(res, 201, result.response);
      }
      case 'register': {
        const { identity } = ca.authenticateToken(method, uri, raw, auth);
        const r = parseRegister(body);
        const { secret } = ca.register(identity, r);
        log.info({ ca: ca.caName, registrar: identity.id, id: r.id }, 'registered');
        return ok(res, 201, { secret }, { Location: `/api/v1/identities/${encodeURIComponent(r.id)}` });
      }
      case 'revoke': {
        const { identity, certPem } = ca.authenticateToken(method, uri, raw, auth);
        const gencrl = body.gencrl === true;
        const result = await ca.revoke(identity, certPem, {
          ...(str(body.id) ? { id: str(body.id)! } : {}),
          ...(str(body.aki) ? { aki: str(body.aki)! } : {}),
          ...(str(body.serial) ? { serial: str(body.serial)! } : {}),
          ...(str(body.reason) ? { reason: str(body.reason)! } : {}),
          gencrl,
        });
        log.info({ ca: ca.caName, revoker: identity.id, revoked: result.RevokedCerts.length }, 'revoked');
        return ok(res, 200, result);
      }
      case 'gencrl': {
        const { identity } = ca.authenticateToken(method, uri, raw, auth);
        const filters = {
          ...(str(body.revokedbefore) ? { revokedBefore: str(body.revokedbefore)! } : {}),
          ...(str(body.revokedafter) ? { revokedAfter: str(body.revokedafter)! } : {}),
          ...(str(body.expirebefore) ? { expireBefore: str(body.expirebefore)! } : {}),
          ...(str(body.expireafter) ? { expireAfter: str(body.expireafter)! } : {}),
        };
        return ok(res, 200, await ca.genCrl(identity, filters));
      }
      case 'identities': {
        const { identity } = ca.authenticateToken(method, uri, raw, auth);
        if (method === 'GET') return ok(res, 200, { ...ca.getIdentityInfo(identity, pathId!), caname: ca.caName });
        const result = ca.modifyIdentity(identity, pathId!, parseModify(body));
        log.info({ ca: ca.caName, registrar: identity.id, id: pathId, secret: result.secret !== undefined, maxEnrollments: result.max_enrollments }, 'identity modified');
        return ok(res, 200, { ...result, caname: ca.caName });
      }
    }
  }

  const server: Server = createServer({ cert: opts.org.ca.tls.certPem, key: opts.org.ca.tls.keyPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e =
        err instanceof CaError ? err : new CaError(500, CaErrorCode.Unknown, `Internal error: ${(err as Error)?.message ?? String(err)}`);
      log[e.httpStatus >= 500 ? 'error' : 'warn']({ ca: ca.caName, path: req.url, status: e.httpStatus, reason: e.localMessage }, 'CA request failed');
      if (!res.headersSent) fail(res, e);
      else res.end();
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    ca.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  log.info({ ca: ca.caName, port }, 'Fabric CA listening');
  let closed = false;
  return {
    port,
    ca,
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      ca.close();
    },
  };
}
