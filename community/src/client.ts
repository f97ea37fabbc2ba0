/**
 * A small REST client for one gateway and one API key (global fetch). Every POST carries an
 * Idempotency-Key chosen by the caller from what the request means (e.g. `community-reading-<meter>-<start>`),
 * so a retry — after a timeout, a 503, a restart of the simulator — never submits twice (docs/api.md
 * §Idempotency). Transient answers are retried with the SAME key: 503 (unavailable, endorsements differ),
 * 504 commit-status-unknown (the key finishes that very transaction), 409 idempotency-in-progress and
 * ledger-conflict, and connection errors. Everything else is returned for the caller to judge.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export interface ClientOptions {
  /** attempts for transient failures (default 6) */
  attempts?: number;
  /** per-request timeout, ms (default 60 s: a synchronous submit waits for its commit) */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const TRANSIENT_409 = new Set(['urn:gridledger:problem:idempotency-in-progress', 'urn:gridledger:problem:ledger-conflict']);

export function problemType(res: HttpResult): string {
  const t = (res.body as Problem | undefined)?.type;
  return typeof t === 'string' ? t.replace('urn:gridledger:problem:', '') : '';
}

export class RestClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
    private readonly opts: ClientOptions = {},
  ) {}

  withKey(apiKey: string): RestClient {
    return new RestClient(this.baseUrl, apiKey, this.opts);
  }

  get<T = unknown>(path: string): Promise<HttpResult<T>> {
    return this.send<T>('GET', path, undefined, undefined);
  }

  post<T = unknown>(path: string, body: unknown, idempotencyKey: string): Promise<HttpResult<T>> {
    return this.send<T>('POST', path, body, idempotencyKey);
  }

  /** PUT replaces a resource's state: repeating it is harmless by itself, so it carries no key. */
  put<T = unknown>(path: string, body: unknown): Promise<HttpResult<T>> {
    return this.send<T>('PUT', path, body, undefined);
  }

  private async send<T>(method: string, path: string, body: unknown, idempotencyKey: string | undefined): Promise<HttpResult<T>> {
    const attempts = this.opts.attempts ?? 6;
    let last: HttpResult<T> | undefined;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(Math.min(500 * 2 ** (i - 1), 8000), undefined, { signal: this.opts.signal });
      const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}` };
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const signals = [AbortSignal.timeout(this.opts.timeoutMs ?? 60_000)];
      if (this.opts.signal) signals.push(this.opts.signal);
      let res: Response;
      try {
        res = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.any(signals) });
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        lastError = err;
        continue; // connection refused / reset / timed out: retry with the same key
      }
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      last = { status: res.status, body: parsed as T, text };
      const transient = res.status === 503 || res.status === 504 || (res.status === 409 && TRANSIENT_409.has((parsed as Problem | undefined)?.type ?? ''));
      if (!transient) return last;
    }
    if (last) return last;
    throw new Error(`${method} ${this.baseUrl}${path}: no answer after ${attempts} attempts: ${(lastError as Error | undefined)?.message ?? 'unknown error'}`);
  }
}
