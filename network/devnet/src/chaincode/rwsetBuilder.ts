/**
 * Collects what one simulation read and wrote and serialises it as Fabric's rwset builder does
 * (F core/ledger/kvledger/txmgmt/rwsetutil/rwset_builder.go): namespaces, collections, reads,
 * writes and metadata writes sorted by key in byte order; range queries in the order they were
 * opened, de-duplicated on (start, end, exhausted). Sorting is what makes two orgs that simulate
 * the same proposal produce byte-identical ProposalResponsePayloads (P§8.5).
 */
import { createHash } from 'node:crypto';
import { ledger } from '@hyperledger/fabric-protos';
import { compareKeys, type Version } from '../ledger';
import { toKVRead, type MerkleSummary, type PlainRead } from './rangeQueryHelper';

const kv = ledger.rwset.kvrwset;
const rw = ledger.rwset;
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

export interface RangeQueryRecord {
  startKey: string;
  endKey: string;
  itrExhausted: boolean;
  rawReads: PlainRead[] | null;
  merkle: MerkleSummary | null;
}

export interface PrivateWrite {
  ns: string;
  coll: string;
  key: string;
  value: Buffer | null; // null = delete (or purge)
}

export interface BuiltRwset {
  /** ledger.rwset.TxReadWriteSet bytes (public rwset incl. hashed private rwsets). */
  rwsetBytes: Buffer;
  /** ledger.rwset.TxPvtReadWriteSet bytes, or undefined when nothing private was written. */
  pvtRwsetBytes: Buffer | undefined;
  /** Private writes in rwset order (namespace, collection, key sorted). */
  privateData: PrivateWrite[];
}

type Metadata = Record<string, Buffer>;

interface CollBuilder {
  hashedReads: Map<string, Version | null>;
  writes: Map<string, { value: Buffer | null; purge: boolean }>;
  metadataWrites: Map<string, Metadata>;
}

interface NsBuilder {
  reads: Map<string, Version | null>;
  writes: Map<string, Buffer | null>;
  metadataWrites: Map<string, Metadata>;
  rangeQueries: RangeQueryRecord[];
  colls: Map<string, CollBuilder>;
}

function sortedKeys<V>(m: Map<string, V>): string[] {
  return [...m.keys()].sort(compareKeys);
}

function version(v: Version): InstanceType<typeof kv.Version> {
  const pv = new kv.Version();
  pv.setBlockNum(v.blockNum);
  pv.setTxNum(v.txNum);
  return pv;
}

function entries(md: Metadata): InstanceType<typeof kv.KVMetadataEntry>[] {
  return Object.keys(md)
    .sort(compareKeys)
    .map((name) => {
      const e = new kv.KVMetadataEntry();
      e.setName(name);
      e.setValue(md[name]!);
      return e;
    });
}

export class RwSetBuilder {
  private readonly nss = new Map<string, NsBuilder>();

  addRead(ns: string, key: string, v: Version | null): void {
    this.ns(ns).reads.set(key, v);
  }

  /** Empty value means delete (F rwset_proto_util.go newKVWrite). */
  addWrite(ns: string, key: string, value: Buffer): void {
    this.ns(ns).writes.set(key, value.length === 0 ? null : value);
  }

  addMetadataWrite(ns: string, key: string, md: Metadata): void {
    this.ns(ns).metadataWrites.set(key, md);
  }

  addRangeQuery(ns: string, rq: RangeQueryRecord): void {
    const list = this.ns(ns).rangeQueries;
    if (!list.some((q) => q.startKey === rq.startKey && q.endKey === rq.endKey && q.itrExhausted === rq.itrExhausted)) list.push(rq);
  }

  addHashedRead(ns: string, coll: string, key: string, v: Version | null): void {
    this.coll(ns, coll).hashedReads.set(key, v);
  }

  addPrivateWrite(ns: string, coll: string, key: string, value: Buffer, purge = false): void {
    this.coll(ns, coll).writes.set(key, { value: value.length === 0 ? null : value, purge });
  }

  addPrivateMetadataWrite(ns: string, coll: string, key: string, md: Metadata): void {
    this.coll(ns, coll).metadataWrites.set(key, md);
  }

