import Database from 'better-sqlite3';
import request from 'supertest';
import fs from 'node:fs';
import path from 'node:path';
import { unpackEvents } from '@gridledger/protocol';
import { DDL } from '../src/analytics/schema';
import type { Principal } from '../src/auth/apiKeys';
import { AnalyticsListener } from '../src/analytics/listener';
import { createAnalyticsHandlers } from '../src/analytics/routes';
import { AnalyticsStore } from '../src/analytics/store';
import { createHttpApp } from '../src/rest/app';
import { ApiSpec } from '../src/rest/openapi';
import { openDatabase } from '../src/store/db';
import type { HandlerContext } from '../src/rest/app';
import { chaincodeError, FakeLedger, identity, unavailable } from './helpers/fakeLedger';
import { makeTestGateway, type TestGateway } from './helpers/testGateway';
import { silentLogger, tmpDir } from './helpers/tmp';

const MSP = 'Utility1MSP';
const T0 = 1_767_225_600; // an interval start (2026-01-01T00:00:00Z)

/** Records the ledger holds (what trades:get / offers:get / meters:getReading answer as the operator). */
const records: Record<string, unknown> = {
  'trades:get:T1': { tradeId: 'T1', seller: 'p-sun', buyer: 'p-shade', sellerMspId: MSP, buyerMspId: 'Utility2MSP', sellerMeterId: 'm-sun', buyerMeterId: 'm-shade', state: 'SETTLED' },
  'offers:get:O1': { offerId: 'O1', seller: 'p-sun', sellerMspId: MSP, sellerMeterId: 'm-sun' },
  [`meters:getReading:m-sun:${T0}`]: { reading: { intervalLength: 300, importWh: 100, exportWh: 900 } },
  [`meters:getReading:m-home:${T0}`]: { reading: { intervalLength: 300, importWh: 700, exportWh: 0 } },
  [`meters:getReading:m-home:${T0 + 300}`]: { reading: { intervalLength: 300, importWh: 650, exportWh: 10 } },
};

