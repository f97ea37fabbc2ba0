/**
 * Relayed readings (meters:registerKey / revokeKey / relayReadings, docs/market.md "Relayed
 * readings"): a meter registers its certificate's key itself; its utility's operator then relays
 * readings of many meters in one transaction, each signed by its meter; one verdict per reading.
 */
import { MAX_RELAY, type Reading } from '@gridledger/protocol';
import { identities, type IdentitySpec } from '../support/fakeIdentity';
import { expectCode, TestLedger } from '../support/ledger';
import { checkInvariants, MeterSim, newLedger, T0, U1, U2, who } from '../support/marketLedger';
import { ecCertificate, signRelayed, type TestKey } from '../support/certs';

const I0 = T0;
const CHANNEL = 'gridledger'; // the fake stub's channel

interface Meter {
  spec: IdentitySpec;
  key: TestKey;
  sim: MeterSim;
  id: string;
}

async function meter(mspId: string, id: string): Promise<Meter> {
  const key = await ecCertificate(id);
  const spec = { ...identities.meter(mspId, id, 'zone-a'), certPem: key.certPem };
  return { spec, key, sim: new MeterSim(spec), id };
}

const entry = (m: Meter, r: Reading, mspId = m.spec.mspId) => ({ meterId: m.id, reading: r, signature: signRelayed(m.key.privateKey, CHANNEL, mspId, r) });
const relay = (ledger: TestLedger, op: IdentitySpec, entries: unknown[]) =>
  ledger.submit<{ recorded: number; duplicates: number; refused: number; results: Array<Record<string, unknown>> }>(op, 'meters:relayReadings', [''], { transient: { relay: JSON.stringify({ entries }) } });

