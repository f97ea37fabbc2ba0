import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { classifyFailure, normalizeLedgerError, type FailureClass } from '../fabric/errors';
import type { ActingIdentity, LedgerClient } from '../fabric/ledger';
import { backoffMs, type RetryPolicy } from '../fabric/submitter';
import { HttpProblem, ledgerProblem } from '../rest/problem';
import { directWriter, type Writer } from '../store/groupCommit';
import type { DurableQueue, Receipt } from '../store/queue';

export interface WorkerMetrics {
  retry(reason: FailureClass): void;
  delivered(outcome: 'committed' | 'rejected', seconds: number): void;
  /** transactions in flight now (one per meter at most) */
  inFlight?(n: number): void;
  /** a transaction was endorsed for this many queued receipts / readings */
  transaction?(receipts: number, readings: number): void;
}

/** Deliveries started per event-loop turn (see loop). */
const STARTS_PER_TURN = 8;

/** The single-reading transaction whose queued receipts may be coalesced into one batch transaction. */
const SINGLE = 'meters:postReading';
/** The chaincode's batch transaction (chaincode meters.contract.ts postReadings: `{meterId, readings}`, transient `readings`). */
const BATCH = 'meters:postReadings';

export interface DeliveryWorkerOptions {
  queue: DurableQueue;
  ledger: LedgerClient;
  /** the identity to sign a meter's transactions with; throws HttpProblem if the meter may not be used */
  identityFor(meterId: string): ActingIdentity;
  retry: RetryPolicy;
  /** upper bound of an idle wait: enqueues and finished deliveries wake the worker at once (kick) */
  pollIntervalMs: number;
  /** transactions in flight at once, each for a different meter */
  concurrency: number;
  /**
   * Most queued single readings of a meter delivered by one batch transaction (chaincode reading.ts
   * MAX_BATCH = 96); 1 = never coalesce. Default 1.
   */
  maxCoalesce?: number;
  /** where the worker's state changes are written (group commit); default: each its own transaction */
  writes?: Writer;
  logger: Logger;
  metrics?: WorkerMetrics;
}

import { parseResult } from '../fabric/result';

export { parseResult };

/**
 * Delivers queued receipts to Fabric exactly once, in order per meter.
 *
 * Up to `concurrency` meters have a transaction in flight at once, one per meter, so a meter's
 * readings commit in the order they were queued. A meter's consecutive queued single readings (in
 * strictly increasing interval order) go out as ONE `meters:postReadings` transaction of at most
 * `maxCoalesce`; every receipt of it gets its own reading's result. If the chaincode refuses such a
 * coalesced batch, its receipts go back to the queue and are delivered one by one, so a bad reading
 * is refused alone with its own reason, exactly as it would have been without coalescing.
 *
 * queued: endorse a new proposal → store tx id + transaction bytes (state submitted) → send → commit status.
 * submitted (after a crash, a send failure or a commit-status deadline): re-send the SAME stored transaction
 * and read its commit status — Fabric commits a tx id at most once, so this can never double-deliver.
 * An MVCC/phantom conflict is a final INVALID outcome of that tx id, so only then a new proposal is made.
 */
export class DeliveryWorker extends EventEmitter {
  private running = false;
  private readonly inFlight = new Map<string, Promise<void>>(); // meterId → delivery
  private timer: NodeJS.Timeout | undefined;
  private loopPromise: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** pending waitForSettled calls: each answers now (stop) */
  private readonly waiters = new Set<() => void>();
  /** meter → last seq to deliver one receipt per transaction (after its coalesced batch was refused) */
  private readonly solo = new Map<string, number>();
  private readonly writes: Writer;

  constructor(private readonly o: DeliveryWorkerOptions) {
    super();
    this.setMaxListeners(0);
    this.writes = o.writes ?? directWriter;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopPromise = this.loop();
  }

