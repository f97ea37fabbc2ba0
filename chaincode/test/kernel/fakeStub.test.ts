import { FakeStub, WorldState } from '../support/fakeStub';

const enc = (s: string) => Buffer.from(s);
const txt = (b: Uint8Array) => Buffer.from(b).toString();

function stubOn(world: WorldState, txId = 'tx1'): FakeStub {
  return new FakeStub(world, { txId, timestamp: 1, creatorMspId: 'Org1MSP' });
}

async function keysOf(p: AsyncIterable<{ key: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const kv of p) out.push(kv.key);
  return out;
}

describe('in-memory ChaincodeStub fixture', () => {
  it('has no read-your-writes: a write is visible only after commit', async () => {
    const world = new WorldState();
    const s = stubOn(world);
    await s.putState('k', enc('v1'));
    expect((await s.getState('k')).length).toBe(0);
    s.commitTo(world);
    expect(txt(await stubOn(world).getState('k'))).toBe('v1');
  });

  it('treats putState with an empty value as a delete, and keeps history newest first', async () => {
    const world = new WorldState();
    const s1 = stubOn(world, 'a');
    await s1.putState('k', enc('v1'));
    s1.commitTo(world);
    const s2 = stubOn(world, 'b');
    await s2.putState('k', new Uint8Array(0));
    s2.commitTo(world);
    expect(world.state.has('k')).toBe(false);
    const hist: Array<{ txId: string; isDelete: boolean }> = [];
    for await (const m of stubOn(world).getHistoryForKey('k')) hist.push({ txId: m.txId, isDelete: m.isDelete });
    expect(hist).toEqual([{ txId: 'b', isDelete: true }, { txId: 'a', isDelete: false }]);
  });

  it('builds composite keys like fabric-shim and queries partial keys in UTF-8 byte order', async () => {
    const world = new WorldState();
    const s = stubOn(world);
    expect(s.createCompositeKey('t', ['a', 'b'])).toBe('\u0000t\u0000a\u0000b\u0000');
    expect(s.splitCompositeKey('\u0000t\u0000a\u0000b\u0000')).toEqual({ objectType: 't', attributes: ['a', 'b'] });
    // U+FFFD sorts before U+1F600 in UTF-8 but after it in UTF-16: byte order must win.
    for (const a of ['z', '\u{1F600}', '\uFFFD', 'a']) await s.putState(s.createCompositeKey('t', [a]), enc(a));
    await s.putState('plain', enc('p'));
    s.commitTo(world);
    const r = stubOn(world);
    const keys = await keysOf(r.getStateByPartialCompositeKey('t', []));
    expect(keys.map((k) => r.splitCompositeKey(k).attributes[0])).toEqual(['a', 'z', '\uFFFD', '\u{1F600}']);
    // An empty range start never returns composite keys (the shim maps it to "\x01").
    expect(await keysOf(r.getStateByRange('', ''))).toEqual(['plain']);
  });

  it('paginates with a bookmark equal to the next key', async () => {
    const world = new WorldState();
    const s = stubOn(world);
    for (const a of ['1', '2', '3', '4', '5']) await s.putState(s.createCompositeKey('p', [a]), enc(a));
    s.commitTo(world);
    const r = stubOn(world);
    const page1 = await r.getStateByPartialCompositeKeyWithPagination('p', [], 2);
    expect(page1.metadata.fetchedRecordsCount).toBe(2);
    const page3 = await r.getStateByPartialCompositeKeyWithPagination('p', [], 2, r.createCompositeKey('p', ['5']));
    expect(page3.metadata.bookmark).toBe('');
    const first = await page1.iterator.next();
    expect(txt(first.value.value)).toBe('1');
    expect(page1.metadata.bookmark).toBe(r.createCompositeKey('p', ['3']));
  });

  it('keeps private data off the public state and exposes its SHA-256 hash', async () => {
    const world = new WorldState();
    const s = stubOn(world);
    await s.putPrivateData('Org1MSPPrivateCollection', 'c', enc('secret'));
    s.commitTo(world);
    const r = stubOn(world);
    expect(world.state.size).toBe(0);
    expect(txt(await r.getPrivateData('Org1MSPPrivateCollection', 'c'))).toBe('secret');
    expect(Buffer.from(await r.getPrivateDataHash('Org1MSPPrivateCollection', 'c')).toString('hex')).toBe(
      '2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b',
    );
  });

  it('keeps only the last event of a transaction and counts reads', async () => {
    const world = new WorldState();
    const s = stubOn(world);
    s.setEvent('a', enc('1'));
    s.setEvent('b', enc('2'));
    expect(s.event?.name).toBe('b');
    await s.getState('x');
    await s.getState('y');
    expect(s.readKeys).toEqual(['x', 'y']);
  });
});
