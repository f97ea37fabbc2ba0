/**
 * Transaction simulator: reads COMMITTED state from the ledger store and records what the
 * chaincode did, with Fabric's rules (F core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go,
 * query_executor.go; P§3.7):
 * - no read-your-writes: every read goes to the ledger, writes only go to the rwset;
 * - an absent key reads as empty bytes and is recorded with a nil version;
 * - one version per read key (last read wins);
 * - range iterators record RangeQueryInfo (raw reads or Merkle summary; end_key = last key handed
 *   out unless the iterator was exhausted);
 * - paginated queries and private-data range queries only in read-only txs, and forbid later writes.
 */
import { createHash } from 'node:crypto';
import { ledger as lpb } from '@hyperledger/fabric-protos';
import { Timestamp } from 'google-protobuf/google/protobuf/timestamp_pb';
import type { LedgerReader, Version, VersionedValue } from '../ledger';
import { HandlerError } from './errors';
import { RangeQueryResultsHelper } from './rangeQueryHelper';
import { RwSetBuilder, type BuiltRwset } from './rwsetBuilder';

const EMPTY = Buffer.alloc(0);
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

/** A result iterator handed to the chaincode through QueryResponse batches. */
export interface ResultIterator {
  /** Serialised result (KV or KeyModification bytes), or null when exhausted. */
  next(): Promise<Buffer | null>;
  close(): Promise<void>;
  /** Paginated iterators only: first key of the next page, '' when exhausted (P§3.5). */
  bookmarkAndClose?(): Promise<string>;
}

function versionString(v: Version | undefined): string {
  return v ? `{BlockNum: ${v.blockNum}, TxNum: ${v.txNum}}` : '<nil>';
}

function kvBytes(ns: string, key: string, value: Buffer): Buffer {
  const kv = new lpb.queryresult.KV();
  kv.setNamespace(ns);
  kv.setKey(key);
  kv.setValue(value);
  return Buffer.from(kv.serializeBinary());
}

/** Range iterator over committed public state that records its RangeQueryInfo. */
class RangeIterator implements ResultIterator {
  readonly helper = new RangeQueryResultsHelper();
  endKeyRecorded: string;
  exhausted = false;
  private returned = 0;
  private readonly inner: AsyncIterator<{ key: string; vv: VersionedValue }>;

  constructor(
    store: LedgerReader,
    readonly ns: string,
    readonly startKey: string,
    readonly endKey: string,
    private readonly pageSize: number, // 0 = not paginated
  ) {
    this.endKeyRecorded = ''; // Fabric records only the start key until a result is handed out
    this.inner = store.range(ns, startKey, endKey)[Symbol.asyncIterator]();
  }

  async next(): Promise<Buffer | null> {
    // A paginated scanner reports the end of the page as the end of the results (F stateleveldb kvScanner).
    const r = this.pageSize > 0 && this.returned >= this.pageSize ? { done: true as const, value: undefined } : await this.inner.next();
    if (r.done) {
      this.exhausted = true;
      this.endKeyRecorded = this.endKey;
      return null;
    }
    this.returned++;
    this.helper.add({ key: r.value.key, version: r.value.vv.version });
    this.endKeyRecorded = r.value.key;
    return kvBytes(this.ns, r.value.key, r.value.vv.value);
  }

  async bookmarkAndClose(): Promise<string> {
    const r = await this.inner.next();
    await this.close();
    return r.done ? '' : r.value.key;
  }

  async close(): Promise<void> {
    await this.inner.return?.();
  }
}

class PrivateRangeIterator implements ResultIterator {
  private readonly inner: AsyncIterator<{ key: string; vv: VersionedValue }>;
  constructor(
    store: LedgerReader,
    org: string,
    private readonly ns: string,
    coll: string,
    start: string,
    end: string,
  ) {
    this.inner = store.rangePrivate(org, ns, coll, start, end)[Symbol.asyncIterator]();
  }
  async next(): Promise<Buffer | null> {
    const r = await this.inner.next();
    return r.done ? null : kvBytes(this.ns, r.value.key, r.value.vv.value);
  }
  async close(): Promise<void> {
    await this.inner.return?.();
  }
}

class ArrayIterator implements ResultIterator {
  private i = 0;
  constructor(private readonly items: Buffer[]) {}
  async next(): Promise<Buffer | null> {
    return this.i < this.items.length ? this.items[this.i++]! : null;
  }
  async close(): Promise<void> {
    this.i = this.items.length;
  }
}

export class TxSimulator {
  private readonly builder = new RwSetBuilder();
  private readonly rangeIterators: RangeIterator[] = [];
  private writePerformed = false;
  private paginatedQueriesPerformed = false;
  private pvtdataQueriesPerformed = false;

  constructor(
    /** Committed state as of simulation start (a ledger snapshot, P§3.7). */
    private readonly store: LedgerReader,
    private readonly org: string,
    private readonly txId: string,
  ) {}

  async getState(ns: string, key: string): Promise<Buffer> {
    const vv = await this.store.getState(ns, key);
    this.builder.addRead(ns, key, vv?.version ?? null);
    return vv?.value ?? EMPTY;
  }

