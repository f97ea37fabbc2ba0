import { CONTRIBUTION_STATES, DUTY_STATES, METER_STATUSES, RECEIPT_STATES } from '@gridledger/protocol';
import { auctionSecretsDdl, sealAuctionSecret } from '../agents/store';
import type { Db } from './db';

/**
 * Schema versions of the gateway's own database (`gateway.sqlite`), kept in SQLite's `user_version`
 * (sqlite.org/pragma.html#pragma_user_version; 0 in a file nobody versioned). Each step converts the
 * rows in place, in one transaction, so a gateway upgraded over its old data directory loses nothing:
 * not a queued reading, not a meter key, not an agent's duty.
 *
 * 1: the gateway's own states in UPPER_SNAKE_CASE like the ledger's (docs/api.md "Changes in 0.2.0",
 *    vocabularies in packages/protocol/src/status.ts): `registered` → `REGISTERED`, `queued` →
 *    `QUEUED`, `pending` → `PENDING`, …
 *
 * Runs before the stores' constructors (gateway.ts createApp): those create missing tables and
 * indexes in the current form, so a fresh database only gets its version stamped here.
 */
export const GATEWAY_SCHEMA_VERSION = 2;

/** table, state column, the column's vocabulary, and whether the table's DDL has a CHECK list on it */
const STATE_COLUMNS: ReadonlyArray<{ table: string; column: string; values: readonly string[]; checked: boolean }> = [
  { table: 'meter_identities', column: 'status', values: METER_STATUSES, checked: true },
  { table: 'receipts', column: 'state', values: RECEIPT_STATES, checked: true },
  { table: 'agent_duties', column: 'state', values: DUTY_STATES, checked: false },
  { table: 'beacon_contributions', column: 'state', values: CONTRIBUTION_STATES, checked: false },
];

/** A 0.1.0 spelling in its 0.2.0 form; refuses a value outside the vocabulary rather than guess. */
function upper(value: string, values: readonly string[], where: string): string {
  const v = value.toUpperCase().replace(/-/g, '_');
  if (!values.includes(v)) throw new Error(`gateway database migration: ${where} holds '${value}', which is not one of ${values.join(', ')}`);
  return v;
}

/** `walletKey`: the gateway's GATEWAY_WALLET_KEY, which version 2 seals the auction secrets with. */
export function migrateGatewayDb(db: Db, walletKey: Buffer): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > GATEWAY_SCHEMA_VERSION) {
    throw new Error(`gateway database has schema version ${version}, newer than this gateway's ${GATEWAY_SCHEMA_VERSION}: run the newer gateway, or start with an empty data directory`);
  }
  if (version >= GATEWAY_SCHEMA_VERSION) return;
  // every step in one transaction: a refused step leaves the file as it was, version unstamped
  let sealed = 0;
  db.transaction(() => {
    if (version < 1) for (const c of STATE_COLUMNS) upperCaseStates(db, c.table, c.column, c.values, c.checked);
    if (version < 2) sealed = sealAuctionSecrets(db, walletKey);
    db.pragma(`user_version = ${GATEWAY_SCHEMA_VERSION}`);
  })();
  // the zeroed pages are in the WAL; until a checkpoint copies them over, the main file keeps the clear text
  if (sealed > 0) db.pragma('wal_checkpoint(TRUNCATE)');
}

