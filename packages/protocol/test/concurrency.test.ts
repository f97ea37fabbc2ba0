import { mapLimit } from '../src';

/** A call that finishes when the test says so, to observe how many are in flight. */
function gate() {
  const open: Array<() => void> = [];
  return { wait: () => new Promise<void>((r) => open.push(r)), release: () => open.shift()?.(), get waiting() { return open.length; } };
}

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight, takes the items in order and finishes them all', async () => {
    const g = gate();
    const started: number[] = [];
    const run = mapLimit([10, 11, 12, 13, 14], 2, async (item, i) => {
      started.push(item);
      expect(i).toBe(item - 10);
      await g.wait();
    });
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([10, 11]); // two in flight, the third waits for a free lane
    g.release();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([10, 11, 12]);
    while (g.waiting || started.length < 5) {
      g.release();
      await new Promise((r) => setImmediate(r));
    }
    await run;
    expect(started).toEqual([10, 11, 12, 13, 14]);
  });

  it('a failing item does not stop the others; the run rejects with the first failure at the end', async () => {
    const done: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4], 2, async (n) => {
        if (n === 2 || n === 3) throw new Error(`item ${n}`);
        done.push(n);
      }),
    ).rejects.toThrow('item 2');
    expect(done).toEqual([1, 4]);
  });

  it('stop() ends the run before the next item; an empty list resolves', async () => {
    const seen: number[] = [];
    await mapLimit([1, 2, 3], 1, async (n) => void seen.push(n), () => seen.length >= 2);
    expect(seen).toEqual([1, 2]);
    await expect(mapLimit([], 4, async () => undefined)).resolves.toBeUndefined();
  });
});
