import * as dbModule from '../../src/store/db';
import { AgentStore } from '../../src/agents/store';
import { tmpDir } from '../helpers/tmp';

const KEY = Buffer.alloc(32, 7);

describe('AgentStore commits', () => {
  let db: dbModule.Db;
  beforeEach(() => {
    db = dbModule.openDatabase(tmpDir());
  });
  afterEach(() => {
    jest.restoreAllMocks();
    db.close();
  });

  it("commits a duty's bookkeeping (reschedule, finish, act record) without its own fsync, and an event batch with one", () => {
    const store = new AgentStore(db, KEY);
    const lazy = jest.spyOn(dbModule, 'withoutFsync');
    store.advanceBatch({ block: 3, txId: 'tx-3' }, [{ add: [{ id: 'offer-expire|o-1', kind: 'offer-expire', meterId: '', subject: 'o-1', round: 0, dueAt: 5 }], wake: [], entries: [] }], 1);
    expect(lazy).not.toHaveBeenCalled(); // new duties and the checkpoint: fsynced (synchronous = FULL)
    store.reschedule('offer-expire|o-1', 9, 'waiting', {}, 2);
    store.recordAct('offer-expire|o-1', 'offer-expire|o-1', 'tx-9', 'committed', 3);
    store.finish('offer-expire|o-1', 'DONE', 'offer expired', null, 4);
    expect(lazy).toHaveBeenCalledTimes(3);
    expect(store.get('offer-expire|o-1')).toMatchObject({ state: 'DONE', note: 'offer expired', dueAt: 9 });
    expect(store.hasAct('offer-expire|o-1')).toBe(true);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL again for everything else on the connection
  });

  it('withoutFsync inside a transaction leaves the level to the enclosing transaction (SQLite refuses to change it there)', () => {
    const store = new AgentStore(db, KEY);
    store.advance({ block: 1, txId: 'tx-1' }, { add: [{ id: 'd', kind: 'offer-expire', meterId: '', subject: 'o', round: 0, dueAt: 5 }], wake: [], entries: [] }, 1);
    expect(() => db.transaction(() => store.reschedule('d', 7, 'inside', {}, 2))()).not.toThrow();
    expect(store.get('d')!.dueAt).toBe(7);
  });

  it('reopens a recurring duty (score-fold) once it is finished, never one that is still pending; other duties are added once', () => {
    const store = new AgentStore(db, KEY);
    const fold = (dueAt: number) => ({ id: 'score-fold|p-1', kind: 'score-fold' as const, meterId: '', subject: 'p-1', round: 0, dueAt, reopen: true });
    expect(store.advance({ block: 1, txId: 'a' }, { add: [fold(100)], wake: [], entries: [] }, 1).added).toBe(1);
    // more credits while it waits: the pending duty is left alone (its run re-reads the ledger)
    expect(store.advance({ block: 2, txId: 'b' }, { add: [fold(200), fold(300)], wake: [], entries: [] }, 2).added).toBe(0);
    expect(store.get('score-fold|p-1')).toMatchObject({ state: 'PENDING', dueAt: 100 });
    store.reschedule('score-fold|p-1', 150, 'retry', { attempt: true, error: 'MVCC' }, 3);
    store.finish('score-fold|p-1', 'DONE', 'no credits pending', null, 4);
    // a credit after the fold: the same row, pending again with fresh attempts
    expect(store.advance({ block: 3, txId: 'c' }, { add: [fold(500)], wake: [], entries: [] }, 5).added).toBe(1);
    expect(store.get('score-fold|p-1')).toMatchObject({ state: 'PENDING', dueAt: 500, attempts: 0, note: '', lastError: null, createdAt: 1 });
    // a duty without `reopen` is never re-added once finished
    store.advance({ block: 4, txId: 'd' }, { add: [{ id: 'offer-expire|o', kind: 'offer-expire', meterId: '', subject: 'o', round: 0, dueAt: 5 }], wake: [], entries: [] }, 6);
    store.finish('offer-expire|o', 'DONE', 'offer expired', null, 7);
    expect(store.advance({ block: 5, txId: 'e' }, { add: [{ id: 'offer-expire|o', kind: 'offer-expire', meterId: '', subject: 'o', round: 0, dueAt: 9 }], wake: [], entries: [] }, 8).added).toBe(0);
    expect(store.get('offer-expire|o')).toMatchObject({ state: 'DONE' });
  });
});
