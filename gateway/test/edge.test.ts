/**
 * The edge refuses bad input itself, as 4xx problem+json, before anything reaches the ledger
 * (issue 16: zero 5xx from any input; the fuzzer's findings each have a case here).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { loadConfig } from '../src/config';
import type { NetworkDescriptor, OrgDescriptor } from '../src/fabric/network';
import { applyDevnetDefaults } from '../src/config/devnetDefaults';
import { regulatorHolder } from '../src/fabric/networkIdentities';
import { answerClientErrors } from '../src/rest/app';
import { silentLogger, tmpDir } from './helpers/tmp';
import { makeTestGateway, type TestGateway } from './helpers/testGateway';

const bearer = (k: string) => ({ Authorization: `Bearer ${k}` });
const PROBLEM = /^application\/problem\+json/;

/** Sends raw bytes to the server and returns everything it answers until it closes the connection. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.write(bytes);
  });
}

function parseRaw(answer: string): { status: number; headers: string; body: unknown } {
  const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
  return { status: Number(head.split(' ')[1]), headers: head, body: JSON.parse(body) };
}

describe('edge hardening: refusals come before the ledger, as problem+json', () => {
  let gw: TestGateway;
  const evaluated: Array<{ fn: string; args: string[] }> = [];
  beforeEach(() => {
    gw = makeTestGateway();
    evaluated.length = 0;
    gw.ledger.evaluateImpl = async (_id, fn, args) => {
      evaluated.push({ fn, args });
      return Buffer.from(JSON.stringify(fn === 'committees:getBeaconKeys' ? [{ mspId: 'Utility1MSP', publicKeyHex: 'ab', registeredAt: 1 }] : { entries: [], bookmark: '' }));
    };
  });
  afterEach(async () => {
    await gw.close();
  });

  it('an unknown query parameter is a 400 naming it; nothing is evaluated', async () => {
    const res = await request(gw.app).get('/api/v1/participants/leaderboard?pageSize=1&x-unknown=42').set(bearer(gw.keys.operator));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.errors).toEqual([{ in: 'query', pointer: 'x-unknown', message: 'is not a parameter of this operation (remove it)' }]);
    // an operation without any query parameter refuses one too
    const none = await request(gw.app).get('/api/v1/committees/tasks/t-1/leader?debug=1').set(bearer(gw.keys.operator));
    expect(none.status).toBe(400);
    expect(none.body.detail).toMatch(/query debug is not a parameter/);
    expect(evaluated).toEqual([]);
  });

  it('a repeated query parameter is a 400 naming it, even where each value alone is valid', async () => {
    const res = await request(gw.app).get('/api/v1/participants/leaderboard?pageSize=1&pageSize=2').set(bearer(gw.keys.operator));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.errors).toEqual([{ in: 'query', pointer: 'pageSize', message: 'is repeated (send it once)' }]);
    const bookmark = await request(gw.app).get('/api/v1/participants/leaderboard?bookmark=a&bookmark=b').set(bearer(gw.keys.operator));
    expect(bookmark.status).toBe(400);
    expect(bookmark.body.detail).toMatch(/query bookmark is repeated/);
    expect(evaluated).toEqual([]);
  });

  it('a list without pageSize asks the chaincode for the documented default page (50)', async () => {
    const res = await request(gw.app).get('/api/v1/participants/leaderboard').set(bearer(gw.keys.operator));
    expect(res.status).toBe(200);
    expect(evaluated).toEqual([{ fn: 'participants:leaderboard', args: ['50', ''] }]);
  });

  it('beacon keys are answered as the documented array (responses are validated in tests)', async () => {
    const res = await request(gw.app).get('/api/v1/committees/beacon-keys').set(bearer(gw.keys.operator));
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ mspId: 'Utility1MSP', publicKeyHex: 'ab', registeredAt: 1 }]);
    // an object is not what the document promises: the test gateway's response validation says so
    gw.ledger.evaluateImpl = async () => Buffer.from('{"keys":[]}');
    const wrong = await request(gw.app).get('/api/v1/committees/beacon-keys').set(bearer(gw.keys.operator));
    expect(wrong.status).toBe(500);
    expect(wrong.body.type).toBe('urn:gridledger:problem:response-invalid');
  });

  it('a 300,000-character parameter value is a 400 at the edge: the ledger is never called', async () => {
    const res = await request(gw.app)
      .post('/api/v1/governance/parameters')
      .set(bearer(gw.keys.regulator))
      .send({ f: 'x'.repeat(300_000) });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ in: 'body', pointer: '/f', message: 'must be integer' }]);
    // the problem does not echo the value back
    expect(res.text.length).toBeLessThan(1000);
    const unknown = await request(gw.app).post('/api/v1/governance/parameters').set(bearer(gw.keys.regulator)).send({ committeeSize: 7 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]).toMatchObject({ pointer: '/committeeSize', message: 'is not a known field (remove it)' });
    const longReason = await request(gw.app)
      .post('/api/v1/participants/p-1/suspension')
      .set(bearer(gw.keys.operator))
      .send({ reason: 'r'.repeat(300_000) });
    expect(longReason.status).toBe(400);
    expect(longReason.body.errors[0]).toMatchObject({ pointer: '/reason', message: 'must NOT have more than 256 characters' });
    const hugeAmount = await request(gw.app)
      .post('/api/v1/offers')
      .set(bearer(gw.keys.operator))
      .send({ meterId: 'm-1', amountWh: 10_000_001, pricePerKwh: 1, deliveryStart: 0, deliveryLength: 900, ttlSeconds: 60 });
    expect(hugeAmount.status).toBe(400);
    expect(hugeAmount.body.errors[0]).toMatchObject({ pointer: '/amountWh', message: 'must be <= 10000000' });
    expect(gw.ledger.endorseCalls).toBe(0);
    expect(evaluated).toEqual([]);
  });

  it('participant and wallet reads take ?meterId= (what their 400 meter-id-required asks a multi-meter key for)', async () => {
    for (const m of ['m-a', 'm-b']) {
      expect((await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId: m, zone: 'z1' })).status).toBe(201);
    }
    const signers: string[] = [];
    gw.ledger.evaluateImpl = async (id, fn) => {
      signers.push(`${fn} ${id.key}`);
      return Buffer.from('{}');
    };
    const ask = await request(gw.app).get('/api/v1/participants/p-1').set(bearer(gw.keys.twoMeters));
    expect([ask.status, ask.body.type]).toEqual([400, 'urn:gridledger:problem:meter-id-required']);
    expect((await request(gw.app).get('/api/v1/participants/p-1?meterId=m-b').set(bearer(gw.keys.twoMeters))).status).toBe(200);
    expect((await request(gw.app).get('/api/v1/wallets/p-1?meterId=m-a').set(bearer(gw.keys.twoMeters))).status).toBe(200);
    expect(signers).toEqual(['participants:get meter:m-b', 'wallets:get meter:m-a']);
  });

  it("ids follow the chaincode's pattern (no ~)", async () => {
    const res = await request(gw.app).get('/api/v1/offers/o~1').set(bearer(gw.keys.operator));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ in: 'path', pointer: 'offerId' });
    expect(evaluated).toEqual([]);
  });

  it('body refusals (malformed JSON, wrong media type, too large) are problem+json', async () => {
    const url = '/api/v1/participants/p-1/suspension';
    const bad = await request(gw.app).post(url).set(bearer(gw.keys.operator)).set('Content-Type', 'application/json').send('{"reason":');
    expect([bad.status, bad.body.type]).toEqual([400, 'urn:gridledger:problem:malformed-json']);
    const text = await request(gw.app).post(url).set(bearer(gw.keys.operator)).set('Content-Type', 'text/plain').send('reason');
    expect([text.status, text.body.type]).toEqual([415, 'urn:gridledger:problem:unsupported-media-type']);
    const big = await request(gw.app)
      .post(url)
      .set(bearer(gw.keys.operator))
      .set('Content-Type', 'application/json')
      .send(`{"reason":"${'r'.repeat(1_100_000)}"}`);
    expect([big.status, big.body.type]).toEqual([413, 'urn:gridledger:problem:body-too-large']);
    const charset = await request(gw.app).post(url).set(bearer(gw.keys.operator)).set('Content-Type', 'application/json; charset=koi8-r').send('{"reason":"r"}');
    expect([charset.status, charset.body.type]).toEqual([415, 'urn:gridledger:problem:unsupported-encoding']);
    for (const r of [bad, text, big, charset]) expect(r.headers['content-type']).toMatch(PROBLEM);
    expect(gw.ledger.endorseCalls).toBe(0);
  });

  describe('refusals of the HTTP parser', () => {
    let server: http.Server;
    let port: number;
    beforeEach(async () => {
      server = http.createServer(gw.app);
      answerClientErrors(server, silentLogger);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as AddressInfo).port;
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });

    it('a query string longer than the header limit is a 431 problem+json (not an empty 431)', async () => {
      const answer = parseRaw(await raw(port, `GET /api/v1/participants/leaderboard?bookmark=${'b'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
      expect(answer.status).toBe(431);
      expect(answer.headers).toMatch(/content-type: application\/problem\+json/i);
      expect(answer.body).toMatchObject({ type: 'urn:gridledger:problem:headers-too-large', status: 431, detail: expect.stringMatching(/shorten the URL/) });
    });

    it('too-large headers are a 431 problem+json', async () => {
      const answer = parseRaw(await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`));
      expect(answer.status).toBe(431);
      expect(answer.body).toMatchObject({ type: 'urn:gridledger:problem:headers-too-large' });
    });

    it('a request that is not HTTP is a 400 problem+json', async () => {
      const answer = parseRaw(await raw(port, 'HELLO\x01 there\r\n\r\n'));
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ type: 'urn:gridledger:problem:malformed-request', status: 400 });
    });
  });
});

describe('a gateway without the regulator identity', () => {
  let gw: TestGateway;
  beforeEach(() => {
    gw = makeTestGateway({ regulatorElsewhere: 'utility1' });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('refuses regulator calls with a 403 that names the gateway holding it; nothing reaches the ledger', async () => {
    const write = await request(gw.app).post('/api/v1/governance/parameters').set(bearer(gw.keys.regulator)).send({ f: 2 });
    expect(write.status).toBe(403);
    expect(write.headers['content-type']).toMatch(PROBLEM);
    expect(write.body).toMatchObject({ type: 'urn:gridledger:problem:regulator-not-here', regulatorOrg: 'utility1', detail: expect.stringContaining("utility1's gateway") });
    const read = await request(gw.app).get('/api/v1/governance/parameters').set(bearer(gw.keys.regulator));
    expect(read.status).toBe(403);
    expect(read.body.regulatorOrg).toBe('utility1');
    expect(gw.ledger.endorseCalls).toBe(0);
    // the operator key of the same gateway is unaffected
    expect((await request(gw.app).get('/api/v1/governance/parameters').set(bearer(gw.keys.operator))).status).toBe(200);
  });
});

describe('devnet API keys', () => {
  const user = { certPath: 'c', keyPath: 'k' };
  const org = (name: string, users: string[]) => ({ name, mspId: `${name}MSP`, users: Object.fromEntries(users.map((u) => [u, user])) }) as unknown as OrgDescriptor;
  const net = { tier: 'devnet', channel: 'energy', chaincodes: [], organizations: [org('utility1', ['admin', 'operator', 'regulator']), org('utility2', ['admin', 'operator'])] } as unknown as NetworkDescriptor;
  const keysOf = (orgName: string) => {
    const dataDir = tmpDir();
    const config = loadConfig({ env: {}, overrides: { dataDir, walletKey: 'a'.repeat(64), network: { path: 'network.json', org: orgName } } });
    applyDevnetDefaults(config, net, silentLogger);
    const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'devnet-credentials.json'), 'utf8')) as Record<string, string>;
    const roles = (JSON.parse(fs.readFileSync(path.join(dataDir, 'api-keys.json'), 'utf8')) as { apiKeys: Array<{ roles: string[] }> }).apiKeys.flatMap((k) => k.roles);
    return { creds: Object.keys(creds).sort(), roles: roles.sort() };
  };

  it('a regulator key is issued only by the gateway of the org holding the regulator identity', () => {
    expect(regulatorHolder(net)).toBe('utility1');
    expect(keysOf('utility1')).toEqual({ creds: ['operator', 'regulator'], roles: ['operator', 'regulator'] });
    expect(keysOf('utility2')).toEqual({ creds: ['operator'], roles: ['operator'] });
  });
});
