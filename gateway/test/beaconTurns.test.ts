import { beaconMessage } from '@gridledger/protocol';
import { BeaconService, loadOrCreateBeaconKey } from '../src/events/beacon';
import { BeaconStore } from '../src/events/store';
import { beaconTurnOrder, turnDueAt } from '../src/events/turns';
import { Submitter } from '../src/fabric/submitter';
import { Metrics } from '../src/ops/metrics';
import { openDatabase, type Db } from '../src/store/db';
import { FakeLedger } from './helpers/fakeLedger';
import { silentLogger, tmpDir } from './helpers/tmp';

const U = ['Utility1MSP', 'Utility2MSP', 'Utility3MSP'];
const S = 10_000;
const T0 = 1_700_000_000_000;

describe('beacon turn order', () => {
  it('is a permutation of the snapshot, the same wherever computed, and spreads the first turn over the utilities', () => {
    const a = beaconTurnOrder('t-1', 0, U);
    expect([...a].sort()).toEqual(U);
    expect(beaconTurnOrder('t-1', 0, [...U].reverse())).toEqual(a); // independent of the listing order
    expect(beaconTurnOrder('t-1', 0, [...U, U[0]!])).toEqual(a); // a duplicate does not add a turn
    const first = new Map<string, number>();
    const rounds = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const o = beaconTurnOrder(`t-${i}`, 0, U);
      first.set(o[0]!, (first.get(o[0]!) ?? 0) + 1);
      rounds.add(beaconTurnOrder('t-same', i, U).join());
    }
    for (const msp of U) expect(first.get(msp)).toBeGreaterThan(60); // ~100 each; none starves or always leads
    expect(rounds.size).toBeGreaterThan(1); // a re-drawn round gets another order
  });
});

describe('beacon turn rule (turnDueAt)', () => {
  const order = ['A', 'B', 'C'];
  const due = (me: string, contributed: string[], quorum = 2) => turnDueAt({ order, me, contributed: new Set(contributed), quorum, openedAt: T0, stepInMs: S });

  it('the first contributes at once; each next one as soon as those before it have', () => {
    expect(due('A', [])).toBe(T0);
    expect(due('B', ['A'])).toBe(T0);
    expect(due('C', ['A', 'B'], 3)).toBe(T0);
  });

  it('stops once the quorum is on the ledger, or its own contribution is', () => {
    expect(due('C', ['A', 'B'])).toBeUndefined();
    expect(due('A', ['A'])).toBeUndefined();
    expect(due('B', ['A', 'C'])).toBeUndefined();
  });

  it('steps in after stepIn per silent utility before it: a silent one only delays', () => {
    expect(due('B', [])).toBe(T0 + S); // A silent
    expect(due('C', [])).toBe(T0 + 2 * S); // A and B silent
    expect(due('C', ['A'])).toBe(T0 + 2 * S); // B's turn: silent only after 2 × stepIn
    expect(due('C', ['B'])).toBe(T0 + S); // A silent, B stepped in: C right after A's time ran out
  });

  it('a utility missing from the order contributes at once (no turn covers it)', () => {
    expect(due('D', [])).toBe(T0);
  });
});

/** Three utilities' beacon contributors on one fake ledger; contributions come back as EntropyContributed. */
class Consortium {
  readonly ledger = new FakeLedger();
  readonly dbs: Db[] = [];
  readonly stores = new Map<string, BeaconStore>();
  readonly services = new Map<string, BeaconService>();
  /** contributions on the ledger so far, per task round (what the chaincode counts) */
  private readonly counts = new Map<string, number>();

  constructor(msps: string[], quorum: number) {
    this.quorum = quorum;
    for (const msp of msps) {
      const dir = tmpDir();
      const db = openDatabase(dir);
      this.dbs.push(db);
      const store = new BeaconStore(db);
      const key = loadOrCreateBeaconKey(dir, Buffer.alloc(32, 7), msp);
      this.stores.set(msp, store);
      this.services.set(msp, this.serviceFor(msp, store, key));
    }
  }

  private readonly quorum: number;

