import crypto from 'node:crypto';
import { prepared, withoutFsync, type Db } from './db';

export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export type IdempotencyBegin =
  | { kind: 'new' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in-progress'; txId: string | null; fromEarlierRun: boolean }
  /** claimed by an earlier run that was cut after its transaction was endorsed: re-send it, never re-endorse */
  | { kind: 'resume'; txId: string; txBytes: Buffer; actingKey: string }
  /** claimed by an earlier run that was cut after it queued its receipt (a synchronous reading): answer from that receipt, never queue again */
  | { kind: 'resume-receipt'; receiptId: string };

/** SHA-256 over method, path and a canonical (sorted-key) JSON of the body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return crypto.createHash('sha256').update(`${method.toUpperCase()} ${path}\n`).update(canonicalJson(body)).digest('hex');
}

export function canonicalJson(v: unknown): string {
  if (v === undefined) return '';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/**
 * Idempotency-Key records, scoped per authenticated principal. A key is claimed before the request runs
 * and completed with the response; a replay returns the stored response, a different request under the
 * same key is refused.
 *
 * The claim of a new key is held in memory (`active`), not written: the gateway is the only process that
 * writes its database, so no other request can act under a key this process holds, and a claim that a
 * crash forgets had no effect (the client's retry simply runs the request). The key's row is written
 * with the request's first effect, in that effect's own transaction: the queued receipt and its 202
 * answer in one savepoint of the group commit (rest/handlers.ts `enqueue`), the endorsed transaction
 * before it is sent (`notePrepared`), or the final answer (`complete`). A separate claim transaction per
 * request cost ~8% of the HTTP thread under ingest load (docs/benchmarks.md, "REST ingest").
 *
 * A claim whose request already had an effect remembers it while the request runs: the endorsed
 * transaction (`notePrepared`, synchronous submits) or the queued receipt (`noteReceipt`, synchronous
 * readings waiting for their commit). Such a claim is never deleted by `release`; if its request ends
 * without a final answer (crash, unknown outcome), the next request with the key resumes that very
 * transaction / receipt instead of running again.
 */
export class IdempotencyStore {
  private readonly bootId = crypto.randomUUID();
  /** claims whose request is running in this process right now, with the request's fingerprint */
  private readonly active = new Map<string, string>();

  constructor(private readonly db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS idempotency (
      principal TEXT NOT NULL,
      key TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
      status INTEGER,
      headers TEXT,
      body TEXT,
      tx_id TEXT,
      tx_bytes BLOB,
      acting_key TEXT,
      receipt_id TEXT,
      boot_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (principal, key)
    )`);
    // databases created before receipt_id existed
    const columns = db.prepare('PRAGMA table_info(idempotency)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'receipt_id')) db.exec('ALTER TABLE idempotency ADD COLUMN receipt_id TEXT');
  }

  /**
   * Claims the key or reports what is already stored under it. A new key costs one read and no write
   * (the claim is in memory until the request's first effect writes the row, see the class comment).
   */
  begin(principal: string, key: string, fingerprint: string): IdempotencyBegin {
    const id = `${principal}\n${key}`;
    const row = prepared(this.db, 'SELECT fingerprint, state, status, headers, body, tx_id, tx_bytes, acting_key, receipt_id FROM idempotency WHERE principal = ? AND key = ?')
      .get(principal, key) as
      | {
          fingerprint: string;
          state: string;
          status: number;
          headers: string;
          body: string;
          tx_id: string | null;
          tx_bytes: Buffer | null;
          acting_key: string | null;
          receipt_id: string | null;
        }
      | undefined;
    const running = this.active.get(id);
    if (!row) {
      if (running === undefined) {
        this.active.set(id, fingerprint);
        return { kind: 'new' };
      }
      if (running !== fingerprint) return { kind: 'mismatch' };
      return { kind: 'in-progress', txId: null, fromEarlierRun: false };
    }
    if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (row.state === 'completed') {
      return {
        kind: 'replay',
        response: { status: row.status, headers: JSON.parse(row.headers) as Record<string, string>, body: row.body === '' ? undefined : JSON.parse(row.body) },
      };
    }
    if (running !== undefined) return { kind: 'in-progress', txId: row.tx_id, fromEarlierRun: false };
    // Nobody is running it (the process that claimed it died, or it ended with an unknown outcome).
    // Take it over: with nothing endorsed it simply runs again; with an endorsed transaction, that same
    // transaction is re-sent (Fabric commits a tx id at most once); with a queued receipt, the answer
    // comes from that receipt. Rare (after a crash or an unknown outcome): its write pays no fsync of its
    // own, since nothing is answered on it (db.ts withoutFsync).
    this.active.set(id, fingerprint);
    return withoutFsync(this.db, () =>
      this.db.transaction((): IdempotencyBegin => {
        prepared(this.db, 'UPDATE idempotency SET boot_id = ?, updated_at = ? WHERE principal = ? AND key = ?').run(this.bootId, Date.now(), principal, key);
        if (row.receipt_id) return { kind: 'resume-receipt', receiptId: row.receipt_id };
        if (!row.tx_id || !row.tx_bytes || !row.acting_key) {
          prepared(this.db, 'UPDATE idempotency SET tx_id = NULL, tx_bytes = NULL, acting_key = NULL WHERE principal = ? AND key = ?').run(principal, key);
          return { kind: 'new' };
        }
        return { kind: 'resume', txId: row.tx_id, txBytes: row.tx_bytes, actingKey: row.acting_key };
      })(),
    );
  }

  /**
   * Writes the claim's row with `set` (columns → values) applied, inserting it if this run's claim has
   * none yet (begin writes none). A key not claimed in this process only updates an existing row.
   */
  private write(principal: string, key: string, set: Record<string, unknown>): number {
    const now = Date.now();
    const cols = Object.keys(set);
    const fingerprint = this.active.get(`${principal}\n${key}`);
    if (fingerprint === undefined) {
      return prepared(this.db, `UPDATE idempotency SET ${cols.map((c) => `${c} = ?`).join(', ')}, updated_at = ? WHERE principal = ? AND key = ?`)
        .run(...Object.values(set), now, principal, key).changes;
    }
    return prepared(
      this.db,
      `INSERT INTO idempotency (principal, key, fingerprint, boot_id, created_at, updated_at, ${cols.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ${cols.map(() => '?').join(', ')})
       ON CONFLICT (principal, key) DO UPDATE SET ${cols.map((c) => `${c} = excluded.${c}`).join(', ')}, updated_at = excluded.updated_at`,
    ).run(principal, key, fingerprint, this.bootId, now, now, ...Object.values(set)).changes;
  }

  /**
   * Records the endorsed transaction before it is sent, so a request cut by a crash is finished by
   * re-sending the same transaction rather than endorsing a new one.
   */
  notePrepared(principal: string, key: string, txId: string, txBytes: Uint8Array, actingKey: string): void {
    this.write(principal, key, { state: 'in_progress', tx_id: txId, tx_bytes: Buffer.from(txBytes), acting_key: actingKey });
  }

  /**
   * Records the receipt a request queued (in the same SQLite transaction as the receipt), for requests
   * that answer only once it settles (`?sync=true`): the claim stays in progress until `complete`.
   */
  noteReceipt(principal: string, key: string, receiptId: string): void {
    this.write(principal, key, { state: 'in_progress', receipt_id: receiptId });
  }

  /** The request stopped running without a final answer (outcome unknown); a retry takes the claim over. */
  abandon(principal: string, key: string): void {
    this.active.delete(`${principal}\n${key}`);
  }

  complete(principal: string, key: string, response: StoredResponse): void {
    this.write(principal, key, {
      state: 'completed',
      status: response.status,
      headers: JSON.stringify(response.headers),
      body: response.body === undefined ? '' : JSON.stringify(response.body),
      tx_bytes: null,
    });
    this.active.delete(`${principal}\n${key}`);
  }

  /**
   * Releases a claim whose request failed without any effect, so the client may run it again with the
   * key. A claim that queued a receipt is kept (as by `abandon`): its effect exists, and the next
   * request with the key answers from that receipt. Returns whether a stored claim was deleted.
   */
  release(principal: string, key: string): boolean {
    this.active.delete(`${principal}\n${key}`);
    return prepared(this.db, "DELETE FROM idempotency WHERE principal = ? AND key = ? AND state = 'in_progress' AND receipt_id IS NULL").run(principal, key).changes > 0;
  }

  purgeOlderThan(ms: number): number {
    return prepared(this.db, "DELETE FROM idempotency WHERE state = 'completed' AND updated_at < ?").run(Date.now() - ms).changes;
  }

  /** Runs fn inside one SQLite transaction (used to store a queued item and its idempotent response atomically). */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
