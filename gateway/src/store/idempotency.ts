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
 * Idempotency-Key records, scoped per authenticated principal. A key is claimed (in_progress) before
 * the request runs and completed with the response; a replay returns the stored response, a
 * different request under the same key is refused.
 *
 * A claim whose request already had an effect remembers it while the request runs: the endorsed
 * transaction (`notePrepared`, synchronous submits) or the queued receipt (`noteReceipt`, synchronous
 * readings waiting for their commit). Such a claim is never deleted by `release`; if its request ends
 * without a final answer (crash, unknown outcome), the next request with the key resumes that very
 * transaction / receipt instead of running again.
 */
export class IdempotencyStore {
  private readonly bootId = crypto.randomUUID();
  /** claims whose request is running in this process right now */
  private readonly active = new Set<string>();

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
   * Atomically claims the key or reports what is already stored under it.
   *
   * The claim is committed without its own fsync (synchronous = NORMAL for this one transaction, WAL
   * mode: db.ts): nothing is answered on the strength of a claim alone, and the write that does answer
   * (the queued receipt with the completed key, `notePrepared` before a send, `complete`) commits with
   * synchronous = FULL, whose fsync of the WAL makes the earlier claim durable too. A claim lost to a
   * power cut is a key never claimed: the client's retry runs the request, which had no effect.
   */
  begin(principal: string, key: string, fingerprint: string): IdempotencyBegin {
    return withoutFsync(this.db, () => this.claim(principal, key, fingerprint));
  }

  private claim(principal: string, key: string, fingerprint: string): IdempotencyBegin {
    return this.db.transaction((): IdempotencyBegin => {
      const row = prepared(this.db, 'SELECT fingerprint, state, status, headers, body, tx_id, tx_bytes, acting_key, receipt_id, boot_id FROM idempotency WHERE principal = ? AND key = ?')
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
            boot_id: string;
          }
        | undefined;
      if (!row) {
        const now = Date.now();
        prepared(this.db, 
            "INSERT INTO idempotency (principal, key, fingerprint, state, boot_id, created_at, updated_at) VALUES (?, ?, ?, 'in_progress', ?, ?, ?)",
          )
          .run(principal, key, fingerprint, this.bootId, now, now);
        this.active.add(`${principal}\n${key}`);
        return { kind: 'new' };
      }
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (row.state === 'completed') {
        return {
          kind: 'replay',
          response: { status: row.status, headers: JSON.parse(row.headers) as Record<string, string>, body: row.body === '' ? undefined : JSON.parse(row.body) },
        };
      }
      const fromEarlierRun = row.boot_id !== this.bootId;
      if (!this.active.has(`${principal}\n${key}`)) {
        // Nobody is running it (the process that claimed it died, or it ended with an unknown outcome).
        // Take it over: with nothing endorsed it simply runs again; with an endorsed transaction, that same
        // transaction is re-sent (Fabric commits a tx id at most once); with a queued receipt, the answer
        // comes from that receipt.
        this.active.add(`${principal}\n${key}`);
        prepared(this.db, 'UPDATE idempotency SET boot_id = ?, updated_at = ? WHERE principal = ? AND key = ?').run(this.bootId, Date.now(), principal, key);
        if (row.receipt_id) return { kind: 'resume-receipt', receiptId: row.receipt_id };
        if (!row.tx_id || !row.tx_bytes || !row.acting_key) {
          prepared(this.db, 'UPDATE idempotency SET tx_id = NULL, tx_bytes = NULL, acting_key = NULL WHERE principal = ? AND key = ?').run(principal, key);
          return { kind: 'new' };
        }
        return { kind: 'resume', txId: row.tx_id, txBytes: row.tx_bytes, actingKey: row.acting_key };
      }
      return { kind: 'in-progress', txId: row.tx_id, fromEarlierRun };
    })();
  }

  /**
   * Records the endorsed transaction before it is sent, so a request cut by a crash is finished by
   * re-sending the same transaction rather than endorsing a new one.
   */
  notePrepared(principal: string, key: string, txId: string, txBytes: Uint8Array, actingKey: string): void {
    prepared(this.db, 'UPDATE idempotency SET tx_id = ?, tx_bytes = ?, acting_key = ?, updated_at = ? WHERE principal = ? AND key = ?')
      .run(txId, Buffer.from(txBytes), actingKey, Date.now(), principal, key);
  }

  /**
   * Records the receipt a request queued (in the same SQLite transaction as the receipt), for requests
   * that answer only once it settles (`?sync=true`): the claim stays in progress until `complete`.
   */
  noteReceipt(principal: string, key: string, receiptId: string): void {
    prepared(this.db, 'UPDATE idempotency SET receipt_id = ?, updated_at = ? WHERE principal = ? AND key = ?').run(receiptId, Date.now(), principal, key);
  }

  /** The request stopped running without a final answer (outcome unknown); a retry takes the claim over. */
  abandon(principal: string, key: string): void {
    this.active.delete(`${principal}\n${key}`);
  }

  complete(principal: string, key: string, response: StoredResponse): void {
    this.active.delete(`${principal}\n${key}`);
    prepared(this.db, "UPDATE idempotency SET state = 'completed', status = ?, headers = ?, body = ?, tx_bytes = NULL, updated_at = ? WHERE principal = ? AND key = ?")
      .run(response.status, JSON.stringify(response.headers), response.body === undefined ? '' : JSON.stringify(response.body), Date.now(), principal, key);
  }

  /**
   * Releases a claim whose request failed without any effect, so the client may run it again with the
   * key. A claim that queued a receipt is kept (as by `abandon`): its effect exists, and the next
   * request with the key answers from that receipt. Returns whether the claim was deleted.
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
