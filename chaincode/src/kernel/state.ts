/**
 * The transaction's ONE view of the world state, used by every contract, service and ledger
 * module (`ctx.state`, created per transaction by GridLedgerContext).
 *
 * Fabric has no read-your-writes: a `getState` after a `putState` in the same transaction returns
 * the committed value (fabric core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go keeps writes in
 * the write set only). A transaction that touches one object twice — a wallet debited for two
 * reasons, a participant penalised by governance and then rewarded by the market — would act on a
 * stale copy and its last write would silently undo the first. This view remembers this
 * transaction's writes and answers reads from them first; partial-key lists are overlaid with them.
 * Writes still go to the stub at once, so the write set is exactly what the stub would record and
 * a thrown error discards them with the simulation (no deferred flush, unlike GalaChain's StubCache).
 *
 * Private data (readings) is not overlaid: it is written and read through `ctx.stub` directly by
 * the one module that owns it, never twice in one transaction.
 */
import type { ChaincodeStub } from 'fabric-shim-api';
import type { SubCodeOf } from '@gridledger/protocol';
import { fail } from './errors';
import { decode, encode } from './codec';
import { compositeKey } from './keys';

export interface Entry<T> {
  key: string;
  attributes: string[];
  value: T;
}

export class StateView {
  /** This transaction's writes: decoded value, or null for a deletion. */
  private readonly written = new Map<string, unknown>();
  /**
   * Committed values this transaction already read (null = absent): the committed state cannot
   * change under a running simulation, so each key is fetched from the peer at most once (the read
   * set records a key's version once anyway).
   */
  private readonly readCache = new Map<string, unknown>();

  constructor(private readonly stub: ChaincodeStub) {}

  key(type: string, attrs: readonly string[]): string {
    return compositeKey(this.stub, type, attrs);
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (this.written.has(key)) {
      const v = this.written.get(key);
      return v === null ? undefined : (structuredClone(v) as T);
    }
    if (!this.readCache.has(key)) {
      const bytes = await this.stub.getState(key);
      this.readCache.set(key, bytes && bytes.length > 0 ? decode(bytes) : null);
    }
    const v = this.readCache.get(key);
    return v === null ? undefined : (structuredClone(v) as T);
  }

  /** `get`, or NOT_FOUND `<subCode>` saying "<what> does not exist". */
  async mustGet<T>(key: string, what: string, subCode: SubCodeOf<'NOT_FOUND'>): Promise<T> {
    const v = await this.get<T>(key);
    if (v === undefined) fail('NOT_FOUND', subCode, `${what} does not exist`);
    return v;
  }

  async put(key: string, value: unknown): Promise<void> {
    const bytes = encode(value);
    this.written.set(key, decode(bytes));
    await this.stub.putState(key, bytes);
  }

  async del(key: string): Promise<void> {
    this.written.set(key, null);
    await this.stub.deleteState(key);
  }

  /**
   * Every entry under a partial composite key: the committed ones overlaid with this transaction's
   * writes and deletions, in key order. Use only where the set is bounded by design.
   *
   * `limit`: only the first `limit` entries of that view (ask for one more to learn whether there
   * are more). The committed range is read only until `limit` entries that this transaction did not
   * delete were seen, and the iterator closed there: Fabric records such a range read as not
   * exhausted and, at validation, compares it only up to the last key the peer handed out (the shim
   * fetches in batches, so possibly a little beyond the last one used); a key written later beyond
   * it does not invalidate the reader. Allowed in update transactions (unlike the paginated queries,
   * kernel/paging.ts).
   */
  async list<T>(type: string, attrs: readonly string[], limit = Number.POSITIVE_INFINITY): Promise<Array<Entry<T>>> {
    const out = new Map<string, Entry<T>>();
    /** the last committed key read when the read stopped early (undefined: the range was read to its end) */
    let stoppedAt: string | undefined;
    let kept = 0;
    const it = await this.stub.getStateByPartialCompositeKey(type, [...attrs]);
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const { attributes } = this.stub.splitCompositeKey(r.value.key);
        const bytes = r.value.value;
        if (!bytes || bytes.length === 0) continue;
        out.set(r.value.key, { key: r.value.key, attributes, value: decode<T>(bytes) });
        if (this.written.get(r.value.key) !== null) kept += 1;
        if (kept >= limit) {
          stoppedAt = r.value.key;
          break;
        }
      }
    } finally {
      await it.close();
    }
    const prefix = this.stub.createCompositeKey(type, [...attrs]);
    const byKey = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    for (const [k, v] of this.written) {
      // beyond where the read stopped the committed keys are unknown: this transaction's writes there
      // sort after at least `limit` entries anyway
      if (!k.startsWith(prefix) || (stoppedAt !== undefined && byKey(k, stoppedAt) > 0)) continue;
      if (v === null) out.delete(k);
      else out.set(k, { key: k, attributes: this.stub.splitCompositeKey(k).attributes, value: structuredClone(v) as T });
    }
    const sorted = [...out.values()].sort((a, b) => byKey(a.key, b.key));
    return Number.isFinite(limit) ? sorted.slice(0, limit) : sorted;
  }
}
