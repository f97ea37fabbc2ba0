import { DeliveryWorker } from '../src/delivery/worker';
import { LedgerError } from '../src/fabric/errors';
import { openDatabase } from '../src/store/db';
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
    expect((await settled)!.state).toBe('committed');
    const c = queue.enqueue(reading('m1', 2));
    const started = Date.now();
    const pending = worker.waitForSettled(c.id, 60_000);
    await worker.stop();
    expect((await pending)!.state).toBe('queued');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(queue.get(b.id)!.state).toBe('committed');
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
    expect(again).toMatchObject({ id: r.id, meterId: 'm1', state: 'queued', args: r.args });
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
});

describe('DeliveryWorker', () => {
  it('delivers every receipt once, in order per meter', async () => {
    const ledger = new FakeLedger();
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const ids = [1, 2, 3].flatMap((n) => ['m1', 'm2'].map((m) => queue.enqueue(reading(m, n)).id));
    await drain(worker);
    for (const id of ids) expect(queue.get(id)!.state).toBe('committed');
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
    expect(done.state).toBe('committed');
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
    expect(queue.get(r.id)).toMatchObject({ state: 'queued', attempts: 1, lastError: expect.stringMatching(/^endorsement-mismatch: /) });
    await drain(worker);
    expect(queue.get(r.id)).toMatchObject({ state: 'committed', txId: 'tx1', attempts: 2 });
    expect(retried).toEqual(['endorsement-mismatch', 'endorsement-mismatch']);
    expect(ledger.endorseCalls).toBe(3);
    db.close();
  });

  it('re-sends the SAME transaction after a send failure or an unknown commit status', async () => {
    const ledger = new FakeLedger();
    ledger.script.push(
      { stage: 'submit', error: unavailable('submit') },
      { stage: 'commitStatus', error: new LedgerError({ stage: 'commitStatus', message: '4 DEADLINE_EXCEEDED', grpcCode: 4 }) },
    );
    const { db, queue, worker } = setup(tmpDir(), ledger);
    const r = queue.enqueue(reading('m1', 1));
    await drain(worker);
    expect(queue.get(r.id)).toMatchObject({ state: 'committed', txId: 'tx1' });
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
    expect(queue.get(r1.id)).toMatchObject({ state: 'rejected', reason: 'reading m1@1 conflicts with the recorded one' });
    expect((queue.get(r1.id)!.problem as { status: number }).status).toBe(409);
    expect(queue.get(r2.id)!.state).toBe('committed');
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
    expect(queue.get(r.id)).toMatchObject({ state: 'rejected', reason: 'meter m9 was revoked' });
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
    const inDoubt = ids.map((id) => second.queue.get(id)!).filter((r) => r.state === 'submitted');
    expect(inDoubt).toHaveLength(3);
    await drain(second.worker);
    for (const id of ids) expect(second.queue.get(id)!.state).toBe('committed');
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
    expect((await waiting)!.state).toBe('committed');
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
    ledger.result = (tx) => ({ meterId: 'm1', intervalStart: JSON.parse(tx.transient!.reading!).intervalStart, status: 'recorded' });
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
    expect(queue.get(r.id)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('below the last reading') });
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
    expect(q.get(pending.id)!.state).toBe('queued');
    db.close();
  });
});
