/**
 * Authorisation: a meter's key acts only for its meter, operator routes only for operator keys, no key
 * is a 401 — and the chaincode refuses the same thing when the gateway is bypassed (a client holding
 * meter A's CA-issued certificate and key, talking to the peer gateway with @hyperledger/fabric-gateway).
 */
import { EndorseError } from '@hyperledger/fabric-gateway';
import { CaHelper, connectOrg, loadNetwork, org, rejectionOf, utf8 } from '../support';
import { RUN, enrolMeter, expectStatus, ledgerEvaluate, loadGateways, readingSeries, type EnrolledMeter } from './support';

const gateways = loadGateways();
const gw = gateways[0]!;

describe('authorisation at the gateway', () => {
  let a: EnrolledMeter;
  let b: EnrolledMeter;
  const [reading] = readingSeries(1);
  beforeAll(async () => {
    a = await enrolMeter(gw, `authz-a-${RUN}`, 'feeder-a');
    b = await enrolMeter(gw, `authz-b-${RUN}`, 'feeder-b');
  });

  test("meter A's key cannot post meter B's reading (403 forbidden-meter naming both) and nothing reaches the ledger", async () => {
    const single = await a.client.post(`/api/v1/meters/${b.meterId}/readings`, reading);
    expectStatus(single, 403, 'forbidden-meter');
    expect(single.body.detail).toContain(b.meterId);
    const batch = await a.client.post(`/api/v1/meters/${b.meterId}/reading-batches`, { readings: [reading] });
    expectStatus(batch, 403, 'forbidden-meter');
    const err = await rejectionOf(ledgerEvaluate(gw.org, 'meters:getReading', [b.meterId, String(reading!.intervalStart)]));
    expect(String((err as Error).message) + JSON.stringify((err as EndorseError).details ?? [])).toMatch(/NOT_FOUND/);
  });

  test("meter A's key cannot act as meter B in a body (join) nor read B's identity", async () => {
    const join = await a.client.post('/api/v1/participants/join', { meterId: b.meterId, request: { stake: 0 } });
    expectStatus(join, 403, 'forbidden-meter');
    const me = await a.client.get(`/api/v1/participants/me?meterId=${b.meterId}`);
    expectStatus(me, 403, 'forbidden-meter');
    const meter = await a.client.get(`/api/v1/meters/${b.meterId}`);
    expectStatus(meter, 403, 'forbidden-meter');
  });

  test('meter and regulator keys cannot use operator routes (403 forbidden-role)', async () => {
    const regulatorKey = gateways.find((g) => g.apiKeys.regulator)!.apiKeys.regulator!;
    for (const key of [a.apiKey, regulatorKey]) {
      const enrol = await a.client.post('/api/v1/meters', { meterId: `authz-x-${RUN}`, zone: 'z' }, { apiKey: key });
      expectStatus(enrol, 403, 'forbidden-role');
      const revoke = await a.client.post(`/api/v1/meters/${b.meterId}/revocation`, {}, { apiKey: key });
      expectStatus(revoke, 403, 'forbidden-role');
      const credit = await a.client.post('/api/v1/wallets/p-00000000000000000000000000000000/credits', { amount: 1, reference: `authz-${RUN}` }, { apiKey: key });
      expectStatus(credit, 403, 'forbidden-role');
    }
    // B is still active: the refused revocation had no effect
    const bState = await b.client.get(`/api/v1/meters/${b.meterId}`);
    expect(bState.body.status).toBe('ACTIVE');
  });

  test('only the gateway of the org holding the regulator identity issues a regulator key (network.json)', () => {
    const net = loadNetwork();
    const holders = net.organizations.filter((o) => Object.keys(o.users).some((u) => u.startsWith('regulator'))).map((o) => o.name);
    expect(holders).toHaveLength(1);
    expect(gateways.filter((g) => g.apiKeys.regulator).map((g) => g.org)).toEqual(holders);
  });

  test('no key, a malformed header and an unknown key are 401 with WWW-Authenticate: Bearer', async () => {
    const none = await a.client.post(`/api/v1/meters/${a.meterId}/readings`, reading, { apiKey: null });
    expectStatus(none, 401, 'unauthenticated');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const malformed = await a.client.get('/api/v1/participants/me', { apiKey: null, headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expectStatus(malformed, 401, 'unauthenticated');
    const unknown = await a.client.get('/api/v1/participants/me', { apiKey: 'glk_this-key-was-never-issued' });
    expectStatus(unknown, 401, 'unauthenticated');
  });
});

describe('the chaincode refuses the same when the gateway is bypassed', () => {
  test("meter A's own CA-issued identity, straight to the peer gateway: own reading committed, meter B's reading → EndorseError [FORBIDDEN:OTHER_METER]", async () => {
    const net = loadNetwork();
    const o = org(net, gw.org);
    const a = await enrolMeter(gw, `bypass-a-${RUN}`, 'feeder-a');
    const b = await enrolMeter(gw, `bypass-b-${RUN}`, 'feeder-b');
    // the same attributes the gateway gives meter A, issued by the same CA to a client-held key
    const direct = await new CaHelper(o).registerAndEnroll(`${a.meterId}-direct`, { role: 'meter', meterId: a.meterId, zone: 'feeder-a' });
    const conn = connectOrg(o, direct);
    try {
      const contract = conn.gateway.getNetwork(net.channel).getContract('gridledger');
      const [r] = readingSeries(1);
      const who = JSON.parse(utf8(await contract.evaluateTransaction('participants:whoAmI')));
      expect(who).toMatchObject({ role: 'meter', meterId: a.meterId, mspId: gw.mspId });

      const forB = { ...r!, meterId: b.meterId };
      const err = await rejectionOf(contract.submit('meters:postReading', { arguments: [''], transientData: { reading: JSON.stringify(forB) } }));
      expect(err).toBeInstanceOf(EndorseError);
      const messages = (err as EndorseError).details.map((d) => d.message).join('\n') + (err as Error).message;
      expect(messages).toContain(`[FORBIDDEN:OTHER_METER] meter ${a.meterId} may only post its own readings, not meter ${b.meterId}'s`);
      const notThere = await rejectionOf(ledgerEvaluate(gw.org, 'meters:getReading', [b.meterId, String(r!.intervalStart)]));
      expect(String((notThere as Error).message) + JSON.stringify((notThere as EndorseError).details ?? [])).toMatch(/NOT_FOUND/);

      // control: the same identity may post its own meter's reading, so the refusal above is about the meter
      const own = JSON.parse(utf8(await contract.submit('meters:postReading', { arguments: [''], transientData: { reading: JSON.stringify({ ...r!, meterId: a.meterId }) }, })));
      expect(own).toEqual({ meterId: a.meterId, intervalStart: r!.intervalStart, status: 'RECORDED' });
    } finally {
      conn.close();
    }
  });
});