  build(): BuiltRwset {
    const tx = new rw.TxReadWriteSet();
    tx.setDataModel(rw.TxReadWriteSet.DataModel.KV);
    const pvt = new rw.TxPvtReadWriteSet();
    pvt.setDataModel(rw.TxReadWriteSet.DataModel.KV);
    const privateData: PrivateWrite[] = [];

    for (const nsName of sortedKeys(this.nss)) {
      const b = this.nss.get(nsName)!;
      const kvrw = new kv.KVRWSet();
      for (const key of sortedKeys(b.reads)) kvrw.addReads(toKVRead({ key, version: b.reads.get(key)! }));
      for (const q of b.rangeQueries) kvrw.addRangeQueriesInfo(rangeQueryInfo(q));
      for (const key of sortedKeys(b.writes)) {
        const value = b.writes.get(key)!;
        const w = new kv.KVWrite();
        w.setKey(key);
        w.setIsDelete(value === null);
        if (value) w.setValue(value);
        kvrw.addWrites(w);
      }
      for (const key of sortedKeys(b.metadataWrites)) {
        const mw = new kv.KVMetadataWrite();
        mw.setKey(key);
        mw.setEntriesList(entries(b.metadataWrites.get(key)!));
        kvrw.addMetadataWrites(mw);
      }
      const nsrw = new rw.NsReadWriteSet();
      nsrw.setNamespace(nsName);
      nsrw.setRwset(kvrw.serializeBinary());

      const nsPvt = new rw.NsPvtReadWriteSet();
      nsPvt.setNamespace(nsName);
      for (const collName of sortedKeys(b.colls)) {
        const c = b.colls.get(collName)!;
        const hashed = new kv.HashedRWSet();
        for (const key of sortedKeys(c.hashedReads)) {
          const r = new kv.KVReadHash();
          r.setKeyHash(sha256(key));
          const v = c.hashedReads.get(key)!;
          if (v) r.setVersion(version(v));
          hashed.addHashedReads(r);
        }
        const pvtKv = new kv.KVRWSet();
        for (const key of sortedKeys(c.writes)) {
          const { value, purge } = c.writes.get(key)!;
          const h = new kv.KVWriteHash();
          h.setKeyHash(sha256(key));
          h.setIsDelete(value === null);
          if (value) h.setValueHash(sha256(value));
          h.setIsPurge(purge);
          hashed.addHashedWrites(h);
          const w = new kv.KVWrite();
          w.setKey(key);
          w.setIsDelete(value === null);
          if (value) w.setValue(value);
          pvtKv.addWrites(w);
          privateData.push({ ns: nsName, coll: collName, key, value });
        }
        for (const key of sortedKeys(c.metadataWrites)) {
          const md = c.metadataWrites.get(key)!;
          const h = new kv.KVMetadataWriteHash();
          h.setKeyHash(sha256(key));
          h.setEntriesList(entries(md));
          hashed.addMetadataWrites(h);
          const mw = new kv.KVMetadataWrite();
          mw.setKey(key);
          mw.setEntriesList(entries(md));
          pvtKv.addMetadataWrites(mw);
        }
        const collRw = new rw.CollectionHashedReadWriteSet();
        collRw.setCollectionName(collName);
        collRw.setHashedRwset(hashed.serializeBinary());
        // Only collections with private writes have a private rwset (and thus a pvt_rwset_hash).
        if (c.writes.size > 0 || c.metadataWrites.size > 0) {
          const pvtBytes = pvtKv.serializeBinary();
          collRw.setPvtRwsetHash(sha256(pvtBytes));
          const cp = new rw.CollectionPvtReadWriteSet();
          cp.setCollectionName(collName);
          cp.setRwset(pvtBytes);
          nsPvt.addCollectionPvtRwset(cp);
        }
        nsrw.addCollectionHashedRwset(collRw);
      }
      if (nsPvt.getCollectionPvtRwsetList().length > 0) pvt.addNsPvtRwset(nsPvt);
      tx.addNsRwset(nsrw);
    }
    return {
      rwsetBytes: Buffer.from(tx.serializeBinary()),
      pvtRwsetBytes: pvt.getNsPvtRwsetList().length > 0 ? Buffer.from(pvt.serializeBinary()) : undefined,
      privateData,
    };
  }

  private ns(name: string): NsBuilder {
    let b = this.nss.get(name);
    if (!b) {
      b = { reads: new Map(), writes: new Map(), metadataWrites: new Map(), rangeQueries: [], colls: new Map() };
      this.nss.set(name, b);
    }
    return b;
  }

  private coll(ns: string, name: string): CollBuilder {
    const n = this.ns(ns);
    let c = n.colls.get(name);
    if (!c) {
      c = { hashedReads: new Map(), writes: new Map(), metadataWrites: new Map() };
      n.colls.set(name, c);
    }
    return c;
  }
}

function rangeQueryInfo(q: RangeQueryRecord): InstanceType<typeof kv.RangeQueryInfo> {
  const info = new kv.RangeQueryInfo();
  info.setStartKey(q.startKey);
  info.setEndKey(q.endKey);
  info.setItrExhausted(q.itrExhausted);
  if (q.merkle) {
    const s = new kv.QueryReadsMerkleSummary();
    s.setMaxDegree(q.merkle.maxDegree);
    s.setMaxLevel(q.merkle.maxLevel);
    s.setMaxLevelHashesList(q.merkle.maxLevelHashes);
    info.setReadsMerkleHashes(s);
  } else if (q.rawReads && q.rawReads.length > 0) {
    // Fabric leaves the oneof unset for an empty result (its helper returns a nil slice).
    const raw = new kv.QueryReads();
    raw.setKvReadsList(q.rawReads.map(toKVRead));
    info.setRawReads(raw);
  }
  return info;
}
