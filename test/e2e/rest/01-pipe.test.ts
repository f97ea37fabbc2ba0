/**
 * The thin pipe (issue 6 item 4) through every utility's gateway: liveness, readiness with the peer,
 * chaincode and CA checks, and one POST that submits as a real CA-enrolled meter identity and waits for
 * the commit status (tx id + chaincode result).
 */
import { RUN, RestClient, enrolMeter, expectStatus, loadGateways, readingSeries } from './support';

const gateways = loadGateways();

describe('thin pipe: health, readiness, one committed POST', () => {
  test.each(gateways.map((g) => [g.org, g] as const))('GET /health of %s is alive', async (_org, gw) => {
    const res = await new RestClient(gw.url).get('/health', { apiKey: null });
    expectStatus(res, 200);
    expect(res.body.status).toBe('ok');
    expect(typeof res.body.uptimeSeconds).toBe('number');
  });

  test.each(gateways.map((g) => [g.org, g] as const))('GET /ready of %s reports peer gateway, chaincode and CA ok', async (_org, gw) => {
    const res = await new RestClient(gw.url).get('/ready', { apiKey: null });
    expectStatus(res, 200);
    expect(res.body.status).toBe('ready');
    for (const check of ['peerGateway', 'chaincode', 'ca']) {
      expect(res.body.checks[check]).toMatchObject({ ok: true });
      expect(typeof res.body.checks[check].latencyMs).toBe('number');
    }
  });

  test('POST a reading ?sync=true as a CA-enrolled meter: submitted, committed, tx id and chaincode result returned', async () => {
    const gw = gateways[0]!;
    const meter = await enrolMeter(gw, `pipe-${RUN}`, 'zone-pipe');
    expect(meter.ledgerTxId).toMatch(/^[0-9a-f]{64}$/);
    const [reading] = readingSeries(1);
    const res = await meter.client.post(`/api/v1/meters/${meter.meterId}/readings?sync=true`, reading, { idempotencyKey: `pipe-${meter.meterId}` });
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ meterId: meter.meterId, state: 'COMMITTED', function: 'meters:postReading' });
    expect(res.body.txId).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isInteger(res.body.blockNumber)).toBe(true);
    expect(res.body.result).toEqual({ meterId: meter.meterId, intervalStart: reading!.intervalStart, status: 'RECORDED' });
  });
});
