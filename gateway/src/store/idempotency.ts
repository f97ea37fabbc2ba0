import crypto from 'node:crypto';
import type { Db } from './db';

export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export type IdempotencyBegin =
  | { kind: 'new' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in-progress'; txId: string | null; fromEarlierRun: boolean };

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
 */
export class IdempotencyStore {
  private readonly bootId = crypto.randomUUID();

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
      boot_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (principal, key)
    )`);
  }

  /** Atomically claims the key or reports what is already stored under it. */
  begin(principal: string, key: string, fingerprint: string): IdempotencyBegin {
    return this.db.transaction((): IdempotencyBegin => {
      const row = this.db
        .prepare('SELECT fingerprint, state, status, headers, body, tx_id, boot_id FROM idempotency WHERE principal = ? AND key = ?')
        .get(principal, key) as
        | { fingerprint: string; state: string; status: number; headers: string; body: string; tx_id: string | null; boot_id: string }
        | undefined;
      if (!row) {
        const now = Date.now();
        this.db
          .prepare(
            "INSERT INTO idempotency (principal, key, fingerprint, state, boot_id, created_at, updated_at) VALUES (?, ?, ?, 'in_progress', ?, ?, ?)",
          )
          .run(principal, key, fingerprint, this.bootId, now, now);
        return { kind: 'new' };
      }
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (row.state === 'completed') {
        return {
          kind: 'replay',
          response: { status: row.status, headers: JSON.parse(row.headers) as Record<string, string>, body: row.body === '' ? undefined : JSON.parse(row.body) },
        };
      }
      return { kind: 'in-progress', txId: row.tx_id, fromEarlierRun: row.boot_id !== this.bootId };
    })();
  }

  /** Records the transaction id as soon as it is known, so an interrupted request can be traced. */
  noteTxId(principal: string, key: string, txId: string): void {
    this.db.prepare('UPDATE idempotency SET tx_id = ?, updated_at = ? WHERE principal = ? AND key = ?').run(txId, Date.now(), principal, key);
  }

  complete(principal: string, key: string, response: StoredResponse): void {
    this.db
      .prepare("UPDATE idempotency SET state = 'completed', status = ?, headers = ?, body = ?, updated_at = ? WHERE principal = ? AND key = ?")
      .run(response.status, JSON.stringify(response.headers), response.body === undefined ? '' : JSON.stringify(response.body), Date.now(), principal, key);
  }

  /** Releases a claim whose request failed before it could have had any effect (e.g. a 4xx), so the client may retry. */
  release(principal: string, key: string): void {
    this.db.prepare("DELETE FROM idempotency WHERE principal = ? AND key = ? AND state = 'in_progress'").run(principal, key);
  }

  purgeOlderThan(ms: number): number {
    return this.db.prepare("DELETE FROM idempotency WHERE state = 'completed' AND updated_at < ?").run(Date.now() - ms).changes;
  }

  /** Runs fn inside one SQLite transaction (used to store a queued item and its idempotent response atomically). */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
