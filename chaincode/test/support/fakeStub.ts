/**
 * An in-memory ChaincodeStub with the Fabric semantics the chaincode relies on
 * (devnet-protocol.md §3.5–3.7):
 * - reads come from COMMITTED state only (no read-your-writes); writes are buffered until the
 *   fixture commits them; putState with an empty value is a delete;
 * - composite keys exactly as fabric-shim builds them, partial-key and range queries in UTF-8
 *   byte order (Buffer.compare, not JS string order), an empty range start maps to "\x01" so plain
 *   ranges never return composite keys, pagination with Fabric's bookmark (= next key);
 * - history per key, private data with SHA-256 hashes, transient map, one event per tx (last wins).
 * It also records every key read (a query's keys as its iterator hands them out), so tests can count
 * what a transaction touched.
 */
import { createHash } from 'crypto';
import type { ChaincodeStub, Iterators, StateQueryResponse, Timestamp } from 'fabric-shim-api';
import { nth } from './lists';

const MIN = '\u0000';
const MAX = '\u{10FFFF}';
const EMPTY = new Uint8Array(0);

export interface HistoryEntry {
  txId: string;
  /** Unix seconds. */
  timestamp: number;
  isDelete: boolean;
  value: Uint8Array;
}

/** Committed world state shared by successive transactions. */
export class WorldState {
  readonly state = new Map<string, Uint8Array>();
  readonly history = new Map<string, HistoryEntry[]>();
  readonly privateData = new Map<string, Map<string, Uint8Array>>();

  clone(): WorldState {
    const w = new WorldState();
    for (const [k, v] of this.state) w.state.set(k, Uint8Array.from(v));
    for (const [k, v] of this.history) w.history.set(k, v.map((e) => ({ ...e, value: Uint8Array.from(e.value) })));
    for (const [c, m] of this.privateData) w.privateData.set(c, new Map([...m].map(([k, v]) => [k, Uint8Array.from(v)])));
    return w;
  }

  get(key: string): Uint8Array | undefined {
    return this.state.get(key);
  }
}

export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function validateCompositeKeyAttribute(attr: string): void {
  if (typeof attr !== 'string' || attr.includes(MIN) || attr.includes(MAX)) {
    throw new Error(`input contains invalid characters: ${JSON.stringify(attr)}`);
  }
}

type KV = Iterators.KV;

/** `onYield`: called for each item as `next()` hands it out (a read counts when the caller takes it, as Fabric records it). */
function iteratorOf<T>(items: T[], onYield?: (item: T) => void): Iterators.CommonIterator<T> & AsyncIterable<T> {
  let i = 0;
  let closed = false;
  const it = {
    async next(): Promise<Iterators.NextResult<T>> {
      if (closed) throw new Error('iterator closed');
      if (i < items.length) {
        const value = nth(items, i++);
        onYield?.(value);
        return { value, done: false };
      }
      return { value: undefined as unknown as T, done: true };
    },
    async close(): Promise<void> {
      closed = true;
    },
    [Symbol.asyncIterator](): AsyncIterator<T> {
      return {
        next: async () => {
          const r = await it.next();
          return r.done ? { value: undefined, done: true } : { value: r.value, done: false };
        },
      };
    },
  };
  return it;
}

/** The shim returns a promise that is also async-iterable; mimic that shape. */
function queryResult<T>(items: T[], onYield?: (item: T) => void): Promise<Iterators.CommonIterator<T>> & AsyncIterable<T> {
  const it = iteratorOf(items, onYield);
  const p = Promise.resolve(it) as unknown as Promise<Iterators.CommonIterator<T>> & AsyncIterable<T>;
  (p as unknown as { [Symbol.asyncIterator]: () => AsyncIterator<T> })[Symbol.asyncIterator] = () =>
    it[Symbol.asyncIterator]();
  return p;
}

export interface FakeStubOptions {
  txId: string;
  /** Unix seconds (the chaincode's one time unit). */
  timestamp: number;
  /** The Timestamp's sub-second part, which the chaincode ignores (default 0). */
  timestampNanos?: number;
  creatorMspId: string;
  creatorIdBytes?: Uint8Array;
  transient?: Map<string, Uint8Array>;
  channelId?: string;
  args?: string[];
}

