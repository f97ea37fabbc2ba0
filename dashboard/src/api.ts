/** The gateway's REST API, as the signed-in key (same origin: the gateway serves this page). */
import type { EventEnvelope } from '@gridledger/protocol';

const KEY = 'gridledger.apiKey';

export const session = {
  get key(): string | null {
    return sessionStorage.getItem(KEY);
  },
  set(key: string): void {
    sessionStorage.setItem(KEY, key);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};

/** An HTTP problem (RFC 9457) the gateway answered, or `status` 0 when it could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, o: { auth?: boolean; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.auth !== false && session.key) headers.authorization = `Bearer ${session.key}`;
  let res: Response;
  try {
    res = await fetch(path, { headers, ...(o.signal ? { signal: o.signal } : {}), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, `the gateway cannot be reached (${(e as Error).message})`);
  }
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  // /ready answers 503 with the same body shape when a check fails: that is data, not an error
  if (!res.ok && !(path === '/ready' && res.status === 503)) {
    const p = body as { detail?: string; title?: string } | undefined;
    throw new ApiError(res.status, p?.detail ?? p?.title ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export interface Interval {
  intervalStart: number;
  zone: string;
  productionWh: number;
  consumptionWh: number;
  readings: number;
  tradedWh: number;
  trades: Record<string, number>;
  price: { min: number; avg: number; max: number } | null;
  selfSufficiencyPct: number | null;
}

/** One event of `GET /api/v1/events`: the protocol's SSE envelope and its SSE id. */
export type LiveEvent = EventEnvelope & { id: string };

export type LiveState = 'connecting' | 'live' | 'disconnected';

/**
 * GET /api/v1/events read with fetch (EventSource cannot send the Authorization header): parses the
 * Server-Sent Events, resumes with Last-Event-ID after a drop, and reports its state. A stream silent
 * for three heartbeats (the gateway sends one every 15 s) counts as dropped.
 */
export class LiveStream {
  private lastId: string | undefined;
  private ctrl: AbortController | undefined;
  private stopped = false;
  private watchdog: number | undefined;

  constructor(
    private readonly onEvent: (e: LiveEvent) => void,
    private readonly onState: (s: LiveState, detail?: string) => void,
    private readonly onUnauthorised: () => void,
    private readonly silenceMs = 45_000,
  ) {}

  start(): void {
    this.stopped = false;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.ctrl?.abort();
    window.clearTimeout(this.watchdog);
  }

  private arm(): void {
    window.clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => this.ctrl?.abort(), this.silenceMs);
  }

  private async loop(): Promise<void> {
    let delay = 1000;
    while (!this.stopped) {
      this.onState('connecting');
      this.ctrl = new AbortController();
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${session.key ?? ''}` };
        if (this.lastId) headers['last-event-id'] = this.lastId;
        const res = await fetch('/api/v1/events', { headers, signal: this.ctrl.signal, cache: 'no-store' });
        if (res.status === 401) {
          this.onUnauthorised();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.onState('live');
        delay = 1000;
        this.arm();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.arm();
          buf += value;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            this.message(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
        if (!this.stopped) this.onState('disconnected', 'the event stream ended');
      } catch (e) {
        if (this.stopped) return;
        this.onState('disconnected', (e as Error).message || 'the event stream failed');
      }
      window.clearTimeout(this.watchdog);
      await new Promise((r) => window.setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }

  private message(chunk: string): void {
    let id: string | undefined;
    let data = '';
    for (const line of chunk.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (!id || !data) return; // comments (keep-alive), retry hints, stream-error notices
    this.lastId = id;
    try {
      const d = JSON.parse(data) as Omit<LiveEvent, 'id'>;
      this.onEvent({ id, ...d });
    } catch {
      /* not an event of ours */
    }
  }
}
