import { status as Grpc } from '@grpc/grpc-js';
import { LedgerError } from '../../src/fabric/errors';
import type { ActingIdentity, CommittedTx, EventStream, EventStreamOptions, LedgerClient, LedgerEvent, PreparedTx } from '../../src/fabric/ledger';

interface Tx {
  txId: string;
  fn: string;
  args: string[];
  signer: string;
  transient?: Record<string, string>;
}

/**
 * An in-memory stand-in for Fabric with its at-most-once-per-tx-id semantics: a tx id commits once;
 * re-sending it returns the original status (devnet-protocol.md §8.12). Failures are scripted.
 */
export class FakeLedger implements LedgerClient {
  private seq = 0;
  readonly endorsed = new Map<string, Tx>();
  /** commit status per tx id: validation code and block */
  readonly status = new Map<string, { code: number; block: number; result: string }>();
  /** VALID transactions in commit order */
  readonly applied: Tx[] = [];
  /** scripted failures, consumed in order: for the n-th call of a stage */
  readonly script: Array<{ stage: 'endorse' | 'submit' | 'commitStatus' | 'conflict'; error?: LedgerError }> = [];
  /** if set, submitPrepared commits and then never answers (simulates the gateway dying mid-flight) */
  hangAfterCommit = false;
  /** if set, submitPrepared waits for it before doing anything (lets a test hold a delivery in flight) */
  gate: Promise<void> | undefined;
  endorseCalls = 0;
  submitCalls = 0;
  evaluateImpl: (id: ActingIdentity, fn: string, args: string[]) => Promise<Uint8Array> = async () => Buffer.from('{}');
  /** every evaluation the code under test made (`evaluate` calls, in order; not what an `evaluateImpl` composes from others) */
  readonly evaluated: Array<{ signer: string; fn: string; args: string[] }> = [];
  result: (tx: Tx) => unknown = (tx) => ({ fn: tx.fn, ok: true });

  private take(stage: string): { stage: string; error?: LedgerError } | undefined {
    const i = this.script.findIndex((s) => s.stage === stage);
    return i >= 0 ? this.script.splice(i, 1)[0] : undefined;
  }

  async evaluate(id: ActingIdentity, fn: string, args: string[]): Promise<Uint8Array> {
    this.evaluated.push({ signer: id.key, fn, args: [...args] });
    return this.evaluateImpl(id, fn, args);
  }

  async endorse(id: ActingIdentity, fn: string, args: string[], transient?: Record<string, string>): Promise<PreparedTx> {
    this.endorseCalls++;
    const s = this.take('endorse');
    if (s?.error) throw s.error;
    const txId = `tx${++this.seq}`;
    const tx: Tx = { txId, fn, args, signer: id.key, ...(transient ? { transient } : {}) };
    this.endorsed.set(txId, tx);
    return { txId, bytes: Buffer.from(txId), result: Buffer.from(JSON.stringify(this.result(tx))) };
  }

  async submitPrepared(_id: ActingIdentity, bytes: Uint8Array): Promise<CommittedTx> {
    this.submitCalls++;
    if (this.gate) await this.gate;
    const txId = Buffer.from(bytes).toString();
    const tx = this.endorsed.get(txId);
    if (!tx) throw new Error(`unknown transaction bytes ${txId}`);
    const sub = this.take('submit');
    if (sub?.error) throw sub.error;
    if (!this.status.has(txId)) {
      const conflict = this.take('conflict');
      const code = conflict ? 11 : 0;
      this.status.set(txId, { code, block: this.status.size + 1, result: JSON.stringify(this.result(tx)) });
      if (code === 0) this.applied.push(tx);
    }
    const cs = this.take('commitStatus');
    if (cs?.error) throw cs.error;
    if (this.hangAfterCommit) return new Promise<CommittedTx>(() => undefined);
    const st = this.status.get(txId)!;
    if (st.code !== 0) throw new LedgerError({ stage: 'commit', message: `Transaction ${txId} failed to commit with status code ${st.code}`, validationCode: st.code, txId });
    return { txId, blockNumber: st.block, result: Buffer.from(st.result) };
  }

