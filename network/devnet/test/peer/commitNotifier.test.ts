import { CommitNotifier } from '../../src/peer/commitNotifier';

describe('CommitNotifier', () => {
  it('resolves at once for a committed tx, else on the block that commits it (with the ledger status)', async () => {
    const statuses = new Map<string, number>([['old', 0]]);
    const n = new CommitNotifier<number>(async (id) => statuses.get(id));
    await expect(n.waitForTx('old').promise).resolves.toBe(0);
    const w = n.waitForTx('new');
    await Promise.resolve();
    expect(n.waitingCount).toBe(1);
    statuses.set('new', 11);
    n.committed(4, ['other', 'new']);
    await expect(w.promise).resolves.toBe(11);
    expect(n.waitingCount).toBe(0);
  });

  it('cancel removes the waiter; block listeners can unsubscribe', async () => {
    const n = new CommitNotifier<number>(async () => undefined);
    const w = n.waitForTx('x');
    w.cancel();
    expect(n.waitingCount).toBe(0);
    const seen: number[] = [];
    const off = n.onBlock((b) => seen.push(b));
    n.committed(1, []);
    off();
    n.committed(2, []);
    expect(seen).toEqual([1]);
  });
});
