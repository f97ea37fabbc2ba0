/**
 * The devnet's persistent ledger: blocks, world state (public, hashed private, per-org private),
 * history, tx index and chaincode events in ONE LevelDB (classic-level).
 *
 * Every block is written with a single LevelDB WriteBatch, so a process killed at any instant
 * leaves either the whole block or none of it; 'block' is emitted only after that batch landed.
 * Commits are serialised: each block's writes are computed against the committed state plus the
 * earlier transactions of the same block (an in-memory overlay), exactly like Fabric applies the
 * valid transactions of a block in order.
 *
 * Additions to the LedgerStore contract in docs/devnet.md:
 * - `open(dir, { sync })`: `sync: true` fsyncs every block (survives power loss, slower);
 *   default false survives a process crash/SIGKILL, which is what the devnet needs.
 * - `getBlockEvents(blockNum)`: chaincode events of the VALID txs of a block, in tx order.
 * - `off('block', fn)`.
 * - `snapshot()`: a LedgerSnapshot (the read methods on one consistent LevelDB snapshot, released
 *   with `release()`). The simulator reads through one so a block committed mid-simulation is
 *   invisible to it — the effect of the state read lock Fabric's simulation holds (F lockbased txmgr).
 * - `LedgerReader`: the read-only interface shared by LedgerStore and LedgerSnapshot.
 */
import { EventEmitter } from 'node:events';
import { ClassicLevel } from 'classic-level';
import * as codec from './codec';
import { LedgerError } from './errors';
import * as K from './keys';
import type { CommitBatch, KeyModification, StoredEvent, TxStatus, Version, VersionedValue } from './types';

const VALID = 0;

type Db = ClassicLevel<Buffer, Buffer>;
type Snapshot = ReturnType<Db['snapshot']>;

/** Read access to committed state; implemented by LedgerStore (latest) and LedgerSnapshot (frozen). */
export interface LedgerReader {
  getState(ns: string, key: string): Promise<VersionedValue | undefined>;
  range(ns: string, start: string, end: string): AsyncIterable<{ key: string; vv: VersionedValue }>;
  getHashedState(ns: string, coll: string, keyHash: Buffer): Promise<{ valueHash: Buffer; version: Version } | undefined>;
  getPrivate(org: string, ns: string, coll: string, key: string): Promise<VersionedValue | undefined>;
  rangePrivate(org: string, ns: string, coll: string, start: string, end: string): AsyncIterable<{ key: string; vv: VersionedValue }>;
  getHistory(ns: string, key: string): Promise<KeyModification[]>;
}

export interface LedgerSnapshot extends LedgerReader {
  /** Frees the snapshot; close every iterator obtained from it first. */
  release(): Promise<void>;
}
type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface LedgerOpenOptions {
  /** fsync each block's batch (default false: atomic and crash-safe for the process, not for power loss). */
  sync?: boolean;
}

/** Entries a range scan reads in its first trip to LevelDB (a chaincode query's batch: handler.ts MAX_RESULT_LIMIT), then per trip. */
const SCAN_FIRST_BATCH = 100;
const SCAN_BATCH = 1000;

export class LedgerStore implements LedgerReader {
  private readonly emitter = new EventEmitter();
  private closed = false;
  /** Tail of the commit queue: commits run strictly one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * The chaincode events of the newest blocks, as committed. Every open ChaincodeEvents and deliver
   * stream reads each new block's events right after its commit (three gateways × their event
   * consumers: a dozen readers of the same block), and each read was a LevelDB iterator (libuv hops)
   * plus a JSON and base64 decode of every event. A committed block never changes, so the events
   * its commit wrote are the answer; older blocks (a consumer resuming from a checkpoint) are read
   * from LevelDB as before.
   */
  private readonly recentEvents = new Map<number, StoredEvent[]>();
  private static readonly RECENT_EVENT_BLOCKS = 64;

  private constructor(
    private readonly db: Db,
    private currentHeight: number,
    private readonly sync: boolean,
  ) {}

