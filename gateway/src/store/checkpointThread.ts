/**
 * Entry of the WAL checkpoint thread (db.ts startCheckpointer): its own connection to the gateway's
 * database runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`. A PASSIVE checkpoint never waits
 * for or blocks writers; SQLite syncs the WAL before and the database after it
 * (sqlite.org/pragma.html#pragma_wal_checkpoint), and the next writer restarts the WAL once every frame
 * was copied back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const port = parentPort;
if (!port) throw new Error('checkpointThread runs only as a worker thread (store/db.ts startCheckpointer)');
const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new Database(file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or the file is going away: the next tick tries again
  }
}, intervalMs);
port.on('message', (m: { op: 'close' }) => {
  if (m.op !== 'close') return;
  clearInterval(timer);
  db.close();
  port.postMessage({ closed: true });
});
