/**
 * Types of the devnet ledger store (docs/devnet.md "Transaction side contracts").
 *
 * Additions to the docs/devnet.md contract (documented for the committer / gateway engineers):
 * - `CommitBatch.txs[].event` is stored and can be read back per block with
 *   `LedgerStore.getBlockEvents(blockNum)` (for the gateway's ChaincodeEvents service).
 */
export interface Version {
  blockNum: number;
  txNum: number;
}

export interface VersionedValue {
  value: Buffer;
  version: Version;
  metadata?: Record<string, Buffer>;
}

export interface KeyModification {
  txId: string;
  value: Buffer;
  timestampSeconds: number;
  timestampNanos: number;
  isDelete: boolean;
}

export interface TxStatus {
  code: number; // peer.TxValidationCode
  blockNum: number;
  txIndex: number;
}

export interface ChaincodeEventRecord {
  chaincodeId: string;
  txId: string;
  eventName: string;
  payload: Buffer;
}

export interface CommitTx {
  txId: string;
  code: number;
  txIndex: number;
  timestamp: { seconds: number; nanos: number };
  // Applied only when code === VALID (0):
  publicWrites: Array<{ ns: string; key: string; value: Buffer | null /* null = delete */ }>;
  metadataWrites: Array<{ ns: string; key: string; metadata: Record<string, Buffer> }>;
  hashedWrites: Array<{ ns: string; coll: string; keyHash: Buffer; valueHash: Buffer | null }>;
  /** Private values for the member orgs only (the committer decides membership). */
  privateWrites: Array<{ org: string; ns: string; coll: string; key: string; value: Buffer | null }>;
  event?: ChaincodeEventRecord;
}

/** A block as the committer hands it over: the orderer's block plus validation results and what to apply. */
export interface CommitBatch {
  blockNum: number;
  blockBytes: Buffer; // common.Block bytes incl. TRANSACTIONS_FILTER metadata
  txs: CommitTx[];
}

/** Event of a VALID transaction, as stored per block (see getBlockEvents). */
export interface StoredEvent extends ChaincodeEventRecord {
  txIndex: number;
}
