import crypto from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ApiKeyStore, Principal } from '../auth/apiKeys';
import { authenticate, checkMeter, checkRoles } from '../auth/middleware';
import { classifyFailure, LedgerError } from '../fabric/errors';
import type { Metrics } from '../ops/metrics';
import { requestFingerprint, type IdempotencyStore } from '../store/idempotency';
import { fieldErrors, type ApiSpec, type FieldError, type Operation } from './openapi';
import { HttpProblem, ledgerProblem, PROBLEM_BASE } from './problem';

/** What a handler returns; the dispatcher validates, records for idempotency and sends it. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
  /** the handler already stored the idempotent response itself (atomically with its own write) */
  idempotencyDone?: boolean;
  /** what to store for idempotent replay instead of `body` (e.g. without a one-time secret) */
  storedBody?: unknown;
  /** a streaming answer (Server-Sent Events): the dispatcher hands over the response and does nothing else */
  stream?: (res: Response) => Promise<void>;
}

export interface HandlerContext {
  req: Request;
  op: Operation;
  principal: Principal | undefined;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  requestId: string;
  /** set when the request carries an Idempotency-Key */
  idempotency: { principal: string; key: string } | undefined;
  /**
   * Set when an earlier request with this Idempotency-Key was cut after it had an effect: the handler
   * must finish THAT effect (re-send the stored transaction / wait for the queued receipt) and answer
   * as it would have, never start a second one.
   */
  resume: Resume | undefined;
}

export type Resume = { txId: string; txBytes: Buffer; actingKey: string; receiptId?: undefined } | { receiptId: string; txBytes?: undefined };

export type Handler = (ctx: HandlerContext) => Promise<Reply>;

export interface AppCoreDeps {
  spec: ApiSpec;
  logger: Logger;
  metrics: Metrics;
  apiKeys: ApiKeyStore;
  idempotency: IdempotencyStore;
  handlers: Record<string, Handler>;
  requireIdempotencyKey: boolean;
  /** validate every response against the OpenAPI document (tests); an invalid one becomes a 500 */
  validateResponses: boolean;
  /** the dashboard's built files, served at `/` (docs/dashboard.md); absent = not built, `/` is a 404 */
  staticDir?: string;
  /**
   * Resolves once everything committed so far is durable (the group commit's next sync). A stored answer
   * is committed before it is synced (store/groupCommit.ts), so a replay read in between waits for this
   * before it is sent: nothing is answered that a power cut could still lose. Absent: every write is
   * durable when it returns.
   */
  durable?: () => Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function sendProblem(res: Response, p: HttpProblem, requestId: string, instance: string): void {
  for (const [k, v] of Object.entries(p.headers)) res.setHeader(k, v);
  res.status(p.status).type('application/problem+json').send(JSON.stringify({ ...p.body(instance), requestId }));
}

function validationProblem(errors: FieldError[]): HttpProblem {
  const shown = errors.slice(0, 5).map((e) => `${e.in}${e.pointer ? ` ${e.pointer}` : ''} ${e.message}`);
  return new HttpProblem(
    400,
    'validation-failed',
    'The request is invalid',
    `${shown.join('; ')}${errors.length > 5 ? `; and ${errors.length - 5} more` : ''} (see /openapi.json for the schema)`,
    { errors },
  );
}

export function toProblem(e: unknown): HttpProblem {
  if (e instanceof HttpProblem) return e;
  if (e instanceof LedgerError) return ledgerProblem(e, (e as LedgerError & { attempts?: number }).attempts);
  const err = e as { type?: string; status?: number; message?: string; body?: unknown };
  if (err?.type === 'entity.parse.failed') return new HttpProblem(400, 'malformed-json', 'The body is not valid JSON', `the request body could not be parsed as JSON: ${err.message}`);
  if (err?.type === 'entity.too.large') return new HttpProblem(413, 'body-too-large', 'The body is too large', 'the request body exceeds 1 MB; send fewer readings per batch');
  if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') return new HttpProblem(415, 'unsupported-encoding', 'Unsupported body encoding', err.message ?? 'send UTF-8 JSON');
  // Any other refusal of the body reader (http-errors with a 4xx status: aborted upload, a Content-Length
  // that does not match the body, …) is the client's to fix, never a 500.
  if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
    return new HttpProblem(err.status, 'bad-request', 'The request could not be read', `${err.message ?? 'the request was refused'}${err.type ? ` (${err.type})` : ''}`);
  }
  return new HttpProblem(500, 'internal', 'Internal error', 'the gateway failed unexpectedly; the error is logged with this request id');
}

