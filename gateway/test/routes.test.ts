import request from 'supertest';
import { ApiSpec } from '../src/rest/openapi';
import { chaincodeError } from './helpers/fakeLedger';
import { makeTestGateway, type TestGateway } from './helpers/testGateway';

const bearer = (k: string) => ({ Authorization: `Bearer ${k}` });

async function enrol(gw: TestGateway, meterId: string): Promise<string> {
  const res = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId, zone: 'z1' });
  expect(res.status).toBe(201);
  return res.body.apiKey as string;
}

const reading = { intervalStart: 1_700_000_100 - (1_700_000_100 % 900), intervalLength: 900, importWh: 0, exportWh: 500, importRegisterWh: 1, exportRegisterWh: 600 };

type Who = 'm1' | 'm2' | 'operator' | 'regulator';
interface Case {
  method: 'get' | 'post';
  url: string;
  who: Who;
  body?: Record<string, unknown>;
  fn: string;
  args: string[];
  signer: string;
  transient?: Record<string, unknown>;
}

// Every generic route: the chaincode function, its exact arguments and the identity that signs.
const cases: Case[] = [
  { method: 'get', url: '/api/v1/governance/parameters', who: 'm1', fn: 'governance:getParameters', args: [], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/governance/parameters', who: 'regulator', body: { f: 2 }, fn: 'governance:setParameters', args: ['{"f":2}'], signer: 'regulator' },
  { method: 'get', url: '/api/v1/market/parameters', who: 'operator', fn: 'market:getParameters', args: [], signer: 'operator' },
  { method: 'post', url: '/api/v1/market/parameters', who: 'regulator', body: { minPricePerKwh: 1 }, fn: 'market:setParameters', args: ['{"minPricePerKwh":1}'], signer: 'regulator' },
  { method: 'get', url: '/api/v1/participants/leaderboard?pageSize=10&bookmark=b1', who: 'regulator', fn: 'participants:leaderboard', args: ['10', 'b1'], signer: 'regulator' },
  { method: 'post', url: '/api/v1/participants/me/stake', who: 'm1', body: { meterId: 'm-1', amount: 5 }, fn: 'participants:setStake', args: ['5'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/participants/p-1/founding-admission', who: 'regulator', fn: 'participants:admitFounding', args: ['p-1'], signer: 'regulator' },
  { method: 'post', url: '/api/v1/participants/p-1/suspension', who: 'operator', body: { reason: 'tamper' }, fn: 'participants:suspend', args: ['p-1', 'tamper'], signer: 'operator' },
  { method: 'post', url: '/api/v1/participants/p-1/suspension', who: 'regulator', body: { reason: 'x' }, fn: 'participants:suspend', args: ['p-1', 'x'], signer: 'regulator' },
  { method: 'post', url: '/api/v1/participants/p-1/reinstatement', who: 'operator', fn: 'participants:reinstate', args: ['p-1'], signer: 'operator' },
  { method: 'post', url: '/api/v1/participants/p-1/ban', who: 'regulator', body: { seconds: 60, reason: 'fraud' }, fn: 'participants:ban', args: ['p-1', '60', 'fraud'], signer: 'regulator' },
  { method: 'post', url: '/api/v1/participants/p-1/committee-index-sync', who: 'm1', body: { meterId: 'm-1' }, fn: 'participants:syncCommitteeIndex', args: ['p-1'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/participants/p-1/committee-index-sync', who: 'operator', fn: 'participants:syncCommitteeIndex', args: ['p-1'], signer: 'operator' },
  { method: 'post', url: '/api/v1/committees/index/zone-a/backfill', who: 'regulator', body: { pageSize: 100 }, fn: 'participants:backfillCommitteeIndex', args: ['zone-a', '100'], signer: 'regulator' },
  { method: 'get', url: '/api/v1/participants/p-1/qscore-history', who: 'm1', fn: 'participants:getQScoreHistory', args: ['p-1', '50', ''], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/participants/p-1/energy-packets?pageSize=5', who: 'm1', fn: 'energy:listByOwner', args: ['p-1', '5', ''], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/participants/p-1/energy-balance', who: 'm1', fn: 'energy:balance', args: ['p-1'], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/participants/p-1/trades', who: 'operator', fn: 'trades:listByParticipant', args: ['p-1', '50', ''], signer: 'operator' },
  { method: 'post', url: '/api/v1/admissions/p-9/entry', who: 'm1', body: { meterId: 'm-1' }, fn: 'admissions:recordEntry', args: ['p-9'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/admissions/p-9/votes', who: 'm1', body: { meterId: 'm-1', approve: true, conditions: { condition1: true, condition2: true } }, fn: 'admissions:vote', args: ['p-9', '{"approve":true,"conditions":{"condition1":true,"condition2":true}}'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/admissions/p-9/decision', who: 'operator', fn: 'admissions:decide', args: ['p-9'], signer: 'operator' },
  { method: 'get', url: '/api/v1/committees/beacon-keys', who: 'operator', fn: 'committees:getBeaconKeys', args: [], signer: 'operator' },
  { method: 'get', url: '/api/v1/committees/tasks/t-1', who: 'm1', fn: 'committees:getTask', args: ['t-1'], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/committees/tasks/t-1/ballots/admission', who: 'm1', fn: 'committees:getBallot', args: ['t-1', 'admission'], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/committees/tasks/t-1/leader', who: 'm1', fn: 'committees:leaderOf', args: ['t-1'], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/committees/tasks/t-1/members/p-1/slots?count=3', who: 'm1', fn: 'committees:nextLeaderSlots', args: ['t-1', 'p-1', '3'], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/committees/tasks/t-1/members/p-1/slots', who: 'operator', fn: 'committees:nextLeaderSlots', args: ['t-1', 'p-1', ''], signer: 'operator' },
  { method: 'post', url: '/api/v1/committees/tasks/t-1/draw', who: 'm1', fn: 'committees:draw', args: ['t-1'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/committees/tasks/t-1/redraw', who: 'operator', fn: 'committees:redraw', args: ['t-1'], signer: 'operator' },
  { method: 'post', url: '/api/v1/wallets', who: 'm1', body: { meterId: 'm-1' }, fn: 'wallets:open', args: [], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/wallets/p-1/history?pageSize=2&bookmark=x', who: 'm1', fn: 'wallets:history', args: ['p-1', '2', 'x'], signer: 'meter:m-1' },
  {
    method: 'post',
    url: '/api/v1/energy/packets',
    who: 'm1',
    body: { meterId: 'm-1', intervalStart: reading.intervalStart, amountWh: 400, source: 'solar' },
    fn: 'energy:mint',
    args: [JSON.stringify({ intervalStart: reading.intervalStart, amountWh: 400, source: 'solar' })],
    signer: 'meter:m-1',
    // the gateway fetched the meter's export proof of that interval itself, as the meter
    transient: { exportProof: { proofOf: ['m-1', String(reading.intervalStart), 'export'], by: 'meter:m-1' } },
  },
  { method: 'get', url: '/api/v1/energy/packets/pk-1', who: 'm1', fn: 'energy:get', args: ['pk-1'], signer: 'meter:m-1' },
  {
    method: 'post',
    url: '/api/v1/offers',
    who: 'm1',
    body: { meterId: 'm-1', amountWh: 400, pricePerKwh: 20, deliveryStart: 1_700_000_000, deliveryLength: 900, ttlSeconds: 600 },
    fn: 'offers:create',
    args: ['{"amountWh":400,"pricePerKwh":20,"deliveryStart":1700000000,"deliveryLength":900,"ttlSeconds":600}'],
    signer: 'meter:m-1',
  },
  { method: 'get', url: '/api/v1/offers?deliveryStart=1700000000&pageSize=3', who: 'm1', fn: 'offers:listOpen', args: ['1700000000', '3', ''], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/offers', who: 'm1', fn: 'offers:listOpen', args: ['', '50', ''], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/offers/o-1', who: 'm1', fn: 'offers:get', args: ['o-1'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/offers/o-1/acceptances', who: 'm2', body: { meterId: 'm-2', amountWh: 100, pricePerKwh: 20 }, fn: 'offers:accept', args: ['o-1', '100', '20'], signer: 'meter:m-2' },
  { method: 'post', url: '/api/v1/offers/o-1/withdrawal', who: 'm1', body: { meterId: 'm-1' }, fn: 'offers:giveUp', args: ['o-1'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/offers/o-1/expiry', who: 'm2', fn: 'offers:expire', args: ['o-1'], signer: 'meter:m-2' },
  { method: 'get', url: '/api/v1/trades/tr-1', who: 'm1', fn: 'trades:get', args: ['tr-1'], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/trades/tr-1/history', who: 'm1', fn: 'trades:history', args: ['tr-1', '50', ''], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/trades/tr-1/deliveries', who: 'm1', body: { meterId: 'm-1', packets: [{ packetId: 'pk-1', amountWh: 100 }] }, fn: 'trades:deliverEnergy', args: ['tr-1', '[{"packetId":"pk-1","amountWh":100}]'], signer: 'meter:m-1' },
  {
    method: 'post',
    url: '/api/v1/trades/tr-1/delivery-confirmation',
    who: 'm2',
    body: { meterId: 'm-2', receivedWh: 100 },
    fn: 'trades:confirmDelivery',
    args: ['tr-1', '100'],
    signer: 'meter:m-2',
    // import proof of the trade's delivery interval (read from trades:get)
    transient: { importProof: { proofOf: ['m-2', '1795297500', 'import'], by: 'meter:m-2' } },
  },
  { method: 'post', url: '/api/v1/trades/tr-1/entry', who: 'm1', body: { meterId: 'm-1' }, fn: 'trades:recordEntry', args: ['tr-1'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/trades/tr-1/votes', who: 'm1', body: { meterId: 'm-1', approve: false, reason: 'short' }, fn: 'trades:vote', args: ['tr-1', '{"approve":false,"reason":"short"}'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/trades/tr-1/decision', who: 'regulator', fn: 'trades:decide', args: ['tr-1'], signer: 'regulator' },
  { method: 'post', url: '/api/v1/trades/tr-1/timeout', who: 'm1', fn: 'trades:timeout', args: ['tr-1'], signer: 'meter:m-1' },
  {
    method: 'post',
    url: '/api/v1/auctions',
    who: 'm2',
    body: { meterId: 'm-2', amountWh: 500, maxPricePerKwh: 30, t1: 10, t2: 20, buyerCommitment: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', deliveryStart: 900, deliveryLength: 900 },
    fn: 'auctions:request',
    args: ['{"amountWh":500,"maxPricePerKwh":30,"t1":10,"t2":20,"buyerCommitment":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","deliveryStart":900,"deliveryLength":900}'],
    signer: 'meter:m-2',
  },
  { method: 'get', url: '/api/v1/auctions?pageSize=1', who: 'm1', fn: 'auctions:listOpen', args: ['', '1', ''], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/auctions/a-1', who: 'm1', fn: 'auctions:get', args: ['a-1'], signer: 'meter:m-1' },
  { method: 'get', url: '/api/v1/auctions/a-1/bids', who: 'm1', fn: 'auctions:listBids', args: ['a-1', '50', ''], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/auctions/a-1/bids', who: 'm1', body: { meterId: 'm-1', energyWh: 500, priceCommitment: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', sellerCommitment: 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc' }, fn: 'auctions:bid', args: ['a-1', '{"energyWh":500,"priceCommitment":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","sellerCommitment":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"}'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/auctions/a-1/bids/o-7/reveal', who: 'm1', body: { meterId: 'm-1', pricePerKwh: 25, salt: 'salt-0123456789abcdef' }, fn: 'auctions:reveal', args: ['a-1', 'o-7', '{"pricePerKwh":25,"salt":"salt-0123456789abcdef"}'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/auctions/a-1/close', who: 'operator', fn: 'auctions:close', args: ['a-1'], signer: 'operator' },
  { method: 'post', url: '/api/v1/auctions/a-1/expiry', who: 'm1', fn: 'auctions:expire', args: ['a-1'], signer: 'meter:m-1' },
  { method: 'post', url: '/api/v1/auctions/a-1/buyer-claim', who: 'm2', body: { meterId: 'm-2', secret: 'buyer-secret-0123456' }, fn: 'auctions:claimBuyer', args: ['a-1', 'buyer-secret-0123456'], signer: 'meter:m-2' },
  { method: 'post', url: '/api/v1/auctions/a-1/seller-claim', who: 'm1', body: { meterId: 'm-1', secret: 'seller-secret-012345' }, fn: 'auctions:claimSeller', args: ['a-1', 'seller-secret-012345'], signer: 'meter:m-1' },
];

describe('ledger routes: mapping, identities, authorisation, pagination', () => {
  let gw: TestGateway;
  let keys: Record<Who, string>;
  const evaluated: Array<{ signer: string; fn: string; args: string[] }> = [];
  let inSubmit = false;
  beforeAll(async () => {
    gw = makeTestGateway();
    keys = { m1: await enrol(gw, 'm-1'), m2: await enrol(gw, 'm-2'), operator: gw.keys.operator, regulator: gw.keys.regulator };
    gw.ledger.evaluateImpl = async (id, fn, args) => {
      if (fn === 'meters:getProof') return Buffer.from(JSON.stringify({ proofOf: args, by: id.key }));
      if (fn === 'trades:get' && args[0] === 'tr-1' && evaluated.length === 0 && gw.ledger.endorseCalls === 0 && inSubmit) return Buffer.from(JSON.stringify({ tradeId: 'tr-1', deliveryStart: 1795297500 }));
      evaluated.push({ signer: id.key, fn, args });
      return Buffer.from(JSON.stringify(fn.includes('list') || fn.includes('History') || fn.includes('history') || fn.includes('leaderboard') ? { items: [], bookmark: '' } : fn === 'committees:getBeaconKeys' ? [] : { fn }));
    };
  });
  afterAll(async () => {
    await gw.close();
  });
  beforeEach(() => {
    gw.ledger.reset();
    evaluated.length = 0;
  });

  it('covers every x-chaincode operation of the OpenAPI document', () => {
    const documented = new ApiSpec().operations.filter((o) => o.chaincode).map((o) => o.chaincode!.fn);
    expect(new Set(cases.map((c) => c.fn))).toEqual(new Set(documented));
  });

  it.each(cases.map((c) => [`${c.method.toUpperCase()} ${c.url} as ${c.who}`, c] as const))('%s', async (_name, c) => {
    let req = request(gw.app)[c.method](c.url).set(bearer(keys[c.who]));
    inSubmit = c.method === 'post';
    if (c.method === 'post') req = req.set('Idempotency-Key', `k-${c.url}-${c.who}`).send(c.body ?? {});
    const res = await req;
    if (c.method === 'get') {
      expect(res.status).toBe(200);
      expect(evaluated).toEqual([{ signer: c.signer, fn: c.fn, args: c.args }]);
    } else {
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ txId: 'tx1', blockNumber: 1 });
      const tx = gw.ledger.applied[0]!;
      expect({ signer: tx.signer, fn: tx.fn, args: tx.args }).toEqual({ signer: c.signer, fn: c.fn, args: c.args });
      if (c.transient) expect(Object.fromEntries(Object.entries(tx.transient ?? {}).map(([k, v]) => [k, JSON.parse(v)]))).toEqual(c.transient);
      else expect(tx.transient).toBeUndefined();
      // an idempotent replay answers the same without a second transaction
      const again = await request(gw.app)[c.method](c.url).set(bearer(keys[c.who])).set('Idempotency-Key', `k-${c.url}-${c.who}`).send(c.body ?? {});
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(res.body);
      expect(gw.ledger.applied).toHaveLength(1);
    }
  });

  it('a meter key cannot act for another meter (403 with the reason, nothing endorsed)', async () => {
    for (const [url, body] of [
      ['/api/v1/offers', { meterId: 'm-2', amountWh: 1, pricePerKwh: 1, deliveryStart: 0, deliveryLength: 900, ttlSeconds: 60 }],
      ['/api/v1/trades/tr-1/votes', { meterId: 'm-2', approve: true }],
      ['/api/v1/admissions/p-1/entry', { meterId: 'm-2' }],
      ['/api/v1/wallets', { meterId: 'm-2' }],
    ] as const) {
      const res = await request(gw.app).post(url).set(bearer(keys.m1)).send(body);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ type: 'urn:gridledger:problem:forbidden-meter', detail: expect.stringContaining('not for meter m-2') });
    }
    const read = await request(gw.app).get('/api/v1/governance/parameters?meterId=m-2').set(bearer(keys.m1));
    expect(read.status).toBe(403);
    expect(gw.ledger.endorseCalls).toBe(0);
    expect(evaluated).toEqual([]);
  });

  it('separates operator and regulator routes, and meter routes from both', async () => {
    const op = await request(gw.app).post('/api/v1/participants/p-1/ban').set(bearer(keys.operator)).send({ seconds: 1, reason: 'r' });
    expect(op.status).toBe(403);
    expect(op.body.detail).toMatch(/for regulator keys/);
    const meter = await request(gw.app).post('/api/v1/governance/parameters').set(bearer(keys.m1)).send({ f: 1 });
    expect(meter.status).toBe(403);
    const regSuspendsAsMeter = await request(gw.app).post('/api/v1/participants/p-1/suspension').set(bearer(keys.m1)).send({ reason: 'r' });
    expect(regSuspendsAsMeter.status).toBe(403);
    const operatorOffer = await request(gw.app).post('/api/v1/offers').set(bearer(keys.operator)).send({ meterId: 'm-1', amountWh: 1, pricePerKwh: 1, deliveryStart: 0, deliveryLength: 900, ttlSeconds: 60 });
    expect(operatorOffer.status).toBe(403);
    expect(operatorOffer.body.detail).toMatch(/meter keys/);
    expect(gw.ledger.endorseCalls).toBe(0);
  });

  it('a key with several meters names the one to act as; never a 500 for bad input', async () => {
    const which = await request(gw.app).get('/api/v1/offers').set(bearer(gw.keys.twoMeters));
    expect(which.status).toBe(400);
    expect(which.body.detail).toMatch(/add \?meterId=/);
    for (const [url, status] of [
      ['/api/v1/offers?pageSize=0', 400],
      ['/api/v1/offers?pageSize=101', 400],
      ['/api/v1/offers?pageSize=abc', 400],
      ['/api/v1/offers?deliveryStart=-1', 400],
      ['/api/v1/committees/tasks/bad%20id', 400],
    ] as const) {
      const res = await request(gw.app).get(url).set(bearer(keys.m1));
      expect(res.status).toBe(status);
      expect(res.body.type).toBe('urn:gridledger:problem:validation-failed');
    }
    const noBody = await request(gw.app).post('/api/v1/offers').set(bearer(keys.m1)).send({ meterId: 'm-1', amountWh: 1.5 });
    expect(noBody.status).toBe(400);
    expect((noBody.body.errors as Array<{ pointer: string }>).map((e) => e.pointer)).toEqual(expect.arrayContaining(['/amountWh', '/pricePerKwh']));
    const emptyParams = await request(gw.app).post('/api/v1/governance/parameters').set(bearer(keys.regulator)).send({});
    expect(emptyParams.status).toBe(400);
  });

  it('passes pagination through: pageSize + bookmark in, {items, bookmark} out', async () => {
    gw.ledger.evaluateImpl = async (_id, _fn, args) => Buffer.from(JSON.stringify({ items: [{ n: args[1] }], bookmark: args[2] === '' ? 'next-1' : '' }));
    const p1 = await request(gw.app).get('/api/v1/participants/p-1/trades?pageSize=1').set(bearer(keys.m1));
    expect(p1.body).toEqual({ items: [{ n: '1' }], bookmark: 'next-1' });
    const p2 = await request(gw.app).get(`/api/v1/participants/p-1/trades?pageSize=1&bookmark=${p1.body.bookmark}`).set(bearer(keys.m1));
    expect(p2.body).toEqual({ items: [{ n: '1' }], bookmark: '' });
  });

  it('maps chaincode verdicts to problems that say what to fix', async () => {
    gw.ledger.script.push({ stage: 'endorse', error: chaincodeError('[INSUFFICIENT_ENERGY] seller has 10 Wh available, the trade needs 100') });
    const res = await request(gw.app).post('/api/v1/trades/tr-1/deliveries').set(bearer(keys.m1)).send({ meterId: 'm-1', packets: [{ packetId: 'pk', amountWh: 100 }] });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ chaincodeCode: 'INSUFFICIENT_ENERGY', detail: expect.stringContaining('10 Wh available') });
  });
});
