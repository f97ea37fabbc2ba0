/**
 * The committing peer: validates each transaction of an ordered block in block order (P§1.5, P§5),
 * writes the TRANSACTIONS_FILTER metadata and hands one CommitBatch to the ledger (one atomic
 * write). Waiters (CommitStatus, ChaincodeEvents) are woken by the ledger's 'block' event, which it
 * emits only after the batch is durable.
 */
import { common } from '@hyperledger/fabric-protos';
import type { ChaincodeConfig } from '@gridledger/protocol';
import { findCollection } from '../config/collections';
import type { CommitTx, LedgerStore, Version } from '../ledger';
import { setTransactionsFilter } from '../orderer/block';
import type { ChannelMsp, PolicyEvaluator } from './deps';
import { VALIDATION_PARAMETER } from './keyLevelPolicy';
import { BlockUpdates, CommittedVersions, validateReads } from './mvcc';
import type { NsRwset } from './rwset';
import type { TransientStore } from './transientStore';
import { checkTransaction, TxCheckResult } from './txValidator';
import { TxCode, txCodeName } from './validationCodes';

export interface CommitterOptions {
  channel: string;
  ledger: LedgerStore;
  msp: ChannelMsp;
  policies: PolicyEvaluator;
  chaincodes: ReadonlyMap<string, ChaincodeConfig>;
  /** utility orgs (name, mspId) — private data is kept by the members of each collection */
  orgs: Array<{ name: string; mspId: string }>;
  transient: TransientStore;
  onCommitted?: (info: { blockNum: number; codes: number[]; txIds: string[]; durationMs: number }) => void;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export function ledgerVersions(ledger: LedgerStore): CommittedVersions {
  return {
    version: async (ns, key) => (await ledger.getState(ns, key))?.version,
    hashedVersion: async (ns, coll, keyHash) => (await ledger.getHashedState(ns, coll, keyHash))?.version,
    range: (ns, start, end) => ({
      async *[Symbol.asyncIterator]() {
        for await (const kv of ledger.range(ns, start, end)) yield { key: kv.key, version: kv.vv.version };
      },
    }),
  };
}

export class Committer {
  private readonly versions: CommittedVersions;

  constructor(private readonly opts: CommitterOptions) {
    this.versions = ledgerVersions(opts.ledger);
  }

  /** Validates and commits one block; resolves when the ledger has it. */
  async commitBlock(block: common.Block): Promise<number[]> {
    const started = Date.now();
    const blockNum = block.getHeader()!.getNumber();
    const envelopes = block.getData()?.getDataList_asU8() ?? [];
    const ctx = {
      channel: this.opts.channel,
      msp: this.opts.msp,
      policies: this.opts.policies,
      chaincodes: this.opts.chaincodes,
      txIdCommitted: async (txId: string) => (await this.opts.ledger.getTxStatus(txId)) !== undefined,
      validationParameter: async (ns: string, key: string) => (await this.opts.ledger.getState(ns, key))?.metadata?.[VALIDATION_PARAMETER],
    };
    // Header/signature/policy checks are independent per tx (Fabric runs them in parallel).
    const checks: TxCheckResult[] = await Promise.all(envelopes.map((e) => checkTransaction(e, ctx)));

    const seen = new Set<string>();
    const updates = new BlockUpdates();
    /** keys whose key-level policy an earlier valid tx of this block changed */
    const policyChanged = new Set<string>();
    const txs: CommitTx[] = [];
    for (const [i, c] of checks.entries()) {
      let code = c.code;
      // Any later copy of a txid in the block is DUPLICATE_TXID, whatever the first copy's fate
      // (F txvalidator markTXIdDuplicates).
      if (c.txId) {
        if (seen.has(c.txId)) code = TxCode.DUPLICATE_TXID;
        seen.add(c.txId);
      }
      const version: Version = { blockNum, txNum: i };
      if (code === TxCode.VALID && c.rwset && writesChangedPolicyKey(c.rwset, policyChanged)) {
        // Fabric: the validation parameter of a written key was updated earlier in the block
        // (statebased ValidationParameterUpdatedError) — the endorsement can no longer be judged.
        code = TxCode.ENDORSEMENT_POLICY_FAILURE;
      }
      if (code === TxCode.VALID && c.rwset) {
        code = await validateReads(c.rwset, this.versions, updates);
        if (code === TxCode.VALID) {
          updates.apply(c.rwset, version);
          for (const ns of c.rwset) {
            for (const m of ns.metadataWrites) if (VALIDATION_PARAMETER in m.entries) policyChanged.add(`${ns.namespace}\u0000${m.key}`);
          }
        }
      }
      if (code !== TxCode.VALID) this.opts.log?.('transaction invalid', { blockNum, txIndex: i, txId: c.txId, code: txCodeName(code), reason: c.reason });
      txs.push(this.commitTx(c, code, i));
    }
    const codes = txs.map((t) => t.code);
    setTransactionsFilter(block, codes);
    await this.opts.ledger.commit({ blockNum, blockBytes: Buffer.from(block.serializeBinary()), txs });
    for (const c of checks) if (c.txId) this.opts.transient.delete(c.txId);
    this.opts.onCommitted?.({ blockNum, codes, txIds: txs.map((t) => t.txId).filter((id) => id !== ''), durationMs: Date.now() - started });
    return codes;
  }

