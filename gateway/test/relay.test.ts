/**
 * The delivery worker's cross-meter relay (docs/market.md "Relayed readings"): queued single readings
 * of meters whose key the ledger holds go out as meters:relayReadings batches signed by the operator,
 * each reading signed by its meter; refused readings fall back to the meter's own transaction.
 */
import { DeliveryWorker, type Relayer } from '../src/delivery/worker';
import { openDatabase } from '../src/store/db';
import { DurableQueue } from '../src/store/queue';
import { chaincodeError, FakeLedger, identity } from './helpers/fakeLedger';
import { silentLogger, tmpDir } from './helpers/tmp';

const retry = { maxAttempts: 5, baseDelayMs: 0, maxDelayMs: 0 };
const single = (meterId: string, intervalStart: number) => ({
  meterId,
  principal: 'k1',
  fn: 'meters:postReading',
  args: [''],
  transient: { reading: JSON.stringify({ meterId, intervalStart, intervalLength: 900, importWh: 1 }) },
  itemCount: 1,
});
type Entry = { meterId: string; reading: { intervalStart: number }; signature: string };
const entriesOf = (tx: { transient?: Record<string, string> }): Entry[] => (JSON.parse(tx.transient!.relay!) as { entries: Entry[] }).entries;

/** The chaincode's answers: relayReadings verdicts (a `refuse` set of "meter@start"), the meter's own transactions. */
function chaincode(refuse = new Set<string>()) {
  return (tx: { fn: string; transient?: Record<string, string> }): unknown => {
    if (tx.fn === 'meters:relayReadings') {
      const refusedMeters = new Set<string>();
      const results = entriesOf(tx).map((e) => {
        if (refusedMeters.has(e.meterId)) return { meterId: e.meterId, intervalStart: e.reading.intervalStart, status: 'NOT_TRIED' };
        if (refuse.has(`${e.meterId}@${e.reading.intervalStart}`)) {
          refusedMeters.add(e.meterId);
          return { meterId: e.meterId, intervalStart: e.reading.intervalStart, status: 'REFUSED', reason: 'REGISTER_MISMATCH', detail: 'x' };
        }
        return { meterId: e.meterId, intervalStart: e.reading.intervalStart, status: 'RECORDED' };
      });
      return { mspId: 'U1', recorded: results.filter((r) => r.status === 'RECORDED').length, duplicates: 0, refused: 0, results };
    }
    const r = JSON.parse(tx.transient!.reading!) as { meterId: string; intervalStart: number };
    return { meterId: r.meterId, intervalStart: r.intervalStart, status: 'RECORDED' };
  };
}

const starts = (tx: { fn: string; transient?: Record<string, string> }): string[] =>
  tx.fn === 'meters:relayReadings' ? entriesOf(tx).map((e) => `${e.meterId}@${e.reading.intervalStart}`) : [`${(JSON.parse(tx.transient!.reading!) as { meterId: string }).meterId}@${(JSON.parse(tx.transient!.reading!) as { intervalStart: number }).intervalStart}`];

function relayer(o: Partial<Relayer> = {}, eligible = (m: string) => m !== 'legacy'): Relayer {
  return { identity: identity('operator'), maxReadings: 4, concurrency: 2, eligible, sign: (m, r) => `sig(${m},${String(r.intervalStart)})`, ...o };
}

function setup(ledger: FakeLedger, relay: Relayer, dir = tmpDir(), pollIntervalMs = 10) {
  const db = openDatabase(dir);
  const queue = new DurableQueue(db);
  const metrics: Array<[number, number]> = [];
  const worker = new DeliveryWorker({
    queue, ledger, identityFor: (m) => identity(`meter:${m}`), retry, pollIntervalMs, concurrency: 8, maxCoalesce: 96, relay, logger: silentLogger,
    metrics: { retry: () => undefined, delivered: () => undefined, transaction: (r, n) => metrics.push([r, n]) },
  });
  return { db, queue, worker, metrics };
}

async function drain(worker: DeliveryWorker): Promise<void> {
  for (let i = 0; i < 100; i++) if ((await worker.runOnce()) === 0) return;
  throw new Error('queue did not drain');
}

