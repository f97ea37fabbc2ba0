/**
 * The one transaction context (as GalaChain's GalaChainContext): every contract's `createContext()`
 * returns a GridLedgerContext and its `beforeTransaction` prepares it, exactly as fabric-shim's
 * contract runtime calls them (fabric-shim lib/contract-spi/chaincodefromcontract.js
 * `invokeFunctionality`: createContext → setChaincodeStub/setClientIdentity → beforeTransaction →
 * the function → afterTransaction). It carries what every rule needs:
 *
 * - `state`: the transaction's one read-your-writes view of the world state (kernel/state.ts);
 * - `caller()`: who is calling, from `clientIdentity` only (kernel/caller.ts);
 * - `parameters()`: the regulator's governance parameters, read lazily through `state`;
 * - `time()`: the guarded transaction time (kernel/clock.ts), computed once, lazily — a
 *   transaction that never asks (health:ping, participants:whoAmI) is not refused by the clock
 *   guard, as before; after it, `now` reads it synchronously. Integer Unix seconds, the one
 *   time unit of the product (docs/architecture.md "Time and status values");
 * - `txId` and `nextLocalId()` for keys this transaction creates.
 */
import { Context } from 'fabric-contract-api';
import type { StoredParameters } from '../governance/domain/parameters';
import { readParameters } from '../governance/ledger/parameters';
import { Caller, getCaller } from './caller';
import { guardedTxTime } from './clock';
import { StateView } from './state';

export class GridLedgerContext extends Context {
  private view: StateView | undefined;
  private who: Caller | undefined;
  private guarded: number | undefined;
  private seq = 0;

  /** Called by GridLedgerContract.beforeTransaction: a fresh view for this transaction. */
  begin(): void {
    this.view = new StateView(this.stub);
    this.who = undefined;
    this.guarded = undefined;
    this.seq = 0;
  }

  get state(): StateView {
    if (!this.view) this.begin();
    return this.view as StateView;
  }

  get txId(): string {
    return this.stub.getTxID();
  }

  /** The calling identity (UNAUTHENTICATED if the certificate lacks a usable role). */
  caller(): Caller {
    return (this.who ??= getCaller(this));
  }

  /** The governance parameters in force (read through `state`, so this transaction's own update shows). */
  parameters(): Promise<StoredParameters> {
    return readParameters(this);
  }

  /**
   * The guarded transaction time in integer Unix seconds, checked once against the clock guard with the tolerance
   * of `params` (default: the parameters in force). Later calls return the same instant.
   */
  async time(params?: StoredParameters): Promise<number> {
    if (this.guarded === undefined) {
      const p = params ?? (await this.parameters());
      this.guarded = guardedTxTime(this, p.clockToleranceSeconds);
    }
    return this.guarded;
  }

  /** The guarded time in Unix seconds; only after `await ctx.time()` (a programming error otherwise). */
  get now(): number {
    if (this.guarded === undefined) throw new Error('GridLedgerContext: await ctx.time() before reading now');
    return this.guarded;
  }

  /** A unique, deterministic suffix for keys this transaction creates (txId + counter). */
  nextLocalId(): string {
    this.seq += 1;
    return `${this.txId}.${String(this.seq).padStart(4, '0')}`;
  }
}
