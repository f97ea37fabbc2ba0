import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { SecretKey } from '@chainsafe/blst';
import { BEACON_DST, beaconMessage } from '@gridledger/protocol';
import { BeaconKeyConflictError, BeaconService, CHECKPOINT_NAME, loadOrCreateBeaconKey, signBeacon } from '../src/events/beacon';
import { BeaconStore } from '../src/events/store';
import { Submitter } from '../src/fabric/submitter';
import { Metrics } from '../src/ops/metrics';
import { openDatabase, type Db } from '../src/store/db';
import { chaincodeError, FakeLedger, identity, unavailable } from './helpers/fakeLedger';
import { silentLogger, tmpDir } from './helpers/tmp';

const WALLET_KEY = Buffer.alloc(32, 7);
const MSP = 'Utility1MSP';

/** Lets queued promise callbacks and I/O run until `cond` holds (no wall-clock timing). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

const taskOpened = (taskId: string, round: number, utilities = [MSP, 'Utility2MSP']) => ({
  name: 'TaskOpened',
  payload: { taskId, kind: 'admission', subjectId: 'p-1#1', round, beaconMessage: beaconMessage('energy', taskId, round), utilities },
});

describe('beacon key at rest', () => {
  it('is created once, encrypted with the wallet key, and reloads to the same key', () => {
    const dir = tmpDir();
    const a = loadOrCreateBeaconKey(dir, WALLET_KEY, MSP);
    expect(a.created).toBe(true);
    expect(a.publicKeyHex).toMatch(/^[0-9a-f]{96}$/);
    const b = loadOrCreateBeaconKey(dir, WALLET_KEY, MSP);
    expect(b.created).toBe(false);
    expect(b.publicKeyHex).toBe(a.publicKeyHex);
    const file = fs.readFileSync(path.join(dir, 'beacon.key'), 'utf8');
    expect(file).not.toContain(Buffer.from(a.secretKey).toString('hex'));
    expect(fs.statSync(path.join(dir, 'beacon.key')).mode & 0o777).toBe(0o600);
    expect(() => loadOrCreateBeaconKey(dir, Buffer.alloc(32, 8), MSP)).toThrow(/cannot decrypt .* walletKey/);
    expect(() => loadOrCreateBeaconKey(dir, WALLET_KEY, 'Utility2MSP')).toThrow(/holds the beacon key of Utility1MSP/);
  });

  it('opens a key file written before the wallet seal was shared (same JSON fields, same AES-GCM and AAD)', () => {
    // The format as 0.2.0 gateways wrote it with their own cipher calls: raw key bytes, AAD "gridledger-beacon:<msp>".
    const dir = tmpDir();
    const sk = bls.utils.randomPrivateKey();
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', WALLET_KEY, iv).setAAD(Buffer.from(`gridledger-beacon:${MSP}`));
    const ct = Buffer.concat([c.update(sk), c.final()]);
    fs.writeFileSync(path.join(dir, 'beacon.key'), JSON.stringify({ version: 1, mspId: MSP, iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), ciphertext: ct.toString('base64') }) + '\n', { mode: 0o600 });
    const k = loadOrCreateBeaconKey(dir, WALLET_KEY, MSP);
    expect(k.created).toBe(false);
    expect(Buffer.from(k.secretKey).equals(Buffer.from(sk))).toBe(true);
    expect(k.publicKeyHex).toBe(Buffer.from(bls.getPublicKey(sk)).toString('hex'));
  });
});

describe('beacon signature', () => {
  it('known answer: a fixed key and beacon message give a fixed signature (the tag BEACON_DST, as the chaincode verifies)', () => {
    // The same vector as chaincode/test/governance/entropy.test.ts: a change of library, tag or message
    // encoding on either side fails one of the two.
    const sk = SecretKey.fromBytes(Buffer.from('01d0486b187f92a2b7b121ac85402436b7281c3aca64bedd58c15a41326246bb', 'hex'));
    expect(Buffer.from(sk.toPublicKey().toBytes()).toString('hex')).toBe(
      '969d3f254993f419be93f36e965870823a35de93021889eaf4213b9720032155aaa05422167dc1739d57256e99d7d146',
    );
    expect(signBeacon(sk, beaconMessage('gridledger', 't-kat', 0))).toBe(
      'abb3487f5b1a14273d7d856787d33918bce71ff5172e453596951af36ad907c8a667b7efd5c848b48969944c495728b5053ace6de138267b50d1ca46906c071fa23018919820eb4e6f71d9c978bf6e1e0f0e160e4d8c15d048c871eb8b3b9143',
    );
  });
});

describe('BeaconService', () => {
  let db: Db;
  let dir: string;
  let ledger: FakeLedger;
  let store: BeaconStore;
  let metrics: Metrics;
  let key: ReturnType<typeof loadOrCreateBeaconKey>;
  const services: BeaconService[] = [];

  const make = (st = store) => {
    const s = new BeaconService({
      ledger,
      submitter: new Submitter(ledger, { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 }),
      store: st,
      operator: identity('operator'),
      channel: 'energy',
      secretKey: key.secretKey,
      publicKeyHex: key.publicKeyHex,
      logger: silentLogger,
      metrics,
      startBlock: 0,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      reconnectMs: 1,
      stepInMs: 10_000, // the events here carry no quorum: no turns (gateway/test/beaconTurns.test.ts has them)
    });
    services.push(s);
    return s;
  };
  const contributions = () => ledger.applied.filter((t) => t.fn === 'committees:contributeEntropy');

  beforeEach(() => {
    dir = tmpDir();
    db = openDatabase(dir);
    ledger = new FakeLedger();
    store = new BeaconStore(db);
    metrics = new Metrics();
    key = loadOrCreateBeaconKey(dir, WALLET_KEY, MSP);
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    db.close();
  });

  it('registers the key once as the operator; skips when the ledger has it; refuses to overwrite another key', async () => {
    const s = make();
    ledger.evaluateImpl = async () => Buffer.from('[]');
    expect(await s.registerKey()).toBe('registered');
    expect(ledger.applied).toMatchObject([{ fn: 'committees:registerBeaconKey', args: [key.publicKeyHex], signer: 'operator' }]);
    ledger.evaluateImpl = async () => Buffer.from(JSON.stringify([{ mspId: 'Utility2MSP', publicKeyHex: 'aa' }, { mspId: MSP, publicKeyHex: key.publicKeyHex, registeredAt: 1 }]));
    expect(await s.registerKey()).toBe('already-registered');
    expect(ledger.applied).toHaveLength(1);
    ledger.evaluateImpl = async () => Buffer.from(JSON.stringify([{ mspId: MSP, publicKeyHex: 'bb'.repeat(48) }]));
    await expect(s.registerKey()).rejects.toThrow(BeaconKeyConflictError);
    await expect(s.registerKey()).rejects.toThrow(/another beacon key .* revoke/);
    expect(ledger.applied).toHaveLength(1);
    // A key registered by someone else between the read and the submit: the chaincode's sub-code, not its prose, says so.
    ledger.evaluateImpl = async () => Buffer.from('[]');
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT:BEACON_KEY_EXISTS] Utility1MSP already has a beacon key; the regulator must revoke it first\n{"mspId":"Utility1MSP"}') });
    await expect(s.registerKey()).rejects.toThrow(BeaconKeyConflictError);
  });

  it('handles a block of events in ONE SQLite transaction: a failed write keeps the whole block and its checkpoint out; the next pass contributes once per round', async () => {
    ledger.emitEvents([taskOpened('t-0', 0)], { block: 6, txId: 'tx-0' });
    ledger.emitEvents([taskOpened('t-1', 0)], { block: 7, txId: 'tx-1' });
    ledger.emitEvents([taskOpened('t-2', 0)], { block: 7, txId: 'tx-2' });
    db.exec(`CREATE TEMP TRIGGER fail_t2 BEFORE INSERT ON beacon_contributions WHEN NEW.task_id = 't-2' BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    const s = make();
    s.start();
    await until(() => ledger.streamOptions.length >= 3, 'the listener resumed twice after the failed block');
    expect(store.checkpoint(CHECKPOINT_NAME)).toEqual({ block: 6, txId: 'tx-0' });
    expect(store.all().map((j) => j.taskId)).toEqual(['t-0']); // nothing of block 7, not even t-1
    db.exec('DROP TRIGGER fail_t2');
    await until(() => contributions().length === 3, 'the three rounds contributed');
    expect(store.checkpoint(CHECKPOINT_NAME)).toEqual({ block: 7, txId: 'tx-2' });
    expect(contributions().map((t) => t.args[0]).sort()).toEqual(['t-0', 't-1', 't-2']);
  });

  it('a batch sees what its earlier events did, as one event at a time would (turns, quorum)', () => {
    const opened = { name: 'TaskOpened', payload: { ...taskOpened('t-1', 0, [MSP, 'Utility2MSP', 'Utility3MSP']).payload, quorum: 2 } };
    const seen = (mspId: string, contributions: number) => ({ name: 'EntropyContributed', payload: { taskId: 't-1', round: 0, mspId, contributions, quorum: 2 } });
    const evs = [ledger.emitEvents([opened], { block: 9, txId: 'tx-a' }), ledger.emitEvents([seen('Utility2MSP', 1)], { block: 9, txId: 'tx-b' }), ledger.emitEvents([seen('Utility3MSP', 2)], { block: 9, txId: 'tx-c' })];
    expect(make().handleEvents(evs, 1_000)).toBe(1);
    const batched = store.get('t-1', 0);
    // the same events one at a time, on another database
    const other = openDatabase(tmpDir());
    try {
      const otherStore = new BeaconStore(other);
      const one = make(otherStore);
      for (const ev of evs) one.handleEvent(ev, 1_000);
      const single = otherStore.get('t-1', 0);
      expect(batched).toMatchObject({ state: 'SUPERSEDED', contributed: ['Utility2MSP', 'Utility3MSP'] });
      expect(batched).toEqual(single);
      expect(store.checkpoint(CHECKPOINT_NAME)).toEqual({ block: 9, txId: 'tx-c' });
    } finally {
      other.close();
    }
  });

  it('contributes exactly once per task round, with THE BLS signature of the beacon message', async () => {
    const s = make();
    const e1 = ledger.emitEvents([taskOpened('t-1', 0), { name: 'ParticipantJoined', payload: {} }]);
    expect(s.handleEvent(e1)).toBe(1);
    expect(s.handleEvent(e1)).toBe(0); // the same event again (e.g. replayed): no second job
    ledger.emitEvents([taskOpened('t-other', 0, ['Utility2MSP', 'Utility3MSP'])]); // our key is not in this task's snapshot
    s.handleEvent(ledger.chain.at(-1)!);
    expect(await s.runOnce()).toBe(1);
    expect(await s.runOnce()).toBe(0);
    expect(contributions()).toHaveLength(1);
    const [taskId, round, sig] = contributions()[0]!.args;
    expect([taskId, round, contributions()[0]!.signer]).toEqual(['t-1', '0', 'operator']);
    // an independent implementation (noble) under the protocol's tag accepts it
    expect(bls.verify(sig!, Buffer.from('gridledger/beacon/v1|energy|t-1|0'), key.publicKeyHex, { DST: BEACON_DST })).toBe(true);
    expect(store.get('t-1', 0)).toMatchObject({ state: 'CONTRIBUTED', txId: contributions()[0]!.txId, attempts: 1 });

    // a re-drawn round is a new contribution
    s.handleEvent(ledger.emitEvents([{ name: 'TaskOpened', payload: { ...taskOpened('t-1', 1).payload } }]));
    await s.runOnce();
    expect(contributions().map((t) => t.args.slice(0, 2))).toEqual([['t-1', '0'], ['t-1', '1']]);
    expect(await metrics.registry.getSingleMetricAsString('gateway_beacon_contributions_total')).toMatch(/outcome="contributed"} 2/);
  });

  it('retries a failed contribution with backoff; "already contributed" after an unknown outcome counts as done', async () => {
    const s = make();
    s.handleEvent(ledger.emitEvents([taskOpened('t-2', 0)]));
    ledger.script.push({ stage: 'endorse', error: unavailable() }, { stage: 'endorse', error: unavailable() });
    const before = Date.now();
    expect(await s.runOnce()).toBe(1);
    const job = store.get('t-2', 0)!;
    expect(job).toMatchObject({ state: 'PENDING', attempts: 1, lastError: expect.stringContaining('UNAVAILABLE') });
    expect(job.nextAttemptAt).toBeGreaterThanOrEqual(before + 500);
    expect(await s.runOnce(before)).toBe(0); // not due yet
    // the next attempt: the ledger already has it (an earlier attempt committed without us learning it)
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT:ALREADY_CONTRIBUTED] Utility1MSP already contributed to task t-2 round 0\n{"mspId":"Utility1MSP","round":0,"taskId":"t-2"}') });
    expect(await s.runOnce(job.nextAttemptAt)).toBe(1);
    expect(store.get('t-2', 0)).toMatchObject({ state: 'CONTRIBUTED', attempts: 2 });
    expect(await s.runOnce(Number.MAX_SAFE_INTEGER)).toBe(0);
  });

  it('branches on the sub-code, not the prose: a CONFLICT that merely says "already contributed" is not taken as done', async () => {
    const s = make();
    s.handleEvent(ledger.emitEvents([taskOpened('t-5', 0)]));
    ledger.script.push({ stage: 'endorse', error: chaincodeError('[CONFLICT:WRONG_ROUND] someone already contributed to task t-5 round 1; sign the current round') });
    await s.runOnce();
    expect(store.get('t-5', 0)!.state).toBe('SUPERSEDED');
  });

  it('stops on a verdict: a round that moved on is superseded, a refused one is not retried', async () => {
    const s = make();
    s.handleEvent(ledger.emitEvents([taskOpened('t-3', 0), taskOpened('t-4', 0)]));
    ledger.script.push(
      { stage: 'endorse', error: chaincodeError('[CONFLICT:BEACON_COMPLETE] task t-3 round 0 already has its beacon (status active)') },
      { stage: 'endorse', error: chaincodeError('[FORBIDDEN:NO_BEACON_KEY] Utility1MSP had no beacon key when task t-4 was opened, so it cannot contribute') },
    );
    await s.runOnce();
    expect(store.get('t-3', 0)!.state).toBe('SUPERSEDED');
    expect(store.get('t-4', 0)).toMatchObject({ state: 'REFUSED', lastError: expect.stringContaining('FORBIDDEN') });
    expect(await s.runOnce(Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(contributions()).toHaveLength(0);
  });

  it('listens from its checkpoint: a restart neither misses nor repeats an event', async () => {
    ledger.emitEvents([taskOpened('t-a', 0)]);
    ledger.emitEvents([{ name: 'OfferCreated', payload: {} }]);
    const last = ledger.emitEvents([taskOpened('t-b', 0)], { block: 2, txId: 'b2-second' });
    const s1 = make();
    s1.start();
    await until(() => store.checkpoint(CHECKPOINT_NAME)?.txId === last.txId && contributions().length === 2, 'first pass');
    expect(ledger.streamOptions[0]).toEqual({ startBlock: 0 });
    await s1.stop();

    // while the gateway is down: a tx in the SAME block as the checkpoint, then a new block
    ledger.emitEvents([taskOpened('t-c', 0)], { block: 2, txId: 'b2-third' });
    ledger.emitEvents([taskOpened('t-d', 0)]);
    const s2 = make();
    const seen: string[] = [];
    const orig = s2.handleEvents.bind(s2);
    jest.spyOn(s2, 'handleEvents').mockImplementation((evs) => {
      seen.push(...evs.map((ev) => ev.txId));
      return orig(evs);
    });
    s2.start();
    await until(() => contributions().length === 4, 'resumed pass');
    expect(ledger.streamOptions[1]).toEqual({ startBlock: 2, afterTxId: 'b2-second' });
    expect(seen).toEqual(['b2-third', ledger.chain.at(-1)!.txId]);
    expect(contributions().map((t) => t.args[0])).toEqual(['t-a', 't-b', 't-c', 't-d']);

    // a live event while running
    ledger.emitEvents([taskOpened('t-e', 0)]);
    await until(() => contributions().length === 5, 'live event');
    expect(store.all().map((j) => j.state)).toEqual(['CONTRIBUTED', 'CONTRIBUTED', 'CONTRIBUTED', 'CONTRIBUTED', 'CONTRIBUTED']);
  });

  it('reconnects from the checkpoint when the event stream fails', async () => {
    ledger.failNextStream = unavailable('endorse');
    ledger.emitEvents([taskOpened('t-x', 0)]);
    const s = make();
    s.start();
    await until(() => contributions().length === 1, 'contribution after reconnect');
    expect(ledger.streamOptions).toHaveLength(2);
  });
});