describe('relayed batches (cross-meter)', () => {
  it('packs single readings of many meters into operator-signed batches, each meter in order; each receipt gets its own reading\'s result', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const { db, queue, worker, metrics } = setup(ledger, relayer({ maxReadings: 4 }));
    const ids = new Map<string, string>();
    for (const m of ['a', 'b', 'c']) ids.set(`${m}@900`, queue.enqueue(single(m, 900)).id);
    ids.set('a@1800', queue.enqueue(single('a', 1800)).id);
    ids.set('legacy@900', queue.enqueue(single('legacy', 900)).id); // no key on the ledger: its own transaction
    ids.set('d@900', queue.enqueue(single('d', 900)).id);
    await drain(worker);
    const relays = ledger.applied.filter((t) => t.fn === 'meters:relayReadings');
    expect(relays.every((t) => t.signer === 'operator' && t.args.length === 1 && t.args[0] === '')).toBe(true);
    // a's run [900, 1800] goes together, in order; at most 4 readings per batch
    expect(relays.map(starts)).toEqual([['a@900', 'a@1800', 'b@900', 'c@900'], ['d@900']]);
    expect(entriesOf(relays[0]!)[0]).toEqual({ meterId: 'a', reading: { meterId: 'a', intervalStart: 900, intervalLength: 900, importWh: 1 }, signature: 'sig(a,900)' });
    expect(ledger.applied.filter((t) => t.fn !== 'meters:relayReadings').map((t) => [t.signer, t.fn])).toEqual([['meter:legacy', 'meters:postReading']]);
    for (const [k, id] of ids) {
      const [m, s] = k.split('@');
      expect(queue.get(id)).toMatchObject({ state: 'COMMITTED', result: { meterId: m, intervalStart: Number(s), status: 'RECORDED' } });
    }
    expect(metrics).toContainEqual([4, 4]);
    expect(queue.isRelayed(relays[0]!.txId)).toBe(false); // forgotten once settled
    db.close();
  });

  it('a refused relayed reading (and its meter\'s later ones) is delivered as the meter\'s own transaction, so it gets its own verdict; the others stay recorded by the batch', async () => {
    const ledger = new FakeLedger();
    const own = chaincode();
    ledger.result = (tx) => (tx.fn === 'meters:relayReadings' ? chaincode(new Set(['a@1800']))(tx) : own(tx));
    const real = ledger.endorse.bind(ledger);
    ledger.endorse = async (id, fn, args, transient) => {
      if (fn === 'meters:postReading' && JSON.parse(transient!.reading!).intervalStart === 1800) {
        ledger.endorseCalls++;
        throw chaincodeError('[CONFLICT:REGISTER_MISMATCH] reading: importRegisterWh went backwards');
      }
      return real(id, fn, args, transient);
    };
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 8 }));
    const a = [900, 1800, 2700].map((s) => queue.enqueue(single('a', s)).id);
    const b = queue.enqueue(single('b', 900)).id;
    await drain(worker);
    expect(ledger.applied.map((t) => [t.signer, starts(t)])).toEqual([
      ['operator', ['a@900', 'a@1800', 'a@2700', 'b@900']],
      ['meter:a', ['a@2700']], // after 1800 was refused on its own
    ]);
    expect(a.map((id) => queue.get(id)!.state)).toEqual(['COMMITTED', 'REJECTED', 'COMMITTED']);
    expect(queue.get(a[1]!)!.reason).toBe('reading: importRegisterWh went backwards');
    expect(queue.get(b)!.state).toBe('COMMITTED');
    db.close();
  });

  it('a batch the chaincode refuses as a whole is delivered reading by reading as the meters\' own transactions', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const real = ledger.endorse.bind(ledger);
    ledger.endorse = async (id, fn, args, transient) => {
      if (fn === 'meters:relayReadings') {
        ledger.endorseCalls++;
        throw chaincodeError('[FORBIDDEN:WRONG_ROLE] meters:relayReadings needs role operator');
      }
      return real(id, fn, args, transient);
    };
    const { db, queue, worker } = setup(ledger, relayer());
    const ids = ['a', 'b', 'c'].map((m) => queue.enqueue(single(m, 900)).id);
    await drain(worker);
    expect(ledger.applied.map((t) => t.signer).sort()).toEqual(['meter:a', 'meter:b', 'meter:c']);
    for (const id of ids) expect(queue.get(id)!.state).toBe('COMMITTED');
    db.close();
  });

  it('bounded: at most `concurrency` relayed batches in flight', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    let release!: () => void;
    ledger.gate = new Promise<void>((r) => (release = r));
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 2, concurrency: 2 }));
    for (const m of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) queue.enqueue(single(m, 900));
    const pass = worker.runOnce();
    await new Promise((r) => setTimeout(r, 20));
    expect(ledger.endorseCalls).toBe(2); // 2 batches × 2 readings; the other 4 meters wait
    expect(worker.busyMeters).toBe(4);
    release();
    ledger.gate = undefined;
    await pass;
    await drain(worker);
    expect(ledger.applied.map((t) => starts(t).length)).toEqual([2, 2, 2, 2]);
    db.close();
  });

  it('crash after a relayed batch was endorsed: the same transaction is re-sent whole and settles every meter\'s receipt, once', async () => {
    const dir = tmpDir();
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const s1 = setup(ledger, relayer(), dir);
    const ids = ['a', 'b', 'c'].map((m) => s1.queue.enqueue(single(m, 900)).id);
    ledger.hangAfterCommit = true;
    void s1.worker.runOnce();
    while (ledger.applied.length === 0) await new Promise((r) => setImmediate(r));
    s1.db.close(); // crash: committed on the ledger, not recorded here
    ledger.hangAfterCommit = false;
    const s2 = setup(ledger, relayer(), dir);
    const inDoubt = ids.map((id) => s2.queue.get(id)!);
    expect(inDoubt.map((r) => r.state)).toEqual(['SUBMITTED', 'SUBMITTED', 'SUBMITTED']);
    expect(new Set(inDoubt.map((r) => r.txId)).size).toBe(1);
    expect(s2.queue.isRelayed(inDoubt[0]!.txId!)).toBe(true);
    await drain(s2.worker);
    for (const id of ids) expect(s2.queue.get(id)).toMatchObject({ state: 'COMMITTED', txId: inDoubt[0]!.txId });
    expect(ledger.applied).toHaveLength(1);
    expect(ledger.endorseCalls).toBe(1);
    s2.db.close();
  });

  it('relaying turned off (maxReadings 0) after a crash: a stored relayed batch is still re-sent whole; new readings go as the meters\' own transactions', async () => {
    const dir = tmpDir();
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const s1 = setup(ledger, relayer(), dir);
    const ids = ['a', 'b'].map((m) => s1.queue.enqueue(single(m, 900)).id);
    ledger.hangAfterCommit = true;
    void s1.worker.runOnce();
    while (ledger.applied.length === 0) await new Promise((r) => setImmediate(r));
    s1.db.close();
    ledger.hangAfterCommit = false;
    const s2 = setup(ledger, relayer({ maxReadings: 0 }), dir);
    const later = s2.queue.enqueue(single('c', 900)).id;
    await drain(s2.worker);
    for (const id of [...ids, later]) expect(s2.queue.get(id)!.state).toBe('COMMITTED');
    expect(ledger.applied.map((t) => [t.signer, starts(t)])).toEqual([['operator', ['a@900', 'b@900']], ['meter:c', ['c@900']]]);
    s2.db.close();
  });

  it('a meter the relay cannot sign for goes as its own transaction', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const { db, queue, worker } = setup(ledger, relayer({ sign: (m, r) => (m === 'x' ? undefined : `sig(${m},${String(r.intervalStart)})`) }));
    queue.enqueue(single('x', 900));
    queue.enqueue(single('y', 900));
    await drain(worker);
    expect(ledger.applied.map((t) => [t.signer, starts(t)]).sort()).toEqual([['meter:x', ['x@900']], ['operator', ['y@900']]]);
    db.close();
  });
});