export class FakeStub implements Partial<ChaincodeStub> {
  readonly writes = new Map<string, Uint8Array | null>();
  readonly privateWrites = new Map<string, Map<string, Uint8Array | null>>();
  /** Every public key read, in order (getState and each key handed out by a query). */
  readonly readKeys: string[] = [];
  /**
   * Every range read, [start, end) ('' = unbounded): Fabric re-runs them at validation and a key
   * written into one since the simulation invalidates the reader (code 12, phantom read).
   */
  readonly readRanges: Array<{ start: string; end: string }> = [];
  event?: { name: string; payload: Uint8Array };

  constructor(
    private readonly world: WorldState,
    private readonly opts: FakeStubOptions,
  ) {}

  getArgs(): string[] {
    return this.opts.args ?? [];
  }
  getStringArgs(): string[] {
    return this.opts.args ?? [];
  }
  getFunctionAndParameters(): { params: string[]; fcn: string } {
    const [fcn = '', ...params] = this.opts.args ?? [];
    return { fcn, params };
  }
  getTxID(): string {
    return this.opts.txId;
  }
  getChannelID(): string {
    return this.opts.channelId ?? 'gridledger';
  }
  getMspID(): string {
    // In a real peer this is the chaincode process's env, not the caller (devnet-protocol.md §8.16).
    return 'PeerLocalMSP';
  }
  getCreator(): { mspid: string; idBytes: Uint8Array } {
    return { mspid: this.opts.creatorMspId, idBytes: this.opts.creatorIdBytes ?? EMPTY };
  }
  getTransient(): Map<string, Uint8Array> {
    return this.opts.transient ?? new Map();
  }
  getTxTimestamp(): Timestamp {
    // `timestamp` is in Unix seconds; a real client also sets nanos, which the clock guard drops.
    const seconds = this.opts.timestamp;
    // fabric-shim hands out a protobuf Long; its string form is what the chaincode relies on.
    const long = { low: seconds, high: 0, unsigned: false, toString: () => String(seconds), toNumber: () => seconds };
    return { seconds: long as unknown as Timestamp['seconds'], nanos: this.opts.timestampNanos ?? 0 };
  }
  getDateTimestamp(): Date {
    return new Date(this.opts.timestamp * 1000);
  }

  async getState(key: string): Promise<Uint8Array> {
    if (!key) throw new Error('key must not be empty');
    this.readKeys.push(key);
    return this.world.state.get(key) ?? EMPTY;
  }
  async putState(key: string, value: Uint8Array): Promise<void> {
    if (!key) throw new Error('key must not be empty');
    this.writes.set(key, value && value.length ? Uint8Array.from(value) : null);
  }
  async deleteState(key: string): Promise<void> {
    if (!key) throw new Error('key must not be empty');
    this.writes.set(key, null);
  }

  private rangeKeys(startKey: string, endKey: string): string[] {
    this.readRanges.push({ start: startKey, end: endKey });
    return [...this.world.state.keys()]
      .filter((k) => byteCompare(k, startKey) >= 0 && (endKey === '' || byteCompare(k, endKey) < 0))
      .sort(byteCompare);
  }
  private toKVs(keys: string[]): KV[] {
    return keys.map((key) => ({ namespace: 'gridledger', key, value: this.world.state.get(key) as Uint8Array }));
  }
  /** Records a key as read when the iterator hands it out (a caller that stops early has not read the rest). */
  private readonly onRead = (kv: KV): void => {
    this.readKeys.push(kv.key);
  };

