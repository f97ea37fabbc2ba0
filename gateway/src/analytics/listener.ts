import type { Logger } from 'pino';
import { EVENTS, unpackEvents, type ChaincodeEvent } from '@gridledger/protocol';
import { LedgerError } from '../fabric/errors';
import type { ActingIdentity, EventStream, LedgerClient, LedgerEvent } from '../fabric/ledger';
import type { Metrics } from '../ops/metrics';
import { parseResult } from '../fabric/result';
import { SCHEMA_VERSION } from './schema';
import { emptyEnrichment, type AnalyticsStore, type AppliedTx, type Enrichment } from './store';
import { blockBatches } from '../events/batches';

export interface AnalyticsListenerOptions {
  ledger: LedgerClient;
  store: AnalyticsStore;
  operator: ActingIdentity;
  logger: Logger;
  reconnectMs: number;
  /** Prometheus: gateway_analytics_checkpoint_block, gateway_analytics_events_total */
  metrics?: Pick<Metrics, 'analyticsCheckpointBlock' | 'analyticsEvents'>;
}

/** A record that is not there (or not ours to read) is stored as unknown; anything else is transient. */
function absent(e: unknown): boolean {
  const code = e instanceof LedgerError ? e.chaincode?.code : undefined;
  return code === 'NOT_FOUND' || code === 'FORBIDDEN';
}

/**
 * The checkpointed listener of the analytics store — fabric-samples `off_chain_data`'s pattern
 * (a listener that resumes from a stored checkpoint and writes each transaction's effect and the new
 * checkpoint together), on chaincode events like events/beacon.ts:
 * - with no checkpoint it reads from block 0, so an empty store is rebuilt from the whole chain;
 * - otherwise from the checkpoint's block after its transaction (Fabric's checkpoint semantics);
 * - per transaction it first reads the immutable fields its events refer to but do not carry (the
 *   values of this utility's own readings; the trade's and offer's parties only for events from a
 *   chaincode before 2026-12-06, whose TradeCreated and OfferCreated did not name them), then applies the events
 *   and the checkpoint in one SQLite transaction (AnalyticsStore.apply). A transient read failure ends
 *   the pass without applying: the next pass resumes at that same transaction.
 */
export class AnalyticsListener {
  private stopped = true;
  private stream: EventStream | undefined;
  private running: Promise<void> | undefined;
  /** (time ms, events applied) samples of the last minute: the ingest rate */
  private readonly samples: Array<[number, number]> = [];
  /** the block of the newest event seen on the stream (applied or not) */
  lastSeenBlock: number | undefined;

  constructor(private readonly o: AnalyticsListenerOptions) {}

  /** Reads what `ev`'s events need from the ledger (as the operator). */
  async enrich(events: ChaincodeEvent[]): Promise<Enrichment> {
    const x = emptyEnrichment();
    const read = async (fn: string, args: string[]): Promise<Record<string, unknown> | undefined> => {
      try {
        const v = parseResult(await this.o.ledger.evaluate(this.o.operator, fn, args));
        return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
      } catch (e) {
        if (absent(e)) return undefined;
        throw e;
      }
    };
    const s = (v: unknown) => (typeof v === 'string' ? v : null);
    const n = (v: unknown) => (typeof v === 'number' ? v : null);
    for (const e of events) {
      const p = e.payload;
      if (e.name === EVENTS.tradeCreated && typeof p.tradeId === 'string') {
        const named = ['seller', 'buyer', 'sellerMspId', 'buyerMspId', 'sellerMeterId', 'buyerMeterId'].every((k) => typeof p[k] === 'string');
        const t = named ? p : await read('trades:get', [p.tradeId]);
        x.trades.set(p.tradeId, {
          seller: s(t?.seller), buyer: s(t?.buyer), sellerMspId: s(t?.sellerMspId), buyerMspId: s(t?.buyerMspId), sellerMeterId: s(t?.sellerMeterId), buyerMeterId: s(t?.buyerMeterId),
        });
      } else if (e.name === EVENTS.offerCreated && typeof p.offerId === 'string') {
        const named = ['seller', 'sellerMspId', 'sellerMeterId'].every((k) => typeof p[k] === 'string');
        const o = named ? p : await read('offers:get', [p.offerId]);
        x.offers.set(p.offerId, { seller: s(o?.seller), sellerMspId: s(o?.sellerMspId), sellerMeterId: s(o?.sellerMeterId) });
      } else if (e.name === EVENTS.readingRecorded && p.mspId === this.o.store.mspId && typeof p.meterId === 'string' && Array.isArray(p.intervals)) {
        const meterId = p.meterId;
        const starts = p.intervals.filter((v): v is number => typeof v === 'number');
        // a batch holds up to 96 intervals: read them 16 at a time rather than one after another
        for (let i = 0; i < starts.length; i += 16) {
          await Promise.all(
            starts.slice(i, i + 16).map(async (start) => {
              const r = (await read('meters:getReading', [meterId, String(start)]))?.reading as Record<string, unknown> | undefined;
              x.readings.set(`${meterId}@${start}`, { intervalLength: n(r?.intervalLength), importWh: n(r?.importWh), exportWh: n(r?.exportWh) });
            }),
          );
        }
      }
    }
    return x;
  }

