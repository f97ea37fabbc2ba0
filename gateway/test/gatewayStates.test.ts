/**
 * The gateway's own states are UPPER_SNAKE_CASE like the ledger's (docs/api.md "Changes in 0.2.0"):
 * the OpenAPI enums are the protocol package's vocabularies, and a database written by a 0.1.0 gateway
 * (lower-case states, CHECK lists in its DDL) is converted in place when the gateway opens it, rows kept.
 */
import { CONTRIBUTION_STATES, DUTY_STATES, METER_STATUSES, RECEIPT_STATES } from '@gridledger/protocol';
import { AgentStore } from '../src/agents/store';
import { BeaconStore } from '../src/events/store';
import { Wallet } from '../src/identity/wallet';
import { loadOpenApiDocument } from '../src/rest/openapi';
import { openDatabase, type Db } from '../src/store/db';
import { GATEWAY_SCHEMA_VERSION, migrateGatewayDb } from '../src/store/migrations';
import { DurableQueue } from '../src/store/queue';
import { tmpDir } from './helpers/tmp';

const KEY = Buffer.alloc(32, 1);

/** The value at `keys` in a parsed document (undefined where a step is missing). */
function dig(o: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

describe('OpenAPI enums are the protocol vocabularies', () => {
  const doc = loadOpenApiDocument();
  it.each([
    ['Meter.status', ['Meter', 'properties', 'status', 'enum'], METER_STATUSES],
    ['Receipt.state', ['Receipt', 'properties', 'state', 'enum'], RECEIPT_STATES],
    ['AgentDuty.state', ['AgentDuty', 'properties', 'state', 'enum'], DUTY_STATES],
    ['BeaconStatus.contributions[].state', ['BeaconStatus', 'properties', 'contributions', 'items', 'properties', 'state', 'enum'], CONTRIBUTION_STATES],
  ] as const)('%s', (_name, where, values) => {
    expect(dig(doc, 'components', 'schemas', ...where)).toEqual([...values]);
  });

  it('GET /analytics/status counts the queue by receipt state', () => {
    const queue = dig(doc, 'paths', '/api/v1/analytics/status', 'get', 'responses', '200', 'content', 'application/json', 'schema', 'properties', 'queue');
    expect(dig(queue, 'propertyNames', 'enum')).toEqual([...RECEIPT_STATES]);
  });
});

/** The DDL and rows a 0.1.0 gateway wrote (gateway/src/{identity/wallet,store/queue,agents/store,events/store}.ts at 0.1.0). */
function oldDatabase(dir: string): Db {
  const db = openDatabase(dir);
  db.exec(`CREATE TABLE IF NOT EXISTS meter_identities (
      meter_id TEXT PRIMARY KEY,
      zone TEXT NOT NULL,
      msp_id TEXT NOT NULL,
      enrollment_id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('registered', 'active', 'revoked')),
      secret_enc TEXT,
      cert_pem TEXT,
      key_enc TEXT,
      enrolled_at INTEGER,
      revoked_at INTEGER,
      revocation_reason TEXT,
      ledger_tx_id TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS receipts (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      meter_id TEXT NOT NULL,
      principal TEXT NOT NULL,
      fn TEXT NOT NULL,
      args TEXT NOT NULL,
      transient TEXT,
      item_count INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'submitted', 'committed', 'rejected')),
      tx_id TEXT,
      tx_bytes BLOB,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      result TEXT,
      reason TEXT,
      problem TEXT,
      block_number INTEGER,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS receipts_unfinished ON receipts (meter_id, seq, state, next_attempt_at) WHERE state IN ('queued', 'submitted');
    CREATE TABLE IF NOT EXISTS agent_duties (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, meter_id TEXT NOT NULL, subject TEXT NOT NULL, round INTEGER NOT NULL,
      state TEXT NOT NULL, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '',
      last_error TEXT, event_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS agent_duties_due ON agent_duties (state, due_at);
    CREATE TABLE IF NOT EXISTS beacon_contributions (
      task_id TEXT NOT NULL, round INTEGER NOT NULL, message TEXT NOT NULL, state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, tx_id TEXT, last_error TEXT,
      opened_block INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (task_id, round));
  `);
  const meter = db.prepare('INSERT INTO meter_identities (meter_id, zone, msp_id, enrollment_id, status, cert_pem, enrolled_at, revoked_at, revocation_reason, ledger_tx_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  meter.run('m-reg', 'z-1', 'Utility1MSP', 'm-reg', 'registered', null, null, null, null, null, 1);
  meter.run('m-act', 'z-1', 'Utility1MSP', 'm-act', 'active', 'CERT', 1700000000, null, null, 'tx-enrol', 2);
  meter.run('m-rev', 'z-2', 'Utility1MSP', 'm-rev', 'revoked', 'CERT', 1700000000, 1700000100, 'keycompromise', 'tx-enrol2', 3);
  const receipt = db.prepare(
    "INSERT INTO receipts (id, meter_id, principal, fn, args, item_count, state, tx_id, tx_bytes, result, reason, block_number, created_at, updated_at) VALUES (?, ?, 'k', 'meters:postReading', '[]', 1, ?, ?, ?, ?, ?, ?, 10, 20)",
  );
  receipt.run('r-1', 'm-act', 'committed', 'tx-1', null, '{"status":"RECORDED"}', null, 7);
  receipt.run('r-2', 'm-act', 'rejected', null, null, null, 'below the last reading', null);
  receipt.run('r-3', 'm-act', 'submitted', 'tx-3', Buffer.from('signed transaction'), null, null, null);
  receipt.run('r-4', 'm-act', 'queued', null, null, null, null, null);
  receipt.run('r-5', 'm-act', 'committed', 'tx-5', null, null, null, 9);
  db.prepare("DELETE FROM receipts WHERE id = 'r-5'").run(); // purged: its seq (5) must never be handed out again
  const duty = db.prepare("INSERT INTO agent_duties (id, kind, meter_id, subject, round, state, due_at, note, created_at, updated_at) VALUES (?, 'member', 'm-act', 't-1', 0, ?, ?, ?, 1, 1)");
  duty.run('member|t-1|0|m-act', 'pending', 5, 'a slot');
  duty.run('member|t-0|0|m-act', 'done', 5, 'task closed (APPROVED)');
  duty.run('member|t-9|0|m-act', 'failed', 5, 'gave up after 8 attempts');
  const contribution = db.prepare("INSERT INTO beacon_contributions (task_id, round, message, state, next_attempt_at, opened_block, updated_at) VALUES (?, 0, 'msg', ?, 5, 3, 1)");
  for (const [t, s] of [['t-1', 'pending'], ['t-2', 'contributed'], ['t-3', 'superseded'], ['t-4', 'refused']]) contribution.run(t, s);
  return db;
}

describe('gateway database migration (schema version 1: upper-case states)', () => {
  it('converts a 0.1.0 database in place: every row kept, states upper case, the stores work on it', () => {
    const dir = tmpDir();
    const old = oldDatabase(dir);
    expect(old.pragma('user_version', { simple: true })).toBe(0);
    old.close();

    // as the gateway opens it (gateway.ts createApp): migration, then the stores
    const db = openDatabase(dir);
    migrateGatewayDb(db, KEY);
    expect(db.pragma('user_version', { simple: true })).toBe(GATEWAY_SCHEMA_VERSION);
    const wallet = new Wallet(db, Buffer.alloc(32, 1));
    const queue = new DurableQueue(db);
    const agents = new AgentStore(db, KEY);
    const beacon = new BeaconStore(db);

    expect(wallet.get('m-reg')).toMatchObject({ status: 'REGISTERED', zone: 'z-1' });
    expect(wallet.get('m-act')).toMatchObject({ status: 'ACTIVE', certPem: 'CERT', enrolledAt: 1700000000, ledgerTxId: 'tx-enrol' });
    expect(wallet.get('m-rev')).toMatchObject({ status: 'REVOKED', revokedAt: 1700000100, revocationReason: 'keycompromise' });
    expect(wallet.activeMeters().map((m) => m.meterId)).toEqual(['m-act']);

    expect(queue.get('r-1')).toMatchObject({ seq: 1, state: 'COMMITTED', txId: 'tx-1', blockNumber: 7, result: { status: 'RECORDED' }, createdAt: 10, updatedAt: 20 });
    expect(queue.get('r-2')).toMatchObject({ seq: 2, state: 'REJECTED', reason: 'below the last reading' });
    expect(queue.get('r-3')).toMatchObject({ seq: 3, state: 'SUBMITTED', txId: 'tx-3' });
    expect(queue.get('r-3')!.txBytes!.toString()).toBe('signed transaction');
    expect(queue.get('r-4')).toMatchObject({ seq: 4, state: 'QUEUED' });
    // the meter's oldest unfinished receipt is handed out again (the partial index was rebuilt on the new values)
    expect(queue.due(Date.now(), 10).map((r) => r.id)).toEqual(['r-3']);
    expect(queue.inTransaction(queue.get('r-3')!).map((r) => r.id)).toEqual(['r-3']);
    expect(queue.pendingCounts()).toEqual({ QUEUED: 1, SUBMITTED: 1 });
    expect(queue.counts()).toEqual({ QUEUED: 1, SUBMITTED: 1, COMMITTED: 1, REJECTED: 1 });
    // AUTOINCREMENT's high mark survived the table rebuild: the purged seq 5 is not reused
    const next = queue.enqueue({ meterId: 'm-act', principal: 'k', fn: 'meters:postReading', args: [], itemCount: 1 });
    expect(next).toMatchObject({ seq: 6, state: 'QUEUED' });

    expect(agents.get('member|t-1|0|m-act')).toMatchObject({ state: 'PENDING', note: 'a slot' });
    expect(agents.get('member|t-0|0|m-act')!.state).toBe('DONE');
    expect(agents.get('member|t-9|0|m-act')!.state).toBe('FAILED');
    expect(agents.due(10).map((d) => d.id)).toEqual(['member|t-1|0|m-act']);

    expect(beacon.all().map((j) => [j.taskId, j.state])).toEqual([['t-1', 'PENDING'], ['t-2', 'CONTRIBUTED'], ['t-3', 'SUPERSEDED'], ['t-4', 'REFUSED']]);
    expect(beacon.due(10).map((j) => j.taskId)).toEqual(['t-1']);

    // the rebuilt tables check the new vocabulary: an old spelling can no longer be written
    expect(() => db.prepare("UPDATE receipts SET state = 'queued' WHERE id = 'r-4'").run()).toThrow(/CHECK constraint failed/);
    expect(() => db.prepare("UPDATE meter_identities SET status = 'active' WHERE meter_id = 'm-reg'").run()).toThrow(/CHECK constraint failed/);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name LIKE '%_migrating'").get()).toEqual({ n: 0 });

    // a second start changes nothing
    migrateGatewayDb(db, KEY);
    expect(queue.counts()).toEqual({ QUEUED: 2, SUBMITTED: 1, COMMITTED: 1, REJECTED: 1 });
    db.close();
  });

  it('a fresh database is stamped and created in the current form', () => {
    const db = openDatabase(tmpDir());
    migrateGatewayDb(db, KEY);
    expect(db.pragma('user_version', { simple: true })).toBe(GATEWAY_SCHEMA_VERSION);
    const queue = new DurableQueue(db);
    new Wallet(db, Buffer.alloc(32, 1)).recordRegistration('m-1', 'z', 'Utility1MSP', 'm-1', 'secret');
    expect(queue.enqueue({ meterId: 'm-1', principal: 'k', fn: 'f', args: [], itemCount: 1 }).state).toBe('QUEUED');
    const ddl = (db.prepare("SELECT sql FROM sqlite_master WHERE name IN ('receipts', 'meter_identities') ORDER BY name").all() as Array<{ sql: string }>).map((r) => r.sql);
    expect(ddl[0]).toContain("CHECK (status IN ('REGISTERED', 'ACTIVE', 'REVOKED'))");
    expect(ddl[1]).toContain("CHECK (state IN ('QUEUED', 'SUBMITTED', 'COMMITTED', 'REJECTED'))");
    db.close();
  });

  it('refuses a value outside the vocabulary (nothing converted) and a database from a newer gateway', () => {
    const dir = tmpDir();
    const db = oldDatabase(dir);
    db.prepare("INSERT INTO agent_duties (id, kind, meter_id, subject, round, state, due_at, created_at, updated_at) VALUES ('x', 'member', 'm', 's', 0, 'sleeping', 0, 1, 1)").run();
    expect(() => migrateGatewayDb(db, KEY)).toThrow(/agent_duties\.state holds 'sleeping'/);
    // the transaction rolled back: the earlier tables are untouched, the version unstamped
    expect(db.prepare("SELECT status FROM meter_identities WHERE meter_id = 'm-act'").get()).toEqual({ status: 'active' });
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();

    const newer = openDatabase(tmpDir());
    newer.pragma(`user_version = ${GATEWAY_SCHEMA_VERSION + 1}`);
    expect(() => migrateGatewayDb(newer, KEY)).toThrow(/newer than this gateway's/);
    newer.close();
  });
});
