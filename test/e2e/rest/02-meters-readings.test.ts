/**
 * Meter enrolment by an operator (CA-issued X.509 with role/meterId/zone, seen by the chaincode through
 * participants/me) and readings: single (sync and queued → receipt → committed), batch, an identical
 * re-post is a no-op, a conflicting re-post is refused with a 409 problem.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { relayedReadingMessage } from '@gridledger/protocol';
import { loadNetwork } from '../support';
import { RUN, enrolMeter, evaluateRelay, expectCommittedBy, expectRelayedBy, expectStatus, ledgerEvaluate, loadGateways, readingSeries, waitReceipt, type EnrolledMeter } from './support';

const gateways = loadGateways();
const gw = gateways[0]!;

/** Fabric CA puts ecert attributes in extension 1.2.3.4.5.6.7.8.1 as JSON {"attrs":{...}}. */
function certAttrs(pem: string): Record<string, string> {
  const cert = new x509.X509Certificate(pem);
  const ext = cert.extensions.find((e) => e.type === '1.2.3.4.5.6.7.8.1');
  if (!ext) throw new Error('certificate has no Fabric CA attribute extension');
  return (JSON.parse(Buffer.from(ext.value).toString('utf8')) as { attrs: Record<string, string> }).attrs;
}

describe('meter enrolment by the operator', () => {
  let meter: EnrolledMeter;
  beforeAll(async () => {
    meter = await enrolMeter(gw, `enrol-${RUN}`, 'feeder-7');
  });

  test('the CA issued an X.509 certificate with role=meter, meterId and zone; the ledger sees them via participants/me', async () => {
    const cert = new x509.X509Certificate(meter.certificatePem);
    expect(cert.subject).toContain(`CN=${meter.meterId}`);
    expect(certAttrs(meter.certificatePem)).toMatchObject({ role: 'meter', meterId: meter.meterId, zone: 'feeder-7' });
    expect(meter.mspId).toBe(gw.mspId);
    const me = await meter.client.get('/api/v1/participants/me');
    expectStatus(me, 200);
    expect(me.body).toMatchObject({ mspId: gw.mspId, role: 'meter', meterId: meter.meterId, zone: 'feeder-7' });
    expect(me.body.participantId).toMatch(/^p-[0-9a-f]{32}$/);
  });

  test('GET /api/v1/meters/{id} shows it active to the operator and to the meter itself', async () => {
    const asOperator = await meter.client.withKey(gw.apiKeys.operator).get(`/api/v1/meters/${meter.meterId}`);
    expectStatus(asOperator, 200);
    expect(asOperator.body).toMatchObject({ meterId: meter.meterId, zone: 'feeder-7', status: 'ACTIVE', mspId: gw.mspId, ledgerTxId: meter.ledgerTxId });
    const asSelf = await meter.client.get(`/api/v1/meters/${meter.meterId}`);
    expectStatus(asSelf, 200);
    expect(asSelf.body.status).toBe('ACTIVE');
  });

  test('enrolling the same meter id again is a clear 409', async () => {
    const again = await meter.client.withKey(gw.apiKeys.operator).post('/api/v1/meters', { meterId: meter.meterId, zone: 'feeder-7' });
    expectStatus(again, 409, 'meter-already-enrolled');
  });
});

