import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { classifyFailure, normalizeLedgerError, type FailureClass } from '../fabric/errors';
import type { ActingIdentity, LedgerClient } from '../fabric/ledger';
import { backoffMs, type RetryPolicy } from '../fabric/submitter';
import { HttpProblem, ledgerProblem } from '../rest/problem';
import type { DurableQueue, Receipt } from '../store/queue';

export interface WorkerMetrics {
  retry(reason: FailureClass): void;
  delivered(outcome: 'committed' | 'rejected', seconds: number): void;
}

export interface DeliveryWorkerOptions {
  queue: DurableQueue;
  ledger: LedgerClient;
  /** the identity to sign a meter's transactions with; throws HttpProblem if the meter may not be used */
  identityFor(meterId: string): ActingIdentity;
  retry: RetryPolicy;
  pollIntervalMs: number;
  concurrency: number;
  logger: Logger;
  metrics?: WorkerMetrics;
}

import { parseResult } from '../fabric/result';

export { parseResult };

/**
 * Delivers queued receipts to Fabric exactly once, in order per meter.
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

  constructor(private readonly o: DeliveryWorkerOptions) {
    super();
    this.setMaxListeners(0);
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
    if (!current || current.state === 'committed' || current.state === 'rejected' || timeoutMs <= 0) return Promise.resolve(current);
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
    const started: Promise<void>[] = [];
    for (const r of due) {
      const p = this.deliver(r).finally(() => {
        this.inFlight.delete(r.meterId);
        this.kick();
      });
      this.inFlight.set(r.meterId, p);
      started.push(p);
    }
    await Promise.all(started);
    return due.length;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const free = this.o.concurrency - this.inFlight.size;
      let started = 0;
      if (free > 0) {
        const due = this.o.queue.due(Date.now(), free, new Set(this.inFlight.keys()));
        for (const r of due) {
          const p = this.deliver(r).finally(() => {
            this.inFlight.delete(r.meterId);
            this.kick();
          });
          this.inFlight.set(r.meterId, p);
          started++;
        }
      }
      if (started > 0) continue;
      if (!this.running) break;
      const next = this.o.queue.nextDueAt();
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

  private async deliverOnce(r: Receipt): Promise<void> {
    const log = this.o.logger.child({ receiptId: r.id, meterId: r.meterId });
    let id: ActingIdentity;
    try {
      id = this.o.identityFor(r.meterId);
    } catch (e) {
      const p = e instanceof HttpProblem ? e : new HttpProblem(500, 'internal', 'Internal error', String((e as Error)?.message ?? e));
      this.o.queue.markRejected(r.id, p.message, p.body());
      log.warn({ reason: p.message }, 'receipt rejected: meter identity unusable');
      this.settle(r, 'rejected');
      return;
    }
    let stage: 'endorse' | 'submit' = 'submit';
    let txId = r.txId;
    try {
      let bytes: Uint8Array;
      if (r.state === 'submitted' && r.txBytes) {
        bytes = r.txBytes;
      } else {
        stage = 'endorse';
        // The reading(s) only: the chaincode checks the registers against the meter's head in its
        // utility's private collection (chaincode meters.contract.ts).
        const prepared = await this.o.ledger.endorse(id, r.fn, r.args, r.transient ?? undefined);
        this.o.queue.markSubmitted(r.id, prepared.txId, prepared.bytes);
        txId = prepared.txId;
        bytes = prepared.bytes;
        stage = 'submit';
      }
      const committed = await this.o.ledger.submitPrepared(id, bytes);
      this.o.queue.markCommitted(r.id, committed.txId, committed.blockNumber, parseResult(committed.result));
      log.info({ txId: committed.txId, blockNumber: committed.blockNumber }, 'receipt committed');
      this.settle(r, 'committed');
    } catch (e) {
      const err = normalizeLedgerError(e, stage);
      const cls = classifyFailure(err);
      if (cls === 'permanent') {
        const p = ledgerProblem(err);
        this.o.queue.markRejected(r.id, p.message, p.body());
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
      this.o.queue.retryLater(r.id, `${cls}: ${err.message}`, delay, newProposal);
      const line = { txId: err.txId ?? txId, cls, attempts: r.attempts + 1, delayMs: delay, error: err.message, details: err.details.map((x) => `${x.mspId}: ${x.message}`) };
      if (cls === 'endorsement-mismatch') log.warn(line, 'endorsements differed between peers; a new proposal will be endorsed');
      else log.info(line, 'receipt delivery will be retried');
    }
  }
}