  serviceFor(msp: string, store: BeaconStore, key = loadOrCreateBeaconKey(tmpDir(), Buffer.alloc(32, 7), msp)): BeaconService {
    return new BeaconService({
      ledger: this.ledger,
      submitter: new Submitter(this.ledger, { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 }),
      store,
      operator: { key: msp, mspId: msp, certPem: 'CERT', privateKeyPem: 'KEY' },
      channel: 'energy',
      secretKey: key.secretKey,
      publicKeyHex: key.publicKeyHex,
      logger: silentLogger,
      metrics: new Metrics(),
      startBlock: 0,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      reconnectMs: 1,
      stepInMs: S,
    });
  }

  contributions(): Array<{ msp: string; taskId: string }> {
    return this.ledger.applied.filter((t) => t.fn === 'committees:contributeEntropy').map((t) => ({ msp: t.signer, taskId: t.args[0]! }));
  }

  open(taskId: string, round: number, utilities = U): void {
    this.deliver([{ name: 'TaskOpened', payload: { taskId, kind: 'trade', subjectId: 'x', round, beaconMessage: beaconMessage('energy', taskId, round), utilities, quorum: this.quorum } }], T0);
  }

  private deliver(events: Array<{ name: string; payload: unknown }>, now: number, silent: ReadonlySet<string> = new Set()): void {
    const ev = this.ledger.emitEvents(events);
    for (const [msp, s] of this.services) if (!silent.has(msp)) s.handleEvent(ev, now);
  }

  /**
   * One step at `now`: every gateway but the silent ones runs its due jobs, each committed contribution
   * becomes an EntropyContributed event that all (live) gateways handle. Returns the contributors of this step.
   */
  async step(now: number, silent: ReadonlySet<string> = new Set()): Promise<string[]> {
    const before = this.contributions().length;
    for (const [msp, s] of this.services) if (!silent.has(msp)) await s.runOnce(now);
    const made = this.contributions().slice(before);
    for (const c of made) {
      const count = (this.counts.get(c.taskId) ?? 0) + 1;
      this.counts.set(c.taskId, count);
      this.deliver([{ name: 'EntropyContributed', payload: { taskId: c.taskId, round: 0, mspId: c.msp, contributions: count, quorum: this.quorum } }], now, silent);
    }
    return made.map((c) => c.msp);
  }

  close(): void {
    for (const db of this.dbs) db.close();
  }
}