  static async open(dir: string, opts: LedgerOpenOptions = {}): Promise<LedgerStore> {
    const db: Db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const h = await db.get(K.HEIGHT_KEY);
    return new LedgerStore(db, h ? K.readU64(h, 0) : 0, opts.sync ?? false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let an in-flight commit finish so close never interrupts a batch.
    await this.queue.catch(() => undefined);
    await this.db.close();
  }

  /** Blocks committed = number of the next block. */
  height(): number {
    return this.currentHeight;
  }

  on(event: 'block', fn: (blockNum: number) => void): void {
    this.emitter.on(event, fn);
  }

  off(event: 'block', fn: (blockNum: number) => void): void {
    this.emitter.off(event, fn);
  }

  getState(ns: string, key: string): Promise<VersionedValue | undefined> {
    return this.readState(ns, key, undefined);
  }

  /** [start, end) in UTF-8 byte order; end '' = unbounded. */
  range(ns: string, start: string, end: string): AsyncIterable<{ key: string; vv: VersionedValue }> {
    return this.readRange(ns, start, end, undefined);
  }

  getHashedState(ns: string, coll: string, keyHash: Buffer): Promise<{ valueHash: Buffer; version: Version } | undefined> {
    return this.readHashed(ns, coll, keyHash, undefined);
  }

  getPrivate(org: string, ns: string, coll: string, key: string): Promise<VersionedValue | undefined> {
    return this.readPrivate(org, ns, coll, key, undefined);
  }

  rangePrivate(org: string, ns: string, coll: string, start: string, end: string): AsyncIterable<{ key: string; vv: VersionedValue }> {
    return this.readPrivateRange(org, ns, coll, start, end, undefined);
  }

  /** Newest first, valid transactions only. */
  getHistory(ns: string, key: string): Promise<KeyModification[]> {
    return this.readHistory(ns, key, undefined);
  }

  /** A consistent, frozen view of everything committed so far. */
  snapshot(): LedgerSnapshot {
    this.assertOpen();
    const snap = this.db.snapshot();
    return {
      getState: (ns, key) => this.readState(ns, key, snap),
      range: (ns, start, end) => this.readRange(ns, start, end, snap),
      getHashedState: (ns, coll, keyHash) => this.readHashed(ns, coll, keyHash, snap),
      getPrivate: (org, ns, coll, key) => this.readPrivate(org, ns, coll, key, snap),
      rangePrivate: (org, ns, coll, start, end) => this.readPrivateRange(org, ns, coll, start, end, snap),
      getHistory: (ns, key) => this.readHistory(ns, key, snap),
      release: () => (this.closed ? Promise.resolve() : snap.close()),
    };
  }

  private async readState(ns: string, key: string, snapshot: Snapshot | undefined): Promise<VersionedValue | undefined> {
    this.assertOpen();
    const buf = this.read(K.stateKey(ns, key), snapshot);
    return buf ? codec.decodeState(buf) : undefined;
  }

  private readRange(ns: string, start: string, end: string, snapshot: Snapshot | undefined): AsyncIterable<{ key: string; vv: VersionedValue }> {
    this.assertOpen();
    const prefix = K.statePrefix(ns);
    return this.scan(prefix, K.stateKey(ns, start), end === '' ? K.prefixEnd(prefix) : K.stateKey(ns, end), snapshot);
  }

  private async readHashed(ns: string, coll: string, keyHash: Buffer, snapshot: Snapshot | undefined): Promise<{ valueHash: Buffer; version: Version } | undefined> {
    this.assertOpen();
    const buf = this.read(K.hashedKey(ns, coll, keyHash), snapshot);
    return buf ? codec.decodeHashed(buf) : undefined;
  }

  private async readPrivate(org: string, ns: string, coll: string, key: string, snapshot: Snapshot | undefined): Promise<VersionedValue | undefined> {
    this.assertOpen();
    const buf = this.read(K.privateKey(org, ns, coll, key), snapshot);
    return buf ? codec.decodeState(buf) : undefined;
  }

  private readPrivateRange(
    org: string,
    ns: string,
    coll: string,
    start: string,
    end: string,
    snapshot: Snapshot | undefined,
  ): AsyncIterable<{ key: string; vv: VersionedValue }> {
    this.assertOpen();
    const prefix = K.privatePrefix(org, ns, coll);
    return this.scan(prefix, K.privateKey(org, ns, coll, start), end === '' ? K.prefixEnd(prefix) : K.privateKey(org, ns, coll, end), snapshot);
  }

  private async readHistory(ns: string, key: string, snapshot: Snapshot | undefined): Promise<KeyModification[]> {
    this.assertOpen();
    const prefix = K.historyPrefix(ns, key);
    const out: KeyModification[] = [];
    for await (const [, value] of this.db.iterator({ gte: prefix, lt: K.prefixEnd(prefix), reverse: true, snapshot })) {
      out.push(codec.decodeHistory(value));
    }
    return out;
  }

  /** Status of a txId; for a txId seen twice, the first (lowest block) occurrence (P§1.6). */
  async getTxStatus(txId: string): Promise<TxStatus | undefined> {
    this.assertOpen();
    const buf = this.read(K.txKey(txId), undefined);
    return buf ? codec.decodeTxStatus(buf) : undefined;
  }

  async getBlock(num: number): Promise<Buffer | undefined> {
    this.assertOpen();
    if (!Number.isInteger(num) || num < 0) return undefined;
    return this.read(K.blockKey(num), undefined);
  }

  async getBlockEvents(blockNum: number): Promise<StoredEvent[]> {
    this.assertOpen();
    const recent = this.recentEvents.get(blockNum);
    if (recent) return recent.map((e) => ({ ...e, payload: Buffer.from(e.payload) }));
    const prefix = K.eventPrefix(blockNum);
    const out: StoredEvent[] = [];
    for await (const [, value] of this.db.iterator({ gte: prefix, lt: K.prefixEnd(prefix) })) out.push(codec.decodeEvent(value));
    return out;
  }

  /** Atomically applies one block; resolves (and emits 'block') once the batch is written. */
  commit(batch: CommitBatch): Promise<void> {
    const run = this.queue.then(() => this.doCommit(batch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doCommit(batch: CommitBatch): Promise<void> {
    this.assertOpen();
    if (batch.blockNum !== this.currentHeight) {
      throw new LedgerError('out-of-order-block', `expected block ${this.currentHeight}, got ${batch.blockNum}`);
    }
    const ops: BatchOp[] = [];
    const put = (key: Buffer, value: Buffer): void => void ops.push({ type: 'put', key, value });
    const del = (key: Buffer): void => void ops.push({ type: 'del', key });
    // Values written by earlier txs of this block (hex LevelDB key -> record, null = deleted).
    const overlay = new Map<string, VersionedValue | null>();
    const lookup = async (key: Buffer): Promise<VersionedValue | undefined> => {
      const hit = overlay.get(key.toString('hex'));
      if (hit !== undefined) return hit ?? undefined;
      const buf = this.read(key, undefined);
      return buf ? codec.decodeState(buf) : undefined;
    };
    const setState = (key: Buffer, vv: VersionedValue | null): void => {
      overlay.set(key.toString('hex'), vv);
      if (vv) put(key, codec.encodeState(vv));
      else del(key);
    };

    const indexed = new Set<string>();
    const events: StoredEvent[] = [];
    for (const tx of batch.txs) {
      if (!indexed.has(tx.txId)) {
        indexed.add(tx.txId);
        if (this.read(K.txKey(tx.txId), undefined) === undefined) {
          put(K.txKey(tx.txId), codec.encodeTxStatus({ code: tx.code, blockNum: batch.blockNum, txIndex: tx.txIndex }));
        }
      }
      if (tx.code !== VALID) continue;
      const version: Version = { blockNum: batch.blockNum, txNum: tx.txIndex };

      const metaByKey = new Map<string, { ns: string; key: string; metadata: Record<string, Buffer> }>();
      for (const mw of tx.metadataWrites) metaByKey.set(`${mw.ns}\u0000${mw.key}`, mw);

      for (const w of tx.publicWrites) {
        const sk = K.stateKey(w.ns, w.key);
        const id = `${w.ns}\u0000${w.key}`;
        if (w.value === null) {
          setState(sk, null);
        } else {
          const mw = metaByKey.get(id);
          // A value write without a metadata write keeps the key's metadata (Fabric retains it).
          const metadata = mw ? mw.metadata : (await lookup(sk))?.metadata;
          setState(sk, withMetadata({ value: w.value, version }, metadata));
        }
        metaByKey.delete(id);
        put(
          K.historyKey(w.ns, w.key, batch.blockNum, tx.txIndex),
          codec.encodeHistory({
            txId: tx.txId,
            value: w.value ?? Buffer.alloc(0),
            timestampSeconds: tx.timestamp.seconds,
            timestampNanos: tx.timestamp.nanos,
            isDelete: w.value === null,
          }),
        );
      }
      // Metadata-only writes: bump the version, keep the value; ignored for absent keys (as Fabric).
      for (const mw of metaByKey.values()) {
        const sk = K.stateKey(mw.ns, mw.key);
        const existing = await lookup(sk);
        if (existing) setState(sk, withMetadata({ value: existing.value, version }, mw.metadata));
      }
      for (const hw of tx.hashedWrites) {
        const hk = K.hashedKey(hw.ns, hw.coll, hw.keyHash);
        if (hw.valueHash === null) del(hk);
        else put(hk, codec.encodeHashed(hw.valueHash, version));
      }
      for (const pw of tx.privateWrites) {
        const pk = K.privateKey(pw.org, pw.ns, pw.coll, pw.key);
        setState(pk, pw.value === null ? null : { value: pw.value, version });
      }
      if (tx.event) {
        const stored: StoredEvent = { ...tx.event, txIndex: tx.txIndex };
        put(K.eventKey(batch.blockNum, tx.txIndex), codec.encodeEvent(stored));
        events.push(stored);
      }
    }
    put(K.blockKey(batch.blockNum), batch.blockBytes);
    const h = Buffer.alloc(8);
    h.writeBigUInt64BE(BigInt(batch.blockNum + 1));
    put(K.HEIGHT_KEY, h);

    await this.db.batch(ops, { sync: this.sync });
    // In txIndex order, as the LevelDB scan returns them (eventKey sorts by block, then txIndex).
    events.sort((a, b) => a.txIndex - b.txIndex);
    this.recentEvents.set(batch.blockNum, events);
    this.recentEvents.delete(batch.blockNum - LedgerStore.RECENT_EVENT_BLOCKS);
    this.currentHeight = batch.blockNum + 1;
    this.emitter.emit('block', batch.blockNum);
  }

  private async *scan(prefix: Buffer, gte: Buffer, lt: Buffer, snapshot: Snapshot | undefined): AsyncGenerator<{ key: string; vv: VersionedValue }> {
    if (Buffer.compare(gte, lt) >= 0) return;
    // LevelDB iterators read from a snapshot (implicit if none given), so a concurrent commit never tears a scan.
    // Read in batches (nextv): classic-level's next() fetches ONE entry first and then 1000, two trips
    // to the libuv pool for the few entries a chaincode's partial-key list usually has; a first batch of
    // SCAN_FIRST_BATCH answers those in one trip (and ends the iterator, so no trip finds it empty).
    const it = this.db.iterator({ gte, lt, snapshot });
    try {
      for (let size = SCAN_FIRST_BATCH; ; size = SCAN_BATCH) {
        const entries = await it.nextv(size);
        if (entries.length === 0) return;
        for (const [k, v] of entries) yield { key: k.subarray(prefix.length).toString('utf8'), vv: codec.decodeState(v) };
      }
    } finally {
      await it.close();
    }
  }

  /**
   * Point read. Synchronous on purpose: LevelDB answers a point lookup from its memtable/block cache
   * in about a microsecond, while an async get hops to the libuv pool and back (~50 µs of main-thread
   * CPU each) — that hop was the devnet's largest CPU cost under load (several reads per transaction).
   */
  private read(key: Buffer, snapshot: Snapshot | undefined): Buffer | undefined {
    return snapshot ? this.db.getSync(key, { snapshot }) : this.db.getSync(key);
  }

  private assertOpen(): void {
    if (this.closed) throw new LedgerError('closed', 'ledger store is closed');
  }
}

function withMetadata(vv: VersionedValue, metadata: Record<string, Buffer> | undefined): VersionedValue {
  if (metadata && Object.keys(metadata).length > 0) vv.metadata = metadata;
  return vv;
}
