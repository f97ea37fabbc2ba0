/**
 * ChaincodeRuntime: the peer side of chaincode-as-a-service for one (org, chaincode) — its own
 * Connect stream (P§8.4), dialled lazily on first use and redialled when the stream has ended
 * (the chaincode server may restart) — plus the transaction simulation that turns one proposal
 * into a response, a deterministic rwset and an optional chaincode event.
 *
 * Additions to the contract in docs/devnet.md:
 * - constructor options: `isCollectionMember` (default: creator's MSP named in the collection
 *   policy, see collections.ts), `tls`, `dialTimeoutMs` (3 s), `executeTimeoutMs` (30 s),
 *   `totalQueryLimit` (100000, core.yaml), `expectedChaincodeId`, `logger`.
 * - SimulationResult.pvtRwsetBytes: ledger.rwset.TxPvtReadWriteSet bytes (undefined if no private writes).
 * - `execute` rejects with ChaincodeRuntimeError (kind: launch | stream-terminated | timeout |
 *   duplicate-txid | chaincode-error | closed); its message is Fabric's, starting at
 *   "failed to execute transaction <txid>: ..."; the endorser prefixes "error in simulation: ".
 * - INVOKE_CHAINCODE is answered with ERROR "chaincode-to-chaincode invocation is not supported by the devnet".
 * - Private metadata (PUT_STATE_METADATA with a collection) is recorded in the rwset, but the
 *   ledger keeps no metadata for private keys, so GET_STATE_METADATA on a collection reads {}.
 */
import { peer } from '@hyperledger/fabric-protos';
import type { CollectionConfig } from '@gridledger/protocol';
import type { LedgerStore } from '../ledger';
import { defaultMembership, type CreatorIdentity, type MembershipCheck } from './collections';
import { ChaincodeConnection, type ChaincodeTlsOptions } from './connection';
import { ChaincodeRuntimeError } from './errors';
import { TransactionContext, errorReply, handleRequest } from './handler';
import type { BuiltRwset, PrivateWrite } from './rwsetBuilder';
import { TxSimulator } from './simulator';

const T = peer.ChaincodeMessage.Type;

export interface ProposalContext<C extends CreatorIdentity = CreatorIdentity> {
  org: string; // simulating org (name) — whose private data copy is read
  mspId: string;
  channel: string;
  chaincode: string;
  txId: string;
  signedProposal: Buffer; // protos.SignedProposal bytes, sent in TRANSACTION (P§8.2)
  input: Buffer; // protos.ChaincodeInput bytes
  creator: C; // validated proposal creator (identity/msp Identity fits), for collection ACLs
  transient: Map<string, Buffer>;
  readOnly?: boolean;
}

export interface SimulationResult {
  response: { status: number; message: string; payload: Buffer };
  /** ledger.rwset.TxReadWriteSet bytes, sorted (P§2.3); deterministic across orgs. */
  rwsetBytes: Buffer;
  /** ledger.rwset.TxPvtReadWriteSet bytes when the tx wrote private data. */
  pvtRwsetBytes?: Buffer;
  /** protos.ChaincodeEvent bytes with chaincode_id and tx_id filled in by the peer (P§1.7). */
  eventBytes?: Buffer;
  privateData: PrivateWrite[];
  /**
   * Collections whose private values were read (not hashes): Fabric's privateReads, for the interest.
   * Always set by the runtime; absent only in hand-built results, where the endorser conservatively
   * treats hashed reads as private reads.
   */
  privateReads?: Array<{ ns: string; coll: string }>;
}

export interface RuntimeLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ChaincodeRuntimeOptions<C extends CreatorIdentity = CreatorIdentity> {
  name: string; // chaincode name (the namespace)
  address: string; // host:port of the ccaas server
  org: string;
  ledger: LedgerStore;
  collections: CollectionConfig[];
  isCollectionMember?: MembershipCheck<C>;
  tls?: ChaincodeTlsOptions;
  dialTimeoutMs?: number;
  executeTimeoutMs?: number;
  totalQueryLimit?: number;
  expectedChaincodeId?: string;
  logger?: RuntimeLogger;
}