describe('contributions in turns (BeaconService)', () => {
  let c: Consortium;
  afterEach(() => c.close());

  it('normally only beaconQuorum utilities sign, one after the other, in the round\'s order; the others never sign', async () => {
    c = new Consortium(U, 2);
    const order = beaconTurnOrder('t-turn', 0, U);
    c.open('t-turn', 0);
    expect(await c.step(T0)).toEqual([order[0]]); // only the first: the second waits for it
    expect(await c.step(T0 + 1)).toEqual([order[1]]); // right after the first's event
    expect(await c.step(T0 + 10 * S)).toEqual([]); // the third never signs, however long
    expect(c.stores.get(order[2]!)!.get('t-turn', 0)).toMatchObject({ state: 'SUPERSEDED', attempts: 0, contributed: [order[0], order[1]] });
    expect(c.stores.get(order[0]!)!.get('t-turn', 0)).toMatchObject({ state: 'CONTRIBUTED', attempts: 1 });
    expect(c.stores.get(order[1]!)!.get('t-turn', 0)).toMatchObject({ state: 'CONTRIBUTED', attempts: 1 });
  });

  it('a silent first utility only delays: the second steps in after stepIn, the third follows it at once', async () => {
    c = new Consortium(U, 2);
    const order = beaconTurnOrder('t-silent', 0, U);
    const silent = new Set([order[0]!]);
    c.open('t-silent', 0);
    expect(await c.step(T0, silent)).toEqual([]);
    expect(await c.step(T0 + S - 1, silent)).toEqual([]);
    expect(await c.step(T0 + S, silent)).toEqual([order[1]]);
    expect(await c.step(T0 + S + 1, silent)).toEqual([order[2]]);
    expect(c.contributions()).toHaveLength(2);
  });

  it('a silent second utility: the third steps in once the second\'s turn has run out (2 × stepIn)', async () => {
    c = new Consortium(U, 2);
    const order = beaconTurnOrder('t-second', 0, U);
    const silent = new Set([order[1]!]);
    c.open('t-second', 0);
    expect(await c.step(T0, silent)).toEqual([order[0]]);
    expect(await c.step(T0 + 2 * S - 1, silent)).toEqual([]);
    expect(await c.step(T0 + 2 * S, silent)).toEqual([order[2]]);
    expect(c.contributions()).toHaveLength(2);
  });

  it('a restarted gateway keeps its turn: what it saw on the ledger is in its store, not in memory', async () => {
    c = new Consortium(U, 2);
    const order = beaconTurnOrder('t-restart', 0, U);
    c.open('t-restart', 0);
    expect(await c.step(T0)).toEqual([order[0]]);
    const second = order[1]!;
    // the second utility's gateway restarts (a new service over the same store) before its turn is run
    c.services.set(second, c.serviceFor(second, c.stores.get(second)!));
    expect(c.stores.get(second)!.get('t-restart', 0)).toMatchObject({ state: 'PENDING', contributed: [order[0]], nextAttemptAt: T0 });
    expect(await c.step(T0 + 1)).toEqual([second]);
    expect(c.stores.get(order[2]!)!.get('t-restart', 0)!.state).toBe('SUPERSEDED');
  });

  it('its own contribution seen on the ledger ends its job without signing again', async () => {
    c = new Consortium(['Utility1MSP', 'Utility2MSP'], 2);
    const s = c.services.get('Utility1MSP')!;
    c.open('t-own', 0, ['Utility1MSP', 'Utility2MSP']);
    // e.g. an attempt whose answer was lost committed: the event says so before the worker retries
    s.handleEvent(c.ledger.emitEvents([{ name: 'EntropyContributed', payload: { taskId: 't-own', round: 0, mspId: 'Utility1MSP', contributions: 1, quorum: 2 } }]), T0);
    expect(c.stores.get('Utility1MSP')!.get('t-own', 0)).toMatchObject({ state: 'CONTRIBUTED', lastError: expect.stringContaining('seen on the ledger') });
    expect(await s.runOnce(T0 + 10 * S)).toBe(0);
  });

  it('without the quorum in TaskOpened (an older chaincode), every utility contributes at once as before', async () => {
    c = new Consortium(U, 2);
    const ev = c.ledger.emitEvents([{ name: 'TaskOpened', payload: { taskId: 't-old', kind: 'trade', subjectId: 'x', round: 0, beaconMessage: beaconMessage('energy', 't-old', 0), utilities: U } }]);
    for (const s of c.services.values()) s.handleEvent(ev, T0);
    for (const s of c.services.values()) await s.runOnce(T0);
    expect(c.contributions().filter((x) => x.taskId === 't-old').map((x) => x.msp).sort()).toEqual(U);
  });
});

describe('BeaconStore over a table from before turns', () => {
  it('adds the turn columns; an old row keeps its due time and has no turn (contributes as it would have)', () => {
    const db = openDatabase(tmpDir());
    try {
      db.exec(`CREATE TABLE beacon_contributions (
        task_id TEXT NOT NULL, round INTEGER NOT NULL, message TEXT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, tx_id TEXT, last_error TEXT,
        opened_block INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (task_id, round))`);
      db.prepare(`INSERT INTO beacon_contributions VALUES ('t-old', 0, 'm', 'PENDING', 0, ?, NULL, NULL, 3, ?)`).run(T0, T0);
      const store = new BeaconStore(db);
      expect(store.get('t-old', 0)).toMatchObject({ state: 'PENDING', nextAttemptAt: T0, turnOrder: null, quorum: null, contributed: [] });
      expect(store.due(T0).map((j) => j.taskId)).toEqual(['t-old']);
      new BeaconStore(db); // opening it again adds nothing twice
    } finally {
      db.close();
    }
  });
});
