import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LedgerError, type LedgerStage } from './errors';
import { FabricLedger, type ActingIdentity, type CommittedTx, type EventStream, type EventStreamOptions, type FabricLedgerOptions, type LedgerClient, type PreparedTx } from './ledger';

/** A call the ledger thread runs (ledgerThreadMain.ts). */
type Call = { op: 'endorse'; identity: ActingIdentity; fn: string; args: string[]; transient?: Record<string, string> } | { op: 'submitPrepared'; identity: ActingIdentity; bytes: Uint8Array };
export type LedgerThreadRequest = (Call & { id: number }) | { op: 'forget'; key: string };

/** A LedgerError as plain data (what survives postMessage; the class and its `cause` do not). */
export interface LedgerErrorData {
  stage: LedgerStage;
  message: string;
  grpcCode?: number;
  validationCode?: number;
  details: Array<{ address: string; mspId: string; message: string }>;
  txId?: string;
}

export type LedgerThreadReply = { id: number; ok: true; value: PreparedTx | CommittedTx } | { id: number; ok: false; error: LedgerErrorData };

export function errorToData(e: LedgerError): LedgerErrorData {
  return {
    stage: e.stage,
    message: e.message,
    details: e.details,
    ...(e.grpcCode !== undefined ? { grpcCode: e.grpcCode } : {}),
    ...(e.validationCode !== undefined ? { validationCode: e.validationCode } : {}),
    ...(e.txId !== undefined ? { txId: e.txId } : {}),
  };
}

/** The same LedgerError again (the chaincode failure is re-derived from message and details by its constructor). */
export function errorFromData(d: LedgerErrorData): LedgerError {
  return new LedgerError(d);
}

/** The compiled thread entry beside this file; undefined when running from TypeScript sources (tests). */
export function defaultThreadScript(): string | undefined {
  const js = path.join(__dirname, 'ledgerThreadMain.js');
  return fs.existsSync(js) ? js : undefined;
}

type Pending = { resolve: (v: PreparedTx | CommittedTx) => void; reject: (e: unknown) => void; stage: LedgerStage };

/**
 * The LedgerClient of a running gateway: transactions (`endorse`, `submitPrepared`) run in a worker
 * thread with its own fabric-gateway connection, reads and event streams stay here.
 *
 * Why: a transaction costs the client a few ms of CPU — three TLS gRPC calls (Endorse, Submit,
 * CommitStatus) through grpc-js, protobuf encoding and decoding, three ECDSA signatures, and for a
 * meter's first transaction its key import and `Gateway`. On the HTTP thread, with 64 deliveries in
 * flight, that work queued in front of the acknowledgements of newly posted readings (docs/benchmarks.md
 * "REST ingest"). In the thread it runs on the other core; the HTTP thread keeps the requests, the
 * durable queue and its group commit.
 *
 * Guarantees are unchanged: the durable queue (store/queue.ts) decides what is endorsed and re-sent on
 * the HTTP thread exactly as before; the thread only performs the calls. If the thread dies, calls in
 * flight fail as transient errors of their stage — an endorse as `retry-endorse` (nothing was sent), a
 * send as `resend` (the same stored transaction goes again; Fabric commits a tx id at most once) — and
 * the next call starts a new thread.
 */
export class ThreadedLedger implements LedgerClient {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** reads, event streams and readiness: on this thread */
  private readonly local: LedgerClient;

  constructor(
    private readonly opts: FabricLedgerOptions,
    private readonly script: string,
    local?: LedgerClient,
  ) {
    this.local = local ?? new FabricLedger(opts);
  }

  /** Calls that wait for the thread now. */
  get inFlight(): number {
    return this.pending.size;
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script, { workerData: { options: this.opts } });
    w.on('message', (m: LedgerThreadReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(errorFromData(m.error));
    });
    const lost = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        // no grpcCode: endorse → retry-endorse, submit → resend (fabric/errors.ts classifyFailure)
        p.reject(new LedgerError({ stage: p.stage, message: `the ledger thread stopped (${why}); the call may be retried` }));
      }
    };
    w.on('error', (e) => lost(String(e?.message ?? e)));
    w.on('exit', (code) => lost(`exit code ${code}`));
    w.unref();
    this.worker = w;
    return w;
  }

  private call<T extends PreparedTx | CommittedTx>(stage: LedgerStage, req: Call): Promise<T> {
    if (this.closed) return Promise.reject(new LedgerError({ stage: 'connect', message: 'the ledger client is closed' }));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: PreparedTx | CommittedTx) => void, reject, stage });
      this.thread().postMessage({ ...req, id });
    });
  }

  endorse(identity: ActingIdentity, fn: string, args: string[], transient?: Record<string, string>): Promise<PreparedTx> {
    return this.call<PreparedTx>('endorse', { op: 'endorse', identity, fn, args, ...(transient ? { transient } : {}) });
  }

  submitPrepared(identity: ActingIdentity, bytes: Uint8Array): Promise<CommittedTx> {
    return this.call<CommittedTx>('submit', { op: 'submitPrepared', identity, bytes });
  }

  evaluate(id: ActingIdentity, fn: string, args: string[]): Promise<Uint8Array> {
    return this.local.evaluate(id, fn, args);
  }

  reachable(timeoutMs: number): Promise<boolean> {
    return this.local.reachable(timeoutMs);
  }

  chaincodeEvents(id: ActingIdentity, opts: EventStreamOptions): Promise<EventStream> {
    return this.local.chaincodeEvents(id, opts);
  }

  forget(key: string): void {
    this.local.forget(key);
    this.worker?.postMessage({ op: 'forget', key } satisfies LedgerThreadRequest);
  }

  close(): void {
    this.closed = true;
    this.local.close();
    const w = this.worker;
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new LedgerError({ stage: p.stage, message: 'the ledger client was closed' }));
    }
    void w?.terminate();
  }
}