/** A small market history covering every table: meters, readings, offers, an auction, trades, a committee, sanctions. */
function writeChain(ledger: FakeLedger): void {
  ledger.emitEvents([{ name: 'MeterEnrolled', payload: { mspId: MSP, meterId: 'm-sun', zone: 'north' } }]);
  ledger.emitEvents([{ name: 'MeterEnrolled', payload: { mspId: MSP, meterId: 'm-home', zone: 'south' } }]);
  ledger.emitEvents([{ name: 'MeterEnrolled', payload: { mspId: 'Utility3MSP', meterId: 'm-far', zone: 'east' } }]);
  ledger.emitEvents([
    { name: 'ParticipantJoined', payload: { participantId: 'p-sun', mspId: MSP, zone: 'north', taskId: 'adm-1' } },
    { name: 'TaskOpened', payload: { taskId: 'adm-1', kind: 'admission', subjectId: 'p-sun#1', round: 1, utilities: [MSP] } },
  ]);
  ledger.emitEvents([
    { name: 'EntropyContributed', payload: { taskId: 'adm-1', round: 1, mspId: MSP, contributions: 1, quorum: 1 } },
    { name: 'CommitteeDrawn', payload: { taskId: 'adm-1', kind: 'admission', subjectId: 'p-sun#1', round: 1, committee: ['p-a', 'p-b', 'p-c'], zones: ['north'], deadlineAt: 1 } },
  ]);
  ledger.emitEvents([{ name: 'LeaderEntryRecorded', payload: { taskId: 'adm-1', ballot: 'admission', round: 1, leader: 'p-a', slot: 0 } }]);
  ledger.emitEvents([{ name: 'VoteRecorded', payload: { taskId: 'adm-1', ballot: 'admission', round: 1, voter: 'p-b', approve: true } }]);
  ledger.emitEvents([
    { name: 'VoteRecorded', payload: { taskId: 'adm-1', ballot: 'admission', round: 1, voter: 'p-c', approve: true } },
    { name: 'BallotDecided', payload: { taskId: 'adm-1', kind: 'admission', subjectId: 'p-sun#1', ballot: 'admission', round: 1, outcome: 'APPROVED', approvals: 2, refusals: 0 } },
    { name: 'ParticipantAdmitted', payload: { participantId: 'p-sun', zone: 'north', qScore: 500000, how: 'committee' } },
  ]);
  ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: MSP, meterId: 'm-sun', intervals: [T0] } }]);
  ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: MSP, meterId: 'm-home', intervals: [T0, T0 + 300] } }]);
  // another utility's reading: its values are private to it (and not readable here)
  ledger.emitEvents([{ name: 'ReadingRecorded', payload: { mspId: 'Utility3MSP', meterId: 'm-far', intervals: [T0] } }]);
  ledger.emitEvents([{ name: 'OfferCreated', payload: { offerId: 'O1', amountWh: 500, pricePerKwh: 120, deliveryStart: T0, expiresAt: T0 + 60 } }]);
  // O2 and T2 as the chaincode emits them since 2026-12-06: their events name the parties, which are not read
  // (no record of them here); O1 and T1 as an older chaincode emitted them: their parties are read
  ledger.emitEvents([{ name: 'OfferCreated', payload: { offerId: 'O2', amountWh: 300, pricePerKwh: 150, deliveryStart: T0, expiresAt: T0 + 60, seller: 'p-far', sellerMspId: 'Utility3MSP', sellerMeterId: 'm-far' } }]);
  ledger.emitEvents([
    { name: 'OfferAccepted', payload: { offerId: 'O1', tradeId: 'T1' } },
    { name: 'TradeCreated', payload: { tradeId: 'T1', origin: 'offer', originId: 'O1', amountWh: 500, pricePerKwh: 120, deliveryStart: T0, deliveryDeadline: T0 + 600 } },
  ]);
  ledger.emitEvents([
    { name: 'OfferAccepted', payload: { offerId: 'O2', tradeId: 'T2' } },
    { name: 'TradeCreated', payload: { tradeId: 'T2', origin: 'offer', originId: 'O2', amountWh: 300, pricePerKwh: 150, deliveryStart: T0, deliveryDeadline: T0 + 600, seller: 'p-far', buyer: 'p-other', sellerMspId: 'Utility3MSP', buyerMspId: 'Utility2MSP', sellerMeterId: 'm-far', buyerMeterId: 'm-other' } },
  ]);
  ledger.emitEvents([
    { name: 'TradeEnergyEscrowed', payload: { tradeId: 'T1', energyEscrowWh: 500, taskId: 'trade-T1' } },
    { name: 'TaskOpened', payload: { taskId: 'trade-T1', kind: 'trade', subjectId: 'T1', round: 0, utilities: [MSP, 'Utility2MSP'] } },
  ]);
  ledger.emitEvents([{ name: 'EntropyContributed', payload: { taskId: 'trade-T1', round: 0, mspId: MSP, contributions: 1, quorum: 2 } }]);
  ledger.emitEvents([{ name: 'EntropyContributed', payload: { taskId: 'trade-T1', round: 0, mspId: 'Utility2MSP', contributions: 2, quorum: 2 } }]);
  ledger.emitEvents([{ name: 'TradeDeliveryEvidenced', payload: { tradeId: 'T1', declaredWh: 500, meteredWh: 500 } }]);
  ledger.emitEvents([{ name: 'TradeStageAdvanced', payload: { tradeId: 'T1', state: 'FINAL', decidedBy: 'facts' } }]);
  ledger.emitEvents([
    // a raise is a credit: delta only, the store adds it to the score it holds (500000 at admission)
    { name: 'QScoreChanged', payload: { participantId: 'p-sun', delta: 20000, reason: 'trade settled', ref: 'T1', credited: true } },
    { name: 'TradeClosed', payload: { tradeId: 'T1', state: 'SETTLED', fault: 'none', energyToBuyerWh: 500 } },
  ]);
  ledger.emitEvents([
    { name: 'ParticipantPenalised', payload: { participantId: 'p-far', penaltyCount: 1, reason: 'declined', ref: 'T2' } },
    { name: 'QScoreChanged', payload: { participantId: 'p-far', qScore: 400000, delta: -100000, reason: 'declined', ref: 'T2' } },
    { name: 'TradeClosed', payload: { tradeId: 'T2', state: 'DECLINED', fault: 'seller', energyToBuyerWh: 0 } },
  ]);
  ledger.emitEvents([{ name: 'AuctionRequested', payload: { requestId: 'A1', amountWh: 1000, maxPricePerKwh: 200, t1: T0 - 600, t2: T0 - 300, deliveryStart: T0 } }]);
  ledger.emitEvents([{ name: 'AuctionBid', payload: { requestId: 'A1', offerId: 'O9', energyWh: 1000 } }]);
  ledger.emitEvents([{ name: 'ParticipantBanned', payload: { participantId: 'p-far', bannedUntil: 99, reason: 'regulator' } }]);
}

