/**
 * A peer's operations endpoint (Fabric's operations service): GET /healthz in Fabric's JSON shape,
 * GET /metrics (Prometheus text), and the devnet's admin emulation of a channel config update of
 * an MSP's CRLs: POST /admin/channels/<channel>/msps/<mspId>/crls with a PEM body (one or more
 * X509 CRL blocks) — see crlStore.ts for what that stands for on Fabric.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger';
import type { PeerMetrics } from './metrics';

export interface HealthCheck {
  component: string;
  /** undefined = healthy; a string = the reason it is not */
  check(): Promise<string | undefined> | string | undefined;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: PeerMetrics;
  checks: HealthCheck[];
  logger: Logger;
  /** Applies CRLs to an MSP of a channel; throws CrlUpdateError for a client error. */
  applyCrls?(channel: string, mspId: string, crlsPem: string[]): Promise<void> | void;
}

export class CrlUpdateError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'CrlUpdateError';
  }
}

const MAX_BODY = 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new CrlUpdateError(413, 'body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function splitCrlPems(text: string): string[] {
  return [...text.matchAll(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g)].map((m) => `${m[0]}\n`);
}

export async function startOpsServer(o: OpsServerOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ops');
    if (req.method === 'GET' && url.pathname === '/healthz') {
      const failed: Array<{ component: string; reason: string }> = [];
      for (const c of o.checks) {
        let reason: string | undefined;
        try {
          reason = await c.check();
        } catch (err) {
          reason = (err as Error).message;
        }
        if (reason) failed.push({ component: c.component, reason });
      }
      const time = new Date().toISOString();
      if (failed.length === 0) return send(res, 200, { status: 'OK', time });
      return send(res, 503, { status: 'Service Unavailable', time, failed_checks: failed });
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      return send(res, 200, await o.metrics.registry.metrics(), o.metrics.registry.contentType);
    }
    const m = /^\/admin\/channels\/([^/]+)\/msps\/([^/]+)\/crls$/.exec(url.pathname);
    if (m && o.applyCrls) {
      if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
      try {
        const crls = splitCrlPems(await readBody(req));
        if (crls.length === 0) throw new CrlUpdateError(400, 'body must contain at least one PEM "X509 CRL" block');
        const channel = decodeURIComponent(m[1] ?? ''); // both groups are non-empty when the path matched
        const mspId = decodeURIComponent(m[2] ?? '');
        await o.applyCrls(channel, mspId, crls);
        o.logger.info({ channel, mspId, crls: crls.length }, 'MSP CRLs updated (channel config update emulated)');
        return send(res, 200, { channel, mspId, crls: crls.length });
      } catch (err) {
        const status = err instanceof CrlUpdateError ? err.status : 400;
        return send(res, status, { error: (err as Error).message });
      }
    }
    return send(res, 404, { error: 'not found' });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      o.logger.error({ err }, 'operations request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
