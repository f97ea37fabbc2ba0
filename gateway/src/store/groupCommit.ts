import { withoutFsync, type Db } from './db';

/** Runs a write and resolves once it is durable. */
export interface Writer {
  run<T>(fn: () => T): Promise<T>;
}

/** Each write its own SQLite transaction (one fsync each): what unit tests of single components use. */
export const directWriter: Writer = {
  run: async <T>(fn: () => T): Promise<T> => fn(),
};

export interface GroupCommitOptions {
  /** flush as soon as this many writes wait */
  maxBatch: number;
  /**
   * How long the first waiting write waits for company. 0 = until the end of the current event-loop
   * turn (setImmediate): under load, everything that arrived while the previous commit's fsync held
   * the loop is committed together, and a lone write waits no timer at all.
   */
  maxDelayMs: number;
  /** called after every commit with the number of writes it held and how long it took (until durable) */
  onCommit?(writes: number, seconds: number): void;
  /**
   * Makes what was committed durable without blocking the event loop (db.ts walSyncer): the COMMIT then
   * runs under `synchronous = NORMAL` and the writers are answered once this resolved. Without it, the
   * COMMIT fsyncs (synchronous = FULL) on the calling thread.
   */
  sync?: () => Promise<void>;
}

type Pending = { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Group commit: many writes per SQLite transaction, so per fsync (with `sync`, the fsync runs off the event loop). Each write runs in a savepoint of
 * its own (better-sqlite3 nests `db.transaction` as SAVEPOINT), so one that throws is rolled back
 * alone and only its caller sees the error; the others commit. Every promise resolves only after
 * the COMMIT returned — with `synchronous = FULL` (db.ts) the WAL is fsynced by then — so a caller
 * that answers after `await run(...)` never acknowledges what a crash could lose. If the COMMIT itself
 * fails, every write of the group is rolled back and every caller gets the error.
 */
export class GroupCommit implements Writer {
  private pending: Pending[] = [];
  private scheduled: { cancel(): void } | undefined;

  constructor(
    private readonly db: Db,
    private readonly o: GroupCommitOptions,
  ) {}

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.length >= this.o.maxBatch) this.flush();
      else if (!this.scheduled) this.schedule();
    });
  }

  /** Writes waiting for their commit. */
  get waiting(): number {
    return this.pending.length;
  }

  private schedule(): void {
    if (this.o.maxDelayMs > 0) {
      const t = setTimeout(() => this.flush(), this.o.maxDelayMs);
      this.scheduled = { cancel: () => clearTimeout(t) };
    } else {
      const i = setImmediate(() => this.flush());
      this.scheduled = { cancel: () => clearImmediate(i) };
    }
  }

  /** Commits everything waiting now, in one SQLite transaction. */
  flush(): void {
    this.scheduled?.cancel();
    this.scheduled = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const started = process.hrtime.bigint();
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const commit = () =>
      this.db.transaction(() => {
        for (const w of batch) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(w.fn)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    try {
      if (this.o.sync) withoutFsync(this.db, commit);
      else commit();
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    const answer = () => {
      this.o.onCommit?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
      batch.forEach((w, i) => {
        const out = outcomes[i]!;
        if (out.ok) w.resolve(out.value);
        else w.reject(out.error);
      });
    };
    // Not durable until synced: a failed sync answers every writer of the group with its error (nothing is
    // acknowledged; the rows stay committed, so a retry with the Idempotency-Key finds them).
    if (this.o.sync) this.o.sync().then(answer, (error: unknown) => batch.forEach((w) => w.reject(error)));
    else answer();
  }
}