/** Express app: request ids, JSON logs, OpenAPI routing + validation, auth, idempotency, problem+json. */
export function createHttpApp(d: AppCoreDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-Id', id);
    res.locals.started = process.hrtime.bigint();
    next();
  });
  app.use(accessLog(d.logger));
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));

  const auth = authenticate(d.apiKeys);

  if (d.staticDir) {
    // Only what Vite built (hashed assets + index.html); no route of the API is a file there. The policy
    // allows nothing from elsewhere: the bundle has every script, style and font inside.
    app.use(
      express.static(d.staticDir, {
        index: 'index.html',
        setHeaders: (res) => res.setHeader('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'"),
      }),
    );
  }

  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const requestId = (req as Request & { id: string }).id;
    const m = d.spec.match(req.method, req.path);
    if (!m) {
      return next(new HttpProblem(404, 'no-such-route', 'No such route', `${req.method} ${req.path} is not part of this API; see /openapi.json for the routes`));
    }
    if ('allowed' in m) {
      return next(
        new HttpProblem(405, 'method-not-allowed', 'Method not allowed', `${req.path} supports ${m.allowed.join(', ')}, not ${req.method}`, {}, { Allow: m.allowed.join(', ') }),
      );
    }
    const { op } = m;
    res.locals.operationId = op.operationId;
    try {
      if (op.auth === 'apiKey') {
        // auth/middleware.ts calls next() with an HttpProblem (an Error) or nothing
        await new Promise<void>((resolve, reject) => auth(req, res, (err?: unknown) => (err ? reject(err as Error) : resolve())));
      }
      // validation
      const errors: FieldError[] = [];
      const params: Record<string, string> = { ...m.params };
      if (op.validatePath && !op.validatePath(params)) errors.push(...fieldErrors('path', op.validatePath.errors));
      const query: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
      // `?a=1&a=2` parses to an array: which one was meant is a guess, so a repeated parameter is refused.
      const repeated = Object.keys(query).filter((k) => Array.isArray(query[k]));
      for (const k of repeated) errors.push({ in: 'query', pointer: k, message: 'is repeated (send it once)' });
      if (!repeated.length && op.validateQuery && !op.validateQuery(query)) errors.push(...fieldErrors('query', op.validateQuery.errors));
      const headers: Record<string, unknown> = { ...req.headers };
      if (op.validateHeaders && !op.validateHeaders(headers)) errors.push(...fieldErrors('header', op.validateHeaders.errors));
      let body: unknown = req.body;
      const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined;
      if (op.validateBody) {
        if (hasBody && !req.is(['application/json', 'application/*+json'])) {
          throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', `send the body as application/json (got ${req.get('content-type') ?? 'no Content-Type'})`);
        }
        if (body === undefined) {
          if (op.bodyRequired) throw new HttpProblem(400, 'body-required', 'A JSON body is required', `${op.method} ${op.pathTemplate} needs a JSON body; see /openapi.json`);
          body = {};
        }
        if (!op.validateBody(body)) errors.push(...fieldErrors('body', op.validateBody.errors));
      }
      if (errors.length) throw validationProblem(errors);

      // authorisation (x-roles)
      const principal = req.principal;
      if (principal && op.roles.length) authorize(principal, op, params, body, query);

      // idempotency
      let idem: HandlerContext['idempotency'];
      let resume: Resume | undefined;
      const key = req.get('idempotency-key');
      if (op.idempotent && principal) {
        if (!key && d.requireIdempotencyKey) {
          throw new HttpProblem(400, 'idempotency-key-required', 'Idempotency-Key required', 'send an Idempotency-Key header (a unique value per logical request, reused on retries)');
        }
        if (key) {
          idem = { principal: principal.keyId, key };
          const begun = d.idempotency.begin(idem.principal, key, requestFingerprint(req.method, req.originalUrl, body));
          if (begun.kind === 'mismatch') {
            throw new HttpProblem(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different request', `Idempotency-Key "${key}" was already used for a different request (method, path or body differ); use a new key for a new request`);
          }
          if (begun.kind === 'in-progress') {
            throw new HttpProblem(
              409,
              'idempotency-in-progress',
              'A request with this Idempotency-Key is still in progress',
              `the first request with Idempotency-Key "${key}" has not finished yet${begun.txId ? ` (transaction ${begun.txId})` : ''}; retry later`,
              begun.txId ? { txId: begun.txId } : {},
              { 'Retry-After': '1' },
            );
          }
          if (begun.kind === 'resume') {
            req.log?.info({ txId: begun.txId }, 'finishing a submission interrupted before its answer');
            resume = { txId: begun.txId, txBytes: begun.txBytes, actingKey: begun.actingKey };
          }
          if (begun.kind === 'resume-receipt') {
            req.log?.info({ receiptId: begun.receiptId }, 'answering from the receipt of a request interrupted before its answer');
            resume = { receiptId: begun.receiptId };
          }
          if (begun.kind === 'replay') {
            await d.durable?.();
            res.setHeader('Idempotent-Replayed', 'true');
            for (const [k, v] of Object.entries(begun.response.headers)) res.setHeader(k, v);
            const ct = begun.response.status >= 400 ? 'application/problem+json' : 'application/json';
            res.status(begun.response.status).type(ct).send(JSON.stringify(begun.response.body));
            return;
          }
        }
      }

      const ctx: HandlerContext = { req, op, principal, params, query, body, requestId, idempotency: idem, resume };
      const handler = d.handlers[op.operationId];
      if (!handler) throw new HttpProblem(501, 'not-implemented', 'Not implemented', `${op.operationId} is documented but not implemented yet`);
      let reply: Reply;
      try {
        reply = await handler(ctx);
      } catch (e) {
        // A stored transaction the handler did not get to re-send stays stored for the next try with the key.
        if (idem && ctx.resume?.txBytes) d.idempotency.abandon(idem.principal, idem.key);
        else if (idem) finishIdempotencyOnError(d.idempotency, idem, e);
        throw e;
      }
      if (reply.stream) {
        await reply.stream(res);
        return;
      }
      if (idem && !reply.idempotencyDone) {
        d.idempotency.complete(idem.principal, idem.key, { status: reply.status, headers: reply.headers ?? {}, body: reply.storedBody ?? reply.body });
      }
      if (d.validateResponses && reply.contentType === undefined) {
        const problems = d.spec.checkResponse(op.operationId, reply.status, reply.body);
        if (problems.length) {
          throw new HttpProblem(500, 'response-invalid', 'Response does not match the API document', `${op.operationId} ${reply.status}: ${problems.join('; ')}`);
        }
      }
      for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
      if (reply.contentType) res.status(reply.status).type(reply.contentType).send(reply.body);
      else if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).type('application/json').send(JSON.stringify(reply.body));
    } catch (e) {
      next(e);
    }
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = (req as Request & { id: string }).id;
    const p = toProblem(err);
    if (p.status >= 500) req.log?.error({ err }, 'request failed');
    else req.log?.info({ problem: p.slug, detail: p.message }, 'request refused');
    if (res.headersSent) return;
    if (d.validateResponses) {
      const problems = d.spec.checkProblem({ ...p.body(req.originalUrl), requestId });
      if (problems.length) {
        return sendProblem(res, new HttpProblem(500, 'response-invalid', 'Response does not match the API document', `problem ${p.slug}: ${problems.join('; ')}`), requestId, req.originalUrl);
      }
    }
    sendProblem(res, p, requestId, req.originalUrl);
  });

  // request rate + latency per operation
  const observe = (req: Request, res: Response) => {
    const op = (res.locals.operationId as string | undefined) ?? 'unmatched';
    d.metrics.httpRequests.inc({ operation: op, method: req.method, status: String(res.statusCode) });
    const started = res.locals.started as bigint | undefined;
    if (started !== undefined) d.metrics.httpDuration.observe({ operation: op, method: req.method }, Number(process.hrtime.bigint() - started) / 1e9);
  };
  const wrapped = express();
  wrapped.disable('x-powered-by');
  wrapped.use((req, res, next) => {
    res.on('finish', () => observe(req, res));
    next();
  });
  wrapped.use(app);
  return wrapped;
}