describe('readings', () => {
  let meter: EnrolledMeter;
  const series = readingSeries(8);
  beforeAll(async () => {
    meter = await enrolMeter(gw, `read-${RUN}`, 'feeder-8');
  });

  test('single reading, sync: 200 with the committed receipt; relayed in a batch valid in that block, signed by the utility\'s operator (the reading by the meter\'s key); the reading is on the ledger', async () => {
    const r = series[0]!;
    const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings?sync=true`, r);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ state: 'COMMITTED', itemCount: 1, result: { status: 'RECORDED', intervalStart: r.intervalStart } });
    // the enrolment registered the meter's certificate key on the ledger, so its single readings are relayed
    await expectRelayedBy(gw.org, res.body.txId, res.body.blockNumber);
    const onLedger = await ledgerEvaluate(gw.org, 'meters:getReading', [meter.meterId, String(r.intervalStart)]);
    expect(onLedger.reading).toMatchObject({ importWh: r.importWh, exportWh: r.exportWh, exportRegisterWh: r.exportRegisterWh });
  });

  test('single reading, queued: 202 + Location receipt → committed', async () => {
    const r = series[1]!;
    const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings`, r);
    expectStatus(res, 202);
    expect(res.body.state).toMatch(/^(QUEUED|SUBMITTED|COMMITTED)$/);
    expect(res.headers.get('location')).toBe(`/api/v1/receipts/${res.body.receiptId}`);
    const done = await waitReceipt(meter.client, res.body.receiptId);
    expect(done).toMatchObject({ state: 'COMMITTED', meterId: meter.meterId, result: { status: 'RECORDED', intervalStart: r.intervalStart } });
    expect(done.txId).toMatch(/^[0-9a-f]{64}$/);
    await expectRelayedBy(gw.org, done.txId!, done.blockNumber!);
    const onLedger = await ledgerEvaluate(gw.org, 'meters:getReading', [meter.meterId, String(r.intervalStart)]);
    expect(onLedger.reading).toMatchObject({ importWh: r.importWh, exportWh: r.exportWh });
  });

  test('batch of 5 readings: one transaction, all recorded', async () => {
    const batch = series.slice(2, 7);
    const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/reading-batches`, { readings: batch });
    expectStatus(res, 202);
    expect(res.body.itemCount).toBe(5);
    const done = await waitReceipt(meter.client, res.body.receiptId);
    expect(done).toMatchObject({ state: 'COMMITTED', function: 'meters:postReadings', result: { meterId: meter.meterId, recorded: 5, duplicates: 0 } });
    await expectCommittedBy(gw.org, meter.certificatePem, done.txId!, done.blockNumber!);
    for (const r of batch) {
      const onLedger = await ledgerEvaluate(gw.org, 'meters:getReading', [meter.meterId, String(r.intervalStart)]);
      expect(onLedger.reading).toMatchObject({ intervalStart: r.intervalStart, importWh: r.importWh, exportRegisterWh: r.exportRegisterWh });
    }
  });

  test('re-posting an identical reading is a no-op (duplicate); the ledger keeps the first reading', async () => {
    const r = series[1]!;
    const first = await ledgerEvaluate(gw.org, 'meters:getReading', [meter.meterId, String(r.intervalStart)]);
    const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings?sync=true`, r);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ state: 'COMMITTED', result: { status: 'DUPLICATE', intervalStart: r.intervalStart } });
    const after = await ledgerEvaluate(gw.org, 'meters:getReading', [meter.meterId, String(r.intervalStart)]);
    expect(after.readingHash).toBe(first.readingHash);
    expect(after.reading).toEqual(first.reading);
  });

  test('a conflicting re-post of a recorded interval is rejected with a 409 chaincode-conflict problem; the ledger is unchanged', async () => {
    // its own meter, so this verdict does not wait behind the other tests' receipts (delivery is in order per meter)
    const other = await enrolMeter(gw, `conflict-${RUN}`, 'feeder-8');
    const r = series[0]!;
    const first = await other.client.post(`/api/v1/meters/${other.meterId}/readings?sync=true`, r);
    expectStatus(first, 200);
    const before = await ledgerEvaluate(gw.org, 'meters:getReading', [other.meterId, String(r.intervalStart)]);
    const res = await other.client.post(`/api/v1/meters/${other.meterId}/readings`, { ...r, importWh: r.importWh + 1 });
    expectStatus(res, 202);
    const done = await waitReceipt(other.client, res.body.receiptId);
    expect(done.state).toBe('REJECTED');
    expect(done.reason).toMatch(/already posted a different reading/);
    expect(done.problem).toMatchObject({ status: 409, type: 'urn:gridledger:problem:chaincode-conflict' });
    const after = await ledgerEvaluate(gw.org, 'meters:getReading', [other.meterId, String(r.intervalStart)]);
    expect(after.readingHash).toBe(before.readingHash);
    expect(after.reading.importWh).toBe(r.importWh);
  });

  test('an invalid reading is a 400 naming the field (never queued)', async () => {
    const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings`, { ...series[7]!, importWh: -1 });
    expectStatus(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'body', pointer: '/importWh' })]));
  });
});

describe('relayed readings: the ledger checks each meter\'s own key', () => {
  let meter: EnrolledMeter;
  const series = readingSeries(2);
  beforeAll(async () => {
    meter = await enrolMeter(gw, `relay-${RUN}`, 'feeder-9');
  });

  test('a reading whose signature is not the meter\'s is refused; another utility\'s operator never finds the meter', async () => {
    const net = loadNetwork();
    const r = { ...series[0]!, meterId: meter.meterId };
    // a well-formed signature by a key that is not the meter's
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = sign('sha256', relayedReadingMessage(net.channel, gw.mspId, r), { key: privateKey, dsaEncoding: 'der' }).toString('base64');
    const own = await evaluateRelay(gw.org, [{ meterId: meter.meterId, reading: r, signature: forged }]);
    expect(own.results).toEqual([expect.objectContaining({ meterId: meter.meterId, status: 'REFUSED', reason: 'BAD_SIGNATURE' })]);
    const other = gateways.find((g) => g.mspId !== gw.mspId)!;
    const foreign = await evaluateRelay(other.org, [{ meterId: meter.meterId, reading: r, signature: forged }]);
    expect(foreign.results).toEqual([expect.objectContaining({ meterId: meter.meterId, status: 'REFUSED', reason: 'KEY_NOT_REGISTERED' })]);
    // the same reading through the meter's own gateway is relayed with the meter's real signature and recorded
    const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings?sync=true`, series[0]);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ state: 'COMMITTED', result: { status: 'RECORDED' } });
    await expectRelayedBy(gw.org, res.body.txId, res.body.blockNumber);
  });
});