  private commitTx(c: TxCheckResult, code: number, txIndex: number): CommitTx {
    const tx: CommitTx = {
      txId: c.txId, code, txIndex, timestamp: c.timestamp,
      publicWrites: [], metadataWrites: [], hashedWrites: [], privateWrites: [],
    };
    if (code !== TxCode.VALID || !c.rwset) return tx;
    for (const ns of c.rwset) this.collectWrites(ns, tx);
    tx.privateWrites = this.privateWrites(c.txId, c.rwset);
    if (c.event) tx.event = c.event;
    return tx;
  }

  private collectWrites(ns: NsRwset, tx: CommitTx): void {
    for (const w of ns.writes) tx.publicWrites.push({ ns: ns.namespace, key: w.key, value: w.isDelete ? null : w.value });
    for (const m of ns.metadataWrites) tx.metadataWrites.push({ ns: ns.namespace, key: m.key, metadata: m.entries });
    for (const c of ns.collections) {
      for (const w of c.hashedWrites) {
        tx.hashedWrites.push({ ns: ns.namespace, coll: c.name, keyHash: w.keyHash, valueHash: w.isDelete || w.isPurge ? null : w.valueHash });
      }
    }
  }

  /** Private values from the transient store, for the orgs that are members of each written collection. */
  private privateWrites(txId: string, rwset: NsRwset[]): CommitTx['privateWrites'] {
    const pvt = this.opts.transient.get(txId);
    if (!pvt) return [];
    const written = new Set<string>();
    for (const ns of rwset) for (const c of ns.collections) if (c.hashedWrites.length > 0) written.add(`${ns.namespace}\u0000${c.name}`);
    const out: CommitTx['privateWrites'] = [];
    for (const w of pvt) {
      if (!written.has(`${w.ns}\u0000${w.coll}`)) continue;
      const cc = this.opts.chaincodes.get(w.ns);
      const coll = cc && findCollection(cc.collections, w.coll);
      if (!coll) continue;
      const members = new Set(this.opts.policies.memberMsps(coll.policy));
      for (const org of this.opts.orgs) {
        if (members.has(org.mspId)) out.push({ org: org.name, ns: w.ns, coll: w.coll, key: w.key, value: w.value });
      }
    }
    return out;
  }
}

function writesChangedPolicyKey(rwset: NsRwset[], changed: Set<string>): boolean {
  if (changed.size === 0) return false;
  return rwset.some(
    (ns) => ns.writes.some((w) => changed.has(`${ns.namespace}\u0000${w.key}`)) || ns.metadataWrites.some((m) => changed.has(`${ns.namespace}\u0000${m.key}`)),
  );
}