  getStateByRange(startKey: string, endKey: string): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
    return queryResult(this.toKVs(this.rangeKeys(startKey === '' ? '\u0001' : startKey, endKey)), this.onRead);
  }

  getStateByRangeWithPagination(
    startKey: string,
    endKey: string,
    pageSize: number,
    bookmark = '',
  ): Promise<StateQueryResponse<Iterators.StateQueryIterator>> & AsyncIterable<KV> {
    const start = bookmark !== '' ? bookmark : startKey === '' ? '\u0001' : startKey;
    const all = this.rangeKeys(start, endKey);
    const page = all.slice(0, pageSize);
    const next = all[pageSize] ?? '';
    const it = iteratorOf(this.toKVs(page), this.onRead);
    const p = Promise.resolve({ iterator: it, metadata: { fetchedRecordsCount: page.length, bookmark: next } });
    return Object.assign(p, { [Symbol.asyncIterator]: () => it[Symbol.asyncIterator]() });
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
    const start = this.createCompositeKey(objectType, attributes);
    return queryResult(this.toKVs(this.rangeKeys(start, start + MAX)), this.onRead);
  }

  getStateByPartialCompositeKeyWithPagination(
    objectType: string,
    attributes: string[],
    pageSize: number,
    bookmark = '',
  ): Promise<StateQueryResponse<Iterators.StateQueryIterator>> & AsyncIterable<KV> {
    const start = this.createCompositeKey(objectType, attributes);
    return this.getStateByRangeWithPagination(start, start + MAX, pageSize, bookmark);
  }

  getHistoryForKey(key: string): Promise<Iterators.HistoryQueryIterator> & AsyncIterable<Iterators.KeyModification> {
    const entries = (this.world.history.get(key) ?? [])
      .slice()
      .reverse() // Fabric returns newest first
      .map((e) => ({
        isDelete: e.isDelete,
        value: e.value,
        txId: e.txId,
        timestamp: {
          seconds: { toString: () => String(e.timestamp) } as unknown as Timestamp['seconds'],
          nanos: 0,
        },
      }));
    return queryResult(entries);
  }

  setEvent(name: string, payload: Uint8Array): void {
    if (!name) throw new Error('Event name must be a non-empty string');
    this.event = { name, payload: Uint8Array.from(payload) };
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    validateCompositeKeyAttribute(objectType);
    attributes.forEach(validateCompositeKeyAttribute);
    return MIN + objectType + MIN + attributes.map((a) => a + MIN).join('');
  }

  splitCompositeKey(compositeKey: string): { objectType: string; attributes: string[] } {
    if (!compositeKey || compositeKey[0] !== MIN) return { objectType: null as unknown as string, attributes: [] };
    const parts = compositeKey.slice(1).split(MIN);
    const [objectType = '', ...rest] = parts;
    return { objectType, attributes: rest.slice(0, -1) };
  }

  async getPrivateData(collection: string, key: string): Promise<Uint8Array> {
    return this.world.privateData.get(collection)?.get(key) ?? EMPTY;
  }
  async getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
    const v = this.world.privateData.get(collection)?.get(key);
    return v ? createHash('sha256').update(v).digest() : EMPTY;
  }
  async putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
    if (!collection) throw new Error('collection must be a valid string');
    let m = this.privateWrites.get(collection);
    if (!m) this.privateWrites.set(collection, (m = new Map()));
    m.set(key, value && value.length ? Uint8Array.from(value) : null);
  }
  async deletePrivateData(collection: string, key: string): Promise<void> {
    await this.putPrivateData(collection, key, EMPTY);
  }

  /** Applies this transaction's writes to the world (what a VALID commit does). */
  commitTo(world: WorldState): void {
    for (const key of [...this.writes.keys()].sort(byteCompare)) {
      const v = this.writes.get(key) ?? null;
      if (v === null) world.state.delete(key);
      else world.state.set(key, v);
      const h = world.history.get(key) ?? [];
      h.push({ txId: this.opts.txId, timestamp: this.opts.timestamp, isDelete: v === null, value: v ?? EMPTY });
      world.history.set(key, h);
    }
    for (const [c, m] of this.privateWrites) {
      let target = world.privateData.get(c);
      if (!target) world.privateData.set(c, (target = new Map()));
      for (const [k, v] of m) {
        if (v === null) target.delete(k);
        else target.set(k, v);
      }
    }
  }
}
