import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the gateway's single SQLite file `<dataDir>/gateway.sqlite`.
 * WAL + synchronous=FULL: a transaction that returned has been fsynced to the WAL, so anything
 * the gateway acknowledges after a write survives a crash or power loss.
 */
export function openDatabase(dataDir: string, fileName = 'gateway.sqlite'): Db {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(path.join(dataDir, fileName));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

export function nowMs(): number {
  return Date.now();
}
