/**
 * REST suite support — the event stream (`GET /api/v1/events`) as a test reads it.
 * Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
import type { EventEnvelope } from '@gridledger/protocol';
import { RestClient } from './http';

export interface SseEvent {
  id: string;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the suites read event-specific payload fields
  data: EventEnvelope<any>;
}

/**
 * Reads `GET /api/v1/events` (SSE) until `done(collected)` or the deadline, then aborts the stream.
 * `headers` may carry `Last-Event-ID`. Keeps only events passing `keep`.
 */
export async function collectSse(
  client: RestClient,
  query: string,
  keep: (e: SseEvent) => boolean,
  done: (collected: SseEvent[]) => boolean,
  opts: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; events: SseEvent[]; contentType: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 60_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(`${client.baseUrl}/api/v1/events${query}`, {
      headers: { authorization: `Bearer ${client.apiKey}`, accept: 'text/event-stream', ...(opts.headers ?? {}) },
      signal: ac.signal,
    });
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status !== 200 || !res.body) return { status: res.status, events, contentType };
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let sep: number;
        while ((sep = buf.search(/\r?\n\r?\n/)) >= 0) {
          const block = buf.slice(0, sep);
          buf = buf.slice(sep).replace(/^\r?\n\r?\n/, '');
          const fields: Record<string, string> = {};
          for (const line of block.split(/\r?\n/)) {
            if (line === '' || line.startsWith(':')) continue;
            const i = line.indexOf(':');
            const k = i < 0 ? line : line.slice(0, i);
            const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            fields[k] = fields[k] === undefined ? v : `${fields[k]}\n${v}`;
          }
          if (fields.data === undefined) continue;
          const e: SseEvent = { id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) };
          if (keep(e)) events.push(e);
          if (done(events)) {
            ac.abort();
            return { status: 200, events, contentType };
          }
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
    return { status: 200, events, contentType };
  } finally {
    clearTimeout(timer);
  }
}
