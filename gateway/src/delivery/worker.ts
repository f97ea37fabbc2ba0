import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { classifyFailure, normalizeLedgerError, type FailureClass } from '../fabric/errors';
import type { ActingIdentity, LedgerClient } from '../fabric/ledger';
import { backoffMs, type RetryPolicy } from '../fabric/submitter';
import { HttpProblem, ledgerProblem } from '../rest/problem';
import { directWriter, type Writer } from '../store/groupCommit';
import type { DurableQueue, Receipt } from '../store/queue';
import { MAX_RELAY } from '@gridledger/protocol';

export interface WorkerMetrics {
  retry(reason: FailureClass): void;
  delivered(outcome: 'committed' | 'rejected', seconds: number): void;
  /** transactions in flight now (one per meter at most) */
  inFlight?(n: number): void;
  /** a transaction was endorsed for this many queued receipts / readings */
  transaction?(receipts: number, readings: number): void;
}

/** A lingering relayed batch goes once no reading arrived for this share of `lingerMs` (arrivals have stopped). */
const LINGER_QUIET = 1 / 5;

/** Readings a relayed batch signs between two yields to the event loop (signRuns). */
const SIGN_CHUNK = 16;

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
  /**
   * Cross-meter relaying (docs/market.md "Relayed readings"): queued single readings of meters whose key
   * the ledger holds go out as `meters:relayReadings` batches signed by the utility's operator, each
   * reading signed by its meter. Absent: every meter's readings go as its own transactions.
   */
  relay?: Relayer;
  /** where the worker's state changes are written (group commit); default: each its own transaction */
  writes?: Writer;
  logger: Logger;
  metrics?: WorkerMetrics;
}

import { parseResult } from '../fabric/result';

/** The chaincode's relayed batch (chaincode meters.contract.ts relayReadings: transient `relay` = `{entries}`). */
const RELAY = 'meters:relayReadings';

export interface Relayer {
  /** the utility's own identity (an operator) that submits relayed batches */
  identity: ActingIdentity;
  /** most readings per relayed transaction (chaincode MAX_RELAY = 96); 0 = start none (stored ones are still re-sent) */
  maxReadings: number;
  /** relayed transactions in flight at once (fewer, fuller batches under load; each counts in `concurrency`) */
  concurrency: number;
  /**
   * How long (ms) a relayed batch that is not full may wait for more readings, counted from its oldest
   * reading's enqueue: the readings of a burst reach the queue spread over a few hundred ms, and a batch
   * started at the first of them carries only a few (docs/benchmarks.md "Relayed batches that gather a
   * burst"). It waits only while readings keep arriving: once none came for a fifth of it (LINGER_QUIET),
   * it goes; a full batch goes at once. 0 or absent = never wait.
   */
  lingerMs?: number;
  /** whether the meter's readings may be relayed now (the gateway holds its key, the ledger has it registered) */
  eligible(meterId: string): boolean;
  /** the meter key's signature of the reading (base64 DER), or undefined if it cannot sign now */
  sign(meterId: string, reading: Record<string, unknown>): string | undefined;
}