function authorize(p: Principal, op: Operation, params: Record<string, string>, body: unknown, query: Record<string, unknown>): void {
  const meterId = params.meterId ?? ((body as { meterId?: unknown } | undefined)?.meterId as string | undefined) ?? (query.meterId as string | undefined);
  const roles = op.roles;
  if (roles.includes('meter-self')) {
    if (p.roles.includes('meter') && meterId !== undefined && p.meters.includes(meterId)) return;
    const others = roles.filter((r) => r !== 'meter-self');
    if (others.some((r) => p.roles.includes(r))) return;
    if (p.roles.includes('meter') && meterId !== undefined) return checkMeter(p, meterId);
    checkRoles(p, [...others, 'meter']);
    return;
  }
  checkRoles(p, roles as Principal['roles']);
}

function finishIdempotencyOnError(store: IdempotencyStore, idem: { principal: string; key: string }, e: unknown): void {
  const p = toProblem(e);
  // Outcome unknown (commit not confirmed, or sending to the orderer failed — it may have arrived): keep the
  // stored transaction; a retry with the key re-sends that same transaction, never a second one.
  if (p.slug === 'commit-status-unknown' || (e instanceof LedgerError && classifyFailure(e) === 'resend')) {
    store.abandon(idem.principal, idem.key);
    return;
  }
  // Nothing took effect (gateway/network trouble, retries exhausted): free the key so the client can retry it
  // (a claim that already queued a receipt is kept by the store: the retry answers from that receipt).
  if (p.status >= 500 || p.slug === 'ledger-conflict') {
    store.release(idem.principal, idem.key);
    return;
  }
  store.complete(idem.principal, idem.key, { status: p.status, headers: p.headers, body: p.body() });
}