  /** Forgets everything (tx ids restart at tx1) — lets a test start counting after its setup. */
  reset(): void {
    this.seq = 0;
    this.endorsed.clear();
    this.status.clear();
    this.applied.length = 0;
    this.endorseCalls = 0;
    this.submitCalls = 0;
  }

  async reachable(): Promise<boolean> {
    return true;
  }

  /** chaincode events in ledger order (tests append with `emitEvents`) */
  readonly chain: LedgerEvent[] = [];
  readonly streamOptions: EventStreamOptions[] = [];
  private listeners = new Set<() => void>();
  /** if set, the next chaincodeEvents call fails with it (consumed) */
  failNextStream: Error | undefined;

  /** Appends one `gridledger` event (a batch of named events) in a new block, or in `block` if given. */
  emitEvents(events: Array<{ name: string; payload: unknown }>, o: { block?: number; txId?: string } = {}): LedgerEvent {
    const block = o.block ?? (this.chain.at(-1)?.blockNumber ?? 0) + 1;
    const ev: LedgerEvent = { blockNumber: block, txId: o.txId ?? `evtx${this.chain.length + 1}`, eventName: 'gridledger', payload: Buffer.from(JSON.stringify({ events })) };
    this.chain.push(ev);
    for (const l of this.listeners) l();
    return ev;
  }

  async chaincodeEvents(_id: ActingIdentity, opts: EventStreamOptions): Promise<EventStream> {
    this.streamOptions.push(opts);
    if (this.failNextStream) {
      const e = this.failNextStream;
      this.failNextStream = undefined;
      throw e;
    }
    const start = opts.startBlock ?? (this.chain.at(-1)?.blockNumber ?? 0) + 1;
    let i = this.chain.findIndex((e) => e.blockNumber >= start);
    if (i < 0) i = this.chain.length;
    if (opts.afterTxId !== undefined) {
      const j = this.chain.findIndex((e, k) => k >= i && e.blockNumber === start && e.txId === opts.afterTxId);
      if (j >= 0) i = j + 1;
    }
    let closed = false;
    let wake: (() => void) | undefined;
    const listener = () => wake?.();
    this.listeners.add(listener);
    const chain = this.chain;
    const listeners = this.listeners;
    return {
      close: () => {
        closed = true;
        listeners.delete(listener);
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        while (!closed) {
          if (i < chain.length) {
            yield chain[i++]!;
            continue;
          }
          await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }
  forget(): void {}
  close(): void {}
}

export const unavailable = (stage: 'endorse' | 'submit' | 'commitStatus' = 'endorse') =>
  new LedgerError({ stage, message: '14 UNAVAILABLE: no connection', grpcCode: Grpc.UNAVAILABLE });

export const chaincodeError = (msg: string) =>
  new LedgerError({
    stage: 'endorse',
    message: '10 ABORTED: failed to endorse transaction, see attached details for more info',
    grpcCode: Grpc.ABORTED,
    details: [{ address: 'peer0:7051', mspId: 'Utility1MSP', message: `chaincode response 500, ${msg}` }],
  });

/** What Fabric's gateway answers when the endorsers' results differ (e.g. peers at different block heights). */
export const mismatch = () =>
  new LedgerError({
    stage: 'endorse',
    message: '10 ABORTED: failed to collect enough transaction endorsements, see attached details for more info',
    grpcCode: Grpc.ABORTED,
    details: [{ address: 'peer0.utility2:7051', mspId: 'Utility2MSP', message: 'ProposalResponsePayloads do not match' }],
  });

export const identity = (key = 'operator'): ActingIdentity => ({ key, mspId: 'Utility1MSP', certPem: 'CERT', privateKeyPem: 'KEY' });
