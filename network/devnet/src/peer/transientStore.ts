/**
 * Private data produced by endorsement simulations, held until the transaction's block commits
 * (Fabric's transient store + gossip distribution, P§3.6). All orgs live in one process, so
 * "distribution to member orgs" is the committer reading this store and writing each member
 * org's private state. In memory: a devnet restart between endorsement and commit loses the
 * private values of those in-flight transactions (their hashes still commit), as a Fabric peer
 * would without reconciliation.
 */
import type { PrivateWrite } from '../chaincode';

export type { PrivateWrite };

interface Entry {
  writes: PrivateWrite[];
  at: number;
}

export class TransientStore {
  private readonly byTx = new Map<string, Entry>();

  /** keeps entries of transactions never submitted for at most this long */
  constructor(private readonly maxAgeMs = 10 * 60 * 1000, private readonly now: () => number = Date.now) {}

  put(txId: string, writes: PrivateWrite[]): void {
    if (writes.length === 0) return;
    this.byTx.set(txId, { writes, at: this.now() });
    this.purge();
  }

  get(txId: string): PrivateWrite[] | undefined {
    return this.byTx.get(txId)?.writes;
  }

  delete(txId: string): void {
    this.byTx.delete(txId);
  }

  private purge(): void {
    const limit = this.now() - this.maxAgeMs;
    for (const [k, e] of this.byTx) if (e.at < limit) this.byTx.delete(k);
  }
}
