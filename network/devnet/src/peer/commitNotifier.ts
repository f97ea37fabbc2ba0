/**
 * Fan-out of "block committed" to the gateway's CommitStatus waiters (keyed by txid) and event
 * streams. One subscription point instead of one ledger listener per waiting call: with many
 * transactions in flight that would be hundreds of listeners and a status query per waiter per
 * block. The committer calls `committed` only after the ledger has the block durably.
 */
export interface TxStatusLookup<S> {
  (txId: string): Promise<S | undefined>;
}

export class CommitNotifier<S = unknown> {
  private readonly waiters = new Map<string, Set<(s: S) => void>>();
  private readonly blockListeners = new Set<(blockNum: number) => void>();

  constructor(private readonly lookup: TxStatusLookup<S>) {}

  /** Called by the committer after a block is durable. */
  committed(blockNum: number, txIds: string[]): void {
    for (const txId of new Set(txIds)) {
      const set = this.waiters.get(txId);
      if (!set) continue;
      // The ledger's answer, not this block's code: a resubmitted txid keeps its first status (P§1.6).
      this.lookup(txId).then(
        (status) => {
          if (status === undefined) return;
          this.waiters.delete(txId);
          for (const fn of set) fn(status);
        },
        () => undefined,
      );
    }
    for (const fn of [...this.blockListeners]) fn(blockNum);
  }

  /**
   * Resolves with the tx's status once committed (immediately if it already is). The returned
   * cancel() removes the waiter (call cancelled, shutdown).
   */
  waitForTx(txId: string): { promise: Promise<S>; cancel(): void } {
    let callback!: (s: S) => void;
    const promise = new Promise<S>((resolve, reject) => {
      callback = resolve;
      // Register first, then look: a commit in between is seen by one or the other.
      let set = this.waiters.get(txId);
      if (!set) this.waiters.set(txId, (set = new Set()));
      set.add(callback);
      this.lookup(txId).then((s) => {
        if (s !== undefined) {
          this.remove(txId, callback);
          resolve(s);
        }
      }, reject);
    });
    return { promise, cancel: () => this.remove(txId, callback) };
  }

  /** Subscribes to block commits; returns the unsubscribe function. */
  onBlock(fn: (blockNum: number) => void): () => void {
    this.blockListeners.add(fn);
    return () => this.blockListeners.delete(fn);
  }

  get waitingCount(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  private remove(txId: string, fn: (s: S) => void): void {
    const set = this.waiters.get(txId);
    if (!set) return;
    set.delete(fn);
    if (set.size === 0) this.waiters.delete(txId);
  }
}
