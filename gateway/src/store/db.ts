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

/**
 * Runs `fn` (which commits its own transaction) with `synchronous = NORMAL`: its commit is written to the
 * WAL but not fsynced; the next commit under FULL fsyncs the WAL and so makes it durable too, and a crash
 * of the process alone loses nothing (the OS has the write). For writes whose loss in a power cut is
 * harmless — nothing was answered on their strength and redoing them has no effect — so they do not pay
 * an fsync that blocks the event loop.
 */
export function withoutFsync<T>(db: Db, fn: () => T): T {
  const full = db.pragma('synchronous', { simple: true }) === 2;
  if (full) db.pragma('synchronous = NORMAL');
  try {
    return fn();
  } finally {
    if (full) db.pragma('synchronous = FULL');
  }
}

export function nowMs(): number {
  return Date.now();
}
