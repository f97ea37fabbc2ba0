import { status as Grpc } from '@grpc/grpc-js';
import { DeliveryWorker } from '../src/delivery/worker';
import { LedgerError } from '../src/fabric/errors';
import { openDatabase, walSyncer } from '../src/store/db';
import { GroupCommit } from '../src/store/groupCommit';
import { DurableQueue } from '../src/store/queue';
import { chaincodeError, FakeLedger, identity, mismatch, unavailable } from './helpers/fakeLedger';
import { silentLogger, tmpDir } from './helpers/tmp';

const retry = { maxAttempts: 5, baseDelayMs: 0, maxDelayMs: 0 };

function setup(dir: string, ledger: FakeLedger, identityFor = (m: string) => identity(`meter:${m}`)) {
  const db = openDatabase(dir);
  const queue = new DurableQueue(db);
  const worker = new DeliveryWorker({ queue, ledger, identityFor, retry, pollIntervalMs: 10, concurrency: 4, logger: silentLogger });
  return { db, queue, worker };
}

async function drain(worker: DeliveryWorker, maxPasses = 100): Promise<void> {
  for (let i = 0; i < maxPasses; i++) if ((await worker.runOnce()) === 0) return;
  throw new Error('queue did not drain');
}

const reading = (meterId: string, n: number) => ({
  meterId,
  principal: 'k1',
  fn: 'meters:postReading',
  args: [JSON.stringify({ meterId, intervalStart: n })],
  itemCount: 1,
});

describe('DeliveryWorker.waitForSettled', () => {
  it('answers a waiter on settlement, and every pending waiter when the worker stops (no timer left behind)', async () => {
    const { db, queue, worker } = setup(tmpDir(), new FakeLedger());
    const a = queue.enqueue(reading('m1', 1));
    const b = queue.enqueue(reading('m2', 1));
    const settled = worker.waitForSettled(a.id, 60_000);
    await worker.runOnce();
    expect((await settled)!.state).toBe('COMMITTED');
    const c = queue.enqueue(reading('m1', 2));
    const started = Date.now();
    const pending = worker.waitForSettled(c.id, 60_000);
    await worker.stop();
    expect((await pending)!.state).toBe('QUEUED');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(queue.get(b.id)!.state).toBe('COMMITTED');
    db.close();
  });
});

describe('DurableQueue', () => {
  it('persists an enqueued receipt across close and reopen', () => {
    const dir = tmpDir();
    const db1 = openDatabase(dir);
    const r = new DurableQueue(db1).enqueue(reading('m1', 1));
    db1.close();
    const db2 = openDatabase(dir);
    const again = new DurableQueue(db2).get(r.id)!;
    expect(again).toMatchObject({ id: r.id, meterId: 'm1', state: 'QUEUED', args: r.args });
    expect(db2.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db2.pragma('synchronous', { simple: true })).toBe(2); // FULL
    db2.close();
  });

  it('hands out only the oldest unfinished receipt of each meter', () => {
    const db = openDatabase(tmpDir());
    const q = new DurableQueue(db);
    const a1 = q.enqueue(reading('a', 1));
    q.enqueue(reading('a', 2));
    const b1 = q.enqueue(reading('b', 1));
    expect(q.due(Date.now(), 10).map((r) => r.id)).toEqual([a1.id, b1.id]);
    expect(q.due(Date.now(), 10, new Set(['a'])).map((r) => r.id)).toEqual([b1.id]);
    q.markSubmitted(a1.id, 'tx1', Buffer.from('x'));
    expect(q.due(Date.now(), 10).map((r) => r.id)).toEqual([a1.id, b1.id]);
    q.markCommitted(a1.id, 'tx1', 3, { ok: true });
    expect(q.due(Date.now(), 10)[0]!.args).toEqual(reading('a', 2).args);
    expect(() => q.markCommitted(a1.id, 'tx1', 3, {})).toThrow(/not in state/);
    db.close();
  });

  it('schedule: the due heads oldest first, and when the next head not yet due (not busy) becomes due', () => {
    const db = openDatabase(tmpDir());
    const q = new DurableQueue(db);
    const a1 = q.enqueue(reading('a', 1));
    q.enqueue(reading('a', 2));
    const b1 = q.enqueue(reading('b', 1));
    const c1 = q.enqueue(reading('c', 1));
    const now = Date.now();
    q.retryLater(b1.id, 'later', 60_000, true);
    q.retryLater(c1.id, 'later', 5_000, true);
    const s = q.schedule(now, 10);
    expect(s.due.map((r) => r.id)).toEqual([a1.id]);
    expect(s.nextDueAt).toBeGreaterThanOrEqual(now + 5_000);
    expect(s.nextDueAt).toBeLessThan(now + 60_000);
    expect(q.schedule(now, 10, new Set(['c'])).nextDueAt).toBeGreaterThanOrEqual(now + 60_000);
    expect(q.nextDueAt()).toBe(q.schedule(now, 10).due[0]!.nextAttemptAt); // a's head is due now
    expect(q.schedule(now + 61_000, 1)).toMatchObject({ due: [{ id: a1.id }], nextDueAt: now + 61_000 }); // more due than handed out
    expect(q.schedule(now + 61_000, 10).due.map((r) => r.id)).toEqual([a1.id, b1.id, c1.id]);
    // the covering partial index answers the heads (no table rows read for meters not chosen)
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT meter_id, MIN(seq) AS seq, next_attempt_at FROM receipts WHERE state IN ('QUEUED', 'SUBMITTED') GROUP BY meter_id").all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/COVERING INDEX receipts_unfinished/);
    db.close();
  });
});