interface Execution {
  ctx: TransactionContext;
  /** Stream the TRANSACTION went out on; only that stream may answer or end it. */
  conn: ChaincodeConnection | undefined;
  /** Requests of one tx are handled strictly in arrival order. */
  chain: Promise<void>;
  /** An evaluation: no read-write set is built (nobody reads it; Endorser.simulateAndEndorse). */
  readOnly: boolean;
  settle: (r: { ok: SimulationResult } | { err: ChaincodeRuntimeError }) => void;
}

export class ChaincodeRuntime<C extends CreatorIdentity = CreatorIdentity> {
  private conn: ChaincodeConnection | undefined;
  private dialing: Promise<ChaincodeConnection> | undefined;
  private readonly executions = new Map<string, Execution>();
  private closed = false;
  private readonly executeTimeoutMs: number;
  private readonly totalQueryLimit: number;

  constructor(private readonly opts: ChaincodeRuntimeOptions<C>) {
    this.executeTimeoutMs = opts.executeTimeoutMs ?? 30_000;
    this.totalQueryLimit = opts.totalQueryLimit ?? 100_000;
  }

  async execute(p: ProposalContext<C>): Promise<SimulationResult> {
    const fail = (kind: ChaincodeRuntimeError['kind'], cause: string): ChaincodeRuntimeError =>
      new ChaincodeRuntimeError(kind, `failed to execute transaction ${p.txId}: ${cause}`);
    if (this.closed) throw fail('closed', 'chaincode runtime is closed');
    const key = `${p.channel}\u0000${p.txId}`;
    if (this.executions.has(key)) throw fail('duplicate-txid', `txid: ${p.txId}(${p.channel}) exists`);

    // All reads of one simulation see one consistent committed state, as under Fabric's state read lock.
    const view = this.opts.ledger.snapshot();
    const sim = new TxSimulator(view, p.org, p.txId);
    const ctx = new TransactionContext(
      this.opts.name,
      p.channel,
      p.txId,
      sim,
      p.creator,
      this.opts.collections,
      (this.opts.isCollectionMember ?? defaultMembership) as MembershipCheck,
      this.totalQueryLimit,
    );
    let settle!: Execution['settle'];
    const outcome = new Promise<{ ok: SimulationResult } | { err: ChaincodeRuntimeError }>((resolve) => (settle = resolve));
    // Reserve the channel+txid before any await so a concurrent duplicate is refused.
    const ex: Execution = { ctx, conn: undefined, chain: Promise.resolve(), readOnly: p.readOnly === true, settle };
    this.executions.set(key, ex);
    let timer: NodeJS.Timeout | undefined;
    try {
      const conn = await this.connection(p.txId);
      ex.conn = conn;
      timer = setTimeout(() => settle({ err: fail('timeout', 'timeout expired while executing transaction') }), this.executeTimeoutMs);
      const msg = new peer.ChaincodeMessage();
      msg.setType(T.TRANSACTION);
      msg.setPayload(p.input);
      msg.setTxid(p.txId);
      msg.setChannelId(p.channel);
      msg.setProposal(peer.SignedProposal.deserializeBinary(p.signedProposal));
      conn.send(msg);
      const r = await outcome;
      if ('err' in r) throw r.err;
      return r.ok;
    } finally {
      clearTimeout(timer);
      this.executions.delete(key);
      await ctx.closeAll();
      await view.release();
    }
  }

  close(): void {
    this.closed = true;
    this.conn?.close();
    this.conn = undefined;
  }