describe('relayed batches gather a burst (Relayer.lingerMs)', () => {
  /** Date.now() at a chosen instant (enqueue stamps receipts with it; the worker decides with it) */
  function clock(start = 1_000_000) {
    let t = start;
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => t);
    return { at: (ms: number) => (t = start + ms), restore: () => spy.mockRestore() };
  }

  it('a batch that is not full gathers the readings that keep arriving, each meter in order, and goes once arrivals pause', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 8, lingerMs: 100 })); // quiet gap: 20 ms
    const c = clock();
    try {
      queue.enqueue(single('a', 900));
      expect(await worker.runOnce()).toBe(0); // it waits for company
      c.at(15);
      queue.enqueue(single('b', 900));
      expect(await worker.runOnce()).toBe(0);
      c.at(30);
      queue.enqueue(single('c', 900));
      queue.enqueue(single('a', 1800));
      c.at(49);
      expect(await worker.runOnce()).toBe(0);
      expect(ledger.endorseCalls).toBe(0);
      c.at(50); // nothing arrived for 20 ms: the batch goes with everything that came
      expect(await worker.runOnce()).toBe(1);
      expect(ledger.applied.map(starts)).toEqual([['a@900', 'a@1800', 'b@900', 'c@900']]);
      // a lone reading waits only the quiet gap
      c.at(200);
      queue.enqueue(single('d', 900));
      c.at(219);
      expect(await worker.runOnce()).toBe(0);
      c.at(220);
      expect(await worker.runOnce()).toBe(1);
      expect(ledger.applied.map(starts).at(-1)).toEqual(['d@900']);
    } finally {
      c.restore();
      db.close();
    }
  });

  it('readings that never stop arriving hold a batch back at most lingerMs from its oldest', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 96, lingerMs: 100 }));
    const c = clock();
    try {
      for (let t = 0; t < 100; t += 10) {
        c.at(t);
        queue.enqueue(single(`m${t}`, 900));
        expect(await worker.runOnce()).toBe(0);
      }
      c.at(100);
      queue.enqueue(single('m100', 900));
      expect(await worker.runOnce()).toBe(1);
      expect(ledger.applied.map((t) => starts(t).length)).toEqual([11]);
    } finally {
      c.restore();
      db.close();
    }
  });

  it('a full batch goes at once; only the partial rest lingers', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 3, concurrency: 4, lingerMs: 10_000 }));
    const c = clock();
    try {
      for (const m of ['a', 'b', 'c', 'd', 'e']) queue.enqueue(single(m, 900));
      expect(await worker.runOnce()).toBe(1);
      expect(ledger.applied.map(starts)).toEqual([['a@900', 'b@900', 'c@900']]);
      c.at(10_000);
      expect(await worker.runOnce()).toBe(1);
      expect(ledger.applied.map(starts)).toEqual([['a@900', 'b@900', 'c@900'], ['d@900', 'e@900']]);
      // a legacy meter (no registered key) never lingers: its own transaction at once
      queue.enqueue(single('legacy', 900));
      expect(await worker.runOnce()).toBe(1);
      expect(ledger.applied.at(-1)).toMatchObject({ signer: 'meter:legacy' });
    } finally {
      c.restore();
      db.close();
    }
  });

  it('while every relayed batch is in flight, relayable readings wait for the next batch instead of going as the meters\' own transactions; a meter\'s later reading follows its batch', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    let release!: () => void;
    ledger.gate = new Promise<void>((r) => (release = r));
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 8, concurrency: 1 }));
    queue.enqueue(single('a', 900));
    const first = worker.runOnce();
    await new Promise((r) => setTimeout(r, 10));
    expect(ledger.endorseCalls).toBe(1);
    queue.enqueue(single('a', 1800));
    for (const m of ['b', 'c']) queue.enqueue(single(m, 900));
    expect(await Promise.race([worker.runOnce(), new Promise((r) => setTimeout(() => r('held'), 50))])).toBe(0);
    expect(ledger.endorseCalls).toBe(1); // no own transaction for b or c, nothing for a while a@900 is in flight
    release();
    ledger.gate = undefined;
    await first;
    await drain(worker);
    expect(ledger.applied.map((t) => [t.signer, starts(t)])).toEqual([
      ['operator', ['a@900']],
      ['operator', ['a@1800', 'b@900', 'c@900']],
    ]);
    db.close();
  });

  it('the running worker starts a lingering batch when its wait ends, without another enqueue to wake it', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 8, lingerMs: 30 }), tmpDir(), 60_000);
    worker.start();
    try {
      const id = queue.enqueue(single('a', 900)).id;
      worker.kick();
      // the poll interval is a minute: only the linger's own timer can start it within 5 s
      expect((await worker.waitForSettled(id, 5000))?.state).toBe('COMMITTED');
      expect(ledger.applied.map(starts)).toEqual([['a@900']]);
    } finally {
      await worker.stop();
      db.close();
    }
  });

  it('a large batch is signed a few readings at a time, letting other work (acknowledgements) run in between', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincode();
    const marks: string[] = [];
    const { db, queue, worker } = setup(ledger, relayer({ maxReadings: 64, sign: (m, r) => (marks.push('sign'), `sig(${m},${String(r.intervalStart)})`) }));
    for (let i = 0; i < 64; i++) queue.enqueue(single(`m${i}`, 900));
    const pass = worker.runOnce();
    setImmediate(() => marks.push('other'));
    await pass;
    const other = marks.indexOf('other');
    expect(marks.filter((m) => m === 'sign')).toHaveLength(64);
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(64); // it ran while the batch was being signed, not after all 64
    expect(ledger.applied.map((t) => starts(t).length)).toEqual([64]);
    db.close();
  });
});