describe('DeliveryWorker', () => {
  it('delivers every receipt once, in order per meter', async () => {
    const ledger = new FakeLedger();
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const ids = [1, 2, 3].flatMap((n) => ['m1', 'm2'].map((m) => queue.enqueue(reading(m, n)).id));
    await drain(worker);
    for (const id of ids) expect(queue.get(id)!.state).toBe('COMMITTED');
    const m1 = ledger.applied.filter((t) => t.signer === 'meter:m1').map((t) => JSON.parse(t.args[0]!).intervalStart);
    expect(m1).toEqual([1, 2, 3]);
    expect(ledger.applied).toHaveLength(6);
    expect(queue.get(ids[0]!)).toMatchObject({ txId: 'tx1', result: { fn: 'meters:postReading', ok: true }, txBytes: null });
    db.close();
  });

  it('endorses a NEW proposal after an MVCC conflict and retries transient failures', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'endorse', error: unavailable('endorse') }, { stage: 'conflict' });
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const r = queue.enqueue(reading('m1', 1));
    await drain(worker);
    const done = queue.get(r.id)!;
    expect(done.state).toBe('COMMITTED');
    expect(ledger.status.get('tx1')!.code).toBe(11); // first tx id INVALID
    expect(done.txId).toBe('tx2'); // second proposal committed
    expect(ledger.applied).toHaveLength(1);
    expect(done.attempts).toBe(2);
    db.close();
  });

  it('an endorsement mismatch is transient: a new proposal later, counted as endorsement-mismatch, never a rejection', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'endorse', error: mismatch() }, { stage: 'endorse', error: mismatch() });
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const retried: string[] = [];
    const worker = new DeliveryWorker({ queue, ledger, identityFor: (m) => identity(`meter:${m}`), retry, pollIntervalMs: 10, concurrency: 4, logger: silentLogger, metrics: { retry: (c) => retried.push(c), delivered: () => undefined } });
    const r = queue.enqueue(reading('m1', 1));
    await worker.runOnce();
    expect(queue.get(r.id)).toMatchObject({ state: 'QUEUED', attempts: 1, lastError: expect.stringMatching(/^endorsement-mismatch: /) });
    await drain(worker);
    expect(queue.get(r.id)).toMatchObject({ state: 'COMMITTED', txId: 'tx1', attempts: 2 });
    expect(retried).toEqual(['endorsement-mismatch', 'endorsement-mismatch']);
    expect(ledger.endorseCalls).toBe(3);
    db.close();
  });

  it('re-sends the SAME transaction after a send failure or an unknown commit status', async () => {
    const ledger = new FakeLedger();
    ledger.script.push(
      { stage: 'submit', error: unavailable('submit') },
      { stage: 'commitStatus', error: new LedgerError({ stage: 'commitStatus', message: '4 DEADLINE_EXCEEDED', grpcCode: Grpc.DEADLINE_EXCEEDED }) },
    );
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const r = queue.enqueue(reading('m1', 1));
    await drain(worker);
    expect(queue.get(r.id)).toMatchObject({ state: 'COMMITTED', txId: 'tx1' });
    expect(ledger.endorseCalls).toBe(1);
    expect(ledger.submitCalls).toBe(3);
    expect(ledger.applied).toHaveLength(1);
    db.close();
  });

  it('rejects with the chaincode reason and moves on to the next reading', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT] reading m1@1 conflicts with the recorded one') });
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const r1 = queue.enqueue(reading('m1', 1));
    const r2 = queue.enqueue(reading('m1', 2));
    await drain(worker);
    expect(queue.get(r1.id)).toMatchObject({ state: 'REJECTED', reason: 'reading m1@1 conflicts with the recorded one' });
    expect((queue.get(r1.id)!.problem as { status: number }).status).toBe(409);
    expect(queue.get(r2.id)!.state).toBe('COMMITTED');
    db.close();
  });

  it('rejects readings of a meter the gateway no longer acts for', async () => {
    const ledger = new FakeLedger();
    const { HttpProblem } = await import('../src/rest/problem');
    const { db, queue, worker } = setup(tmpDir(), ledger, (m) => {
      throw new HttpProblem(403, 'meter-revoked', 'Meter revoked', `meter ${m} was revoked`);
    });
    const r = queue.enqueue(reading('m9', 1));
    await drain(worker);
    expect(queue.get(r.id)).toMatchObject({ state: 'REJECTED', reason: 'meter m9 was revoked' });
    expect(ledger.endorseCalls).toBe(0);
    db.close();
  });

  it('crash-safety: the database closed mid-flight loses nothing acknowledged and delivers nothing twice', async () => {
    const dir = tmpDir();
    const ledger = new FakeLedger();
    const first = setup(dir, ledger);
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) for (const m of ['m1', 'm2', 'm3']) ids.push(first.queue.enqueue(reading(m, n)).id);
    // deliver some normally
    await first.worker.runOnce();
    await first.worker.runOnce();
    expect(ledger.applied).toHaveLength(6);
    // next pass: the ledger commits, but the gateway "dies" before it records the outcome
    ledger.hangAfterCommit = true;
    void first.worker.runOnce();
    await new Promise((r) => setImmediate(r));
    expect(ledger.applied).toHaveLength(9);
    first.db.close(); // crash: nothing more reaches the database
    ledger.hangAfterCommit = false;

    const second = setup(dir, ledger);
    const inDoubt = ids.map((id) => second.queue.get(id)!).filter((r) => r.state === 'SUBMITTED');
    expect(inDoubt).toHaveLength(3);
    await drain(second.worker);
    for (const id of ids) expect(second.queue.get(id)!.state).toBe('COMMITTED');
    // exactly once: 15 readings, 15 VALID transactions, each reading once
    const keys = ledger.applied.map((t) => `${t.signer}:${t.args[0]}`);
    expect(keys).toHaveLength(15);
    expect(new Set(keys).size).toBe(15);
    // the in-doubt ones were reconciled by their stored tx id, not re-endorsed
    for (const r of inDoubt) expect(second.queue.get(r.id)!.txId).toBe(r.txId);
    expect(ledger.endorseCalls).toBe(15);
    second.db.close();
  });

  it('waitForSettled resolves when the receipt commits', async () => {
    const ledger = new FakeLedger();
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const r = queue.enqueue(reading('m1', 1));
    const waiting = worker.waitForSettled(r.id, 60_000);
    worker.start();
    expect((await waiting)!.state).toBe('COMMITTED');
    await worker.stop();
    db.close();
  });
});

