import type { ContributionState } from '@gridledger/protocol';
import { prepared, withoutFsync, type Db } from '../store/db';

/**
 * Durable state of the beacon listener (SQLite, same fsynced database as the queue):
 * - the checkpoint: the last chaincode event fully handled (`block`, `txId`), so a restart resumes right
 *   after it — no gap, no event handled twice;
 * - one row per (task, round) the utility must contribute to, written in the SAME transaction as the
 *   checkpoint that moves past its TaskOpened event (so an event is never lost between the two), with
 *   what its turn needs (events/turns.ts): the round's turn order and quorum, when it opened here, and
 *   which utilities' contributions are on the ledger — updated from `EntropyContributed` events in the
 *   same transaction as their checkpoint too.
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
  /** the round's contributors in turn order; null: no turn (a row from before turns: contribute at once) */
  turnOrder: string[] | null;
  /** the round's beaconQuorum; null when the TaskOpened event did not say */
  quorum: number | null;
  /** utilities whose contribution is on the ledger (from EntropyContributed events) */
  contributed: string[];
  /** when this gateway handled the TaskOpened event (ms) */
  openedAt: number;
}

export interface NewJob {
  taskId: string;
  round: number;
  message: string;
  turnOrder?: string[];
  quorum?: number;
  /** first attempt (ms); now when absent */
  dueAt?: number;
}

/** A change to a known job from an `EntropyContributed` event. */
export interface JobUpdate {
  taskId: string;
  round: number;
  contributed: string[];
  /** the job ends: its contribution is on the ledger, or the quorum was reached by others */
  finish?: { state: 'CONTRIBUTED' | 'SUPERSEDED'; note: string };
  /** the job's turn came earlier than planned (a job never attempted) */
  dueAt?: number;
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
    // the turn columns (events/turns.ts), added to a table created before them; old rows have no turn
    const columns = new Set((db.prepare('PRAGMA table_info(beacon_contributions)').all() as Array<{ name: string }>).map((c) => c.name));
    if (!columns.has('turn_order')) db.exec('ALTER TABLE beacon_contributions ADD COLUMN turn_order TEXT');
    if (!columns.has('quorum')) db.exec('ALTER TABLE beacon_contributions ADD COLUMN quorum INTEGER');
    if (!columns.has('contributed')) db.exec(`ALTER TABLE beacon_contributions ADD COLUMN contributed TEXT NOT NULL DEFAULT '[]'`);
    if (!columns.has('opened_at')) db.exec('ALTER TABLE beacon_contributions ADD COLUMN opened_at INTEGER NOT NULL DEFAULT 0');
  }

  checkpoint(name: string): Checkpoint | undefined {
    const r = prepared(this.db, 'SELECT block, tx_id FROM event_checkpoints WHERE name = ?').get(name) as { block: number; tx_id: string } | undefined;
    return r ? { block: r.block, txId: r.tx_id } : undefined;
  }

  /**
   * Records the handled event, the jobs it created and the changes it made to known jobs (`updates`, from
   * `EntropyContributed`), atomically. A job already known is not created again.
   * A checkpoint that creates no job is committed without its own fsync (db.ts withoutFsync): every
   * reading transaction emits an event, and losing such a checkpoint in a power cut only means handling
   * events again that create nothing (jobs are INSERT OR IGNORE). The same holds for `updates`: lost with
   * their checkpoint, their events are handled again and give the same updates (a set union, a due time).
   */
  advance(name: string, cp: Checkpoint, jobs: NewJob[], now = Date.now(), updates: JobUpdate[] = []): number {
    let added = 0;
    const write = jobs.length ? <T>(f: () => T) => f() : <T>(f: () => T) => withoutFsync(this.db, f);
    write(() => this.db.transaction(() => {
      const ins = prepared(this.db, `INSERT OR IGNORE INTO beacon_contributions (task_id, round, message, state, attempts, next_attempt_at, opened_block, updated_at, turn_order, quorum, contributed, opened_at)
         VALUES (?, ?, ?, 'PENDING', 0, ?, ?, ?, ?, ?, '[]', ?)`);
      for (const j of jobs) {
        added += ins.run(j.taskId, j.round, j.message, j.dueAt ?? now, cp.block, now, j.turnOrder ? JSON.stringify(j.turnOrder) : null, j.quorum ?? null, now).changes;
      }
      const seen = prepared(this.db, `UPDATE beacon_contributions SET contributed = ?, updated_at = ? WHERE task_id = ? AND round = ?`);
      const end = prepared(this.db, `UPDATE beacon_contributions SET state = ?, last_error = ?, updated_at = ? WHERE task_id = ? AND round = ? AND state = 'PENDING'`);
      const sooner = prepared(this.db, `UPDATE beacon_contributions SET next_attempt_at = ? WHERE task_id = ? AND round = ? AND state = 'PENDING' AND attempts = 0 AND next_attempt_at > ?`);
      for (const u of updates) {
        seen.run(JSON.stringify(u.contributed), now, u.taskId, u.round);
        if (u.finish) end.run(u.finish.state, u.finish.note, now, u.taskId, u.round);
        else if (u.dueAt !== undefined) sooner.run(u.dueAt, u.taskId, u.round, u.dueAt);
      }
      prepared(this.db, 'INSERT INTO event_checkpoints (name, block, tx_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET block = excluded.block, tx_id = excluded.tx_id, updated_at = excluded.updated_at').run(name, cp.block, cp.txId, now);
    })());
    return added;
  }

  due(now: number, limit = 16): ContributionJob[] {
    return (prepared(this.db, `SELECT * FROM beacon_contributions WHERE state = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at, task_id LIMIT ?`).all(now, limit) as Row[]).map(toJob);
  }

  nextDueAt(): number | undefined {
    const r = prepared(this.db, `SELECT MIN(next_attempt_at) AS t FROM beacon_contributions WHERE state = 'PENDING'`).get() as { t: number | null };
    return r.t ?? undefined;
  }

  get(taskId: string, round: number): ContributionJob | undefined {
    const r = prepared(this.db, 'SELECT * FROM beacon_contributions WHERE task_id = ? AND round = ?').get(taskId, round) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  all(): ContributionJob[] {
    return (prepared(this.db, 'SELECT * FROM beacon_contributions ORDER BY opened_block, task_id, round').all() as Row[]).map(toJob);
  }

  finish(taskId: string, round: number, state: Exclude<ContributionState, 'PENDING'>, txId: string | null, note: string | null, now = Date.now()): void {
    prepared(this.db, 'UPDATE beacon_contributions SET state = ?, tx_id = ?, last_error = ?, attempts = attempts + 1, updated_at = ? WHERE task_id = ? AND round = ?').run(state, txId, note, now, taskId, round);
  }

  retryLater(taskId: string, round: number, error: string, at: number, now = Date.now()): void {
    prepared(this.db, 'UPDATE beacon_contributions SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE task_id = ? AND round = ?').run(error, at, now, taskId, round);
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
  turn_order: string | null;
  quorum: number | null;
  contributed: string;
  opened_at: number;
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
  turnOrder: r.turn_order === null ? null : (JSON.parse(r.turn_order) as string[]),
  quorum: r.quorum,
  contributed: JSON.parse(r.contributed) as string[],
  openedAt: r.opened_at,
});
