import { status as Grpc } from '@grpc/grpc-js';
import fs from 'node:fs';
import http from 'node:http';
import request from 'supertest';
import { chaincodeError, mismatch, unavailable } from './helpers/fakeLedger';
import { drain, makeTestGateway, type TestGateway } from './helpers/testGateway';

type GatewayAppLike = TestGateway['app'];

const reading = (n = 0) => ({
  intervalStart: 1_700_000_100 + n * 900 - (1_700_000_100 % 900),
  intervalLength: 900,
  importWh: 120,
  exportWh: 450,
  importRegisterWh: 10_000 + n,
  exportRegisterWh: 20_000 + n,
});

const bearer = (k: string) => ({ Authorization: `Bearer ${k}` });

async function enrol(gw: TestGateway, meterId: string, zone = 'feeder-7'): Promise<string> {
  const res = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId, zone });
  expect(res.status).toBe(201);
  // the utility recorded the meter on the ledger, as its operator
  const enrolled = gw.ledger.applied.at(-2);
  expect(enrolled).toMatchObject({ fn: 'participants:enrolMeter', args: [meterId, zone], signer: 'operator' });
  expect(res.body.ledgerTxId).toBe(enrolled!.txId);
  // then the meter registered its own certificate's key (for relayed readings), signed by itself
  expect(gw.ledger.applied.at(-1)).toMatchObject({ fn: 'meters:registerKey', args: [], signer: `meter:${meterId}` });
  gw.ledger.reset();
  return res.body.apiKey as string;
}

