/**
 * The analytics store's schema (docs/dashboard.md "The analytics store").
 *
 * Portable SQL on purpose: plain CREATE TABLE with INTEGER / TEXT / BIGINT-compatible columns, composite
 * primary keys, `INSERT ... ON CONFLICT (...) DO UPDATE` / `DO NOTHING` (SQLite ≥ 3.24 and PostgreSQL
 * ≥ 9.5 share this syntax) and a plain view. No AUTOINCREMENT, no rowid, no JSON1 functions, no
 * `INSERT OR REPLACE`. A server database takes over by running these statements unchanged on
 * PostgreSQL (INTEGER columns that hold Wh / ms values become BIGINT there) and giving AnalyticsStore a
 * driver with the same `prepare().run/get/all` + `transaction()` shape; the listener and the REST
 * routes only talk to AnalyticsStore.
 *
 * Every row is derived from the ledger only (event payloads and immutable record fields), never from
 * the wall clock, so replaying the chain into an empty file gives the same rows byte for byte.
 */
/**
 * Bump whenever a table or the way a row is derived from events changes: a store written by another
 * version is dropped and rebuilt from block 0 when the gateway starts (AnalyticsStore's constructor).
 */
// 3: chaincode 0.2.0 — times in Unix seconds (banned_until), UPPER_SNAKE_CASE statuses.
export const SCHEMA_VERSION = 3;

export const TABLES: ReadonlyArray<{ name: string; key: string }> = [
  { name: 'an_checkpoint', key: 'name' },
  { name: 'an_applied_tx', key: 'tx_id' },
  { name: 'an_meters', key: 'meter_id' },
  { name: 'an_participants', key: 'participant_id' },
  { name: 'an_readings', key: 'meter_id, interval_start' },
  { name: 'an_offers', key: 'offer_id' },
  { name: 'an_auctions', key: 'request_id' },
  { name: 'an_trades', key: 'trade_id' },
  { name: 'an_trade_events', key: 'trade_id, block_number, tx_id, idx' },
  { name: 'an_tasks', key: 'task_id' },
  { name: 'an_votes', key: 'task_id, ballot, round, voter' },
  { name: 'an_leaders', key: 'task_id, ballot, round' },
  { name: 'an_decisions', key: 'task_id, ballot, round' },
  { name: 'an_sanctions', key: 'block_number, tx_id, idx' },
  { name: 'an_qscores', key: 'block_number, tx_id, idx' },
  { name: 'an_beacon', key: 'task_id, round, msp_id' },
];

export const META_DDL = 'CREATE TABLE IF NOT EXISTS an_meta (name VARCHAR(32) PRIMARY KEY, value VARCHAR(64) NOT NULL)';