describe('reading transactions carry only the reading (the chaincode checks registers against its private head)', () => {
  const tReading = (meterId: string, intervalStart: number) => ({
    meterId,
    principal: 'k1',
    fn: 'meters:postReading',
    args: [''],
    transient: { reading: JSON.stringify({ intervalStart, intervalLength: 900, importWh: 1 }) },
    itemCount: 1,
  });

  it('sends exactly the queued transient map, also after an earlier recorded reading of the meter', async () => {
    const ledger = new FakeLedger();
    ledger.result = (tx) => ({ meterId: 'm1', intervalStart: JSON.parse(tx.transient!.reading!).intervalStart, status: 'RECORDED' });
    const { db, queue, worker } = setup(tmpDir(), ledger);
    queue.enqueue(tReading('m1', 900));
    queue.enqueue(tReading('m1', 1800));
    await drain(worker);
    expect(ledger.applied.map((t) => Object.keys(t.transient!))).toEqual([['reading'], ['reading']]);
    expect(JSON.parse(ledger.applied[1]!.transient!.reading!)).toEqual({ intervalStart: 1800, intervalLength: 900, importWh: 1 });
    db.close();
  });

  it('a register refusal is the receipt\'s verdict: rejected, nothing read back from the ledger, no second endorsement', async () => {
    const ledger = new FakeLedger();
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[PRECONDITION_FAILED] reading: importRegisterWh 5 is below the last reading\'s 10') });
    const asked: string[] = [];
    ledger.evaluateImpl = async (_id, fn) => {
      asked.push(fn);
      return Buffer.from('{}');
    };
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const r = queue.enqueue(tReading('m1', 1800));
    await drain(worker);
    expect(queue.get(r.id)).toMatchObject({ state: 'REJECTED', reason: expect.stringContaining('below the last reading') });
    expect(asked).toEqual([]);
    expect(ledger.endorseCalls).toBe(1);
    db.close();
  });
});

