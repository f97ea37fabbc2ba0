import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
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
  // Inside a transaction SQLite refuses to change the safety level ("Safety level may not be changed inside
  // a transaction"): `fn` then commits with the enclosing transaction, under whatever level that has.
  const full = !db.inTransaction && (prepared(db, 'PRAGMA synchronous').pluck().get() as number) === 2;
  if (full) prepared(db, 'PRAGMA synchronous = NORMAL').run();
  try {
    return fn();
  } finally {
    if (full) prepared(db, 'PRAGMA synchronous = FULL').run();
  }
}

/**
 * An fdatasync of the database's write-ahead log on libuv's thread pool, so the event loop does not
 * wait for the disk. Group commit (groupCommit.ts) commits under `synchronous = NORMAL` (the commit is
 * written to the WAL, not yet synced) and answers its writers only once a sync that STARTED AFTER the
 * commit returned: what it acknowledges is on disk exactly as with FULL. Syncs do not overlap: commits
 * made while one runs wait for the next, which covers all of them (fsync on Linux flushes the file's
 * dirty pages whichever descriptor wrote them). SQLite itself syncs the WAL before a checkpoint and
 * the database file after it under NORMAL (sqlite.org/pragma.html#pragma_synchronous), so frames that
 * a checkpoint moved are durable too.
 */
export function walSyncer(db: Db): () => Promise<void> {
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let next: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  const run = (): Promise<void> => {
    const p = new Promise<void>((resolve, reject) => {
      try {
        fd ??= fs.openSync(`${db.name}-wal`, 'r');
      } catch (e) {
        reject(e as Error); // fs.openSync throws Error (ENOENT, EMFILE…)
        return;
      }
      fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
    running = p;
    const done = () => {
      running = undefined;
      const waiting = next;
      next = undefined;
      if (waiting) run().then(waiting.resolve, waiting.reject);
    };
    p.then(done, done);
    return p;
  };
  return () => {
    if (!running) return run();
    if (!next) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      next = { promise, resolve, reject };
    }
    return next.promise;
  };
}

export function nowMs(): number {
  return Date.now();
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * `db.prepare(sql)`, compiled once per database and SQL text. better-sqlite3 compiles the SQL on every
 * `prepare`: on the path of every posted reading (API key lookup, idempotency claim, wallet reads) that
 * was ~11% of the HTTP thread's busy time under load (docs/benchmarks.md "REST ingest").
 */
export function prepared(db: Db, sql: string): Database.Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map<string, Database.Statement>()));
  let st = m.get(sql);
  if (!st) m.set(sql, (st = db.prepare(sql)));
  return st;
}

/**
 * Moves the database's WAL checkpoints off the calling thread: automatic checkpoints (every 1000 WAL
 * pages, run inside the COMMIT that crosses the mark, with two fsyncs) are turned off for this
 * connection and a worker thread checkpoints every `intervalMs` instead (checkpointThread.ts). Under
 * load the automatic checkpoints were most of the time the HTTP thread spent in COMMIT
 * (docs/benchmarks.md "REST ingest"). Returns how to stop it (before the database is closed), or
 * undefined where the compiled thread entry is missing (TypeScript sources: nothing changes).
 */
export function startCheckpointer(db: Db, intervalMs = 1000): (() => Promise<void>) | undefined {
  const script = path.join(__dirname, 'checkpointThread.js');
  if (!fs.existsSync(script) || db.memory) return undefined;
  const worker = new Worker(script, { workerData: { file: db.name, intervalMs } });
  worker.unref();
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('journal_size_limit = 16777216'); // a WAL grown under a burst is cut back to 16 MB when it restarts
  let failed = false;
  worker.on('error', () => {
    failed = true;
    db.pragma('wal_autocheckpoint = 1000'); // back to SQLite's own checkpoints
  });
  return () =>
    new Promise<void>((resolve) => {
      if (failed) return resolve();
      const done = () => resolve();
      worker.once('message', () => void worker.terminate().then(done, done));
      worker.once('exit', done);
      worker.postMessage({ op: 'close' });
    });
}
