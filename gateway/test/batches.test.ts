import { blockBatches } from '../src/events/batches';
import type { LedgerEvent } from '../src/fabric/ledger';

const ev = (block: number, txId: string): LedgerEvent => ({ blockNumber: block, txId, eventName: 'gridledger', payload: Buffer.from('{"events":[]}') });
const ids = (batches: LedgerEvent[][]) => batches.map((b) => b.map((e) => `${e.blockNumber}:${e.txId}`));

/** A stream that yields `ready` at once (as fabric-gateway yields one block's events), then what `push` adds later. */
function stream(ready: LedgerEvent[]) {
  const queue = [...ready];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(...e: LedgerEvent[]) {
      queue.push(...e);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length) {
          yield queue.shift()!;
          continue;
        }
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

describe('blockBatches', () => {
  it('groups the events of one block that are available together, cuts at a block change, keeps order, drops nothing', async () => {
    const s = stream([ev(5, 'a'), ev(5, 'b'), ev(5, 'c'), ev(6, 'd'), ev(7, 'e'), ev(7, 'f')]);
    s.end();
    const out: LedgerEvent[][] = [];
    for await (const b of blockBatches(s)) out.push(b);
    expect(ids(out)).toEqual([['5:a', '5:b', '5:c'], ['6:d'], ['7:e', '7:f']]);
  });

  it('cuts a batch when nothing more arrived in the same turn of the event loop (a later event starts the next batch)', async () => {
    const s = stream([ev(5, 'a'), ev(5, 'b')]);
    const it = blockBatches(s)[Symbol.asyncIterator]();
    expect(ids([(await it.next()).value as LedgerEvent[]])).toEqual([['5:a', '5:b']]);
    const next = it.next();
    s.push(ev(5, 'c'), ev(6, 'd'));
    expect(ids([(await next).value as LedgerEvent[]])).toEqual([['5:c']]);
    const after = it.next();
    s.end();
    expect(ids([(await after).value as LedgerEvent[]])).toEqual([['6:d']]);
    expect((await it.next()).done).toBe(true);
  });

  it('passes a stream failure on to the consumer after the events before it', async () => {
    async function* failing() {
      yield ev(5, 'a');
      yield ev(5, 'b');
      throw new Error('stream broke');
    }
    const out: LedgerEvent[][] = [];
    await expect(
      (async () => {
        for await (const b of blockBatches(failing())) out.push(b);
      })(),
    ).rejects.toThrow('stream broke');
    expect(ids(out)).toEqual([['5:a', '5:b']]);
  });
});