  /** The live stream, dialling (once, shared by concurrent callers) if there is none. */
  private async connection(txId: string): Promise<ChaincodeConnection> {
    if (this.conn?.alive) return this.conn;
    if (!this.dialing) {
      this.dialing = ChaincodeConnection.open({
        address: this.opts.address,
        dialTimeoutMs: this.opts.dialTimeoutMs ?? 3_000,
        ...(this.opts.tls ? { tls: this.opts.tls } : {}),
        ...(this.opts.expectedChaincodeId ? { expectedChaincodeId: this.opts.expectedChaincodeId } : {}),
      }).finally(() => (this.dialing = undefined));
    }
    const id = this.opts.expectedChaincodeId ?? this.opts.name;
    let conn: ChaincodeConnection;
    try {
      conn = await this.dialing;
    } catch (err) {
      throw new ChaincodeRuntimeError(
        'launch',
        `failed to execute transaction ${txId}: could not launch chaincode ${id}: connection to ${id} failed: ${(err as Error).message}`,
      );
    }
    if (this.closed) {
      conn.close();
      throw new ChaincodeRuntimeError('closed', `failed to execute transaction ${txId}: chaincode runtime is closed`);
    }
    if (conn !== this.conn) {
      this.conn = conn;
      conn.onMessage((m) => this.onMessage(conn, m));
      conn.onEnd((reason) => this.onEnd(conn, reason));
      this.opts.logger?.debug({ chaincode: this.opts.name, org: this.opts.org, chaincodeId: conn.chaincodeId }, 'chaincode connected');
    }
    return conn;
  }

  private onEnd(conn: ChaincodeConnection, reason: string): void {
    if (this.conn === conn) this.conn = undefined;
    this.opts.logger?.warn({ chaincode: this.opts.name, org: this.opts.org, reason }, 'chaincode stream ended');
    for (const ex of this.executions.values()) {
      if (ex.conn !== conn) continue;
      ex.settle({ err: new ChaincodeRuntimeError('stream-terminated', `failed to execute transaction ${ex.ctx.txId}: chaincode stream terminated`) });
    }
  }

  private onMessage(conn: ChaincodeConnection, msg: peer.ChaincodeMessage): void {
    const type = msg.getType();
    if (type === T.KEEPALIVE) return; // ignored by the peer (P§3.4)
    const ex = this.executions.get(`${msg.getChannelId()}\u0000${msg.getTxid()}`);
    if (!ex || ex.conn !== conn) {
      // A late request of a timed-out tx: answer so the shim does not wait forever.
      if (type !== T.COMPLETED && type !== T.ERROR) conn.send(errorReply(msg, 'no ledger context'));
      return;
    }
    ex.chain = ex.chain.then(async () => {
      if (type === T.COMPLETED) ex.settle(this.completed(ex.ctx, msg, ex.readOnly));
      else if (type === T.ERROR) {
        const text = Buffer.from(msg.getPayload_asU8()).toString('utf8');
        ex.settle({ err: new ChaincodeRuntimeError('chaincode-error', `failed to execute transaction ${ex.ctx.txId}: transaction returned with failure: ${text}`) });
      } else conn.send(await handleRequest(ex.ctx, msg));
    });
  }

  private completed(ctx: TransactionContext, msg: peer.ChaincodeMessage, readOnly: boolean): { ok: SimulationResult } {
    const res = peer.Response.deserializeBinary(msg.getPayload_asU8());
    // An evaluation's rwset is never read (a successful one returns only the response; a failed one's
    // interest is not used by Evaluate), so it is not serialised: empty, as a simulation that read nothing.
    const built: BuiltRwset = readOnly ? { rwsetBytes: Buffer.alloc(0), pvtRwsetBytes: undefined, privateData: [] } : ctx.sim.build();
    const result: SimulationResult = {
      response: { status: res.getStatus(), message: res.getMessage(), payload: Buffer.from(res.getPayload_asU8()) },
      rwsetBytes: built.rwsetBytes,
      privateData: built.privateData,
      privateReads: [...ctx.privateReads].sort().map((coll) => ({ ns: this.opts.name, coll })),
    };
    if (built.pvtRwsetBytes) result.pvtRwsetBytes = built.pvtRwsetBytes;
    const ev = msg.getChaincodeEvent();
    if (ev) {
      // The shim leaves these empty; the peer fills them (F chaincode_support.go processChaincodeExecutionResult).
      ev.setChaincodeId(this.opts.name);
      ev.setTxId(ctx.txId);
      result.eventBytes = Buffer.from(ev.serializeBinary());
    }
    return { ok: result };
  }
}