describe('REST app (fake ledger + fake CA)', () => {
  let gw: TestGateway;
  beforeEach(() => {
    gw = makeTestGateway();
  });
  afterEach(async () => {
    await gw.close();
  });

  it('serves liveness, the OpenAPI document and metrics without a key', async () => {
    const health = await request(gw.app).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(health.headers['x-request-id']).toBeTruthy();
    const doc = await request(gw.app).get('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    const metrics = await request(gw.app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('gateway_queue_depth');
    expect(metrics.text).toContain('gateway_http_requests_total');
  });

  it('reports readiness per check, 503 when the CA is down', async () => {
    const ok = await request(gw.app).get('/ready');
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body.checks).sort()).toEqual(['ca', 'chaincode', 'orderers', 'peerGateway']);
    expect(ok.body.checks.orderers.detail).toMatch(/^not checked/);
    gw.ca.up = false;
    const down = await request(gw.app).get('/ready');
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.checks.ca).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
    expect(down.body.checks.chaincode.ok).toBe(true);
  });

  it('401 with a reason for missing, malformed and unknown keys', async () => {
    const none = await request(gw.app).get('/api/v1/participants/me');
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    expect(none.body).toMatchObject({ type: 'urn:gridledger:problem:unauthenticated', status: 401, detail: expect.stringContaining('Bearer') });
    const bad = await request(gw.app).get('/api/v1/participants/me').set('Authorization', 'Basic abc');
    expect(bad.body.detail).toMatch(/must be "Bearer/);
    const unknown = await request(gw.app).get('/api/v1/participants/me').set(bearer('glk_nope'));
    expect(unknown.body.detail).toMatch(/unknown or has been revoked/);
  });

  it('enrols a meter (operator only) and its key acts for that meter only', async () => {
    const refused = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.regulator)).send({ meterId: 'm-1', zone: 'z' });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/for operator keys/);

    const k1 = await enrol(gw, 'm-1');
    await enrol(gw, 'm-2');
    const reg = gw.ca.registered.get('m-1')!;
    expect(reg).toMatchObject({ meterId: 'm-1', zone: 'feeder-7', maxEnrollments: 1 });

    const meter = await request(gw.app).get('/api/v1/meters/m-1').set(bearer(k1));
    expect(meter.body).toMatchObject({ meterId: 'm-1', status: 'ACTIVE', mspId: 'Utility1MSP' });
    const other = await request(gw.app).post('/api/v1/meters/m-2/readings').set(bearer(k1)).send(reading());
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ type: 'urn:gridledger:problem:forbidden-meter', detail: expect.stringContaining('not for meter m-2') });
    const asOperator = await request(gw.app).post('/api/v1/meters').set(bearer(k1)).send({ meterId: 'm-3', zone: 'z' });
    expect(asOperator.status).toBe(403);
    const dup = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId: 'm-1', zone: 'feeder-7' });
    expect(dup.status).toBe(409);
  });

  it('a failed ledger step of the enrolment is resumed by re-POSTing, without a second CA enrolment', async () => {
    for (let i = 0; i < 3; i++) gw.ledger.script.push({ stage: 'endorse', error: unavailable() });
    const first = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId: 'm-5', zone: 'z' });
    expect(first.status).toBe(503);
    expect(gw.ca.registered.get('m-5')!.enrolments).toBe(1);
    const again = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId: 'm-5', zone: 'z' });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ status: 'ACTIVE', ledgerTxId: 'tx1', apiKey: expect.stringMatching(/^glk_/) });
    expect(gw.ca.registered.get('m-5')!.enrolments).toBe(1);
    const third = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId: 'm-5', zone: 'z' });
    expect(third.status).toBe(409);
  });

  it('validates requests against the OpenAPI document with field-level errors', async () => {
    const k = await enrol(gw, 'm-1');
    const res = await request(gw.app)
      .post('/api/v1/meters/m-1/readings')
      .set(bearer(k))
      .send({ ...reading(), importWh: -1, intervalLength: 7, colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:gridledger:problem:validation-failed');
    const pointers = (res.body.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/colour', '/importWh', '/intervalLength']);
    const badJson = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).set('Content-Type', 'application/json').send('{"a":');
    expect(badJson.status).toBe(400);
    expect(badJson.body.type).toBe('urn:gridledger:problem:malformed-json');
    const text = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).set('Content-Type', 'text/plain').send('hi');
    expect(text.status).toBe(415);
    const mismatch = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).send({ ...reading(), meterId: 'm-9' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.detail).toMatch(/must match/);
    expect((await request(gw.app).get('/api/v1/nope').set(bearer(k))).status).toBe(404);
    const wrongMethod = await request(gw.app).delete('/api/v1/meters').set(bearer(k));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  it('queues a reading durably (202 + receipt) and delivers it', async () => {
    const k = await enrol(gw, 'm-1');
    const res = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).send(reading());
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/api/v1/receipts/${res.body.receiptId}`);
    expect(res.body).toMatchObject({ state: 'QUEUED', meterId: 'm-1', itemCount: 1 });
    await drain(gw);
    const receipt = await request(gw.app).get(res.headers.location!).set(bearer(k));
    expect(receipt.body).toMatchObject({ state: 'COMMITTED', txId: 'tx1', blockNumber: 1 });
    expect(gw.ledger.applied[0]).toMatchObject({ fn: 'meters:postReading', signer: 'meter:m-1' });
    // raw values travel as transient data only, never as a (block-visible) argument
    expect(gw.ledger.applied[0]!.args).toEqual(['']);
    expect(JSON.parse(gw.ledger.applied[0]!.transient!.reading!)).toMatchObject({ meterId: 'm-1', importWh: 120 });
    // another meter's key cannot read it; an operator can
    const k2 = await enrol(gw, 'm-2');
    expect((await request(gw.app).get(res.headers.location!).set(bearer(k2))).status).toBe(404);
    expect((await request(gw.app).get(res.headers.location!).set(bearer(gw.keys.operator))).status).toBe(200);
  });

  it('queues a batch as one transaction', async () => {
    const k = await enrol(gw, 'm-1');
    const res = await request(gw.app)
      .post('/api/v1/meters/m-1/reading-batches')
      .set(bearer(k))
      .send({ readings: [reading(0), reading(1), reading(2)] });
    expect(res.status).toBe(202);
    expect(res.body.itemCount).toBe(3);
    await drain(gw);
    expect(gw.ledger.applied).toHaveLength(1);
    const batch = JSON.parse(gw.ledger.applied[0]!.transient!.readings!);
    expect(batch.meterId).toBe('m-1');
    expect(batch.readings).toHaveLength(3);
  });

  it('?sync=true waits for the commit and answers 200 with the tx id', async () => {
    const k = await enrol(gw, 'm-1');
    gw.worker.start();
    const res = await request(gw.app).post('/api/v1/meters/m-1/readings?sync=true').set(bearer(k)).send(reading());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'COMMITTED', txId: 'tx1' });
  });

  it('?sync=true replayed with its Idempotency-Key returns the original 200 and body, never the 202 queued; queued once', async () => {
    const k = await enrol(gw, 'm-1');
    gw.worker.start();
    const send = () => request(gw.app).post('/api/v1/meters/m-1/readings?sync=true').set(bearer(k)).set('Idempotency-Key', 'sync-1').send(reading());
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ state: 'COMMITTED', txId: 'tx1' });
    const again = await send();
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(`/api/v1/receipts/${first.body.receiptId}`);
    expect(again.body).toEqual(first.body);
    expect(gw.queue.counts()).toMatchObject({ COMMITTED: 1, QUEUED: 0, SUBMITTED: 0 });
    expect(gw.ledger.endorseCalls).toBe(1);
  });

  it('?sync=true: a duplicate while the first still waits is 409; a replay after a 202 (commit not in time) returns that same 202', async () => {
    await gw.close();
    gw = makeTestGateway({ overrides: { 'timeouts.syncWaitMs': 300 } });
    const k = await enrol(gw, 'm-1');
    const send = () => request(gw.app).post('/api/v1/meters/m-1/readings?sync=true').set(bearer(k)).set('Idempotency-Key', 'sync-2').send(reading());
    const pending = send().then((r) => r); // (started now) the worker is not running: it waits syncWaitMs
    while (gw.queue.counts().QUEUED === 0) await new Promise((r) => setTimeout(r, 5));
    const during = await send();
    expect(during.status).toBe(409);
    expect(during.body.type).toBe('urn:gridledger:problem:idempotency-in-progress');
    const first = await pending;
    expect(first.status).toBe(202);
    expect(first.body.state).toBe('QUEUED');
    await drain(gw); // committed meanwhile; the replay still answers what the request answered
    const again = await send();
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(gw.ledger.applied).toHaveLength(1);
    expect(gw.queue.counts()).toMatchObject({ COMMITTED: 1, QUEUED: 0 });
  });

  it('?sync=true cut by a crash while waiting: the retry with the key answers from THAT receipt (200 once committed), never queues again', async () => {
    const k = await enrol(gw, 'm-1');
    const server = http.createServer(gw.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const send = (target: http.Server | GatewayAppLike) =>
      request(target).post('/api/v1/meters/m-1/readings?sync=true').set(bearer(k)).set('Idempotency-Key', 'sync-3').send(reading());
    void send(server).then(() => undefined, () => undefined);
    while (gw.queue.counts().QUEUED === 0) await new Promise((r) => setTimeout(r, 5));
    // the crash: nothing more reaches the database, no answer reaches the client
    await gw.crash();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    gw = makeTestGateway({ dataDir: gw.config.dataDir, ledger: gw.ledger, ca: gw.ca, keys: gw.keys });
    gw.worker.start();
    const retry = await send(gw.app);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ state: 'COMMITTED', txId: 'tx1' });
    expect(gw.queue.counts()).toMatchObject({ COMMITTED: 1, QUEUED: 0, SUBMITTED: 0 });
    const replay = await send(gw.app);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(retry.body);
    expect(gw.ledger.applied).toHaveLength(1);
  });

  it('a failed send to the orderer (outcome unknown) keeps the transaction: the retry with the key re-sends it, never endorses another', async () => {
    for (let i = 0; i < 3; i++) gw.ledger.script.push({ stage: 'submit', error: unavailable('submit') });
    const send = () => request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'dep-11').send({ amount: 11, reference: 'dep-11' });
    const first = await send();
    expect(first.status).toBe(503);
    expect(first.body.txId).toBe('tx1');
    expect(first.body.detail).toMatch(/retry with the same Idempotency-Key/);
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.body.txId).toBe('tx1');
    expect(gw.ledger.endorseCalls).toBe(1);
    expect(gw.ledger.applied).toHaveLength(1);
  });

  it('an enrolment cut after its ledger transaction was endorsed resumes with the enrolment answer (key issued), not a bare submit result', async () => {
    gw.ledger.hangAfterCommit = true;
    const server = http.createServer(gw.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const send = (target: http.Server | GatewayAppLike) =>
      request(target).post('/api/v1/meters').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'enrol-7').send({ meterId: 'm-7', zone: 'z' });
    void send(server).then(() => undefined, () => undefined);
    while (gw.ledger.applied.length === 0) await new Promise((r) => setImmediate(r));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await gw.close();
    gw.ledger.hangAfterCommit = false;
    gw = makeTestGateway({ dataDir: gw.config.dataDir, ledger: gw.ledger, ca: gw.ca, keys: gw.keys });
    const retry = await send(gw.app);
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ meterId: 'm-7', status: 'ACTIVE', ledgerTxId: 'tx1', apiKey: expect.stringMatching(/^glk_/) });
    // the enrolment's ledger transaction was not endorsed again; then the meter registered its key
    expect([...gw.ledger.endorsed.values()].map((t) => t.fn)).toEqual(['participants:enrolMeter', 'meters:registerKey']);
    const meter = await request(gw.app).get('/api/v1/meters/m-7').set(bearer(retry.body.apiKey));
    expect(meter.status).toBe(200);
  });

  it('a stored transaction that turned out INVALID by a conflict is replaced by a new proposal on the retry', async () => {
    const { LedgerError } = await import('../src/fabric/errors');
    gw.ledger.script.push({ stage: 'conflict' }, { stage: 'commitStatus', error: new LedgerError({ stage: 'commitStatus', message: '4 DEADLINE_EXCEEDED', grpcCode: Grpc.DEADLINE_EXCEEDED }) });
    const send = () => request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'dep-12').send({ amount: 12, reference: 'dep-12' });
    expect((await send()).status).toBe(504);
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.body.txId).toBe('tx2');
    expect(gw.ledger.applied.map((t) => t.txId)).toEqual(['tx2']);
  });

  it('group commit: a reading is acknowledged only once its row is committed — a failing COMMIT answers no 202, keeps nothing and frees the key', async () => {
    const k = await enrol(gw, 'm-1');
    // a deferred foreign key violated by every queued receipt: SQLite refuses the group's COMMIT
    gw.db.exec(`CREATE TABLE ack_guard_parent (id INTEGER PRIMARY KEY);
      CREATE TABLE ack_guard (p INTEGER REFERENCES ack_guard_parent(id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TRIGGER ack_guard_t AFTER INSERT ON receipts BEGIN INSERT INTO ack_guard (p) VALUES (42); END;`);
    const post = (n: number) => request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).set('Idempotency-Key', `gc-${n}`).send(reading(n));
    const refused = await Promise.all([post(0), post(1), post(2)]);
    for (const res of refused) {
      expect(res.status).toBe(500);
      expect(res.headers.location).toBeUndefined();
    }
    expect(gw.queue.counts()).toMatchObject({ QUEUED: 0, SUBMITTED: 0, COMMITTED: 0 });
    gw.db.exec('DROP TRIGGER ack_guard_t');
    // nothing took effect: the same keys run again, and each reading is queued once
    const accepted = await Promise.all([post(0), post(1), post(2)]);
    for (const res of accepted) expect(res.status).toBe(202);
    expect(gw.queue.counts().QUEUED).toBe(3);
    expect((await post(1)).headers['idempotent-replayed']).toBe('true');
    expect(gw.queue.counts().QUEUED).toBe(3);
  });

  it('a replay is answered only once its stored answer is durable (the group commit\'s next fdatasync)', async () => {
    const k = await enrol(gw, 'm-1');
    const post = () => request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).set('Idempotency-Key', 'dur-1').send(reading());
    const first = await post();
    expect(first.status).toBe(202);
    // hold every fdatasync from now on: the replay's row is committed, but no sync after its read has finished
    const held: Array<() => void> = [];
    const sync = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      held.push(() => fs.fdatasync(fd, cb));
    }) as typeof fs.fdatasync);
    try {
      let answered = false;
      const replay = post().then((r) => ((answered = true), r));
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      expect(answered).toBe(false);
      sync.mockRestore();
      held.splice(0).forEach((go) => go());
      const again = await replay;
      expect(again.status).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.receiptId).toBe(first.body.receiptId);
    } finally {
      sync.mockRestore();
      held.splice(0).forEach((go) => go()); // (a failed expectation must not leave the gateway waiting for a sync)
    }
    expect(gw.queue.counts().QUEUED).toBe(1);
  });

  it('Idempotency-Key: a retried POST returns the original response and queues once; a different body is 422', async () => {
    const k = await enrol(gw, 'm-1');
    const first = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).set('Idempotency-Key', 'r-1').send(reading());
    const again = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).set('Idempotency-Key', 'r-1').send(reading());
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.receiptId).toBe(first.body.receiptId);
    expect(gw.queue.counts().QUEUED).toBe(1);
    const different = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).set('Idempotency-Key', 'r-1').send(reading(1));
    expect(different.status).toBe(422);
    expect(different.body.type).toBe('urn:gridledger:problem:idempotency-key-reused');
    await drain(gw);
    expect(gw.ledger.applied).toHaveLength(1);
  });

  it('a duplicate synchronous POST with the same Idempotency-Key submits once', async () => {
    const k = await enrol(gw, 'm-1');
    const send = () =>
      request(gw.app).post('/api/v1/participants/join').set(bearer(k)).set('Idempotency-Key', 'join-1').send({ meterId: 'm-1', request: { stake: 5 } });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ txId: 'tx1', blockNumber: 1, attempts: 1 });
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.body.txId).toBe('tx1');
    expect(gw.ledger.endorseCalls).toBe(1);
  });

  it('a synchronous POST cut by a crash after endorsement is finished with the SAME transaction on retry', async () => {
    // first run: the credit was endorsed and sent, then the gateway died before answering
    gw.ledger.hangAfterCommit = true;
    // our own server, so the "crash" can cut the connection of the request that never gets an answer
    // (supertest's ephemeral server would stay open waiting for it and keep jest from exiting)
    const server = http.createServer(gw.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    void request(server).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'dep-9').send({ amount: 9, reference: 'dep-9' }).then(() => undefined, () => undefined);
    while (gw.ledger.applied.length === 0) await new Promise((r) => setImmediate(r));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await gw.close();
    gw.ledger.hangAfterCommit = false;
    // restart on the same data directory and ledger
    gw = makeTestGateway({ dataDir: gw.config.dataDir, ledger: gw.ledger, ca: gw.ca, keys: gw.keys });
    const retry = await request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'dep-9').send({ amount: 9, reference: 'dep-9' });
    expect(retry.status).toBe(201);
    expect(retry.body.txId).toBe('tx1');
    expect(gw.ledger.endorseCalls).toBe(1);
    expect(gw.ledger.applied).toHaveLength(1);
    const replay = await request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'dep-9').send({ amount: 9, reference: 'dep-9' });
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('504 when the commit is not confirmed in time; a retry with the same key re-sends that transaction', async () => {
    const { LedgerError } = await import('../src/fabric/errors');
    gw.ledger.script.push({ stage: 'commitStatus', error: new LedgerError({ stage: 'commitStatus', message: '4 DEADLINE_EXCEEDED: Deadline exceeded', grpcCode: Grpc.DEADLINE_EXCEEDED }) });
    const send = () =>
      request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'dep-10').send({ amount: 10, reference: 'dep-10' });
    const first = await send();
    expect(first.status).toBe(504);
    expect(first.body).toMatchObject({ type: 'urn:gridledger:problem:commit-status-unknown', txId: 'tx1' });
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.body.txId).toBe('tx1');
    expect(gw.ledger.endorseCalls).toBe(1);
    expect(gw.ledger.applied).toHaveLength(1);
  });

  it('maps chaincode errors to problem+json per CONTRACTS.md', async () => {
    const k = await enrol(gw, 'm-1');
    gw.ledger.script.push({ stage: 'endorse', error: chaincodeError('[FORBIDDEN] meter m-1 may not join twice') });
    const res = await request(gw.app).post('/api/v1/participants/join').set(bearer(k)).send({ meterId: 'm-1' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      type: 'urn:gridledger:problem:chaincode-forbidden',
      detail: 'meter m-1 may not join twice',
      chaincodeCode: 'FORBIDDEN',
      chaincodeMessage: '[FORBIDDEN] meter m-1 may not join twice',
    });
    gw.ledger.script.push({ stage: 'endorse', error: chaincodeError('[INSUFFICIENT_FUNDS] balance 5 < 10') });
    const funds = await request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).send({ amount: 10, reference: 'dep-1' });
    expect(funds.status).toBe(422);
  });

  it('retries MVCC conflicts with a new proposal, then gives up with 409', async () => {
    gw.ledger.script.push({ stage: 'conflict' });
    const ok = await request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).send({ amount: 500, reference: 'dep-1' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ txId: 'tx2', attempts: 2 });
    expect(gw.ledger.applied[0]).toMatchObject({ fn: 'wallets:credit', args: ['p1', '500', 'dep-1'], signer: 'operator' });
    gw.ledger.script.push({ stage: 'conflict' }, { stage: 'conflict' }, { stage: 'conflict' });
    const gaveUp = await request(gw.app)
      .post('/api/v1/wallets/p1/credits')
      .set(bearer(gw.keys.operator))
      .set('Idempotency-Key', 'c-2')
      .send({ amount: 1, reference: 'dep-2' });
    expect(gaveUp.status).toBe(409);
    expect(gaveUp.body).toMatchObject({ type: 'urn:gridledger:problem:ledger-conflict', validationCode: 'MVCC_READ_CONFLICT' });
    // nothing took effect, so the same key may be retried
    const retried = await request(gw.app)
      .post('/api/v1/wallets/p1/credits')
      .set(bearer(gw.keys.operator))
      .set('Idempotency-Key', 'c-2')
      .send({ amount: 1, reference: 'dep-2' });
    expect(retried.status).toBe(201);
  });

  it('retries an endorsement mismatch with a new proposal (metric), then gives up with 503 endorsements-differ and frees the key', async () => {
    gw.ledger.script.push({ stage: 'endorse', error: mismatch() });
    const ok = await request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).send({ amount: 5, reference: 'dep-m1' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ txId: 'tx1', attempts: 2 });
    expect((await request(gw.app).get('/metrics')).text).toMatch(/gateway_fabric_retries_total\{reason="endorsement-mismatch",path="sync"\} 1/);
    for (let i = 0; i < 3; i++) gw.ledger.script.push({ stage: 'endorse', error: mismatch() });
    const send = () => request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).set('Idempotency-Key', 'm-2').send({ amount: 6, reference: 'dep-m2' });
    const gaveUp = await send();
    expect(gaveUp.status).toBe(503);
    expect(gaveUp.headers['retry-after']).toBe('1');
    expect(gaveUp.body).toMatchObject({ type: 'urn:gridledger:problem:endorsements-differ', detail: expect.stringContaining('3 attempts') });
    expect((await send()).status).toBe(201); // nothing was submitted: the key is free again
    expect(gw.ledger.applied).toHaveLength(2);
  });

  it('503 with Retry-After when the peer is unreachable', async () => {
    gw.ledger.script.push({ stage: 'endorse', error: unavailable() }, { stage: 'endorse', error: unavailable() }, { stage: 'endorse', error: unavailable() });
    const res = await request(gw.app).post('/api/v1/wallets/p1/credits').set(bearer(gw.keys.operator)).send({ amount: 1, reference: 'x' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
  });

  it('whoAmI acts as the caller: meter, operator; a multi-meter key must name its meter', async () => {
    const k = await enrol(gw, 'm-1');
    const seen: string[] = [];
    gw.ledger.evaluateImpl = async (id) => {
      seen.push(id.key);
      return Buffer.from(JSON.stringify({ participantId: `p-${id.key}`, mspId: id.mspId, role: id.key.startsWith('meter') ? 'meter' : id.key }));
    };
    expect((await request(gw.app).get('/api/v1/participants/me').set(bearer(k))).body.participantId).toBe('p-meter:m-1');
    expect((await request(gw.app).get('/api/v1/participants/me').set(bearer(gw.keys.operator))).body.role).toBe('operator');
    const multi = await request(gw.app).get('/api/v1/participants/me').set(bearer(gw.keys.twoMeters));
    expect(multi.status).toBe(400);
    expect(multi.body.detail).toMatch(/\?meterId=/);
    expect(seen).toEqual(['meter:m-1', 'operator']);
  });

  it('wallet read acts as the caller (regulator, operator, or the meter itself); the chaincode decides whose wallet it may see', async () => {
    const k = await enrol(gw, 'm-1');
    gw.ledger.evaluateImpl = async (id, fn, args) => Buffer.from(JSON.stringify({ participantId: args[0], balance: 0, readBy: id.key, fn }));
    expect((await request(gw.app).get('/api/v1/wallets/p1').set(bearer(gw.keys.regulator))).body.readBy).toBe('regulator');
    expect((await request(gw.app).get('/api/v1/wallets/p1').set(bearer(gw.keys.operator))).body.readBy).toBe('operator');
    expect((await request(gw.app).get('/api/v1/wallets/p1').set(bearer(k))).body.readBy).toBe('meter:m-1');
  });

  it('a revoked meter is refused: its key stops working and queued readings are rejected', async () => {
    const k = await enrol(gw, 'm-1');
    const queued = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).send(reading());
    const rev = await request(gw.app).post('/api/v1/meters/m-1/revocation').set(bearer(gw.keys.operator)).send({ reason: 'keycompromise' });
    expect(rev.status).toBe(200);
    expect(rev.body).toMatchObject({ status: 'REVOKED', revocationReason: 'keycompromise', crlPem: expect.stringContaining('X509 CRL') });
    expect(gw.ca.registered.get('m-1')!.revoked).toBe(true);
    const after = await request(gw.app).post('/api/v1/meters/m-1/readings').set(bearer(k)).send(reading(1));
    expect(after.status).toBe(401);
    await drain(gw);
    const r = gw.queue.get(queued.body.receiptId)!;
    expect(r).toMatchObject({ state: 'REJECTED', reason: expect.stringContaining('revoked') });
    // nothing was delivered for it; the ledger retired its relay key (the utility's operator)
    expect(gw.ledger.applied.map((t) => [t.fn, t.args, t.signer])).toEqual([['meters:revokeKey', ['m-1'], 'operator']]);
    const again = await request(gw.app).post('/api/v1/meters').set(bearer(gw.keys.operator)).send({ meterId: 'm-1', zone: 'feeder-7' });
    expect(again.status).toBe(409);
  });
});
