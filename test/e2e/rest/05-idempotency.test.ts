/**
 * Idempotency-Key: the same POST twice commits once (same receipt / tx id, replay flagged, one effect on
 * the ledger); the same key with another body is 422; keys are scoped per API key.
 */
import { BlockCeiling, RUN, enrolMeter, expectStatus, ledgerEvaluate, loadGateways, readingSeries, validDeliveriesFor, waitReceipt, type EnrolledMeter } from './support';

const gateways = loadGateways();
const gw = gateways[2] ?? gateways[0]!;

describe('Idempotency-Key', () => {
  let meter: EnrolledMeter;
  let ceiling: BlockCeiling;
  const series = readingSeries(4);
  beforeAll(async () => {
    meter = await enrolMeter(gw, `idem-${RUN}`, 'feeder-i');
    ceiling = await BlockCeiling.create(gw, `idem-marker-${RUN}`);
  });

  /** Every valid transaction that delivered readings for the meter from `from` up to now (its own, or its utility's relayed batches). */
  const meterTxsSince = async (from: number) => {
    const to = await ceiling.block();
    return (await validDeliveriesFor(gw.org, meter.certificatePem, from, to)).filter((t) => !ceiling.txIds.has(t.txId));
  };

  test('a queued reading POSTed twice with one key: one receipt, one transaction, one reading on the ledger', async () => {
    const key = `idem-reading-${meter.meterId}`;
    const path = `/api/v1/meters/${meter.meterId}/readings`;
    const first = await meter.client.post(path, series[0], { idempotencyKey: key });
    expectStatus(first, 202);
    const done = await waitReceipt(meter.client, first.body.receiptId);
    expect(done).toMatchObject({ state: 'COMMITTED', result: { status: 'RECORDED' } });

    const second = await meter.client.post(path, series[0], { idempotencyKey: key });
    expectStatus(second, 202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.receiptId).toBe(first.body.receiptId);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    const again = await waitReceipt(meter.client, second.body.receiptId);
    expect(again.txId).toBe(done.txId);
    expect(again.result.status).toBe('RECORDED'); // never re-submitted (a second submit would be a 'DUPLICATE')

    // the ledger: exactly one transaction by this meter since the first commit — the receipt's
    expect((await meterTxsSince(done.blockNumber!)).map((t) => t.txId)).toEqual([done.txId]);
    const onLedger = await ledgerEvaluate(gw.org, 'meters:getReading', [meter.meterId, String(series[0]!.intervalStart)]);
    expect(onLedger.reading).toMatchObject({ intervalStart: series[0]!.intervalStart, importWh: series[0]!.importWh });
  });

  test('a synchronous reading POSTed twice with one key: the replay is the original 200 answer, one transaction', async () => {
    const key = `idem-sync-${meter.meterId}`;
    const path = `/api/v1/meters/${meter.meterId}/readings?sync=true`;
    const first = await meter.client.post(path, series[1], { idempotencyKey: key });
    expectStatus(first, 200);
    expect(first.body.result.status).toBe('RECORDED');
    const second = await meter.client.post(path, series[1], { idempotencyKey: key });
    // the replay is the original answer: 200 with the same body (not a fresh 202 'queued')
    expectStatus(second, 200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    const settled = await waitReceipt(meter.client, second.body.receiptId);
    expect(settled.txId).toBe(first.body.txId);
    expect((await meterTxsSince(first.body.blockNumber)).map((t) => t.txId)).toEqual([first.body.txId]);
  });

  test('concurrent duplicates with one key: one receipt; the others are the replay or 409 idempotency-in-progress', async () => {
    const key = `idem-concurrent-${meter.meterId}`;
    const path = `/api/v1/meters/${meter.meterId}/readings`;
    const answers = await Promise.all([0, 1, 2, 3].map(() => meter.client.post(path, series[2], { idempotencyKey: key })));
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const a of answers) {
      if (a.status === 202) expect(a.body.receiptId).toBe(accepted[0]!.body.receiptId);
      else expectStatus(a, 409, 'idempotency-in-progress');
    }
    const done = await waitReceipt(meter.client, accepted[0]!.body.receiptId);
    expect(done.result.status).toBe('RECORDED');
    expect((await meterTxsSince(done.blockNumber!)).map((t) => t.txId)).toEqual([done.txId]);
  });

  test('the same key with a different body is 422 idempotency-key-reused and submits nothing', async () => {
    const key = `idem-reused-${meter.meterId}`;
    const path = `/api/v1/meters/${meter.meterId}/readings`;
    const first = await meter.client.post(path, series[3], { idempotencyKey: key });
    expectStatus(first, 202);
    const done = await waitReceipt(meter.client, first.body.receiptId);
    const other = { ...series[3]!, importWh: series[3]!.importWh + 5 };
    const reused = await meter.client.post(path, other, { idempotencyKey: key });
    expectStatus(reused, 422, 'idempotency-key-reused');
    // the same key on another URL is a different request too
    const otherUrl = await meter.client.post(`/api/v1/meters/${meter.meterId}/reading-batches`, { readings: [series[3]] }, { idempotencyKey: key });
    expectStatus(otherUrl, 422, 'idempotency-key-reused');
    const onLedger = await ledgerEvaluate(gw.org, 'meters:getReading', [meter.meterId, String(series[3]!.intervalStart)]);
    expect(onLedger.reading.importWh).toBe(series[3]!.importWh);
    expect((await meterTxsSince(done.blockNumber!)).map((t) => t.txId)).toEqual([done.txId]);
  });

  test('an operator enrolment replayed with its key returns the same meter without issuing a second API key', async () => {
    const operator = meter.client.withKey(gw.apiKeys.operator);
    const meterId = `idem-enrol-${RUN}`;
    const first = await operator.post('/api/v1/meters', { meterId, zone: 'feeder-i' }, { idempotencyKey: `enrol-${meterId}` });
    expectStatus(first, 201);
    const second = await operator.post('/api/v1/meters', { meterId, zone: 'feeder-i' }, { idempotencyKey: `enrol-${meterId}` });
    expectStatus(second, 201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.ledgerTxId).toBe(first.body.ledgerTxId);
    expect(second.body.apiKeyId).toBe(first.body.apiKeyId);
    expect(second.body.apiKey).not.toBe(first.body.apiKey); // the plaintext key is shown only once
    const works = await meter.client.withKey(first.body.apiKey).get('/api/v1/participants/me');
    expectStatus(works, 200);
    expect(works.body.meterId).toBe(meterId);
  });
});