  /** Stops taking new work and waits for in-flight deliveries to finish (each is bounded by the ledger deadlines). */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loopPromise;
    await Promise.allSettled([...this.inFlight.values()]);
    // nothing settles any more: answer every waiter with the receipt's state now (and clear its timer)
    for (const answer of [...this.waiters]) answer();
  }

  kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  get busyMeters(): number {
    return this.inFlight.size;
  }

  /** Resolves with the receipt once it is committed or rejected, or with its current state after timeoutMs. */
  /**
   * Resolves with the receipt once it is committed or rejected, or with its current state after
   * timeoutMs or when the worker stops (undefined if the database is gone by then).
   */
  waitForSettled(id: string, timeoutMs: number): Promise<Receipt | undefined> {
    const current = this.o.queue.get(id);
    if (!current || current.state === 'COMMITTED' || current.state === 'REJECTED' || timeoutMs <= 0) return Promise.resolve(current);
    return new Promise((resolve) => {
      const answer = () => {
        clearTimeout(t);
        this.off('settled', onSettled);
        this.waiters.delete(answer);
        let r: Receipt | undefined;
        try {
          r = this.o.queue.get(id);
        } catch {
          r = undefined; // database closed under us
        }
        resolve(r);
      };
      const onSettled = (settledId: string) => {
        if (settledId === id) answer();
      };
      const t = setTimeout(answer, timeoutMs);
      this.waiters.add(answer);
      this.on('settled', onSettled);
    });
  }

  /** One scheduling pass: starts deliveries for due meters; resolves when those deliveries finish. For tests and the loop. */
  async runOnce(): Promise<number> {
    const free = this.o.concurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const due = this.o.queue.due(Date.now(), free, new Set(this.inFlight.keys()));
    await Promise.all(due.map((r) => this.begin(r)));
    return due.length;
  }

  private begin(r: Receipt): Promise<void> {
    const p = this.deliver(r).finally(() => {
      this.inFlight.delete(r.meterId);
      this.o.metrics?.inFlight?.(this.inFlight.size);
      this.kick();
    });
    this.inFlight.set(r.meterId, p);
    this.o.metrics?.inFlight?.(this.inFlight.size);
    return p;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const free = this.o.concurrency - this.inFlight.size;
      let started = 0;
      let next: number | undefined;
      if (free > 0) {
        const plan = this.o.queue.schedule(Date.now(), Math.min(free, STARTS_PER_TURN), new Set(this.inFlight.keys()));
        for (const r of plan.due) {
          void this.begin(r);
          started++;
        }
        next = plan.nextDueAt;
      } // else every slot is busy: the next finished delivery wakes the loop
      if (started > 0) {
        // Starting a delivery runs synchronously up to its endorsement call (key import and gateway
        // connection for a meter's first transaction, proposal building, signing): dozens at once would
        // hold the event loop for hundreds of ms while acknowledgements wait. Let them in between.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (!this.running) break;
      // Something due but every due meter is busy: wait for a delivery to finish (it kicks) or the poll interval.
      const now = Date.now();
      const wait = next === undefined || next <= now ? this.o.pollIntervalMs : Math.min(this.o.pollIntervalMs, next - now);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, wait);
      });
      clearTimeout(this.timer);
      this.wake = undefined;
    }
  }

  private settle(r: Receipt, outcome: 'committed' | 'rejected'): void {
    this.o.metrics?.delivered(outcome, (Date.now() - r.createdAt) / 1000);
    this.emit('settled', r.id);
  }

  /** Delivers one receipt (or schedules its retry). Never throws (e.g. when the database was closed under it). */
  async deliver(r: Receipt): Promise<void> {
    try {
      await this.deliverOnce(r);
    } catch (e) {
      this.o.logger.error({ receiptId: r.id, err: e }, 'delivery aborted; the receipt stays in the queue');
    }
  }

  /**
   * The receipts one transaction delivers, starting at the meter's oldest unfinished receipt `head`, and
   * the transaction to endorse for them. A receipt already `submitted` is finished by its stored
   * transaction (with every receipt that transaction carries); otherwise the meter's following queued
   * single readings join it while their intervals strictly increase (the batch transaction's rule).
   */
  private plan(head: Receipt): { group: Receipt[]; fn: string; args: string[]; transient: Record<string, string> | undefined } {
    const own = { fn: head.fn, args: head.args, transient: head.transient ?? undefined };
    if (head.state === 'SUBMITTED' && head.txBytes) return { group: this.o.queue.inTransaction(head), ...own };
    const max = Math.min(this.o.maxCoalesce ?? 1, 96);
    const soloUntil = this.solo.get(head.meterId);
    if (soloUntil !== undefined && head.seq > soloUntil) this.solo.delete(head.meterId);
    if (max <= 1 || head.fn !== SINGLE || (soloUntil !== undefined && head.seq <= soloUntil)) return { group: [head], ...own };
    const first = readingOf(head);
    if (!first) return { group: [head], ...own };
    const group = [head];
    const readings = [first];
    for (const r of this.o.queue.pendingOf(head.meterId, max).slice(1)) {
      if (r.state !== 'QUEUED' || r.fn !== SINGLE || (soloUntil !== undefined && r.seq <= soloUntil)) break;
      const reading = readingOf(r);
      if (!reading || (reading.intervalStart as number) <= (readings[readings.length - 1]!.intervalStart as number)) break;
      group.push(r);
      readings.push(reading);
    }
    if (group.length === 1) return { group, ...own };
    return { group, fn: BATCH, args: [''], transient: { readings: JSON.stringify({ meterId: head.meterId, readings }) } };
  }

  private async deliverOnce(r: Receipt): Promise<void> {
    // bindings per line, not a child logger per delivery: pino's child() cost ~2% of the HTTP thread under load
    const at = { receiptId: r.id, meterId: r.meterId };
    const log = { info: (o: object, m: string) => this.o.logger.info({ ...at, ...o }, m), warn: (o: object, m: string) => this.o.logger.warn({ ...at, ...o }, m) };
    let id: ActingIdentity;
    try {
      id = this.o.identityFor(r.meterId);
    } catch (e) {
      const p = e instanceof HttpProblem ? e : new HttpProblem(500, 'internal', 'Internal error', String((e as Error)?.message ?? e));
      // a stored coalesced transaction settles all of its receipts together, refused ones too
      const group = r.state === 'SUBMITTED' && r.txBytes ? this.o.queue.inTransaction(r) : [r];
      await this.writes.run(() => group.forEach((g) => this.o.queue.markRejected(g.id, p.message, p.body())));
      log.warn({ reason: p.message, receipts: group.length }, 'receipt rejected: meter identity unusable');
      for (const g of group) this.settle(g, 'rejected');
      return;
    }
    const { group, fn, args, transient } = this.plan(r);
    const ids = group.map((g) => g.id);
    const coalesced = group.length > 1;
    let stage: 'endorse' | 'submit' = 'submit';
    let txId = r.txId;
    try {
      let bytes: Uint8Array;
      if (r.state === 'SUBMITTED' && r.txBytes) {
        bytes = r.txBytes;
      } else {
        stage = 'endorse';
        // The reading(s) only: the chaincode checks the registers against the meter's head in its
        // utility's private collection (chaincode meters.contract.ts).
        const prepared = await this.o.ledger.endorse(id, fn, args, transient);
        // stored (durably) before it is sent: after a crash the same tx id is re-sent, never a second one
        await this.writes.run(() => this.o.queue.markSubmitted(ids, prepared.txId, prepared.bytes));
        this.o.metrics?.transaction?.(group.length, group.reduce((n, g) => n + g.itemCount, 0));
        txId = prepared.txId;
        bytes = prepared.bytes;
        stage = 'submit';
      }
      const committed = await this.o.ledger.submitPrepared(id, bytes);
      const result = parseResult(committed.result);
      const results = coalesced ? splitBatchResult(result, group) : [result];
      await this.writes.run(() => group.forEach((g, i) => this.o.queue.markCommitted(g.id, committed.txId, committed.blockNumber, results[i])));
      log.info({ txId: committed.txId, blockNumber: committed.blockNumber, receipts: group.length }, 'receipt committed');
      for (const g of group) this.settle(g, 'committed');
    } catch (e) {
      const err = normalizeLedgerError(e, stage);
      const cls = classifyFailure(err);
      if (cls === 'permanent' && coalesced) {
        // One reading of the batch may be bad: deliver these one by one, each gets its own verdict.
        this.solo.set(r.meterId, group[group.length - 1]!.seq);
        await this.writes.run(() => this.o.queue.retryLater(ids, `coalesced batch refused, delivering one by one: ${err.message}`, 0, true));
        log.info({ txId: err.txId ?? txId, receipts: group.length, error: err.message }, 'coalesced batch refused; delivering its readings one by one');
        return;
      }
      if (cls === 'permanent') {
        const p = ledgerProblem(err);
        await this.writes.run(() => this.o.queue.markRejected(r.id, p.message, p.body()));
        log.warn({ txId: err.txId ?? txId, reason: p.message }, 'receipt rejected by the ledger');
        this.settle(r, 'rejected');
        return;
      }
      const delay = backoffMs(r.attempts + 1, this.o.retry);
      this.o.metrics?.retry(cls);
      // conflict: that tx id is final (INVALID) → new proposal. retry-endorse: nothing was ordered.
      // resend / unknown-outcome: keep the stored transaction and send it again.
      // endorsement-mismatch: the endorsers disagreed (different block heights) — a new proposal, like a conflict.
      const newProposal = cls === 'conflict' || cls === 'endorsement-mismatch' || (cls === 'retry-endorse' && stage === 'endorse');
      await this.writes.run(() => this.o.queue.retryLater(ids, `${cls}: ${err.message}`, delay, newProposal));
      const line = { txId: err.txId ?? txId, cls, attempts: r.attempts + 1, delayMs: delay, receipts: group.length, error: err.message, details: err.details.map((x) => `${x.mspId}: ${x.message}`) };
      if (cls === 'endorsement-mismatch') log.warn(line, 'endorsements differed between peers; a new proposal will be endorsed');
      else log.info(line, 'receipt delivery will be retried');
    }
  }
}