/**
 * Refusals Node's HTTP parser makes before express sees the request (headers or request line over
 * `maxHeaderSize` — a long query string counts — malformed HTTP, header timeout) come as
 * problem+json too; Node's own answer is an empty body. Node `http` docs, event 'clientError'.
 */
export function answerClientErrors(server: http.Server, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, slug, title, detail] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers-too-large', 'Request line or headers too large', `the request line and headers exceed ${http.maxHeaderSize} bytes; shorten the URL (query string) or the headers`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request-timeout', 'Request timeout', 'the request headers did not arrive in time']
          : [400, 'malformed-request', 'Malformed HTTP request', `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`];
    logger.info({ problem: slug, code: err.code }, 'request refused by the HTTP parser');
    const body = JSON.stringify({ type: PROBLEM_BASE + slug, title, status, detail });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

declare module 'http' {
  interface IncomingMessage {
    /** the request's logger (bound to its request id), made on first use */
    log: Logger;
  }
}

/**
 * The request log. One line per finished request — at `debug` when it succeeded (< 400), at `info`
 * when it was refused or failed — so the default `info` level writes no line per accepted reading:
 * at ingest rates that line and the two child loggers pino-http made per request for it were ~13%
 * of the HTTP thread's CPU (docs/benchmarks.md, "REST ingest"). `req.log` (a child logger bound to
 * the request id, for handlers that log about a request) is made only when something uses it.
 */
function accessLog(logger: Logger): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const reqId = (req as Request & { id: string }).id;
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', { configurable: true, enumerable: false, get: () => (child ??= logger.child({ reqId })) });
    if (req.url === '/metrics' || req.url === '/health') return next();
    const started = Date.now();
    const done = () => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const status = res.writableFinished ? res.statusCode : undefined;
      // a client that hung up (or an event stream it closed) is not a server error
      const level = status === undefined ? 'info' : status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        { reqId, req: { method: req.method, url: req.originalUrl }, res: { statusCode: status }, responseTime: Date.now() - started, principal: req.principal?.keyId },
        status === undefined ? 'request aborted' : 'request completed',
      );
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
