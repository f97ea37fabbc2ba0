import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import { RECEIPT_STATES, sqlValues, type ReceiptState } from '@gridledger/protocol';
import type { Db } from './db';

export type { ReceiptState };

export interface Receipt {
  id: string;
  seq: number;
  meterId: string;
  principal: string;
  fn: string;
  args: string[];
  /** private inputs passed as transient data (never written to a block) */
  transient: Record<string, string> | null;
  itemCount: number;
  state: ReceiptState;
  txId: string | null;
  txBytes: Buffer | null;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  result: unknown;
  reason: string | null;
  problem: unknown;
  blockNumber: number | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  seq: number;
  id: string;
  meter_id: string;
  principal: string;
  fn: string;
  args: string;
  transient: string | null;
  item_count: number;
  state: ReceiptState;
  tx_id: string | null;
  tx_bytes: Buffer | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  result: string | null;
  reason: string | null;
  problem: string | null;
  block_number: number | null;
  created_at: number;
  updated_at: number;
}

function toReceipt(r: Row): Receipt {
  return {
    id: r.id,
    seq: r.seq,
    meterId: r.meter_id,
    principal: r.principal,
    fn: r.fn,
    args: JSON.parse(r.args) as string[],
    transient: r.transient === null ? null : (JSON.parse(r.transient) as Record<string, string>),
    itemCount: r.item_count,
    state: r.state,
    txId: r.tx_id,
    txBytes: r.tx_bytes,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    reason: r.reason,
    problem: r.problem === null ? null : (JSON.parse(r.problem) as unknown),
    blockNumber: r.block_number,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Durable queue of ledger submissions (meter readings), one SQLite table.
 *
 * States: QUEUED → SUBMITTED(txId, signed-ready transaction bytes) → COMMITTED | REJECTED(reason).
 * A row is `SUBMITTED` only after its endorsed transaction is stored, so after a crash the very same
 * transaction (same tx id) is re-sent and its commit status read: Fabric never commits one tx id twice.
 * Rows of one meter are delivered strictly in `seq` order: only the oldest unfinished row of a meter
 * is ever handed out. Several consecutive rows of a meter may be delivered by one transaction (a
 * coalesced batch, delivery/worker.ts): they carry the same tx id and settle together.
 */
export class DurableQueue {
  constructor(private readonly db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS receipts (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      meter_id TEXT NOT NULL,
      principal TEXT NOT NULL,
      fn TEXT NOT NULL,
      args TEXT NOT NULL,
      transient TEXT,
      item_count INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN (${sqlValues(RECEIPT_STATES)})),
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
    CREATE INDEX IF NOT EXISTS receipts_unfinished ON receipts (meter_id, seq, state, next_attempt_at) WHERE state IN ('QUEUED', 'SUBMITTED');
    DROP INDEX IF EXISTS receipts_pending;
    CREATE INDEX IF NOT EXISTS receipts_tx ON receipts (tx_id) WHERE tx_id IS NOT NULL AND state IN ('QUEUED', 'SUBMITTED');
    CREATE TABLE IF NOT EXISTS relayed_txs (tx_id TEXT PRIMARY KEY);`);
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO receipts (id, meter_id, principal, fn, args, transient, item_count, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'QUEUED', ?, ?)`,
      ),
      get: db.prepare('SELECT * FROM receipts WHERE id = ?'),
      pendingOf: db.prepare("SELECT * FROM receipts WHERE meter_id = ? AND state IN ('QUEUED', 'SUBMITTED') ORDER BY seq LIMIT ?"),
      inTx: db.prepare("SELECT * FROM receipts WHERE meter_id = ? AND state IN ('QUEUED', 'SUBMITTED') AND tx_id = ? ORDER BY seq"),
      pendingCounts: db.prepare("SELECT state, COUNT(*) AS n FROM receipts WHERE state IN ('QUEUED', 'SUBMITTED') GROUP BY state"),
      // Each meter's oldest unfinished receipt, from the covering partial index alone (SQLite takes the bare
      // column next_attempt_at from the row whose seq is the MIN: sqlite.org/lang_select.html "bare columns").
      heads: db.prepare("SELECT meter_id, MIN(seq) AS seq, next_attempt_at FROM receipts WHERE state IN ('QUEUED', 'SUBMITTED') GROUP BY meter_id"),
      bySeq: db.prepare('SELECT * FROM receipts WHERE seq = ?'),
      byTx: db.prepare("SELECT * FROM receipts WHERE tx_id = ? AND state IN ('QUEUED', 'SUBMITTED') ORDER BY seq"),
      relayedIns: db.prepare('INSERT OR IGNORE INTO relayed_txs (tx_id) VALUES (?)'),
      relayedGet: db.prepare('SELECT 1 AS x FROM relayed_txs WHERE tx_id = ?'),
      relayedDel: db.prepare('DELETE FROM relayed_txs WHERE tx_id = ?'),
    };
  }

  private readonly stmt: {
    insert: Database.Statement;
    get: Database.Statement;
    pendingOf: Database.Statement;
    inTx: Database.Statement;
    heads: Database.Statement;
    bySeq: Database.Statement;
    pendingCounts: Database.Statement;
    byTx: Database.Statement;
    relayedIns: Database.Statement;
    relayedGet: Database.Statement;
    relayedDel: Database.Statement;
  };

  /**
   * Relayed batches (delivery/worker.ts): `txId` is a `meters:relayReadings` transaction signed by the
   * utility's operator and carrying receipts of SEVERAL meters (the bytes on the lowest seq). Recorded in
   * the same SQLite transaction as markSubmitted, so after a crash the worker re-sends it as a whole.
   */
  markRelayed(txId: string): void {
    this.stmt.relayedIns.run(txId);
  }

  isRelayed(txId: string): boolean {
    return this.stmt.relayedGet.get(txId) !== undefined;
  }

  forgetRelayed(txId: string): void {
    this.stmt.relayedDel.run(txId);
  }

  /** Every unfinished receipt a stored transaction delivers, of any meter, in seq order. */
  transactionGroup(txId: string): Receipt[] {
    return (this.stmt.byTx.all(txId) as Row[]).map(toReceipt);
  }

  /**
   * Inserts a queued receipt. Durable once the enclosing SQLite transaction commits: callers that
   * acknowledge it run this through the group-commit writer (groupCommit.ts) and answer after it resolved.
   */
  enqueue(item: { meterId: string; principal: string; fn: string; args: string[]; transient?: Record<string, string>; itemCount: number }): Receipt {
    const id = `rcpt_${crypto.randomUUID()}`;
    const now = Date.now();
    this.stmt.insert.run(id, item.meterId, item.principal, item.fn, JSON.stringify(item.args), item.transient ? JSON.stringify(item.transient) : null, item.itemCount, now, now);
    return this.get(id)!;
  }

  get(id: string): Receipt | undefined {
    const row = this.stmt.get.get(id) as Row | undefined;
    return row ? toReceipt(row) : undefined;
  }

  /** A meter's unfinished receipts in delivery (seq) order, at most `limit`. */
  pendingOf(meterId: string, limit: number): Receipt[] {
    return (this.stmt.pendingOf.all(meterId, limit) as Row[]).map(toReceipt);
  }

  /**
   * The receipts delivered together by `head`'s stored transaction (a coalesced batch: the same tx id on
   * every row, the transaction bytes on the first), in seq order. Just `[head]` for a lone receipt.
   */
  inTransaction(head: Receipt): Receipt[] {
    if (head.txId === null) return [head];
    const rows = (this.stmt.inTx.all(head.meterId, head.txId) as Row[]).map(toReceipt);
    return rows.length && rows[0]!.id === head.id ? rows : [head];
  }

  /**
   * The oldest unfinished row of each meter that is due, oldest first, skipping meters in `busy`.
   */
  due(now: number, limit: number, busy: ReadonlySet<string> = new Set()): Receipt[] {
    return this.schedule(now, limit, busy).due;
  }

  /**
   * `due` and, in the same pass, when the next receipt not yet due becomes due (the earliest
   * next_attempt_at of the other heads not in `busy`; a busy meter's finished delivery wakes the worker).
   * The worker asks after every finished delivery: with thousands of queued readings, reading every
   * meter's whole head row (payload included) took ~10 ms of the HTTP thread per call. The heads come
   * from the covering index; only the chosen rows are read.
   */
  schedule(now: number, limit: number, busy: ReadonlySet<string> = new Set()): { due: Receipt[]; nextDueAt: number | undefined } {
    const ready: Array<{ seq: number }> = [];
    let nextDueAt: number | undefined;
    for (const h of this.stmt.heads.all() as Array<{ meter_id: string; seq: number; next_attempt_at: number }>) {
      if (busy.has(h.meter_id)) continue;
      if (h.next_attempt_at <= now) ready.push(h);
      else if (nextDueAt === undefined || h.next_attempt_at < nextDueAt) nextDueAt = h.next_attempt_at;
    }
    ready.sort((a, b) => a.seq - b.seq);
    if (ready.length > limit) nextDueAt = now; // more are due than were handed out
    return { due: ready.slice(0, limit).map((h) => toReceipt(this.stmt.bySeq.get(h.seq) as Row)), nextDueAt };
  }

  /** Deletes final (committed / rejected) receipts last updated before `beforeMs`; returns how many. */
  purgeFinished(beforeMs: number): number {
    return this.db.prepare("DELETE FROM receipts WHERE state IN ('COMMITTED', 'REJECTED') AND updated_at < ?").run(beforeMs).changes;
  }

  /** Earliest next_attempt_at of each meter's oldest unfinished receipt (the only ones delivered next; for the worker's timer), or undefined if none. */
  nextDueAt(): number | undefined {
    let t: number | undefined;
    for (const h of this.stmt.heads.all() as Array<{ next_attempt_at: number }>) if (t === undefined || h.next_attempt_at < t) t = h.next_attempt_at;
    return t;
  }

  /**
   * `ids` (one meter's receipts, oldest first) are delivered by this endorsed transaction: all submitted with
   * its tx id, the bytes kept on the first (the one `due` hands out) so a crash re-sends that very transaction.
   */
  markSubmitted(ids: string | string[], txId: string, txBytes: Uint8Array): void {
    const all = typeof ids === 'string' ? [ids] : ids;
    all.forEach((id, i) => this.update(id, "state = 'SUBMITTED', tx_id = ?, tx_bytes = ?", [txId, i === 0 ? Buffer.from(txBytes) : null], ['QUEUED', 'SUBMITTED']));
  }

  markCommitted(id: string, txId: string, blockNumber: number, result: unknown): void {
    this.update(id, "state = 'COMMITTED', tx_id = ?, block_number = ?, result = ?, tx_bytes = NULL, last_error = NULL", [txId, blockNumber, JSON.stringify(result ?? null)], ['QUEUED', 'SUBMITTED']);
  }

  markRejected(id: string, reason: string, problem?: unknown): void {
    this.update(id, "state = 'REJECTED', reason = ?, problem = ?, tx_bytes = NULL", [reason, problem === undefined ? null : JSON.stringify(problem)], ['QUEUED', 'SUBMITTED']);
  }

  /** Try again later. `newProposal` drops the stored transaction so the next attempt endorses afresh (new tx id). */
  retryLater(ids: string | string[], error: string, delayMs: number, newProposal: boolean): void {
    const set = newProposal
      ? "state = 'QUEUED', tx_id = NULL, tx_bytes = NULL, attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
      : 'attempts = attempts + 1, last_error = ?, next_attempt_at = ?';
    for (const id of typeof ids === 'string' ? [ids] : ids) this.update(id, set, [error, Date.now() + delayMs], ['QUEUED', 'SUBMITTED']);
  }

  /** Unfinished receipts by state (the partial index only: cheap however many final receipts are kept). */
  pendingCounts(): { QUEUED: number; SUBMITTED: number } {
    const out = { QUEUED: 0, SUBMITTED: 0 };
    for (const r of this.stmt.pendingCounts.all() as Array<{ state: 'QUEUED' | 'SUBMITTED'; n: number }>) out[r.state] = r.n;
    return out;
  }

  counts(): Record<ReceiptState, number> {
    const out: Record<ReceiptState, number> = { QUEUED: 0, SUBMITTED: 0, COMMITTED: 0, REJECTED: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM receipts GROUP BY state').all() as Array<{ state: ReceiptState; n: number }>) {
      out[r.state] = r.n;
    }
    return out;
  }

  private readonly updates = new Map<string, Database.Statement>();

  private update(id: string, set: string, params: unknown[], fromStates: ReceiptState[]): void {
    const sql = `UPDATE receipts SET ${set}, updated_at = ? WHERE id = ? AND state IN (${fromStates.map(() => '?').join(', ')})`;
    let st = this.updates.get(sql);
    if (!st) this.updates.set(sql, (st = this.db.prepare(sql)));
    const res = st.run(...params, Date.now(), id, ...fromStates);
    if (res.changes !== 1) throw new Error(`receipt ${id} is not in state ${fromStates.join('/')}`);
  }
}