/** The reading a queued single-reading receipt carries (transient `reading`), if it is one the batch can take. */
function readingOf(r: Receipt): Record<string, unknown> | undefined {
  if (r.args.length !== 1 || r.args[0] !== '' || typeof r.transient?.reading !== 'string' || Object.keys(r.transient).length !== 1) return undefined;
  try {
    const o = JSON.parse(r.transient.reading) as unknown;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
    const reading = o as Record<string, unknown>;
    return Number.isSafeInteger(reading.intervalStart) && (reading.meterId === undefined || reading.meterId === r.meterId) ? reading : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Each receipt's share of a coalesced batch's result — what `meters:postReading` answers for one
 * reading, `{meterId, intervalStart, status}` — from postReadings' `{meterId, recorded, duplicates,
 * results: [{intervalStart, status}]}` (chaincode meters.contract.ts), matched by interval.
 */
function splitBatchResult(result: unknown, group: Receipt[]): unknown[] {
  const r = result as { meterId?: unknown; results?: Array<{ intervalStart?: unknown; status?: unknown }> } | null;
  const byStart = new Map((Array.isArray(r?.results) ? r.results : []).map((x) => [x.intervalStart, x.status]));
  return group.map((g) => {
    const start = readingOf(g)?.intervalStart;
    return byStart.has(start) ? { meterId: r?.meterId ?? g.meterId, intervalStart: start, status: byStart.get(start) } : result;
  });
}