  async getStateMetadata(ns: string, key: string): Promise<Record<string, Buffer>> {
    const vv = await this.store.getState(ns, key);
    this.builder.addRead(ns, key, vv?.version ?? null);
    return vv?.metadata ?? {};
  }

  setState(ns: string, key: string, value: Buffer): void {
    this.checkWritePrecondition();
    this.builder.addWrite(ns, key, value);
  }

  setStateMetadata(ns: string, key: string, metadata: Record<string, Buffer>): void {
    this.checkWritePrecondition();
    this.builder.addMetadataWrite(ns, key, metadata);
  }

  /** Value of the simulating org's copy, checked against the channel-wide hash version (F GetPrivateData). */
  async getPrivateData(ns: string, coll: string, key: string): Promise<Buffer> {
    const priv = await this.store.getPrivate(this.org, ns, coll, key);
    const hashed = await this.store.getHashedState(ns, coll, sha256(key));
    if (!sameVersion(priv?.version, hashed?.version)) {
      throw new HandlerError(
        `private data matching public hash version is not available. Public hash version = ${versionString(hashed?.version)}, Private data version = ${versionString(priv?.version)}`,
      );
    }
    this.builder.addHashedRead(ns, coll, key, hashed?.version ?? null);
    return priv?.value ?? EMPTY;
  }

  async getPrivateDataHash(ns: string, coll: string, key: string): Promise<Buffer> {
    const hashed = await this.store.getHashedState(ns, coll, sha256(key));
    this.builder.addHashedRead(ns, coll, key, hashed?.version ?? null);
    return hashed?.valueHash ?? EMPTY;
  }

  /** The devnet keeps no metadata on private keys (no private SBE); reads as empty, recorded as a hashed read. */
  async getPrivateDataMetadata(ns: string, coll: string, key: string): Promise<Record<string, Buffer>> {
    await this.getPrivateDataHash(ns, coll, key);
    return {};
  }

  setPrivateData(ns: string, coll: string, key: string, value: Buffer): void {
    this.checkWritePrecondition();
    this.builder.addPrivateWrite(ns, coll, key, value);
  }

  purgePrivateData(ns: string, coll: string, key: string): void {
    this.checkWritePrecondition();
    this.builder.addPrivateWrite(ns, coll, key, EMPTY, true);
  }

  setPrivateDataMetadata(ns: string, coll: string, key: string, metadata: Record<string, Buffer>): void {
    this.checkWritePrecondition();
    this.builder.addPrivateMetadataWrite(ns, coll, key, metadata);
  }

  rangeIterator(ns: string, start: string, end: string): ResultIterator {
    const it = new RangeIterator(this.store, ns, start, end, 0);
    this.rangeIterators.push(it);
    return it;
  }

  paginatedRangeIterator(ns: string, start: string, end: string, pageSize: number): ResultIterator {
    if (this.writePerformed) throw new HandlerError(`txid [${this.txId}]: Paginated queries are supported only in a read-only transaction`);
    this.paginatedQueriesPerformed = true;
    const it = new RangeIterator(this.store, ns, start, end, pageSize);
    this.rangeIterators.push(it);
    return it;
  }

  privateRangeIterator(ns: string, coll: string, start: string, end: string): ResultIterator {
    if (this.writePerformed) throw new HandlerError(`txid [${this.txId}]: Queries on pvt data is supported only in a read-only transaction`);
    this.pvtdataQueriesPerformed = true;
    return new PrivateRangeIterator(this.store, this.org, ns, coll, start, end);
  }

  /** History is not part of the read set (F history query executor). */
  async historyIterator(ns: string, key: string): Promise<ResultIterator> {
    const mods = await this.store.getHistory(ns, key);
    return new ArrayIterator(
      mods.map((m) => {
        const km = new lpb.queryresult.KeyModification();
        km.setTxId(m.txId);
        km.setValue(m.value);
        const ts = new Timestamp();
        ts.setSeconds(m.timestampSeconds);
        ts.setNanos(m.timestampNanos);
        km.setTimestamp(ts);
        km.setIsDelete(m.isDelete);
        return Buffer.from(km.serializeBinary());
      }),
    );
  }

  /** Adds the RangeQueryInfo of every range iterator (in opening order) and serialises the rwset. */
  build(): BuiltRwset {
    for (const it of this.rangeIterators) {
      const done = it.helper.done();
      this.builder.addRangeQuery(it.ns, {
        startKey: it.startKey,
        endKey: it.endKeyRecorded,
        itrExhausted: it.exhausted,
        rawReads: done.rawReads,
        merkle: done.merkle,
      });
    }
    return this.builder.build();
  }

  private checkWritePrecondition(): void {
    if (this.pvtdataQueriesPerformed) throw new HandlerError(`txid [${this.txId}]: Transaction has already performed queries on pvt data. Writes are not allowed`);
    if (this.paginatedQueriesPerformed) throw new HandlerError(`txid [${this.txId}]: Transaction has already performed a paginated query. Writes are not allowed`);
    this.writePerformed = true;
  }
}

function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.blockNum === b.blockNum && a.txNum === b.txNum;
}