interface RelayEntry {
  meterId: string;
  reading: Record<string, unknown>;
  signature: string;
}

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
  /** transactions in flight (a relayed batch counts once, however many meters it carries) */
  private active = 0;
  private relaysActive = 0;
  /** while a partial relayed batch lingers (Relayer.lingerMs): when its oldest reading's wait ends */
  private lingerUntil: number | undefined;

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
    const { started } = this.dispatch(this.o.concurrency);
    await Promise.all(started);
    return started.length;
  }

  /**
   * Starts deliveries for due meters: each meter's oldest unfinished receipt, at most `soloStarts` own
   * transactions, and as many relayed batches as the relay's concurrency allows (each filled with up to
   * `maxReadings` readings of different meters, a meter's run of readings in order). A stored relayed
   * batch (after a crash or a send failure) is re-sent whole, once all its meters are free.
   */
  private dispatch(soloStarts: number): { started: Array<Promise<void>>; nextDueAt: number | undefined } {
    const started: Array<Promise<void>> = [];
    const now = Date.now();
    if (this.lingerUntil !== undefined && this.lingerUntil <= now) this.lingerUntil = undefined; // its wait is over
    const free = this.o.concurrency - this.active;
    if (free <= 0) return { started, nextDueAt: undefined };
    const relay = this.o.relay;
    const relaying = relay !== undefined && relay.maxReadings > 0;
    const relayFree = relaying ? Math.max(0, Math.min(free, relay.concurrency - this.relaysActive)) : 0;
    const solo = Math.min(free, soloStarts);
    // While a partial batch lingers, one batch's worth of rows tells whether it has filled: reading every
    // due row on every wake (each enqueue wakes the worker) would cost the HTTP thread for nothing.
    const lingering = this.lingerUntil !== undefined;
    const relayRows = relayFree > 0 ? (lingering ? 1 : relayFree) * relay!.maxReadings : 0;
    const plan = this.o.queue.schedule(now, solo + relayRows, new Set(this.inFlight.keys()));
    const relayable: Receipt[] = [];
    let soloStarted = 0;
    for (const r of plan.due) {
      if (this.inFlight.has(r.meterId) || this.active >= this.o.concurrency) continue;
      if (r.state === 'SUBMITTED' && r.txId && relay && this.o.queue.isRelayed(r.txId)) {
        const p = this.resendRelay(r.txId);
        if (p) started.push(p);
        continue;
      }
      if (relaying && this.relayable(r, relay)) {
        // With every relayed batch in flight, the reading waits for the next batch rather than going as
        // its meter's own transaction: a single-reading transaction costs the ledger several times a
        // relayed reading (docs/benchmarks.md), and the next batch starts as soon as one finishes.
        if (relayFree > 0) relayable.push(r);
        continue;
      }
      if (soloStarted < solo) {
        started.push(this.begin(r));
        soloStarted++;
      }
    }
    if (relay && relayFree > 0) started.push(...this.startRelays(relayable, relay, now));
    return { started, nextDueAt: plan.nextDueAt };
  }

  private begin(r: Receipt): Promise<void> {
    this.active++;
    const p = this.deliver(r).finally(() => {
      this.inFlight.delete(r.meterId);
      this.active--;
      this.o.metrics?.inFlight?.(this.active);
      this.kick();
    });
    this.inFlight.set(r.meterId, p);
    this.o.metrics?.inFlight?.(this.active);
    return p;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const { started, nextDueAt: next } = this.dispatch(STARTS_PER_TURN);
      // (when every slot is busy nothing was looked at: the next finished delivery wakes the loop)
      if (started.length > 0) {
        // Starting a delivery runs synchronously up to its endorsement call (key import and gateway
        // connection for a meter's first transaction, proposal building, signing): dozens at once would
        // hold the event loop for hundreds of ms while acknowledgements wait. Let them in between.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (!this.running) break;
      // Something due but every due meter is busy: wait for a delivery to finish (it kicks) or the poll interval.
      const now = Date.now();
      let wait = next === undefined || next <= now ? this.o.pollIntervalMs : Math.min(this.o.pollIntervalMs, next - now);
      // a lingering batch starts when its wait ends, even if nothing else wakes the worker
      if (this.lingerUntil !== undefined) wait = Math.min(wait, Math.max(1, this.lingerUntil - now));
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, wait);
      });
      clearTimeout(this.timer);
      this.wake = undefined;
    }
  }

  // ---- relayed batches

  /** A queued single reading of a meter the relay may sign for, not held back to go alone. */
  private relayable(r: Receipt, relay: Relayer): boolean {
    if (r.state !== 'QUEUED' || r.fn !== SINGLE || !readingOf(r)) return false;
    const soloUntil = this.solo.get(r.meterId);
    if (soloUntil !== undefined && r.seq <= soloUntil) return false;
    return relay.eligible(r.meterId);
  }

  /**
   * Packs the due meters' runs of readings into batches and starts them (relay concurrency permitting).
   * A batch that would not be full starts only once its oldest reading has waited `lingerMs`, or once no
   * reading arrived for `lingerMs × LINGER_QUIET` (a lone reading waits only that); until then it lingers
   * (the loop wakes when the wait ends, enqueues wake it sooner). Waiting never reorders a meter's
   * readings: they stay in the queue, and only a meter's oldest is ever a head.
   */
  private startRelays(heads: Receipt[], relay: Relayer, now: number): Array<Promise<void>> {
    const started: Array<Promise<void>> = [];
    const max = Math.max(1, Math.min(relay.maxReadings, MAX_RELAY));
    const linger = Math.max(0, relay.lingerMs ?? 0);
    this.lingerUntil = undefined;
    let i = 0;
    while (i < heads.length && this.relaysActive < relay.concurrency && this.active < this.o.concurrency) {
      // (heads are one per meter, oldest first; a meter's run may make the batch fuller than this count)
      if (linger > 0 && heads.length - i < max) {
        let newest = 0;
        for (let j = i; j < heads.length; j++) newest = Math.max(newest, heads[j]!.createdAt);
        const until = Math.min(heads[i]!.createdAt + linger, newest + Math.max(1, Math.round(linger * LINGER_QUIET)));
        if (until > now) {
          this.lingerUntil = until;
          break;
        }
      }
      // Which readings go is decided here (each meter's run, in order); they are signed when the batch
      // starts, a few at a time between other work (signRuns), not in this synchronous pass.
      const runs: Receipt[][] = [];
      let count = 0;
      while (i < heads.length && count < max) {
        const run = this.singleRun(heads[i++]!, max - count);
        runs.push(run);
        count += run.length;
      }
      if (runs.length > 0) started.push(this.beginRelay(runs.flat(), { runs }));
    }
    return started;
  }

  /**
   * Signs the readings of a batch with their meters' keys (relay.sign), yielding to the event loop every
   * SIGN_CHUNK readings: signing ~100 readings at once held the HTTP thread for 50–80 ms under load
   * (key look-up, canonical message, ECDSA), and acknowledgements waited behind it. A meter whose
   * reading cannot be signed keeps the readings signed before it in the batch; the rest stay queued (its
   * first one unsigned: its own transactions from then on).
   */
  private async signRuns(runs: Receipt[][], relay: Relayer): Promise<{ group: Receipt[]; entries: RelayEntry[] }> {
    const group: Receipt[] = [];
    const entries: RelayEntry[] = [];
    let n = 0;
    for (const run of runs) {
      let signed = 0;
      for (const g of run) {
        if (++n % SIGN_CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const reading = { ...readingOf(g)!, meterId: g.meterId };
        let signature: string | undefined;
        try {
          signature = relay.sign(g.meterId, reading);
        } catch (e) {
          this.o.logger.warn({ meterId: g.meterId, err: (e as Error)?.message }, 'cannot sign a relayed reading; the meter\'s readings go as its own transactions');
        }
        if (signature === undefined) break;
        group.push(g);
        entries.push({ meterId: g.meterId, reading, signature });
        signed++;
      }
      if (signed === 0) this.holdBack(run[0]!.meterId, run[0]!.seq); // its own transaction next time
    }
    return { group, entries };
  }

  /** Re-sends a stored relayed batch whole (its bytes on one of its receipts), if all its meters are free. */
  private resendRelay(txId: string): Promise<void> | undefined {
    const group = this.o.queue.transactionGroup(txId);
    if (group.length === 0 || group.some((g) => this.inFlight.has(g.meterId))) return undefined;
    return this.beginRelay(group, group.find((g) => g.txBytes)?.txBytes ?? undefined);
  }

  private beginRelay(group: Receipt[], what: { runs: Receipt[][] } | Uint8Array | undefined): Promise<void> {
    const meters = [...new Set(group.map((g) => g.meterId))];
    this.active++;
    this.relaysActive++;
    const p = this.deliverRelay(group, what)
      .catch((e: unknown) => this.o.logger.error({ receipts: group.length, err: e }, 'relayed delivery aborted; the receipts stay in the queue'))
      .finally(() => {
        for (const m of meters) this.inFlight.delete(m);
        this.active--;
        this.relaysActive--;
        this.o.metrics?.inFlight?.(this.active);
        this.kick();
      });
    for (const m of meters) this.inFlight.set(m, p);
    this.o.metrics?.inFlight?.(this.active);
    return p;
  }

  /** A meter's receipts up to `seq` go as its own transactions, one at a time (each its own verdict). */
  private holdBack(meterId: string, seq: number): void {
    this.solo.set(meterId, Math.max(seq, this.solo.get(meterId) ?? seq));
  }

  /**
   * One relayed batch: endorse as the operator, store (durably, with the relay mark) before sending,
   * send, then settle each receipt by its reading's verdict. A reading the chaincode refused (or did
   * not try) goes back to the queue to be delivered as its meter's own transaction, so it gets exactly
   * the answer it would have had without relaying; the same when the whole batch is refused.
   */
  private async deliverRelay(reserved: Receipt[], what: { runs: Receipt[][] } | Uint8Array | undefined): Promise<void> {
    const relay = this.o.relay!;
    const id = relay.identity;
    let group = reserved;
    let ids = group.map((g) => g.id);
    let stage: 'endorse' | 'submit' = 'submit';
    let txId = group[0]!.txId;
    try {
      let bytes: Uint8Array;
      if (what instanceof Uint8Array) {
        bytes = what;
      } else if (what === undefined) {
        // not expected (markSubmitted stores the bytes with the mark): endorse the readings afresh
        await this.writes.run(() => {
          this.o.queue.retryLater(ids, 'stored relayed batch without its transaction bytes: endorsing afresh', 0, true);
          if (txId) this.o.queue.forgetRelayed(txId);
        });
        return;
      } else {
        const signed = await this.signRuns(what.runs, relay);
        if (signed.group.length === 0) return; // nothing signable: those meters go as their own transactions
        group = signed.group;
        ids = group.map((g) => g.id);
        stage = 'endorse';
        const prepared = await this.o.ledger.endorse(id, RELAY, [''], { relay: JSON.stringify({ entries: signed.entries }) });
        await this.writes.run(() => {
          this.o.queue.markSubmitted(ids, prepared.txId, prepared.bytes);
          this.o.queue.markRelayed(prepared.txId);
        });
        this.o.metrics?.transaction?.(group.length, group.length);
        txId = prepared.txId;
        bytes = prepared.bytes;
        stage = 'submit';
      }
      const committed = await this.o.ledger.submitPrepared(id, bytes);
      const result = parseResult(committed.result) as { results?: Array<{ meterId?: unknown; intervalStart?: unknown; status?: unknown }> } | null;
      const verdicts = new Map((Array.isArray(result?.results) ? result.results : []).map((v) => [`${String(v.meterId)}\n${String(v.intervalStart)}`, v.status]));
      const done: Array<{ r: Receipt; answer: unknown }> = [];
      const back: Receipt[] = [];
      for (const g of group) {
        const start = readingOf(g)?.intervalStart;
        const status = verdicts.get(`${g.meterId}\n${String(start)}`);
        // what meters:postReading answers for the one reading
        if (status === 'RECORDED' || status === 'DUPLICATE') done.push({ r: g, answer: { meterId: g.meterId, intervalStart: start, status } });
        else back.push(g);
      }
      await this.writes.run(() => {
        for (const { r, answer } of done) this.o.queue.markCommitted(r.id, committed.txId, committed.blockNumber, answer);
        if (back.length) this.o.queue.retryLater(back.map((g) => g.id), 'relayed reading not recorded: delivering it as the meter\'s own transaction', 0, true);
        this.o.queue.forgetRelayed(committed.txId);
      });
      for (const g of back) this.holdBack(g.meterId, g.seq);
      this.o.logger.info({ txId: committed.txId, blockNumber: committed.blockNumber, receipts: group.length, meters: new Set(group.map((g) => g.meterId)).size, back: back.length }, 'relayed batch committed');
      for (const { r } of done) this.settle(r, 'committed');
    } catch (e) {
      const err = normalizeLedgerError(e, stage);
      const cls = classifyFailure(err);
      const stored = txId ?? err.txId;
      if (cls === 'permanent') {
        await this.writes.run(() => {
          this.o.queue.retryLater(ids, `relayed batch refused, delivering its readings as the meters' own transactions: ${err.message}`, 0, true);
          if (stored) this.o.queue.forgetRelayed(stored);
        });
        for (const g of group) this.holdBack(g.meterId, g.seq);
        this.o.logger.warn({ txId: stored, receipts: group.length, error: err.message }, 'relayed batch refused; its readings go as their meters\' own transactions');
        return;
      }
      const delay = backoffMs(Math.max(...group.map((g) => g.attempts)) + 1, this.o.retry);
      this.o.metrics?.retry(cls);
      const newProposal = cls === 'conflict' || cls === 'endorsement-mismatch' || (cls === 'retry-endorse' && stage === 'endorse');
      await this.writes.run(() => {
        this.o.queue.retryLater(ids, `${cls}: ${err.message}`, delay, newProposal);
        if (newProposal && stored) this.o.queue.forgetRelayed(stored);
      });
      this.o.logger.info({ txId: stored, cls, delayMs: delay, receipts: group.length, error: err.message }, 'relayed batch will be retried');
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
    const group = this.singleRun(head, max);
    const readings = group.map((g) => readingOf(g)!);
    if (group.length === 1) return { group, ...own };
    return { group, fn: BATCH, args: [''], transient: { readings: JSON.stringify({ meterId: head.meterId, readings }) } };
  }

  /**
   * `head` (a queued single reading) and the meter's following queued single readings while their
   * intervals strictly increase (the batch transactions' rule), at most `max`, none held back to go alone.
   */
  private singleRun(head: Receipt, max: number): Receipt[] {
    const first = readingOf(head);
    if (!first) return [head];
    const soloUntil = this.solo.get(head.meterId);
    const group = [head];
    let last = first.intervalStart as number;
    if (max <= 1) return group;
    for (const r of this.o.queue.pendingOf(head.meterId, max).slice(1)) {
      if (r.state !== 'QUEUED' || r.fn !== SINGLE || (soloUntil !== undefined && r.seq <= soloUntil)) break;
      const reading = readingOf(r);
      if (!reading || (reading.intervalStart as number) <= last) break;
      group.push(r);
      last = reading.intervalStart as number;
    }
    return group;
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
