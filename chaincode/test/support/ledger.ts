/**
 * Scenario harness: run a contract function as a given identity at a given time, and commit its
 * writes like a VALID Fabric transaction. Tests then read like scenarios:
 *
 *   const ledger = new TestLedger();
 *   await ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ f: 1 })]);
 *   const p = await ledger.evaluate(meter, 'participants:whoAmI');
 *
 * - `submit` commits on success; on a thrown error nothing is committed (as Fabric drops a failed
 *   simulation) and the error is rethrown.
 * - Time is virtual: `ledger.now` is the tx timestamp unless `at` is given; the endorsing
 *   peer's clock (what the clock guard compares with) is `peerClock` or else the same instant.
 * - Every call gets a fresh, unique tx id unless `txId` is given.
 * - Dispatch is the runtime's (fabric-shim lib/contract-spi/chaincodefromcontract.js
 *   `invokeFunctionality`): only functions declared with @Transaction are callable; the contract's
 *   `createContext()` makes the context, then `beforeTransaction`, the function (through
 *   `aroundTransaction`) and `afterTransaction` run — so every test exercises GridLedgerContext.
 *   The identity is a FakeClientIdentity (the runtime would parse a real certificate).
 */
import { Contract } from 'fabric-contract-api';
import type { GridLedgerContext } from '../../src/kernel/context';
import { contracts as defaultContracts } from '../../src';
import { CHAINCODE_EVENT_NAME, checkOutput, transaction } from '@gridledger/protocol';
import { FakeClientIdentity, IdentitySpec } from './fakeIdentity';
import { FakeStub, WorldState } from './fakeStub';

export interface CallOptions {
  at?: number;
  peerClock?: number;
  txId?: string;
  transient?: Record<string, string>;
}

export interface CallResult<T = unknown> {
  result: T;
  raw: string;
  events: Array<{ name: string; payload: Record<string, unknown> }>;
  stub: FakeStub;
}

type ContractClass = new () => Contract;

/** 2026-01-01T00:00:00Z in Unix seconds, the unit of every time on the ledger. */
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0) / 1000;

export class TestLedger {
  world: WorldState;
  now = T0;
  private txCounter = 0;
  private readonly byName = new Map<string, Contract>();

  constructor(contracts: ContractClass[] = defaultContracts as unknown as ContractClass[], world = new WorldState()) {
    this.world = world;
    for (const C of contracts) {
      const c = new C();
      this.byName.set(c.getName(), c);
    }
  }

  /** A copy with the same committed state and clock (for determinism tests). */
  fork(): TestLedger {
    const copy = new TestLedger([], this.world.clone());
    for (const [k, v] of this.byName) copy.byName.set(k, v);
    copy.now = this.now;
    copy.txCounter = this.txCounter;
    return copy;
  }

  advance(seconds: number): void {
    this.now += seconds;
  }

  async submit<T = unknown>(who: IdentitySpec, fn: string, args: string[] = [], opts: CallOptions = {}): Promise<CallResult<T>> {
    const r = await this.run<T>(who, fn, args, opts);
    r.stub.commitTo(this.world);
    return r;
  }

  async evaluate<T = unknown>(who: IdentitySpec, fn: string, args: string[] = [], opts: CallOptions = {}): Promise<T> {
    return (await this.run<T>(who, fn, args, opts)).result;
  }

  /** Runs without committing, returning the stub so tests can inspect reads/writes. */
  async run<T = unknown>(who: IdentitySpec, fn: string, args: string[] = [], opts: CallOptions = {}): Promise<CallResult<T>> {
    const [contractName = '', method = ''] = fn.split(':');
    const contract = this.byName.get(contractName);
    if (!contract) throw new Error(`test harness: no contract named ${contractName}`);
    const declared = (Reflect.getMetadata('fabric:transactions', contract) ?? []) as Array<{ name: string }>;
    if (!declared.some((t) => t.name === method)) throw new Error(`test harness: ${contractName} has no transaction ${method}`);

    const at = opts.at ?? this.now;
    const txId = opts.txId ?? `tx-${String(++this.txCounter).padStart(6, '0')}`;
    const transient = new Map(Object.entries(opts.transient ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
    const stub = new FakeStub(this.world, { txId, timestamp: at, creatorMspId: who.mspId, transient, args: [fn, ...args] });
    const ctx = contract.createContext() as GridLedgerContext;
    // fabric-contract-api's Context has setChaincodeStub/setClientIdentity at run time; its typings omit them.
    const runtime = ctx as unknown as { setChaincodeStub(s: unknown): void; setClientIdentity(c: unknown): void };
    runtime.setChaincodeStub(stub);
    runtime.setClientIdentity(new FakeClientIdentity(who));

    // The clock guard compares with the endorsing peer's clock; fake it for this call only.
    const spy = jest.spyOn(Date, 'now').mockReturnValue((opts.peerClock ?? at) * 1000);
    let raw: unknown;
    try {
      await contract.beforeTransaction(ctx);
      // The typings say `fn: Function`; the runtime passes the function's name (chaincodefromcontract.js).
      raw = await contract.aroundTransaction(ctx, method as unknown as Parameters<Contract["aroundTransaction"]>[1], args);
      await contract.afterTransaction(ctx, raw);
    } finally {
      spy.mockRestore();
    }
    const text = typeof raw === 'string' ? raw : raw === undefined ? '' : JSON.stringify(raw);
    const events = stub.event && stub.event.name === CHAINCODE_EVENT_NAME
      ? (JSON.parse(Buffer.from(stub.event.payload).toString('utf8')).events as CallResult['events'])
      : [];
    const result = (text === '' ? undefined : JSON.parse(text)) as T;
    this.checkAnswer(contract, fn, result, text);
    return { result, raw: text, events, stub };
  }

  /**
   * Every answer of a chaincode transaction matches the output schema the catalogue names for it
   * (packages/protocol/src/schemas/outputs.ts, checked by the validators compiled ahead at the
   * protocol package's build), so every test that calls a transaction exercises the schemas and a
   * drift between a record and its schema fails loudly. Only test-only contracts (CommunityBootstrap)
   * are not catalogued.
   */
  private checkAnswer(contract: Contract, fn: string, result: unknown, text: string): void {
    const def = transaction(fn);
    if (!def) {
      if (defaultContracts.some((C) => contract instanceof C)) throw new Error(`test harness: ${fn} is not in the transaction catalogue`);
      return;
    }
    const problems = checkOutput(def.output, result);
    if (problems.length) {
      throw new Error(`test harness: ${fn} answered outside its output schema ${def.output} (packages/protocol/src/schemas/outputs.ts): ${problems.join('; ')}; the answer: ${text.slice(0, 2000)}`);
    }
  }
}

/**
 * Awaits a promise that must reject with a GridLedgerError of the given code (`CODE`, or
 * `CODE:SUB_CODE` to pin the sub-code too); returns the message.
 */
export async function expectCode(p: Promise<unknown>, code: string, messagePart?: string | RegExp): Promise<string> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  if (!(err instanceof Error)) throw new Error(`expected a [${code}] error, but the call succeeded`);
  // Every refusal carries a sub-code: `[CODE:SUB_CODE] detail`.
  expect(err.message).toMatch(code.includes(':') ? new RegExp(`^\\[${code}\\] `) : new RegExp(`^\\[${code}:[A-Z][A-Z0-9_]*\\] `));
  if (messagePart !== undefined) expect(err.message).toMatch(messagePart);
  return err.message;
}
