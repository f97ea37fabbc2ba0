/**
 * REST suite support — a small typed HTTP client over the global fetch, problem+json assertions, polling helpers and receipts.
 * Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
import type { ReceiptState } from '@gridledger/protocol';
import { sleep } from '../../support/control';
import { newRunId } from '../../support/fabric';


export const RUN = newRunId();

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  /** overrides the client's key; `null` sends no key at all */
  apiKey?: string | null;
}

export class RestClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey?: string,
  ) {}

  withKey(apiKey: string | undefined): RestClient {
    return new RestClient(this.baseUrl, apiKey);
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const key = opts.apiKey === undefined ? this.apiKey : opts.apiKey;
    if (key) headers.authorization = `Bearer ${key}`;
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, { method, headers, body });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`${method} ${this.baseUrl}${path}: ${(err as Error).message}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    const ct = res.headers.get('content-type') ?? '';
    if (ct.includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, opts?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, opts);
  }

  post<T = any>(path: string, body: unknown, opts: Omit<RequestOptions, 'body'> = {}): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, { ...opts, body });
  }
}

/** Expects a status and, for errors, a problem body; the message shows the whole response on mismatch. */
export function expectStatus(res: HttpResponse, status: number, problemType?: string): void {
  const info = `${res.status} ${res.text.slice(0, 1500)}`;
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${info}`);
  if (problemType !== undefined) {
    const ct = res.headers.get('content-type') ?? '';
    if (!ct.startsWith('application/problem+json')) throw new Error(`expected application/problem+json, got ${ct}: ${info}`);
    const type = (res.body as { type?: string }).type;
    if (type !== `urn:gridledger:problem:${problemType}`) throw new Error(`expected problem ${problemType}, got ${info}`);
    if (typeof (res.body as { detail?: unknown }).detail !== 'string' || (res.body as { detail: string }).detail === '') {
      throw new Error(`problem without a detail: ${info}`);
    }
  }
}

export interface Receipt {
  receiptId: string;
  meterId: string;
  function?: string;
  itemCount: number;
  state: ReceiptState;
  txId: string | null;
  blockNumber: number | null;
  attempts: number;
  result: any;
  reason: string | null;
  problem: any;
  lastError: string | null;
}

/** Polls `GET /api/v1/receipts/{id}` until the receipt is committed or rejected (bounded). */
export async function waitReceipt(client: RestClient, receiptId: string, timeoutMs = 90_000): Promise<Receipt> {
  const until = Date.now() + timeoutMs;
  let last: HttpResponse<Receipt> | undefined;
  for (;;) {
    last = await client.get<Receipt>(`/api/v1/receipts/${receiptId}`);
    if (last.status === 200 && (last.body.state === 'COMMITTED' || last.body.state === 'REJECTED')) return last.body;
    if (last.status !== 200 && last.status !== 503) throw new Error(`GET receipt ${receiptId}: ${last.status} ${last.text}`);
    if (Date.now() > until) throw new Error(`receipt ${receiptId} not final after ${timeoutMs} ms: ${last.status} ${last.text}`);
    await sleep(250);
  }
}

/** Polls until `check` returns a value (not undefined) or the deadline passes; the error shows the last attempt. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > until) throw new Error(`${what}: not reached in ${timeoutMs} ms${lastError ? `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}` : ''}`);
    await sleep(250);
  }
}

/** pid of a utility's gateway from `$GRIDLEDGER_HOME/pids/gateway-<org>.pid`. */