describe('retention', () => {
  it('purges only final receipts older than the cut-off', () => {
    const db = openDatabase(tmpDir());
    const q = new DurableQueue(db);
    const done = q.enqueue(reading('m1', 1));
    q.markCommitted(done.id, 'tx1', 1, {});
    const pending = q.enqueue(reading('m1', 2));
    expect(q.purgeFinished(Date.now() - 60_000)).toBe(0);
    expect(q.purgeFinished(Date.now() + 60_000)).toBe(1);
    expect(q.get(done.id)).toBeUndefined();
    expect(q.get(pending.id)!.state).toBe('QUEUED');
    db.close();
  });
});

describe('ingest at the ledger\'s speed (issue 16)', () => {
  const single = (meterId: string, intervalStart: number) => ({
    meterId,
    principal: 'k1',
    fn: 'meters:postReading',
    args: [''],
    transient: { reading: JSON.stringify({ meterId, intervalStart, intervalLength: 900, importWh: 1 }) },
    itemCount: 1,
  });
  /** What the chaincode answers: postReading `{meterId, intervalStart, status}`, postReadings `{meterId, recorded, duplicates, results}`. */
  const chaincodeResult = (tx: { fn: string; transient?: Record<string, string> }) => {
    if (tx.fn === 'meters:postReadings') {
      const b = JSON.parse(tx.transient!.readings!) as { meterId: string; readings: Array<{ intervalStart: number }> };
      return { meterId: b.meterId, recorded: b.readings.length, duplicates: 0, results: b.readings.map((r) => ({ intervalStart: r.intervalStart, status: 'RECORDED' })) };
    }
    const r = JSON.parse(tx.transient!.reading!) as { meterId: string; intervalStart: number };
    return { meterId: r.meterId, intervalStart: r.intervalStart, status: 'RECORDED' };
  };
  const startsOf = (tx: { fn: string; transient?: Record<string, string> }): number[] =>
    tx.fn === 'meters:postReadings'
      ? (JSON.parse(tx.transient!.readings!) as { readings: Array<{ intervalStart: number }> }).readings.map((r) => r.intervalStart)
      : [(JSON.parse(tx.transient!.reading!) as { intervalStart: number }).intervalStart];

  /** Counts transactions between endorse and the end of submitPrepared, per signer and in total. */
  class TrackingLedger extends FakeLedger {
    readonly active = new Map<string, number>();
    maxPerSigner = 0;
    maxTotal = 0;
    private total = 0;
    private enter(k: string) {
      const n = (this.active.get(k) ?? 0) + 1;
      this.active.set(k, n);
      this.total++;
      this.maxPerSigner = Math.max(this.maxPerSigner, n);
      this.maxTotal = Math.max(this.maxTotal, this.total);
    }
    private leave(k: string) {
      this.active.set(k, this.active.get(k)! - 1);
      this.total--;
    }
    override async endorse(...a: Parameters<FakeLedger['endorse']>) {
      this.enter(a[0].key);
      try {
        return await super.endorse(...a);
      } catch (e) {
        this.leave(a[0].key);
        throw e;
      }
    }
    override async submitPrepared(...a: Parameters<FakeLedger['submitPrepared']>) {
      try {
        await new Promise((r) => setTimeout(r, 2)); // the ledger takes a while: others overlap meanwhile
        return await super.submitPrepared(...a);
      } finally {
        this.leave(a[0].key);
      }
    }
  }

  function worker(queue: DurableQueue, ledger: FakeLedger, o: { concurrency?: number; maxCoalesce?: number; pollIntervalMs?: number; writes?: GroupCommit; metrics?: ConstructorParameters<typeof DeliveryWorker>[0]['metrics'] } = {}) {
    return new DeliveryWorker({
      queue,
      ledger,
      identityFor: (m) => identity(`meter:${m}`),
      retry,
      pollIntervalMs: o.pollIntervalMs ?? 10,
      concurrency: o.concurrency ?? 64,
      maxCoalesce: o.maxCoalesce ?? 96,
      logger: silentLogger,
      ...(o.writes ? { writes: o.writes } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
    });
  }

  it('many meters in flight at once, never two transactions of one meter, each meter in order', async () => {
    const ledger = new TrackingLedger();
    ledger.result = chaincodeResult;
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const w = worker(queue, ledger, { concurrency: 16, maxCoalesce: 1 });
    const meters = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const ids: string[] = [];
    for (let n = 1; n <= 4; n++) for (const m of meters) ids.push(queue.enqueue(single(m, n * 900)).id);
    w.start();
    await Promise.all(ids.map((id) => w.waitForSettled(id, 30_000)));
    await w.stop();
    for (const id of ids) expect(queue.get(id)!.state).toBe('COMMITTED');
    expect(ledger.maxPerSigner).toBe(1);
    expect(ledger.maxTotal).toBeGreaterThan(4); // more than the old fixed 4
    expect(ledger.maxTotal).toBeLessThanOrEqual(12);
    for (const m of meters) {
      expect(ledger.applied.filter((t) => t.signer === `meter:${m}`).flatMap(startsOf)).toEqual([900, 1800, 2700, 3600]);
    }
    db.close();
  });

  it('coalesces a meter\'s queued single readings into one postReadings transaction; each receipt gets its own result', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincodeResult;
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const txs: Array<[number, number]> = [];
    const w = worker(queue, ledger, { metrics: { retry: () => undefined, delivered: () => undefined, transaction: (r, n) => txs.push([r, n]) } });
    const ids = [900, 1800, 2700, 3600, 4500].map((s) => queue.enqueue(single('m1', s)).id);
    const other = queue.enqueue(single('m2', 900)).id;
    await drain(w);
    expect(ledger.applied).toHaveLength(2);
    const batch = ledger.applied.find((t) => t.signer === 'meter:m1')!;
    expect(batch.fn).toBe('meters:postReadings');
    expect(batch.args).toEqual(['']);
    expect(JSON.parse(batch.transient!.readings!)).toEqual({
      meterId: 'm1',
      readings: [900, 1800, 2700, 3600, 4500].map((s) => ({ meterId: 'm1', intervalStart: s, intervalLength: 900, importWh: 1 })),
    });
    ids.forEach((id, i) => expect(queue.get(id)).toMatchObject({ state: 'COMMITTED', txId: batch.txId, result: { meterId: 'm1', intervalStart: 900 * (i + 1), status: 'RECORDED' } }));
    // a lone reading stays a postReading, exactly as before
    expect(ledger.applied.find((t) => t.signer === 'meter:m2')!.fn).toBe('meters:postReading');
    expect(queue.get(other)!.result).toEqual({ meterId: 'm2', intervalStart: 900, status: 'RECORDED' });
    expect(txs.sort()).toEqual([[1, 1], [5, 5]]);
    db.close();
  });

  it('coalesces only while intervals strictly increase and at most maxCoalesce; batches and stored transactions are never merged', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincodeResult;
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    for (const s of [900, 1800, 1800, 2700, 3600, 4500]) queue.enqueue(single('m1', s));
    queue.enqueue({ ...single('m1', 0), fn: 'meters:postReadings', transient: { readings: JSON.stringify({ meterId: 'm1', readings: [{ intervalStart: 5400 }, { intervalStart: 6300 }] }) }, itemCount: 2 });
    queue.enqueue(single('m1', 9000));
    await drain(worker(queue, ledger, { maxCoalesce: 3 }));
    expect(ledger.applied.map((t) => [t.fn, startsOf(t)])).toEqual([
      ['meters:postReadings', [900, 1800]], // the repeated 1800 ends the first batch
      ['meters:postReadings', [1800, 2700, 3600]], // maxCoalesce 3
      ['meters:postReading', [4500]], // the client's own batch is next: not merged into
      ['meters:postReadings', [5400, 6300]],
      ['meters:postReading', [9000]],
    ]);
    db.close();
  });

  it('a coalesced batch the chaincode refuses is delivered one by one: only the bad reading is rejected, with its own reason', async () => {
    const ledger = new FakeLedger();
    ledger.result = chaincodeResult;
    const real = ledger.endorse.bind(ledger);
    ledger.endorse = async (id, fn, args, transient) => {
      if (startsOf({ fn, transient }).includes(2700)) {
        ledger.endorseCalls++;
        throw chaincodeError(`[PRECONDITION_FAILED] ${fn === 'meters:postReadings' ? 'readings[2]' : 'reading'}: importRegisterWh 5 is below the last reading's 10`);
      }
      return real(id, fn, args, transient);
    };
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const ids = [900, 1800, 2700, 3600].map((s) => queue.enqueue(single('m1', s)).id);
    await drain(worker(queue, ledger));
    expect(ids.map((id) => queue.get(id)!.state)).toEqual(['COMMITTED', 'COMMITTED', 'REJECTED', 'COMMITTED']);
    expect(queue.get(ids[2]!)!.reason).toBe("reading: importRegisterWh 5 is below the last reading's 10");
    // 900 and 1800 each alone, 3600 alone (the refused batch's receipts are delivered one by one), in order
    expect(ledger.applied.map((t) => [t.fn, startsOf(t)])).toEqual([
      ['meters:postReading', [900]],
      ['meters:postReading', [1800]],
      ['meters:postReading', [3600]],
    ]);
    db.close();
  });

  it('crash after a coalesced batch was endorsed: the same transaction is re-sent and settles every receipt it carries, once', async () => {
    const dir = tmpDir();
    const ledger = new FakeLedger();
    ledger.result = chaincodeResult;
    const db1 = openDatabase(dir);
    const q1 = new DurableQueue(db1);
    const ids = [900, 1800, 2700].map((s) => q1.enqueue(single('m1', s)).id);
    ledger.hangAfterCommit = true;
    void worker(q1, ledger).runOnce();
    while (ledger.applied.length === 0) await new Promise((r) => setImmediate(r));
    db1.close(); // crash: committed on the ledger, not recorded here
    ledger.hangAfterCommit = false;
    const db2 = openDatabase(dir);
    const q2 = new DurableQueue(db2);
    const inDoubt = ids.map((id) => q2.get(id)!);
    expect(inDoubt.map((r) => r.state)).toEqual(['SUBMITTED', 'SUBMITTED', 'SUBMITTED']);
    expect(new Set(inDoubt.map((r) => r.txId)).size).toBe(1);
    await drain(worker(q2, ledger));
    expect(ids.map((id) => q2.get(id)!)).toEqual(ids.map(() => expect.objectContaining({ state: 'COMMITTED', txId: inDoubt[0]!.txId })));
    expect(ledger.applied).toHaveLength(1);
    expect(ledger.endorseCalls).toBe(1);
    db2.close();
  });

  it('wakes on enqueue: with a one-minute poll interval a kicked reading is delivered at once', async () => {
    const ledger = new FakeLedger();
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const w = worker(queue, ledger, { pollIntervalMs: 60_000 });
    w.start();
    await new Promise((r) => setTimeout(r, 20)); // the loop is idle, waiting
    const r = queue.enqueue(single('m1', 900));
    w.kick(); // what the REST handler does after queuing
    const settled = await w.waitForSettled(r.id, 10_000); // far less than the poll interval
    expect(settled!.state).toBe('COMMITTED');
    await w.stop();
    db.close();
  });
});

