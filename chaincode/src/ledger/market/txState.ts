/**
 * A per-transaction view of the world state for the market modules. Fabric has no read-your-writes
 * (a getState after putState returns the committed value), and one market transaction often touches
 * the same object twice (e.g. a packet released and re-read, a wallet debited for two reasons). This
 * view keeps this transaction's writes in memory and answers reads from them first, so domain code
 * never acts on a stale value. Writes go to the stub immediately, so the rwset is the same as without it.
 */
import type { Context } from 'fabric-contract-api';
import { decode, encode } from '../../kernel/codec';
import { compositeKey } from '../keys';

export class MarketTx {
  private readonly written = new Map<string, unknown | null>();
  private seq = 0;

  constructor(readonly ctx: Context, readonly nowMs: number) {}

  get nowS(): number {
    return Math.floor(this.nowMs / 1000);
  }

  get txId(): string {
    return this.ctx.stub.getTxID();
  }

  /** A unique, deterministic suffix for keys this transaction creates (txId + counter). */
  nextLocalId(): string {
    this.seq += 1;
    return `${this.txId}.${String(this.seq).padStart(4, '0')}`;
  }

  key(type: string, attrs: readonly string[]): string {
    return compositeKey(this.ctx, type, attrs);
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (this.written.has(key)) {
      const v = this.written.get(key);
      return v === null ? undefined : (structuredClone(v) as T);
    }
    const bytes = await this.ctx.stub.getState(key);
    if (!bytes || bytes.length === 0) return undefined;
    return decode<T>(bytes);
  }

  async put(key: string, value: unknown): Promise<void> {
    const bytes = encode(value);
    this.written.set(key, decode(bytes));
    await this.ctx.stub.putState(key, bytes);
  }

  async del(key: string): Promise<void> {
    this.written.set(key, null);
    await this.ctx.stub.deleteState(key);
  }

  /** Committed entries under a partial key, overlaid with this transaction's writes to those keys. */
  async list<T>(type: string, attrs: readonly string[]): Promise<Array<{ key: string; attributes: string[]; value: T }>> {
    const out = new Map<string, { key: string; attributes: string[]; value: T }>();
    const it = await this.ctx.stub.getStateByPartialCompositeKey(type, [...attrs]);
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const { attributes } = this.ctx.stub.splitCompositeKey(r.value.key);
        out.set(r.value.key, { key: r.value.key, attributes, value: decode<T>(r.value.value) });
      }
    } finally {
      await it.close();
    }
    const prefix = this.ctx.stub.createCompositeKey(type, [...attrs]);
    for (const [k, v] of this.written) {
      if (!k.startsWith(prefix)) continue;
      if (v === null) out.delete(k);
      else out.set(k, { key: k, attributes: this.ctx.stub.splitCompositeKey(k).attributes, value: structuredClone(v) as T });
    }
    return [...out.values()].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }
}