function fakeLedger(): FakeLedger {
  const ledger = new FakeLedger();
  ledger.evaluateImpl = async (_id, fn, args) => {
    const r = records[`${fn}:${args.join(':')}`];
    if (r === undefined) throw chaincodeError(`[NOT_FOUND] no ${fn} ${args.join(' ')}`);
    return Buffer.from(JSON.stringify(r));
  };
  writeChain(ledger);
  return ledger;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const lastOf = (ledger: FakeLedger) => ledger.chain.at(-1)!;
const eventCount = (ledger: FakeLedger) => ledger.chain.reduce((n, e) => n + (JSON.parse(Buffer.from(e.payload).toString()) as { events: unknown[] }).events.length, 0);

async function build(ledger: FakeLedger, dir = tmpDir('analytics-')): Promise<{ store: AnalyticsStore; db: Database.Database; dir: string }> {
  const db = openDatabase(dir, 'analytics.sqlite');
  const store = new AnalyticsStore(db, MSP);
  const listener = new AnalyticsListener({ ledger, store, operator: identity(), logger: silentLogger, reconnectMs: 5 });
  listener.start();
  await until(() => store.checkpoint()?.txId === lastOf(ledger).txId, 'the listener to reach the last event');
  await listener.stop();
  return { store, db, dir };
}

describe('analytics store', () => {
  it('replays the chain from block 0 into an empty store, and a second empty store gets identical tables', async () => {
    const ledger = fakeLedger();
    const a = await build(ledger);
    expect(ledger.streamOptions[0]).toEqual({ startBlock: 0 });
    const b = await build(ledger);
    const dump = a.store.dump();
    expect(b.store.dump()).toEqual(dump);
    expect(dump.an_trades).toHaveLength(2);
    expect(dump.an_readings).toHaveLength(3); // Utility3MSP's reading is not ours: not stored
    // parties from the events where they name them (T2, O2), from a read where they do not (T1, O1)
    const row = (table: string, key: string, id: string) => (dump[table] as Array<Record<string, unknown>> | undefined)?.find((r) => r[key] === id);
    expect(row('an_trades', 'trade_id', 'T2')).toMatchObject({ seller: 'p-far', buyer: 'p-other', seller_msp_id: 'Utility3MSP', buyer_msp_id: 'Utility2MSP', seller_meter_id: 'm-far', buyer_meter_id: 'm-other' });
    expect(row('an_offers', 'offer_id', 'O2')).toMatchObject({ seller: 'p-far', seller_msp_id: 'Utility3MSP', seller_meter_id: 'm-far' });
    expect(row('an_trades', 'trade_id', 'T1')).toMatchObject({ seller: 'p-sun', buyer_meter_id: 'm-shade' });
    const reads = ledger.evaluated.map((e) => `${e.fn}:${e.args.join(':')}`);
    expect(reads.filter((r) => /^(trades|offers):get/.test(r)).sort()).toEqual(['offers:get:O1', 'offers:get:O1', 'trades:get:T1', 'trades:get:T1']); // two stores built
    expect(a.store.checkpoint()).toEqual({ block: lastOf(ledger).blockNumber, txId: lastOf(ledger).txId, events: eventCount(ledger) });
    a.db.close();
    b.db.close();
  });

  it('re-applying a transaction already applied counts nothing twice', async () => {
    const ledger = fakeLedger();
    const { store, db } = await build(ledger);
    const before = store.dump();
    const ev = ledger.chain.find((e) => Buffer.from(e.payload).toString().includes('TradeCreated'))!;
    const events = unpackEvents(ev);
    expect(store.apply({ blockNumber: ev.blockNumber, txId: ev.txId, events })).toBe(false);
    // every table, the checkpoint and the event count are unchanged
    expect(store.dump()).toEqual(before);
    expect(store.checkpoint()).toEqual({ block: lastOf(ledger).blockNumber, txId: lastOf(ledger).txId, events: eventCount(ledger) });
    db.close();
  });

  it('resumes exactly after its checkpoint after a crash, and ends with the same tables as a one-pass rebuild', async () => {
    const ledger = fakeLedger();
    const full = ledger.chain.slice();
    // first life: sees only the first 9 transactions, then "crashes" (the process stops; the file stays)
    const partial = new FakeLedger();
    partial.evaluateImpl = ledger.evaluateImpl;
    for (const ev of full.slice(0, 9)) partial.chain.push(ev);
    const first = await build(partial);
    expect(first.store.checkpoint()).toMatchObject({ block: full[8]!.blockNumber, txId: full[8]!.txId });
    first.db.close();
    // second life on the same file: resumes after the checkpoint (Fabric checkpoint semantics)
    const second = await build(ledger, first.dir);
    expect(ledger.streamOptions[0]).toEqual({ startBlock: full[8]!.blockNumber, afterTxId: full[8]!.txId });
    const fresh = await build(fakeLedger());
    expect(second.store.dump()).toEqual(fresh.store.dump());
    second.db.close();
    fresh.db.close();
  });

  it('does not apply a transaction whose records cannot be read for a transient reason; retries it from the checkpoint', async () => {
    const ledger = fakeLedger();
    const ok = ledger.evaluateImpl;
    let fail = 2;
    ledger.evaluateImpl = async (id, fn, args) => {
      if (fn === 'trades:get' && fail-- > 0) throw unavailable();
      return ok(id, fn, args);
    };
    const { store, db } = await build(ledger);
    const again = await build(fakeLedger());
    expect(store.dump()).toEqual(again.store.dump());
    expect(ledger.streamOptions.length).toBeGreaterThanOrEqual(3); // two failed passes, resumed from the checkpoint each time
    expect(ledger.streamOptions.slice(1).every((o) => o.afterTxId !== undefined)).toBe(true);
    db.close();
    again.db.close();
  });

  it('applies a block of transactions in ONE SQLite transaction: a failed read leaves the whole block out, checkpoint before it; the result equals one block per transaction', async () => {
    const t1 = fakeLedger().chain.findIndex((e) => Buffer.from(e.payload).toString().includes('"TradeCreated","payload":{"tradeId":"T1"'));
    // three transactions per block, T1's the last of its block (the two before it in the same block)
    const grouped = () => {
      const l = fakeLedger();
      l.chain.forEach((e, i) => (e.blockNumber = 1 + Math.floor((i + ((2 - (t1 % 3) + 3) % 3)) / 3)));
      return l;
    };
    const ledger = grouped();
    expect(ledger.chain[t1 - 2]!.blockNumber).toBe(ledger.chain[t1]!.blockNumber);
    const ok = ledger.evaluateImpl;
    let fail = 1;
    let checkpointAtFailure: string | undefined;
    const box: { store?: AnalyticsStore } = {};
    ledger.evaluateImpl = async (id, fn, args) => {
      if (fn === 'trades:get' && args[0] === 'T1' && fail-- > 0) {
        checkpointAtFailure = box.store?.checkpoint()?.txId;
        throw unavailable();
      }
      return ok(id, fn, args);
    };
    const dir = tmpDir('analytics-');
    const db = openDatabase(dir, 'analytics.sqlite');
    const store = (box.store = new AnalyticsStore(db, MSP));
    const listener = new AnalyticsListener({ ledger, store, operator: identity(), logger: silentLogger, reconnectMs: 5 });
    listener.start();
    await until(() => store.checkpoint()?.txId === lastOf(ledger).txId, 'the listener to reach the last event');
    await listener.stop();
    expect(checkpointAtFailure).toBe(ledger.chain[t1 - 3]!.txId); // nothing of T1's block was committed before its read failed
    expect(ledger.streamOptions[1]).toEqual({ startBlock: ledger.chain[t1 - 3]!.blockNumber, afterTxId: ledger.chain[t1 - 3]!.txId });
    const fresh = await build(grouped());
    expect(store.dump()).toEqual(fresh.store.dump());
    expect(store.checkpoint()?.events).toBe(eventCount(ledger));
    db.close();
    fresh.db.close();
  });

  it('a store written by another schema version is dropped and rebuilt from block 0', async () => {
    const ledger = fakeLedger();
    const { store, db, dir } = await build(ledger);
    const dump = store.dump();
    db.prepare("UPDATE an_meta SET value = '0' WHERE name = 'schema'").run();
    db.close();
    const again = await build(ledger, dir);
    expect(again.store.rebuilt).toBe(true);
    expect(ledger.streamOptions.at(-1)).toEqual({ startBlock: 0 });
    expect(again.store.dump()).toEqual(dump);
    again.db.close();
  });

  it('keeps portable SQL: no SQLite-only syntax in the schema and the statements', () => {
    const code = ['store.ts', 'routes.ts'].map((f) => fs.readFileSync(path.join(__dirname, '..', 'src', 'analytics', f), 'utf8')).join('\n');
    for (const sql of [DDL, code]) expect(sql).not.toMatch(/AUTOINCREMENT|WITHOUT ROWID|INSERT OR REPLACE|INSERT OR IGNORE|json_extract|\browid\b|PRAGMA/i);
  });
});

describe('analytics routes', () => {
  const principal = (roles: Principal['roles'], meters: string[] = []): Principal => ({ keyId: 'k', name: 'k', roles, meters });
  const ctx = (p: Principal, query: Record<string, unknown> = {}, params: Record<string, string> = {}) => ({ principal: p, query, params }) as unknown as HandlerContext;
  let store: AnalyticsStore;
  let db: Database.Database;
  let h: ReturnType<typeof createAnalyticsHandlers>;
  beforeAll(async () => {
    ({ store, db } = await build(fakeLedger()));
    h = createAnalyticsHandlers({
      store,
      listener: undefined,
      mspId: MSP,
      participantOf: async (m) => ({ 'm-sun': 'p-sun', 'm-home': 'p-home' })[m],
      queueCounts: () => ({ QUEUED: 0 }),
      sseClients: async () => 0,
    });
  });
  afterAll(() => db.close());

  it('per interval and zone: own metered production/consumption, public traded energy and price band', async () => {
    const r = (await h.getAnalyticsIntervals!(ctx(principal(['operator'])))).body as { intervals: Array<Record<string, unknown>> };
    expect(r.intervals).toEqual([
      { intervalStart: T0, zone: 'east', productionWh: 0, consumptionWh: 0, readings: 0, tradedWh: 0, trades: { DECLINED: 1 }, price: null, selfSufficiencyPct: null },
      { intervalStart: T0, zone: 'north', productionWh: 900, consumptionWh: 100, readings: 1, tradedWh: 500, trades: { SETTLED: 1 }, price: { min: 120, avg: 120, max: 120 }, selfSufficiencyPct: 100 },
      { intervalStart: T0, zone: 'south', productionWh: 0, consumptionWh: 700, readings: 1, tradedWh: 0, trades: {}, price: null, selfSufficiencyPct: 0 },
      { intervalStart: T0 + 300, zone: 'south', productionWh: 10, consumptionWh: 650, readings: 1, tradedWh: 0, trades: {}, price: null, selfSufficiencyPct: 1.5 },
    ]);
  });

  it('a meter key sees only its own meters in the metered figures', async () => {
    const r = (await h.getAnalyticsIntervals!(ctx(principal(['meter'], ['m-home'])))).body as { intervals: Array<{ zone: string; productionWh: number; consumptionWh: number; readings: number }> };
    expect(r.intervals.reduce((a, i) => a + i.readings, 0)).toBe(2);
    expect(r.intervals.find((i) => i.zone === 'north')!.consumptionWh).toBe(0);
  });

  it('trades are scoped: regulator all, operator its utility, meter key its meters; a hidden trade is a 404', async () => {
    const ids = async (p: Principal) => ((await h.getAnalyticsTrades!(ctx(p))).body as { trades: Array<{ tradeId: string }> }).trades.map((t) => t.tradeId).sort();
    expect(await ids(principal(['regulator']))).toEqual(['T1', 'T2']);
    expect(await ids(principal(['operator']))).toEqual(['T1']);
    expect(await ids(principal(['meter'], ['m-home']))).toEqual([]);
    expect(await ids(principal(['meter'], ['m-sun']))).toEqual(['T1']);
    const t = (await h.getAnalyticsTrade!(ctx(principal(['operator']), {}, { tradeId: 'T1' }))).body as { timeline: Array<{ name: string; state: string | null }> };
    expect(t.timeline.map((e) => `${e.name}:${e.state}`)).toEqual(['TradeCreated:AWAITING_ENERGY', 'TradeEnergyEscrowed:EXECUTION', 'TradeDeliveryEvidenced:null', 'TradeStageAdvanced:FINAL', 'TradeClosed:SETTLED']);
    await expect(h.getAnalyticsTrade!(ctx(principal(['operator']), {}, { tradeId: 'T2' }))).rejects.toMatchObject({ status: 404 });
  });

  it('governance: tasks with committee, leader, votes and decision; sanctions scoped to the utility', async () => {
    const tasks = ((await h.getAnalyticsTasks!(ctx(principal(['operator'])))).body as { tasks: Array<Record<string, unknown>> }).tasks.sort((a, b) => String(a.taskId).localeCompare(String(b.taskId)));
    expect(tasks.map((t) => t.taskId)).toEqual(['adm-1', 'trade-T1']);
    // the trade's task: seeded (beacon quorum reached), no committee drawn yet; visible to the seller's utility only
    expect(tasks[1]).toMatchObject({ kind: 'trade', subjectId: 'T1', status: 'SEEDED', committee: [], beacon: [{ round: 0, mspId: MSP }, { round: 0, mspId: 'Utility2MSP' }] });
    expect(((await h.getAnalyticsTasks!(ctx(principal(['meter'], ['m-home'])))).body as { tasks: unknown[] }).tasks).toEqual([]);
    expect(tasks[0]).toMatchObject({ taskId: 'adm-1', status: 'CLOSED', outcome: 'APPROVED', committee: ['p-a', 'p-b', 'p-c'], leaders: [{ ballot: 'admission', round: 1, leader: 'p-a' }], beacon: [{ round: 1, mspId: MSP }] });
    expect((tasks[0]!.votes as unknown[]).length).toBe(2);
    expect(((await h.getAnalyticsSanctions!(ctx(principal(['operator'])))).body as { sanctions: unknown[] }).sanctions).toEqual([]);
    const all = ((await h.getAnalyticsSanctions!(ctx(principal(['regulator'])))).body as { sanctions: Array<{ kind: string }> }).sanctions;
    expect(all.map((s) => s.kind)).toEqual(['ban', 'penalty']);
    const q = (await h.getAnalyticsQScores!(ctx(principal(['meter'], ['m-home']), { participantId: 'p-sun' }))).body as { leaderboard: Array<{ participantId: string; qScore: number }>; history: unknown[] };
    expect(q.leaderboard.map((l) => [l.participantId, l.qScore])).toEqual([['p-sun', 520000], ['p-far', 400000]]);
    expect(q.history).toEqual([]); // not this meter's participant
  });
});

describe('analytics over HTTP (responses validated against the OpenAPI document)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const ledger = fakeLedger();
    gw = makeTestGateway({ ledger });
    gw.analytics.listener.start();
    await until(() => gw.analytics.store.checkpoint()?.txId === lastOf(ledger).txId, 'the gateway listener to reach the last event');
  });
  afterAll(async () => {
    await gw.analytics.listener.stop();
    gw.analytics.db.close();
    await gw.close();
  });
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

  it.each(['intervals', 'offers?status=OPEN', 'auctions', 'trades', 'trades/T1', 'tasks', 'sanctions', 'qscores?participantId=p-sun', 'beacon', 'status'])('GET /api/v1/analytics/%s answers 200 as the document says', async (route) => {
    const res = await request(gw.app).get(`/api/v1/analytics/${route}`).set(bearer(gw.keys.regulator));
    expect(res.status).toBe(200);
  });

  it('status reports the checkpoint and the queue; a meter key may not read it; without a key nothing is answered', async () => {
    const s = await request(gw.app).get('/api/v1/analytics/status').set(bearer(gw.keys.operator));
    expect(s.body).toMatchObject({ mspId: 'Utility1MSP', listening: true, eventsApplied: eventCount(gw.ledger), queue: { QUEUED: 0 } });
    expect((await request(gw.app).get('/api/v1/analytics/status').set(bearer(gw.keys.twoMeters))).status).toBe(403);
    const metrics = (await request(gw.app).get('/metrics')).text;
    expect(metrics).toContain(`gateway_analytics_events_total ${eventCount(gw.ledger)}`);
    expect(metrics).toContain(`gateway_analytics_checkpoint_block ${lastOf(gw.ledger).blockNumber}`);
    expect((await request(gw.app).get('/api/v1/analytics/intervals')).status).toBe(401);
  });

  it('refuses a bad query with a problem that says what to fix', async () => {
    const res = await request(gw.app).get('/api/v1/analytics/intervals?from=20&to=10').set(bearer(gw.keys.operator));
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/to \(10\) is before from \(20\)/);
    expect((await request(gw.app).get('/api/v1/analytics/trades?state=LOST').set(bearer(gw.keys.operator))).status).toBe(400);
  });
});

describe('the dashboard files at /', () => {
  it('serves the built directory with a same-origin-only policy; API routes and unknown paths are unchanged', async () => {
    const dir = tmpDir('dash-static-');
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>GridLedger dashboard</title>');
    const gw = makeTestGateway();
    const app = createHttpApp({ spec: new ApiSpec(), logger: silentLogger, metrics: gw.metrics, apiKeys: gw.apiKeys, idempotency: gw.idempotency, handlers: {}, requireIdempotencyKey: false, validateResponses: false, staticDir: dir });
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('GridLedger dashboard');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    const missing = await request(app).get('/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/problem\+json/);
    gw.analytics.db.close();
    await gw.close();
  });
});