describe('GroupCommit', () => {
  it('commits the writes of one moment in ONE SQLite transaction and resolves each only after the COMMIT', async () => {
    const dir = tmpDir();
    const db = openDatabase(dir);
    const queue = new DurableQueue(db);
    const reader = openDatabase(dir); // another connection sees committed data only
    const commits: number[] = [];
    const writes = new GroupCommit(db, { maxBatch: 100, maxDelayMs: 0, onCommit: (n) => commits.push(n) });
    const pending = Array.from({ length: 10 }, (_, i) => writes.run(() => queue.enqueue(reading(`m${i}`, 1))));
    const countCommitted = () => (reader.prepare('SELECT COUNT(*) AS n FROM receipts').get() as { n: number }).n;
    expect(countCommitted()).toBe(0); // nothing answered yet, nothing committed yet
    let resolvedBeforeCommit = false;
    void pending[0]!.then(() => {
      if (countCommitted() !== 10) resolvedBeforeCommit = true;
    });
    const receipts = await Promise.all(pending);
    expect(resolvedBeforeCommit).toBe(false);
    expect(countCommitted()).toBe(10);
    expect(commits).toEqual([10]);
    expect(new Set(receipts.map((r) => r.id)).size).toBe(10);
    reader.close();
    db.close();
  });

  it('a write that throws is rolled back alone; the others of its group commit', async () => {
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const writes = new GroupCommit(db, { maxBatch: 100, maxDelayMs: 0 });
    const ok = writes.run(() => queue.enqueue(reading('m1', 1)));
    const bad = writes.run(() => {
      queue.enqueue(reading('m2', 1));
      throw new Error('no');
    });
    await Promise.all([expect(bad).rejects.toThrow('no'), expect(ok).resolves.toMatchObject({ meterId: 'm1' })]);
    expect(queue.counts().QUEUED).toBe(1);
    // a COMMIT that fails (no 202, nothing kept, key freed): app.test.ts 'group commit: ...'
    expect(db.inTransaction).toBe(false);
    db.close();
  });

  it('flushes at once when maxBatch writes wait', async () => {
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const commits: number[] = [];
    const writes = new GroupCommit(db, { maxBatch: 3, maxDelayMs: 60_000, onCommit: (n) => commits.push(n) });
    await Promise.all([1, 2, 3].map((n) => writes.run(() => queue.enqueue(reading('m1', n)))));
    expect(commits).toEqual([3]);
    db.close();
  });

  it('with an off-loop sync: commits without an fsync of its own and answers only after a sync that started after the COMMIT', async () => {
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    const syncs: Array<{ started: number; finish: (err?: Error) => void }> = [];
    let commitsSeen = 0;
    const countRows = () => (db.prepare('SELECT COUNT(*) AS n FROM receipts').get() as { n: number }).n;
    const sync = () =>
      new Promise<void>((resolve, reject) => {
        syncs.push({ started: countRows(), finish: (err) => (err ? reject(err) : resolve()) });
      });
    let synchronousDuringCommit: unknown;
    const writes = new GroupCommit(db, { maxBatch: 100, maxDelayMs: 0, onCommit: () => commitsSeen++, sync });
    const first = writes.run(() => {
      synchronousDuringCommit = db.pragma('synchronous', { simple: true });
      return queue.enqueue(reading('m1', 1));
    });
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(synchronousDuringCommit).toBe(1); // NORMAL: the COMMIT did not fsync on this thread
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL again for every other writer
    expect(syncs).toHaveLength(1);
    expect(syncs[0]!.started).toBe(1); // the sync started after the first group's COMMIT
    expect(firstDone).toBe(false); // committed, not yet answered
    syncs[0]!.finish();
    await expect(first).resolves.toMatchObject({ meterId: 'm1' });
    expect(commitsSeen).toBe(1);

    // every group asks for a sync after its own COMMIT (walSyncer below makes the ones that come while a sync runs share the next)
    const sA = writes.run(() => queue.enqueue(reading('m2', 1)));
    await new Promise((r) => setImmediate(r));
    const sB = writes.run(() => queue.enqueue(reading('m3', 1)));
    await new Promise((r) => setImmediate(r));
    expect(syncs.map((x) => x.started)).toEqual([1, 2, 3]);
    let bDone = false;
    void sB.then(() => (bDone = true), () => undefined);
    syncs[1]!.finish();
    await sA;
    await new Promise((r) => setImmediate(r));
    expect(bDone).toBe(false); // A's sync does not answer B
    syncs[2]!.finish(new Error('EIO'));
    await expect(sB).rejects.toThrow('EIO'); // a failed sync acknowledges nothing
    db.close();
  });

  it('walSyncer: fdatasyncs the WAL file off the event loop; concurrent callers share the next sync', async () => {
    const db = openDatabase(tmpDir());
    const queue = new DurableQueue(db);
    queue.enqueue(reading('m1', 1));
    const sync = walSyncer(db);
    const a = sync();
    const b = sync();
    const c = sync();
    expect(b).toBe(c); // one follow-up sync for everyone who came while one ran
    await expect(Promise.all([a, b, c])).resolves.toHaveLength(3);
    db.close();
  });
});