  /** Handles one chaincode event (one transaction): enrich, then apply atomically with the checkpoint. */
  async handle(ev: LedgerEvent): Promise<boolean> {
    return (await this.handleBatch([ev])) > 0;
  }

  /**
   * Handles a batch of chaincode events (one block's, events/batches.ts): each transaction enriched in order,
   * then all applied with the checkpoint past the last in ONE SQLite transaction (AnalyticsStore.applyBatch).
   * A failed read applies nothing of the batch: the next pass resumes at its first transaction. Returns how
   * many transactions were new.
   */
  async handleBatch(evs: LedgerEvent[]): Promise<number> {
    const txs: Array<{ tx: AppliedTx; enrich: Enrichment }> = [];
    for (const ev of evs) {
      const events = unpackEvents(ev);
      this.lastSeenBlock = Math.max(this.lastSeenBlock ?? 0, ev.blockNumber);
      txs.push({ tx: { blockNumber: ev.blockNumber, txId: ev.txId, events }, enrich: events.length ? await this.enrich(events) : emptyEnrichment() });
    }
    const before = this.o.store.checkpoint()?.events ?? 0;
    const fresh = this.o.store.applyBatch(txs);
    if (fresh) {
      const applied = (this.o.store.checkpoint()?.events ?? 0) - before;
      this.sample(applied);
      this.o.metrics?.analyticsEvents.inc(applied);
      this.o.metrics?.analyticsCheckpointBlock.set(evs.at(-1)!.blockNumber);
    }
    return fresh;
  }

  private sample(n: number, now = Date.now()): void {
    this.samples.push([now, n]);
    while (this.samples.length && this.samples[0]![0] < now - 60_000) this.samples.shift();
  }

  /** Named events applied per second over the last minute. */
  ingestRate(now = Date.now()): number {
    const recent = this.samples.filter(([t]) => t >= now - 60_000);
    return recent.reduce((a, [, n]) => a + n, 0) / 60;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.o.store.rebuilt) this.o.logger.info({ schemaVersion: SCHEMA_VERSION }, 'analytics: store written by another schema version dropped; replaying the chain from block 0');
    this.running = this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.close();
    await this.running;
  }

  private async listen(): Promise<void> {
    while (!this.stopped) {
      const cp = this.o.store.checkpoint();
      const opts = cp ? { startBlock: cp.block, afterTxId: cp.txId } : { startBlock: 0 };
      try {
        this.stream = await this.o.ledger.chaincodeEvents(this.o.operator, opts);
        this.o.logger.info({ ...opts }, 'analytics: listening for chaincode events');
        for await (const batch of blockBatches(this.stream)) {
          if (this.stopped) break;
          await this.handleBatch(batch);
        }
      } catch (e) {
        if (this.stopped) break;
        this.o.logger.warn({ err: (e as Error).message }, 'analytics: event stream or record read failed; resuming from the checkpoint');
      } finally {
        this.stream?.close();
        this.stream = undefined;
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.o.reconnectMs).unref());
    }
  }
}
