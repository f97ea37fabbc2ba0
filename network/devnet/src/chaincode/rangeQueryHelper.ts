/**
 * Phantom-read evidence for a range query, as Fabric records it (F
 * core/ledger/kvledger/txmgmt/rwsetutil/query_results_helper.go): the KVReads of a range are kept
 * raw while there are at most `maxDegree` of them; beyond that they are folded into a Merkle
 * summary (leaves = SHA-256 of QueryReads{kv_reads} for each group of maxDegree+1 reads). Fabric
 * hard-codes hashing on with maxDegree 50 (query_executor.go). Exported so the committer's phantom
 * check re-runs exactly the same computation over committed state.
 */
import { createHash } from 'node:crypto';
import { ledger } from '@hyperledger/fabric-protos';
import type { Version } from '../ledger';

export const MAX_DEGREE_QUERY_READS_HASHING = 50;

export interface PlainRead {
  key: string;
  version: Version | null;
}

export interface MerkleSummary {
  maxDegree: number;
  maxLevel: number;
  maxLevelHashes: Buffer[];
}

const kv = ledger.rwset.kvrwset;
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

export function toKVRead(r: PlainRead): InstanceType<typeof kv.KVRead> {
  const read = new kv.KVRead();
  read.setKey(r.key);
  if (r.version) {
    const v = new kv.Version();
    v.setBlockNum(r.version.blockNum);
    v.setTxNum(r.version.txNum);
    read.setVersion(v);
  }
  return read;
}

class MerkleTree {
  private readonly tree = new Map<number, Buffer[]>();
  private maxLevel = 1;

  constructor(private readonly maxDegree: number) {}

  isEmpty(): boolean {
    return this.maxLevel === 1 && (this.tree.get(1)?.length ?? 0) === 0;
  }

  update(leaf: Buffer): void {
    this.level(1).push(leaf);
    for (let level = 1; ; level++) {
      const hashes = this.level(level);
      if (hashes.length <= this.maxDegree) return;
      this.tree.delete(level);
      this.level(level + 1).push(combine(hashes));
      if (level + 1 > this.maxLevel) this.maxLevel = level + 1;
    }
  }

  done(): MerkleSummary {
    let level = 1;
    while (level < this.maxLevel) {
      const hashes = this.tree.get(level) ?? [];
      if (hashes.length === 0) {
        level++;
        continue;
      }
      const h = hashes.length === 1 ? hashes[0]! : combine(hashes);
      this.tree.delete(level);
      level++;
      this.level(level).push(h);
    }
    const final = this.tree.get(this.maxLevel) ?? [];
    if (final.length > this.maxDegree) {
      this.tree.delete(this.maxLevel);
      this.maxLevel++;
      this.tree.set(this.maxLevel, [combine(final)]);
    }
    return { maxDegree: this.maxDegree, maxLevel: this.maxLevel, maxLevelHashes: [...(this.tree.get(this.maxLevel) ?? [])] };
  }

  private level(n: number): Buffer[] {
    let l = this.tree.get(n);
    if (!l) this.tree.set(n, (l = []));
    return l;
  }
}

function combine(hashes: Buffer[]): Buffer {
  return sha256(Buffer.concat(hashes));
}

export class RangeQueryResultsHelper {
  private pending: PlainRead[] = [];
  private readonly mt: MerkleTree | null;

  constructor(
    enableHashing = true,
    private readonly maxDegree = MAX_DEGREE_QUERY_READS_HASHING,
  ) {
    this.mt = enableHashing ? new MerkleTree(maxDegree) : null;
  }

  add(read: PlainRead): void {
    this.pending.push(read);
    if (this.mt && this.pending.length > this.maxDegree) this.flush();
  }

  /** Raw reads when the tree stayed empty (≤ maxDegree results), else the Merkle summary. */
  done(): { rawReads: PlainRead[]; merkle: null } | { rawReads: null; merkle: MerkleSummary } {
    if (!this.mt || this.mt.isEmpty()) return { rawReads: this.pending, merkle: null };
    if (this.pending.length > 0) this.flush();
    return { rawReads: null, merkle: this.mt.done() };
  }

  private flush(): void {
    const qr = new kv.QueryReads();
    qr.setKvReadsList(this.pending.map(toKVRead));
    this.pending = [];
    this.mt!.update(sha256(qr.serializeBinary()));
  }
}
