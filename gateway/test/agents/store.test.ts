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
});
