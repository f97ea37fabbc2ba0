/**
 * The auction secrets the meters hand to their agents (docs/agents.md §4) are sealed at rest with the
 * wallet key, like the meters' keys (identity/wallet.ts): the SQLite file never shows a price, salt or
 * identity secret; a gateway restarted with its key opens them; another key is refused by name; a
 * database written before the sealing (schema version 1) is sealed in place when the gateway opens it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AgentStore, type AuctionSecret } from '../../src/agents/store';
import { openDatabase, type Db } from '../../src/store/db';
import { GATEWAY_SCHEMA_VERSION, migrateGatewayDb } from '../../src/store/migrations';
import { tmpDir } from '../helpers/tmp';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

const SELLER: AuctionSecret = { meterId: 'm-a', requestId: 'r-1', role: 'seller', secret: 'identity-secret-of-m-a-QX7', offerId: 'o-1', pricePerKwh: 987654321, salt: 'salt-of-the-bid-ZK93' };
const BUYER: AuctionSecret = { meterId: 'm-b', requestId: 'r-1', role: 'buyer', secret: 'identity-secret-of-m-b-PW2' };

/** Every byte SQLite keeps for this database (main file, WAL, shared memory), as latin1 text to search. */
function fileBytes(dir: string): string {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('gateway.sqlite'))
    .map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1'))
    .join('\n');
}

/** What must never appear in the file: each secret, the salt, and the price (as text and as SQLite's 4-byte big-endian integer). */
function expectNoPlaintext(dir: string): void {
  const bytes = fileBytes(dir);
  for (const needle of [SELLER.secret, SELLER.salt!, BUYER.secret, String(SELLER.pricePerKwh)]) expect(bytes).not.toContain(needle);
  const price = Buffer.alloc(4);
  price.writeUInt32BE(SELLER.pricePerKwh!);
  expect(bytes).not.toContain(price.toString('latin1'));
}

describe('auction secrets at rest', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = tmpDir();
    db = openDatabase(dir);
    migrateGatewayDb(db, KEY);
  });
  afterEach(() => {
    if (db.open) db.close();
  });

  it('are never readable from the SQLite file, and open again after a restart with the same key', () => {
    const store = new AgentStore(db, KEY);
    expect(store.putAuctionSecret(SELLER)).toBe('stored');
    expect(store.putAuctionSecret(BUYER)).toBe('stored');
    expect(store.putAuctionSecret(SELLER)).toBe('same'); // a retry compares against the opened value
    expect(store.putAuctionSecret({ ...SELLER, salt: 'another-salt' })).toBe('different');
    expectNoPlaintext(dir); // in the WAL, where the commit went
    db.pragma('wal_checkpoint(TRUNCATE)');
    expectNoPlaintext(dir); // and in the main file
    expect(db.prepare('SELECT sealed FROM agent_auction_secrets ORDER BY meter_id').all()).toEqual([{ sealed: expect.stringMatching(/^v1\./) }, { sealed: expect.stringMatching(/^v1\./) }]);
    db.close();

    db = openDatabase(dir);
    migrateGatewayDb(db, KEY);
    const again = new AgentStore(db, KEY);
    expect(again.auctionSecret('m-a', 'r-1', 'seller')).toEqual(SELLER);
    expect(again.auctionSecret('m-b', 'r-1', 'buyer')).toEqual(BUYER);
    expect(again.auctionSecret('m-a', 'r-2', 'seller')).toBeUndefined();
  });

  it('a gateway with another wallet key refuses them by name; a row moved to another meter does not open', () => {
    new AgentStore(db, KEY).putAuctionSecret(SELLER);
    expect(() => new AgentStore(db, OTHER_KEY).auctionSecret('m-a', 'r-1', 'seller')).toThrow('cannot decrypt auction secrets: wrong GATEWAY_WALLET_KEY or tampered data');
    // a retry under the wrong key is refused too, not taken for different secrets
    expect(() => new AgentStore(db, OTHER_KEY).putAuctionSecret(SELLER)).toThrow(/wrong GATEWAY_WALLET_KEY/);
    db.prepare("UPDATE agent_auction_secrets SET meter_id = 'm-c' WHERE meter_id = 'm-a'").run();
    expect(() => new AgentStore(db, KEY).auctionSecret('m-c', 'r-1', 'seller')).toThrow(/tampered data/);
    expect(() => new AgentStore(db, Buffer.alloc(16))).toThrow(/must be 32 bytes/);
  });
});

describe('gateway database migration (schema version 2: auction secrets sealed)', () => {
  /** A version-1 database with the clear-text table (gateway/src/agents/store.ts before version 2). */
  function versionOne(dir: string): Db {
    const db = openDatabase(dir);
    db.exec(`CREATE TABLE IF NOT EXISTS agent_auction_secrets (meter_id TEXT NOT NULL, request_id TEXT NOT NULL, role TEXT NOT NULL, secret TEXT NOT NULL,
        offer_id TEXT, price INTEGER, salt TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (meter_id, request_id, role));`);
    const ins = db.prepare('INSERT INTO agent_auction_secrets (meter_id, request_id, role, secret, offer_id, price, salt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    ins.run(SELLER.meterId, SELLER.requestId, SELLER.role, SELLER.secret, SELLER.offerId, SELLER.pricePerKwh, SELLER.salt, 11);
    ins.run(BUYER.meterId, BUYER.requestId, BUYER.role, BUYER.secret, null, null, null, 12);
    db.pragma('user_version = 1');
    db.pragma('wal_checkpoint(TRUNCATE)'); // the clear text in the main file, as a long-running gateway leaves it
    return db;
  }

  it('seals every clear-text row in place: the rows open as before and the file no longer shows them', () => {
    const dir = tmpDir();
    versionOne(dir).close();
    expect(fileBytes(dir)).toContain(SELLER.salt); // the test's premise: the old file shows the bid

    const db = openDatabase(dir);
    migrateGatewayDb(db, KEY);
    expect(db.pragma('user_version', { simple: true })).toBe(GATEWAY_SCHEMA_VERSION);
    const store = new AgentStore(db, KEY);
    expect(store.auctionSecret('m-a', 'r-1', 'seller')).toEqual(SELLER);
    expect(store.auctionSecret('m-b', 'r-1', 'buyer')).toEqual(BUYER);
    expect(db.prepare('SELECT meter_id, created_at FROM agent_auction_secrets ORDER BY meter_id').all()).toEqual([
      { meter_id: 'm-a', created_at: 11 },
      { meter_id: 'm-b', created_at: 12 },
    ]);
    expect((db.prepare('PRAGMA table_info(agent_auction_secrets)').all() as Array<{ name: string }>).map((c) => c.name)).toEqual(['meter_id', 'request_id', 'role', 'sealed', 'created_at']);
    // the dropped table's pages were zeroed (secure_delete) and the migration checkpointed them into the main file
    expectNoPlaintext(dir);
    // a second start changes nothing
    migrateGatewayDb(db, KEY);
    expect(store.auctionSecret('m-a', 'r-1', 'seller')).toEqual(SELLER);
    db.close();
  });

  it('a version-1 database without the agents\' table is only stamped', () => {
    const db = openDatabase(tmpDir());
    db.pragma('user_version = 1');
    migrateGatewayDb(db, KEY);
    expect(db.pragma('user_version', { simple: true })).toBe(GATEWAY_SCHEMA_VERSION);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'agent_auction_secrets%'").all()).toEqual([]);
    db.close();
  });
});
