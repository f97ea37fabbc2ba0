import { expectCode, TestLedger } from '../support/ledger';
import { checkInvariants, exportProof, MeterSim, newLedger, T0, U1, who } from '../support/marketLedger';
import { nth } from '../support/lists';

const I0 = T0; // first interval of day 1 (all of day 1 has ended at ledger time)

describe('meter readings', () => {
  let ledger: TestLedger;
  let m: MeterSim;
  beforeEach(() => {
    ledger = newLedger();
    m = new MeterSim(who.seller);
  });
  afterEach(() => checkInvariants(ledger.world));

  it('writes ONLY to the meter utility collection (no public key), hashes on the channel', async () => {
    const r = m.next(I0, 120, 480);
    const res = await ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(r)]);
    expect(res.result).toEqual({ meterId: 'meter-s1', intervalStart: I0, status: 'RECORDED' });
    // No public write at all: Fabric then validates against the collection's endorsement policy only.
    expect(res.stub.writes.size).toBe(0);
    expect([...res.stub.privateWrites.keys()]).toEqual(['Utility1MSPPrivateCollection']);
    const priv = ledger.world.privateData.get('Utility1MSPPrivateCollection')!;
    const records = [...priv.entries()].map(([k, v]) => ({ type: k.split('\u0000')[1], value: JSON.parse(Buffer.from(v).toString()) }));
    expect(records.map((x) => x.type).sort()).toEqual(['gl.market.meterHead', 'gl.market.reading', 'gl.market.readingProof', 'gl.market.readingProof']);
    expect(records.find((x) => x.type === 'gl.market.reading')!.value).toMatchObject({ importWh: 120, exportWh: 480 });
    expect(ledger.world.state.size).toBe(0);
    expect(res.events.map((e) => e.name)).toEqual(['ReadingRecorded']);
    // Anyone (any peer) can see that the reading exists and its hash, never its values.
    const h = await ledger.evaluate<{ readingHash: string }>(who.op2, 'meters:getReadingHash', [U1, 'meter-s1', String(I0)]);
    expect(h.readingHash).toMatch(/^[0-9a-f]{64}$/);
    await expectCode(ledger.evaluate(who.op2, 'meters:getReadingHash', [U1, 'meter-s1', String(I0 + 900)]), 'NOT_FOUND');
  });

  it('the export/import proofs disclose one flow each and match the channel hashes', async () => {
    const r = m.next(I0, 120, 480);
    await ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(r)]);
    const exp = await ledger.evaluate<Record<string, unknown>>(who.seller, 'meters:getProof', ['meter-s1', String(I0), 'export']);
    expect(exp).toEqual(JSON.parse(exportProof(r)));
    expect(Object.keys(exp).sort()).toEqual(['direction', 'intervalLength', 'intervalStart', 'meterId', 'salt', 'wh']);
    expect(exp.wh).toBe(480);
    const imp = await ledger.evaluate<Record<string, unknown>>(who.op1, 'meters:getProof', ['meter-s1', String(I0), 'import']);
    expect(imp).toMatchObject({ direction: 'import', wh: 120 });
    expect(imp.salt).not.toBe(exp.salt);
    await expectCode(ledger.evaluate(who.buyer2, 'meters:getProof', ['meter-s1', String(I0), 'export']), 'FORBIDDEN');
    await expectCode(ledger.evaluate(who.op2, 'meters:getProof', ['meter-s1', String(I0), 'export']), 'NOT_FOUND');
    await expectCode(ledger.evaluate(who.seller, 'meters:getProof', ['meter-s1', String(I0), 'both']), 'INVALID_ARGUMENT');
  });

  it('keeps raw values off the block when passed as transient', async () => {
    const r = m.next(I0, 120, 480);
    const res = await ledger.submit(who.seller, 'meters:postReading', [''], { transient: { reading: JSON.stringify(r) } });
    expect(res.result).toMatchObject({ status: 'RECORDED' });
    expect(res.stub.getArgs().join('')).not.toContain('480');
  });

  it('an identical re-post is a no-op; a conflicting one is rejected', async () => {
    const r = m.next(I0, 120, 480);
    await ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(r)]);
    const again = await ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(r)]);
    expect(again.result).toMatchObject({ status: 'DUPLICATE' });
    expect(again.stub.writes.size).toBe(0);
    // Only the meter head is rewritten, byte for byte (so the re-post plans on the collection policy).
    const pw = again.stub.privateWrites;
    expect([...pw.keys()]).toEqual([`${U1}PrivateCollection`]);
    const [headKey, headBytes] = nth([...pw.get(`${U1}PrivateCollection`)!.entries()], 0);
    expect(headKey).toContain('meter-s1');
    const stored = await ledger.evaluate<Record<string, unknown>>(who.seller, 'meters:getHead', [U1, 'meter-s1']);
    expect(JSON.parse(Buffer.from(headBytes!).toString('utf8'))).toMatchObject({ lastIntervalStart: stored.lastIntervalStart, readings: stored.readings });
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify({ ...r, exportWh: 481 })]), 'CONFLICT', /already posted a different reading/);
  });

  it('only the meter itself may post its readings', async () => {
    const r = m.next(I0, 1, 1);
    await expectCode(ledger.submit(who.buyer2, 'meters:postReading', [JSON.stringify(r)]), 'FORBIDDEN', /only post its own/);
    await expectCode(ledger.submit(who.op1, 'meters:postReading', [JSON.stringify(r)]), 'FORBIDDEN', /needs role meter/);
    await expectCode(ledger.submit({ mspId: U1, id: 'x', attrs: {} }, 'meters:postReading', [JSON.stringify(r)]), 'UNAUTHENTICATED');
  });

  it('validates shape and interval bounds', async () => {
    await expectCode(ledger.submit(who.seller, 'meters:postReading', ['{']), 'INVALID_ARGUMENT', /did not parse/);
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify({ ...m.next(I0, 1, 1), importWh: 0.5 })]), 'INVALID_ARGUMENT', /importWh must be an integer/);
    const future = m.next(ledger.now - 300, 1, 1);
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(future)]), 'INVALID_ARGUMENT', /aligned/);
    const open = m.next(ledger.now - 450 - 450, 1, 1); // aligned interval that ends in the future? ends now-0
    open.intervalStart = ledger.now; // the current interval has not ended
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(open)]), 'PRECONDITION_FAILED', /has not ended/);
  });

  it('registers never go backwards: checked against the head kept in the utility collection', async () => {
    await m.post(ledger, m.next(I0, 100, 100));
    const next = m.next(I0 + 900, 50, 60);
    const backwards = { ...next, importRegisterWh: (m.last as { importRegisterWh: number }).importRegisterWh - 1 };
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(backwards)]), 'CONFLICT', /went backwards/);
    const tooSmall = { ...next, exportRegisterWh: (m.last as { exportRegisterWh: number }).exportRegisterWh + 59 };
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(tooSmall)]), 'CONFLICT', /exportRegisterWh/);
    // No transient previousReading needed (an old gateway's one is ignored, even a wrong one).
    const ok = await ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(next)], { transient: { previousReading: '{"bogus":1}' } });
    expect(ok.result).toMatchObject({ status: 'RECORDED' });
    m.last = next;
    const older = m.next(I0 - 900, 1, 1);
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(older)]), 'CONFLICT', /interval order/);
    const head = await ledger.evaluate<Record<string, unknown>>(who.op1, 'meters:getHead', [U1, 'meter-s1']);
    expect(head).toMatchObject({ lastIntervalStart: I0 + 900, readings: 2 });
    expect(head.last).toBeUndefined();
    await expectCode(ledger.evaluate(who.op2, 'meters:getHead', [U1, 'meter-s1']), 'FORBIDDEN');
  });

  it('posts a batch of intervals in one transaction, idempotently', async () => {
    const rs = [0, 1, 2, 3].map((i) => m.next(I0 + i * 900, 10 * i, 20 * i));
    const batch = { meterId: 'meter-s1', readings: rs.map(({ meterId: _m, ...rest }) => rest) };
    const res = await ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify(batch)]);
    expect(res.result).toMatchObject({ meterId: 'meter-s1', recorded: 4, duplicates: 0 });
    const retry = await ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify(batch)]);
    expect(retry.result).toMatchObject({ recorded: 0, duplicates: 4 });
    expect(retry.stub.writes.size).toBe(0);
    // Only the unchanged meter head is rewritten (one private key); no reading or proof is written again.
    expect([...retry.stub.privateWrites.get(`${U1}PrivateCollection`)!.keys()]).toHaveLength(1);
    // A retried batch that overlaps and extends: duplicates plus new ones, chained without transient.
    const more = [4, 5].map((i) => m.next(I0 + i * 900, 1, 2));
    const overlap = { meterId: 'meter-s1', readings: [...rs.slice(2), ...more] };
    expect((await ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify(overlap)])).result).toMatchObject({ recorded: 2, duplicates: 2 });
    const head = await ledger.evaluate<{ lastIntervalStart: number; readings: number }>(who.seller, 'meters:getHead', [U1, 'meter-s1']);
    expect(head).toMatchObject({ lastIntervalStart: I0 + 5 * 900, readings: 6 });
  });

  it('takes a batch from the transient map, keeping it off the block', async () => {
    const rs = [0, 1].map((i) => m.next(I0 + i * 900, 11, 22));
    const res = await ledger.submit(who.seller, 'meters:postReadings', [''], { transient: { readings: JSON.stringify({ meterId: 'meter-s1', readings: rs }) } });
    expect(res.result).toMatchObject({ recorded: 2 });
    expect(res.stub.getArgs().join(' ')).not.toContain('22');
    await expectCode(ledger.submit(who.seller, 'meters:postReadings', ['']), 'INVALID_ARGUMENT', /transient "readings" is missing/);
  });

  it('rejects bad batches', async () => {
    const rs = [0, 1].map((i) => m.next(I0 + i * 900, 1, 1));
    await expectCode(ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify({ meterId: 'meter-b2', readings: rs })]), 'FORBIDDEN');
    await expectCode(ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify({ meterId: 'meter-s1', readings: [rs[1], rs[0]] })]), 'INVALID_ARGUMENT', /increasing/);
    await expectCode(ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify({ meterId: 'meter-s1', readings: [] })]), 'INVALID_ARGUMENT');
    await expectCode(ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify({ meterId: 'meter-s1', readings: [rs[0], { ...rs[1], meterId: 'other' }] })]), 'FORBIDDEN');
    // A bad item fails the whole batch: nothing is half-written.
    const bad = { meterId: 'meter-s1', readings: [rs[0], { ...rs[1], importRegisterWh: 0 }] };
    await expectCode(ledger.submit(who.seller, 'meters:postReadings', [JSON.stringify(bad)]), 'INVALID_ARGUMENT');
    expect(ledger.world.state.size).toBe(0);
    expect(ledger.world.privateData.size).toBe(0);
  });

  it('meters posting the same interval at once touch disjoint keys (no MVCC conflict)', async () => {
    const meters = Array.from({ length: 20 }, (_, i) => new MeterSim({ mspId: U1, id: `m-${i}`, attrs: { role: 'meter', meterId: `m-${i}`, zone: 'z' } }));
    const runs = await Promise.all(meters.map((mm) => ledger.run(mm.spec, 'meters:postReading', [JSON.stringify(mm.next(I0, 5, 5))])));
    const touched = runs.map((r) => new Set([...r.stub.readKeys, ...r.stub.writes.keys(), ...[...r.stub.privateWrites.values()].flatMap((w) => [...w.keys()])]));
    for (const r of runs) expect(r.stub.writes.size).toBe(0);
    // Only the regulator's parameter documents (governance, and market for minIntervalSeconds) are read by all:
    // read-only here, so they never conflict.
    for (let i = 0; i < touched.length; i++) for (let j = i + 1; j < touched.length; j++) {
      const shared = [...nth(touched, i)].filter((k) => nth(touched, j).has(k) && !k.includes('gl.parameters') && !k.includes('gl.market.params'));
      expect(shared).toEqual([]);
    }
  });

  it('the meter and its utility read the raw reading; others cannot', async () => {
    await m.post(ledger, m.next(I0, 7, 8));
    const own = await ledger.evaluate<{ reading: { exportWh: number } }>(who.seller, 'meters:getReading', ['meter-s1', String(I0)]);
    expect(own.reading.exportWh).toBe(8);
    const op = await ledger.evaluate<{ reading: { exportWh: number }; readingHash: string }>(who.op1, 'meters:getReading', ['meter-s1', String(I0)]);
    expect(op.reading.exportWh).toBe(8);
    await expectCode(ledger.evaluate(who.op2, 'meters:getReading', ['meter-s1', String(I0)]), 'NOT_FOUND');
    await expectCode(ledger.evaluate(who.buyer2, 'meters:getReading', ['meter-s1', String(I0)]), 'FORBIDDEN');
  });

  it('a 60 s reading is refused under production parameters and accepted once the regulator set minIntervalSeconds 60', async () => {
    const short = { ...m.next(I0 + 60, 5, 6), intervalLength: 60 };
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(short)]), 'INVALID_ARGUMENT');
    await expectCode(ledger.submit(who.op1, 'market:setParameters', [JSON.stringify({ minIntervalSeconds: 60 })]), 'FORBIDDEN');
    await ledger.submit(who.regulator, 'market:setParameters', [JSON.stringify({ minIntervalSeconds: 60 })]);
    const res = await ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(short)]);
    expect(res.result).toEqual({ meterId: 'meter-s1', intervalStart: I0 + 60, status: 'RECORDED' });
    const next = { ...m.next(I0 + 150, 1, 1), intervalLength: 60 };
    await expectCode(ledger.submit(who.seller, 'meters:postReading', [JSON.stringify(next)]), 'INVALID_ARGUMENT');
  });
});
