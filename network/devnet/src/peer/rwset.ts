/**
 * Decoding of ledger.rwset.TxReadWriteSet (P§2.3) into plain values, so MVCC/phantom checks and the
 * write application work on typed data instead of jspb objects.
 */
import { ledger } from '@hyperledger/fabric-protos';

export interface Version { blockNum: number; txNum: number }

export interface RangeRead {
  startKey: string;
  endKey: string;
  itrExhausted: boolean;
  /** null when the simulator recorded a Merkle summary instead of raw reads */
  rawReads: Array<{ key: string; version: Version | null }> | null;
  merkle: { maxDegree: number; maxLevel: number; maxLevelHashes: Buffer[] } | null;
}

export interface CollectionRwset {
  name: string;
  hashedReads: Array<{ keyHash: Buffer; version: Version | null }>;
  hashedWrites: Array<{ keyHash: Buffer; isDelete: boolean; valueHash: Buffer; isPurge: boolean }>;
  metadataWrites: number;
  pvtRwsetHash: Buffer;
}

export interface NsRwset {
  namespace: string;
  reads: Array<{ key: string; version: Version | null }>;
  ranges: RangeRead[];
  writes: Array<{ key: string; isDelete: boolean; value: Buffer }>;
  metadataWrites: Array<{ key: string; entries: Record<string, Buffer> }>;
  collections: CollectionRwset[];
}

export class RwsetFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RwsetFormatError';
  }
}

const b = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const ver = (v: ledger.rwset.kvrwset.Version | undefined): Version | null =>
  v ? { blockNum: v.getBlockNum(), txNum: v.getTxNum() } : null;

function merkleOf(m: ledger.rwset.kvrwset.QueryReadsMerkleSummary | undefined): RangeRead['merkle'] {
  if (!m) return null;
  return { maxDegree: m.getMaxDegree(), maxLevel: m.getMaxLevel(), maxLevelHashes: m.getMaxLevelHashesList_asU8().map(b) };
}

export function decodeTxRwset(bytes: Uint8Array): NsRwset[] {
  let tx: ledger.rwset.TxReadWriteSet;
  try {
    tx = ledger.rwset.TxReadWriteSet.deserializeBinary(bytes);
  } catch (err) {
    throw new RwsetFormatError(`cannot unmarshal TxReadWriteSet: ${(err as Error).message}`);
  }
  return tx.getNsRwsetList().map((ns) => {
    let kv: ledger.rwset.kvrwset.KVRWSet;
    try {
      kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
    } catch (err) {
      throw new RwsetFormatError(`cannot unmarshal KVRWSet of ${ns.getNamespace()}: ${(err as Error).message}`);
    }
    const collections = ns.getCollectionHashedRwsetList().map((c) => {
      let h: ledger.rwset.kvrwset.HashedRWSet;
      try {
        h = ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(c.getHashedRwset_asU8());
      } catch (err) {
        throw new RwsetFormatError(`cannot unmarshal HashedRWSet of ${c.getCollectionName()}: ${(err as Error).message}`);
      }
      return {
        name: c.getCollectionName(),
        hashedReads: h.getHashedReadsList().map((r) => ({ keyHash: b(r.getKeyHash_asU8()), version: ver(r.getVersion()) })),
        hashedWrites: h.getHashedWritesList().map((w) => ({
          keyHash: b(w.getKeyHash_asU8()), isDelete: w.getIsDelete(), valueHash: b(w.getValueHash_asU8()), isPurge: w.getIsPurge(),
        })),
        metadataWrites: h.getMetadataWritesList().length,
        pvtRwsetHash: b(c.getPvtRwsetHash_asU8()),
      };
    });
    return {
      namespace: ns.getNamespace(),
      reads: kv.getReadsList().map((r) => ({ key: r.getKey(), version: ver(r.getVersion()) })),
      ranges: kv.getRangeQueriesInfoList().map((q) => ({
        startKey: q.getStartKey(),
        endKey: q.getEndKey(),
        itrExhausted: q.getItrExhausted(),
        rawReads: q.hasReadsMerkleHashes() ? null : (q.getRawReads()?.getKvReadsList() ?? []).map((r) => ({ key: r.getKey(), version: ver(r.getVersion()) })),
        merkle: merkleOf(q.getReadsMerkleHashes()),
      })),
      writes: kv.getWritesList().map((w) => ({ key: w.getKey(), isDelete: w.getIsDelete(), value: b(w.getValue_asU8()) })),
      metadataWrites: kv.getMetadataWritesList().map((m) => {
        const entries: Record<string, Buffer> = {};
        for (const e of m.getEntriesList()) entries[e.getName()] = b(e.getValue_asU8());
        return { key: m.getKey(), entries };
      }),
      collections,
    };
  });
}

/** A namespace counts as written (and so is policy-checked) if it has any public, metadata or hashed writes. */
export function writesNamespace(ns: NsRwset): boolean {
  return ns.writes.length > 0 || ns.metadataWrites.length > 0 || ns.collections.some((c) => c.hashedWrites.length > 0 || c.metadataWrites > 0);
}
