/**
 * Block cutting as Fabric's solo/Raft orderer does it (F orderer/common/blockcutter):
 * a batch is cut when it reaches BatchSize.MaxMessageCount, or when BatchTimeout expires after
 * the first envelope of a batch arrived. Pure logic; the Orderer owns the timer.
 */
export class BlockCutter<T = Buffer> {
  private pending: T[] = [];

  constructor(private readonly maxMessageCount: number) {
    if (!Number.isInteger(maxMessageCount) || maxMessageCount < 1) throw new RangeError('maxMessageCount must be a positive integer');
  }

  /** Adds one envelope; returns the batches that are complete now (zero or one). */
  ordered(msg: T): T[][] {
    this.pending.push(msg);
    if (this.pending.length >= this.maxMessageCount) return [this.cut()];
    return [];
  }

  /** Cuts whatever is pending (timeout or shutdown); empty array if nothing is. */
  cut(): T[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  get pendingCount(): number {
    return this.pending.length;
  }
}