describe('relayed readings', () => {
  let ledger: TestLedger;
  let a: Meter;
  let b: Meter;
  beforeEach(async () => {
    ledger = newLedger();
    a = await meter(U1, 'meter-a');
    b = await meter(U1, 'meter-b');
  });
  afterEach(() => checkInvariants(ledger.world));

  it('a meter registers its own certificate key (idempotent; a new certificate replaces it); only the utility collection is written', async () => {
    const first = await ledger.submit<Record<string, unknown>>(a.spec, 'meters:registerKey');
    expect(first.result).toMatchObject({ mspId: U1, meterId: 'meter-a', status: 'ACTIVE', change: 'REGISTERED' });
    expect(first.result.keySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.stub.writes.size).toBe(0);
    expect([...first.stub.privateWrites.keys()]).toEqual(['Utility1MSPPrivateCollection']);
    expect((await ledger.submit(a.spec, 'meters:registerKey')).result).toMatchObject({ change: 'UNCHANGED', keySha256: first.result.keySha256 });
    const renewed = await ecCertificate('meter-a');
    const again = await ledger.submit<Record<string, unknown>>({ ...a.spec, certPem: renewed.certPem }, 'meters:registerKey');
    expect(again.result).toMatchObject({ change: 'REPLACED' });
    expect(again.result.keySha256).not.toBe(first.result.keySha256);
    // the old key no longer verifies; the new one does
    const r = a.sim.next(I0, 10, 20);
    expect((await relay(ledger, who.op1, [entry(a, r)])).result.results[0]).toMatchObject({ status: 'REFUSED', reason: 'BAD_SIGNATURE' });
    a.key = renewed;
    expect((await relay(ledger, who.op1, [entry(a, r)])).result.results[0]).toMatchObject({ status: 'RECORDED' });
  });

  it('records a good batch of several meters exactly as postReading would, one event per meter', async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    await ledger.submit(b.spec, 'meters:registerKey');
    const ra1 = a.sim.next(I0, 10, 20);
    const rb1 = b.sim.next(I0, 30, 40);
    const ra2 = a.sim.next(I0 + 900, 11, 21);
    const res = await relay(ledger, who.op1, [entry(a, ra1), entry(b, rb1), entry(a, ra2)]);
    expect(res.result).toEqual({
      mspId: U1,
      recorded: 3,
      duplicates: 0,
      refused: 0,
      results: [
        { meterId: 'meter-a', intervalStart: I0, status: 'RECORDED' },
        { meterId: 'meter-b', intervalStart: I0, status: 'RECORDED' },
        { meterId: 'meter-a', intervalStart: I0 + 900, status: 'RECORDED' },
      ],
    });
    expect(res.stub.writes.size).toBe(0);
    expect([...res.stub.privateWrites.keys()]).toEqual(['Utility1MSPPrivateCollection']);
    expect(res.stub.getArgs().join('')).not.toContain('"importWh"'); // values came as transient
    expect(res.events.map((e) => [e.name, e.payload])).toEqual([
      ['ReadingRecorded', { mspId: U1, meterId: 'meter-a', intervals: [I0, I0 + 900] }],
      ['ReadingRecorded', { mspId: U1, meterId: 'meter-b', intervals: [I0] }],
    ]);
    // the same records a meter's own transaction would have made: its own posts continue from them
    const head = await ledger.evaluate<Record<string, unknown>>(who.op1, 'meters:getHead', [U1, 'meter-a']);
    expect(head).toMatchObject({ lastIntervalStart: I0 + 900, readings: 2 });
    const stored = await ledger.evaluate<{ reading: Reading }>(a.spec, 'meters:getReading', ['meter-a', String(I0)]);
    expect(stored.reading).toEqual(ra1);
    await ledger.submit(a.spec, 'meters:postReading', [JSON.stringify(a.sim.next(I0 + 1800, 1, 1))]);
  });

  it("refuses a meter of another utility: an operator only finds its own utility's meters", async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    const r = a.sim.next(I0, 10, 20);
    // utility2's operator with meter-a's genuine signature (over utility1's message, or over its own)
    for (const e of [entry(a, r), entry(a, r, U2)]) {
      const res = await relay(ledger, who.op2, [e]);
      expect(res.result.results[0]).toMatchObject({ meterId: 'meter-a', status: 'REFUSED', reason: 'KEY_NOT_REGISTERED' });
      expect(res.events).toEqual([]);
    }
    // a same-named meter of utility2 with its own key: a utility1 signature does not verify for it
    const twin = await meter(U2, 'meter-a');
    await ledger.submit(twin.spec, 'meters:registerKey');
    expect((await relay(ledger, who.op2, [entry(a, r)])).result.results[0]).toMatchObject({ status: 'REFUSED', reason: 'BAD_SIGNATURE' });
    await expectCode(ledger.evaluate(a.spec, 'meters:getReading', ['meter-a', String(I0)]), 'NOT_FOUND');
  });

  it('only an operator relays; only a meter registers its key', async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    await expectCode(relay(ledger, a.spec, [entry(a, a.sim.next(I0, 1, 1))]), 'FORBIDDEN:WRONG_ROLE');
    await expectCode(ledger.submit(who.op1, 'meters:registerKey'), 'FORBIDDEN:WRONG_ROLE');
  });

  it('mixed verdicts: bad signature, unregistered key, duplicate, conflict and a not-ended interval each get their own; the rest is recorded', async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    await ledger.submit(b.spec, 'meters:registerKey');
    const c = await meter(U1, 'meter-c'); // no key registered
    const d = await meter(U1, 'meter-d');
    await ledger.submit(d.spec, 'meters:registerKey');
    const ra1 = a.sim.next(I0, 10, 20);
    await relay(ledger, who.op1, [entry(a, ra1)]);
    const ra2 = a.sim.next(I0 + 900, 10, 20);
    const rb1 = b.sim.next(I0, 5, 5);
    const rb2 = b.sim.next(I0 + 900, 5, 5);
    const forged = { ...entry(b, rb1), signature: entry(a, rb1).signature }; // signed by another meter's key
    const rc1 = c.sim.next(I0, 1, 1);
    const rd1 = d.sim.next(ledger.now, 1, 1); // interval not ended yet
    const conflicting = { ...ra1, importWh: 11, importRegisterWh: ra1.importRegisterWh + 1 };
    const res = await relay(ledger, who.op1, [entry(a, ra1), forged, entry(b, rb2), entry(c, rc1), entry(a, ra2), entry(d, rd1)]);
    expect(res.result.results).toEqual([
      { meterId: 'meter-a', intervalStart: I0, status: 'DUPLICATE' },
      { meterId: 'meter-b', intervalStart: I0, status: 'REFUSED', reason: 'BAD_SIGNATURE', detail: expect.stringContaining('does not verify') },
      { meterId: 'meter-b', intervalStart: I0 + 900, status: 'NOT_TRIED' },
      { meterId: 'meter-c', intervalStart: I0, status: 'REFUSED', reason: 'KEY_NOT_REGISTERED', detail: expect.stringContaining('registerKey') },
      { meterId: 'meter-a', intervalStart: I0 + 900, status: 'RECORDED' },
      { meterId: 'meter-d', intervalStart: ledger.now, status: 'REFUSED', reason: 'INTERVAL_NOT_ENDED', detail: expect.any(String) },
    ]);
    expect(res.result).toMatchObject({ recorded: 1, duplicates: 1, refused: 4 });
    const conflict = await relay(ledger, who.op1, [entry(a, conflicting)]);
    expect(conflict.result.results[0]).toMatchObject({ status: 'REFUSED', reason: 'READING_IMMUTABLE' });
    await expectCode(ledger.evaluate(who.op1, 'meters:getHead', [U1, 'meter-b']), 'NOT_FOUND'); // nothing of b was written
  });

  it('refuses out-of-order readings of one meter within the batch', async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    const r1 = a.sim.next(I0, 1, 1);
    const r2 = a.sim.next(I0 + 900, 1, 1);
    const res = await relay(ledger, who.op1, [entry(a, r2), entry(a, r1)]);
    expect(res.result.results.map((v) => [v.status, v.reason])).toEqual([['RECORDED', undefined], ['REFUSED', 'BAD_ORDER']]);
  });

  it("a revoked key: the meter's relayed readings are refused and it cannot register again", async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    // utility2's operator "revoking" meter-a only writes a tombstone in utility2's own collection
    await ledger.submit(who.op2, 'meters:revokeKey', ['meter-a']);
    expect((await relay(ledger, who.op1, [entry(a, a.sim.next(I0, 1, 1))])).result.results[0]).toMatchObject({ status: 'RECORDED' });
    const rev = await ledger.submit<Record<string, unknown>>(who.op1, 'meters:revokeKey', ['meter-a']);
    expect(rev.result).toMatchObject({ status: 'REVOKED', change: 'REVOKED' });
    const res = await relay(ledger, who.op1, [entry(a, a.sim.next(I0 + 900, 1, 1))]);
    expect(res.result.results[0]).toMatchObject({ status: 'REFUSED', reason: 'KEY_REVOKED' });
    await expectCode(ledger.submit(a.spec, 'meters:registerKey'), 'FORBIDDEN:KEY_REVOKED');
    await expectCode(ledger.submit(a.spec, 'meters:revokeKey', ['meter-a']), 'FORBIDDEN:WRONG_ROLE');
  });

  it(`bounds the batch at ${MAX_RELAY} readings and checks its shape`, async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    const many = Array.from({ length: MAX_RELAY + 1 }, (_, i) => entry(a, a.sim.next(I0 + 900 * i, 1, 1)));
    await expectCode(relay(ledger, who.op1, many), 'INVALID_ARGUMENT:BAD_BATCH');
    const ok = await relay(ledger, who.op1, many.slice(0, MAX_RELAY));
    expect(ok.result.recorded).toBe(MAX_RELAY);
    await expectCode(relay(ledger, who.op1, []), 'INVALID_ARGUMENT');
    await expectCode(relay(ledger, who.op1, [{ meterId: 'meter-a', reading: a.sim.next(I0, 1, 1) }]), 'INVALID_ARGUMENT');
  });

  it('is deterministic: two endorsers compute the same writes and answer', async () => {
    await ledger.submit(a.spec, 'meters:registerKey');
    await ledger.submit(b.spec, 'meters:registerKey');
    const entries = [entry(a, a.sim.next(I0, 1, 2)), entry(b, b.sim.next(I0, 3, 4))];
    const other = ledger.fork();
    const x = await relay(ledger, who.op1, entries);
    const y = await relay(other, who.op1, entries);
    expect(y.raw).toBe(x.raw);
    expect([...y.stub.privateWrites.get('Utility1MSPPrivateCollection')!.entries()]).toEqual([...x.stub.privateWrites.get('Utility1MSPPrivateCollection')!.entries()]);
  });
});