export const DDL = `
CREATE TABLE IF NOT EXISTS an_checkpoint (name VARCHAR(32) PRIMARY KEY, block_number INTEGER NOT NULL, tx_id VARCHAR(128) NOT NULL, events INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_applied_tx (tx_id VARCHAR(128) PRIMARY KEY, block_number INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_meters (meter_id VARCHAR(128) PRIMARY KEY, msp_id VARCHAR(128) NOT NULL, zone VARCHAR(128) NOT NULL, block_number INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_participants (
  participant_id VARCHAR(128) PRIMARY KEY, msp_id VARCHAR(128), zone VARCHAR(128), status VARCHAR(32) NOT NULL,
  q_score INTEGER, penalty_count INTEGER NOT NULL, banned_until INTEGER, block_number INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_readings (
  meter_id VARCHAR(128) NOT NULL, interval_start INTEGER NOT NULL, msp_id VARCHAR(128) NOT NULL, zone VARCHAR(128) NOT NULL,
  interval_length INTEGER, import_wh INTEGER, export_wh INTEGER, block_number INTEGER NOT NULL, tx_id VARCHAR(128) NOT NULL,
  PRIMARY KEY (meter_id, interval_start));
CREATE TABLE IF NOT EXISTS an_offers (
  offer_id VARCHAR(128) PRIMARY KEY, seller VARCHAR(128), seller_msp_id VARCHAR(128), seller_meter_id VARCHAR(128),
  amount_wh INTEGER NOT NULL, price_per_kwh INTEGER NOT NULL, delivery_start INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  status VARCHAR(16) NOT NULL, trade_id VARCHAR(128), created_block INTEGER NOT NULL, updated_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_auctions (
  request_id VARCHAR(128) PRIMARY KEY, amount_wh INTEGER NOT NULL, max_price_per_kwh INTEGER NOT NULL, t1 INTEGER NOT NULL, t2 INTEGER NOT NULL,
  delivery_start INTEGER NOT NULL, status VARCHAR(16) NOT NULL, phase VARCHAR(16) NOT NULL, bids INTEGER NOT NULL, revealed INTEGER NOT NULL,
  winner_offer_id VARCHAR(128), price_per_kwh INTEGER, trade_id VARCHAR(128), created_block INTEGER NOT NULL, updated_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_trades (
  trade_id VARCHAR(128) PRIMARY KEY, origin VARCHAR(16) NOT NULL, origin_id VARCHAR(128) NOT NULL,
  seller VARCHAR(128), buyer VARCHAR(128), seller_msp_id VARCHAR(128), buyer_msp_id VARCHAR(128),
  seller_meter_id VARCHAR(128), buyer_meter_id VARCHAR(128), zone VARCHAR(128) NOT NULL,
  amount_wh INTEGER NOT NULL, price_per_kwh INTEGER NOT NULL, delivery_start INTEGER NOT NULL, delivery_deadline INTEGER NOT NULL,
  state VARCHAR(16) NOT NULL, fault VARCHAR(16), energy_to_buyer_wh INTEGER, created_block INTEGER NOT NULL, updated_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_trade_events (
  trade_id VARCHAR(128) NOT NULL, block_number INTEGER NOT NULL, tx_id VARCHAR(128) NOT NULL, idx INTEGER NOT NULL,
  name VARCHAR(64) NOT NULL, state VARCHAR(16), detail TEXT NOT NULL, PRIMARY KEY (trade_id, block_number, tx_id, idx));
CREATE TABLE IF NOT EXISTS an_tasks (
  task_id VARCHAR(128) PRIMARY KEY, kind VARCHAR(32) NOT NULL, subject_id VARCHAR(128) NOT NULL, round INTEGER NOT NULL,
  status VARCHAR(16) NOT NULL, committee TEXT, zones TEXT, outcome VARCHAR(16), reason TEXT,
  opened_block INTEGER NOT NULL, updated_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS an_votes (
  task_id VARCHAR(128) NOT NULL, ballot VARCHAR(64) NOT NULL, round INTEGER NOT NULL, voter VARCHAR(128) NOT NULL,
  approve INTEGER NOT NULL, block_number INTEGER NOT NULL, PRIMARY KEY (task_id, ballot, round, voter));
CREATE TABLE IF NOT EXISTS an_leaders (
  task_id VARCHAR(128) NOT NULL, ballot VARCHAR(64) NOT NULL, round INTEGER NOT NULL, leader VARCHAR(128) NOT NULL,
  block_number INTEGER NOT NULL, PRIMARY KEY (task_id, ballot, round));
CREATE TABLE IF NOT EXISTS an_decisions (
  task_id VARCHAR(128) NOT NULL, ballot VARCHAR(64) NOT NULL, round INTEGER NOT NULL, outcome VARCHAR(16) NOT NULL,
  approvals INTEGER NOT NULL, refusals INTEGER NOT NULL, block_number INTEGER NOT NULL, PRIMARY KEY (task_id, ballot, round));
CREATE TABLE IF NOT EXISTS an_sanctions (
  block_number INTEGER NOT NULL, tx_id VARCHAR(128) NOT NULL, idx INTEGER NOT NULL, participant_id VARCHAR(128) NOT NULL,
  kind VARCHAR(16) NOT NULL, reason TEXT NOT NULL, penalty_count INTEGER, banned_until INTEGER, PRIMARY KEY (block_number, tx_id, idx));
CREATE TABLE IF NOT EXISTS an_qscores (
  block_number INTEGER NOT NULL, tx_id VARCHAR(128) NOT NULL, idx INTEGER NOT NULL, participant_id VARCHAR(128) NOT NULL,
  q_score INTEGER NOT NULL, delta INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (block_number, tx_id, idx));
CREATE TABLE IF NOT EXISTS an_beacon (
  task_id VARCHAR(128) NOT NULL, round INTEGER NOT NULL, msp_id VARCHAR(128) NOT NULL, block_number INTEGER NOT NULL,
  PRIMARY KEY (task_id, round, msp_id));
CREATE INDEX IF NOT EXISTS an_readings_interval ON an_readings (interval_start, zone);
CREATE INDEX IF NOT EXISTS an_trades_interval ON an_trades (delivery_start, zone);
CREATE INDEX IF NOT EXISTS an_qscores_participant ON an_qscores (participant_id, block_number);
`;
