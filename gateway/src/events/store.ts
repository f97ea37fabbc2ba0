import type { ContributionState } from '@gridledger/protocol';
import { withoutFsync, type Db } from '../store/db';

/**
 * Durable state of the beacon listener (SQLite, same fsynced database as the queue):
 * - the checkpoint: the last chaincode event fully handled (`block`, `txId`), so a restart resumes right
 *   after it — no gap, no event handled twice;
 * - one row per (task, round) the utility must contribute to, written in the SAME transaction as the
 *   checkpoint that moves past its TaskOpened event (so an event is never lost between the two).
 */
export interface Checkpoint {
  block: number;
  txId: string;
}

export type { ContributionState };

export interface ContributionJob {
  taskId: string;
  round: number;
  message: string;
  state: ContributionState;
  attempts: number;
  nextAttemptAt: number;
  txId: string | null;
  lastError: string | null;
  openedBlock: number;
  updatedAt: number;
}

export class BeaconStore {
  constructor(private readonly db: Db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS event_checkpoints (name TEXT PRIMARY KEY, block INTEGER NOT NULL, tx_id TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS beacon_contributions (
        task_id TEXT NOT NULL, round INTEGER NOT NULL, message TEXT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, tx_id TEXT, last_error TEXT,
        opened_block INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (task_id, round));
      CREATE INDEX IF NOT EXISTS beacon_due ON beacon_contributions (state, next_attempt_at);
    `);
  }

  checkpoint(name: string): Checkpoint | undefined {
    const r = this.db.prepare('SELECT block, tx_id FROM event_checkpoints WHERE name = ?').get(name) as { block: number; tx_id: string } | undefined;
    return r ? { block: r.block, txId: r.tx_id } : undefined;
  }

  /**
   * Records the handled event and the jobs it created, atomically. A job already known is left as it is.
   * A checkpoint that creates no job is committed without its own fsync (db.ts withoutFsync): every
   * reading transaction emits an event, and losing such a checkpoint in a power cut only means handling
   * events again that create nothing (jobs are INSERT OR IGNORE).
   */
  advance(name: string, cp: Checkpoint, jobs: Array<{ taskId: string; round: number; message: string }>, now = Date.now()): number {
    let added = 0;
    const write = jobs.length ? <T>(f: () => T) => f() : <T>(f: () => T) => withoutFsync(this.db, f);
    write(() => this.db.transaction(() => {
      const ins = this.db.prepare(
        `INSERT OR IGNORE INTO beacon_contributions (task_id, round, message, state, attempts, next_attempt_at, opened_block, updated_at) VALUES (?, ?, ?, 'PENDING', 0, ?, ?, ?)`,
      );
      for (const j of jobs) added += ins.run(j.taskId, j.round, j.message, now, cp.block, now).changes;
      this.db
        .prepare('INSERT INTO event_checkpoints (name, block, tx_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET block = excluded.block, tx_id = excluded.tx_id, updated_at = excluded.updated_at')
        .run(name, cp.block, cp.txId, now);
    })());
    return added;
  }

  due(now: number, limit = 16): ContributionJob[] {
    return (this.db.prepare(`SELECT * FROM beacon_contributions WHERE state = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at, task_id LIMIT ?`).all(now, limit) as Row[]).map(toJob);
  }

  nextDueAt(): number | undefined {
    const r = this.db.prepare(`SELECT MIN(next_attempt_at) AS t FROM beacon_contributions WHERE state = 'PENDING'`).get() as { t: number | null };
    return r.t ?? undefined;
  }

  get(taskId: string, round: number): ContributionJob | undefined {
    const r = this.db.prepare('SELECT * FROM beacon_contributions WHERE task_id = ? AND round = ?').get(taskId, round) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  all(): ContributionJob[] {
    return (this.db.prepare('SELECT * FROM beacon_contributions ORDER BY opened_block, task_id, round').all() as Row[]).map(toJob);
  }

  finish(taskId: string, round: number, state: Exclude<ContributionState, 'PENDING'>, txId: string | null, note: string | null, now = Date.now()): void {
    this.db
      .prepare('UPDATE beacon_contributions SET state = ?, tx_id = ?, last_error = ?, attempts = attempts + 1, updated_at = ? WHERE task_id = ? AND round = ?')
      .run(state, txId, note, now, taskId, round);
  }

  retryLater(taskId: string, round: number, error: string, at: number, now = Date.now()): void {
    this.db
      .prepare('UPDATE beacon_contributions SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE task_id = ? AND round = ?')
      .run(error, at, now, taskId, round);
  }
}

interface Row {
  task_id: string;
  round: number;
  message: string;
  state: ContributionState;
  attempts: number;
  next_attempt_at: number;
  tx_id: string | null;
  last_error: string | null;
  opened_block: number;
  updated_at: number;
}

const toJob = (r: Row): ContributionJob => ({
  taskId: r.task_id,
  round: r.round,
  message: r.message,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  txId: r.tx_id,
  lastError: r.last_error,
  openedBlock: r.opened_block,
  updatedAt: r.updated_at,
});