/** Version 2: rebuilds a clear-text `agent_auction_secrets` as the sealed table, every row kept and sealed; returns how many. */
function sealAuctionSecrets(db: Db, key: Buffer): number {
  const columns = (db.prepare('PRAGMA table_info(agent_auction_secrets)').all() as Array<{ name: string }>).map((c) => c.name);
  if (columns.length === 0 || columns.includes('sealed')) return 0; // never opened by the agents, or already sealed
  const rows = db.prepare('SELECT meter_id, request_id, role, secret, offer_id, price, salt, created_at FROM agent_auction_secrets').all() as Array<{
    meter_id: string;
    request_id: string;
    role: 'buyer' | 'seller';
    secret: string;
    offer_id: string | null;
    price: number | null;
    salt: string | null;
    created_at: number;
  }>;
  const tmp = 'agent_auction_secrets_migrating';
  db.exec(auctionSecretsDdl(tmp));
  const ins = db.prepare(`INSERT INTO ${tmp} (meter_id, request_id, role, sealed, created_at) VALUES (?, ?, ?, ?, ?)`);
  for (const r of rows) {
    const s = { meterId: r.meter_id, requestId: r.request_id, role: r.role, secret: r.secret, ...(r.offer_id !== null ? { offerId: r.offer_id } : {}), ...(r.price !== null ? { pricePerKwh: r.price } : {}), ...(r.salt !== null ? { salt: r.salt } : {}) };
    ins.run(r.meter_id, r.request_id, r.role, sealAuctionSecret(key, s), r.created_at);
  }
  // a dropped table's pages go to SQLite's free list, where the clear text would stay readable until
  // reused: secure_delete overwrites them with zeros (sqlite.org/pragma.html#pragma_secure_delete)
  const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  db.exec('DROP TABLE agent_auction_secrets');
  db.pragma(`secure_delete = ${secureDelete}`);
  db.exec(`ALTER TABLE ${tmp} RENAME TO agent_auction_secrets`);
  return rows.length;
}

function upperCaseStates(db: Db, table: string, column: string, values: readonly string[], checked: boolean): void {
  const def = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string } | undefined;
  if (!def) return; // a store this gateway never opened: its constructor creates it in the current form
  const distinct = (db.prepare(`SELECT DISTINCT ${column} AS v FROM ${table}`).all() as Array<{ v: string }>).map((r) => r.v);
  const mapping = new Map(distinct.map((v) => [v, upper(v, values, `${table}.${column}`)]));
  if (!checked) {
    const set = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${column} = ?`);
    for (const [from, to] of mapping) if (from !== to) set.run(to, from);
    return;
  }
  // A CHECK constraint cannot be altered in place: SQLite's documented procedure is a new table with the
  // new definition, a copy of the rows, the old table dropped and the new one renamed
  // (sqlite.org/lang_altertable.html "Making Other Kinds Of Table Schema Changes"). The new definition is
  // the stored one with the CHECK list's values converted, so nothing else about the table changes. Its
  // indexes go with the old table; the store's constructor re-creates them (CREATE INDEX IF NOT EXISTS).
  const check = new RegExp(`CHECK \\(${column} IN \\(([^)]*)\\)\\)`);
  const m = check.exec(def.sql);
  if (!m?.[1]) throw new Error(`gateway database migration: no CHECK list on ${table}.${column} in ${def.sql}`);
  const list = m[1].split(',').map((s) => upper(s.trim().replace(/^'|'$/g, ''), values, `the CHECK list of ${table}.${column}`));
  const tmp = `${table}_migrating`;
  const sql = def.sql
    .replace(check, `CHECK (${column} IN (${list.map((v) => `'${v}'`).join(', ')}))`)
    .replace(/^CREATE TABLE\s+("?)[A-Za-z_]+\1/, `CREATE TABLE ${tmp}`);
  const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
  const select = columns.map((c) => (c === column ? `CASE ${column} ${[...mapping].map(([from, to]) => `WHEN '${from}' THEN '${to}'`).join(' ')} END` : c));
  const sequence = db.prepare("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'").get()
    ? (db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table) as { seq: number } | undefined)
    : undefined;
  db.exec(sql);
  if (distinct.length > 0) db.exec(`INSERT INTO ${tmp} (${columns.join(', ')}) SELECT ${select.join(', ')} FROM ${table}`);
  db.exec(`DROP TABLE ${table}`);
  db.exec(`ALTER TABLE ${tmp} RENAME TO ${table}`);
  // AUTOINCREMENT (receipts.seq) never reuses a number, not even of a row already purged: keep its high mark.
  if (sequence && db.prepare('UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?').run(sequence.seq, table).changes === 0) {
    db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(table, sequence.seq);
  }
}
