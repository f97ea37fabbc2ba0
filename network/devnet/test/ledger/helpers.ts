import type { CommitBatch, CommitTx } from '../../src/ledger';

export function tx(txId: string, txIndex: number, part: Partial<CommitTx> = {}): CommitTx {
  return {
    txId,
    txIndex,
    code: 0,
    timestamp: { seconds: 1_700_000_000 + txIndex, nanos: 5 },
    publicWrites: [],
    metadataWrites: [],
    hashedWrites: [],
    privateWrites: [],
    ...part,
  };
}

export function block(blockNum: number, txs: CommitTx[]): CommitBatch {
  return { blockNum, blockBytes: Buffer.from(`block-${blockNum}`), txs };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
