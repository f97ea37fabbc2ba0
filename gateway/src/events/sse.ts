import type { Response } from 'express';
import type { Logger } from 'pino';
import type { ActingIdentity, EventStreamOptions, LedgerClient } from '../fabric/ledger';
import type { Metrics } from '../ops/metrics';
import type { Handler } from '../rest/app';
import { HttpProblem } from '../rest/problem';
import { parseResult } from '../fabric/result';
import { EVENTS, eventId, parseEventId, unpackEvents, type EventEnvelope } from '@gridledger/protocol';
import { audienceOf, BoundedCache, concerns, type RecordKind, type RecordLookup } from './scope';

export interface SseDeps {
  ledger: LedgerClient;
  operator: ActingIdentity;
  metrics: Metrics;
  logger: Logger;
  heartbeatMs: number;
  maxClients: number;
  /** the participant id a meter is on the ledger (`participants:whoAmI` as the meter); undefined if the gateway cannot act for it */
  participantOf(meterId: string): Promise<string | undefined>;
}

const RECORD_FN: Record<RecordKind, string> = { trade: 'trades:get', offer: 'offers:get', task: 'committees:getTask' };

/**
 * `GET /api/v1/events`: the chaincode events as Server-Sent Events. Each named event inside a
 * transaction's `gridledger` batch is one SSE message with `id: <block>:<txId>:<index>`, `event: <name>`
 * and `data:` the protocol's `EventEnvelope` (packages/protocol/src/events.ts). Resume with `Last-Event-ID` (what
 * EventSource sends on reconnect) or `?fromBlock=`; `?names=A,B` filters by name. Each client gets its own
 * Fabric event stream (read as the operator), closed when the client goes away. What a key may see is
 * decided by `concerns` (events/scope.ts): operator/regulator everything, a meter key its own events and
 * public market information.
 */
export function createEventsHandler(d: SseDeps): Handler & { closeAll(): void } {
  let clients = 0;
  const open = new Set<() => void>();
  // Shared by all streams: who a trade / offer concerns never changes; a task's committee changes on a
  // (re)draw, so its entry is dropped whenever a CommitteeDrawn passes by.
  const records = new BoundedCache<Promise<Record<string, unknown> | undefined>>();
  const lookup: RecordLookup = (kind, id) => {
    const key = `${kind}:${id}`;
    let rec = records.get(key);
    if (!rec) {
      rec = d.ledger.evaluate(d.operator, RECORD_FN[kind], [id]).then(
        (bytes) => {
          const v = parseResult(bytes);
          return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
        },
        (e: unknown) => {
          records.delete(key); // not cached: the next event asks again
          d.logger.warn({ kind, id, err: (e as Error).message }, 'could not read the record an event refers to; not sent to meter-scoped streams');
          return undefined;
        },
      );
      records.set(key, rec);
    }
    return rec;
  };
  const participants = new BoundedCache<string>();
  const participantOf = async (meterId: string): Promise<string | undefined> => {
    const known = participants.get(meterId);
    if (known) return known;
    const pid = await d.participantOf(meterId);
    if (pid) participants.set(meterId, pid);
    return pid;
  };
  const handler: Handler = async (ctx) => {
    const q = ctx.query as { fromBlock?: number; names?: string };
    const lastId = ctx.req.get('last-event-id');
    let resume: { block: number; txId: string; index: number } | undefined;
    if (lastId) {
      const m = parseEventId(lastId);
      if (!m) throw new HttpProblem(400, 'validation-failed', 'The request is invalid', `Last-Event-ID "${lastId}" is not an event id of this stream (<block>:<txId>:<index>); omit it or use ?fromBlock=`, { errors: [{ in: 'header', pointer: 'last-event-id', message: 'must be <block>:<txId>:<index>' }] });
      resume = { block: m.blockNumber, txId: m.txId, index: m.index };
    }
    if (clients >= d.maxClients) throw new HttpProblem(503, 'too-many-streams', 'Too many event streams', `this gateway serves at most ${d.maxClients} event streams; retry later`, {}, { 'Retry-After': '5' });
    const names = q.names ? new Set(q.names.split(',').filter(Boolean)) : undefined;
    const audience = await audienceOf(ctx.principal!, participantOf);
    const opts: EventStreamOptions = resume ? { startBlock: resume.block } : q.fromBlock !== undefined ? { startBlock: q.fromBlock } : {};
    const stream = await d.ledger.chaincodeEvents(d.operator, opts);
    return {
      status: 200,
      stream: async (res: Response) => {
        clients++;
        d.metrics.sseClients.inc();
        res.status(200);
        res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
        res.setHeader('Cache-Control', 'no-cache, no-transform');
        res.setHeader('Connection', 'keep-alive');
        res.setHeader('X-Accel-Buffering', 'no');
        res.flushHeaders();
        res.write(`retry: 2000\n: from ${resume ? `after ${lastId}` : opts.startBlock !== undefined ? `block ${opts.startBlock}` : 'the next block'}\n\n`);
        const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), d.heartbeatMs);
        heartbeat.unref();
        const gone = () => stream.close();
        res.on('close', gone);
        open.add(gone);
        let skipping = resume !== undefined;
        try {
          for await (const ev of stream) {
            if (res.destroyed) break;
            const events = unpackEvents(ev);
            let minIndex = 0;
            if (skipping && resume) {
              if (ev.blockNumber > resume.block) skipping = false;
              else if (ev.txId === resume.txId) {
                skipping = false;
                minIndex = resume.index + 1;
              } else continue; // an earlier transaction of the resumed block: already delivered
            }
            for (const [index, e] of events.entries()) {
              if (e.name === EVENTS.committeeDrawn) {
                const taskId = (e.payload as { taskId?: unknown } | null)?.taskId;
                if (typeof taskId === 'string') records.delete(`task:${taskId}`);
              }
              if (index < minIndex || (names && !names.has(e.name))) continue;
              if (!(await concerns(audience, e.name, e.payload, lookup))) continue;
              if (res.destroyed) break;
              const envelope: EventEnvelope = { name: e.name, blockNumber: ev.blockNumber, txId: ev.txId, index, payload: e.payload };
              res.write(`id: ${eventId(envelope)}\nevent: ${e.name}\ndata: ${JSON.stringify(envelope)}\n\n`);
            }
          }
        } catch (e) {
          if (!res.destroyed) {
            d.logger.warn({ err: (e as Error).message }, 'event stream failed; the client reconnects with Last-Event-ID');
            res.write(`event: stream-error\ndata: ${JSON.stringify({ detail: 'the ledger event stream failed; reconnect with Last-Event-ID to resume' })}\n\n`);
          }
        } finally {
          clearInterval(heartbeat);
          res.off('close', gone);
          open.delete(gone);
          stream.close();
          clients--;
          d.metrics.sseClients.dec();
          res.end();
        }
      },
    };
  };
  /** ends every open stream (graceful shutdown: the server cannot close while they are open) */
  const closeAll = () => {
    for (const close of [...open]) close();
  };
  return Object.assign(handler, { closeAll });
}
