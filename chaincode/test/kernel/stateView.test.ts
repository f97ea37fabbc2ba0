/**
 * The transaction's one state view (kernel/state.ts) over the Fabric-faithful FakeStub, and the
 * bug class it removes: two modules of ONE transaction updating the same record, the second from a
 * stale copy, so the final write silently drops the first change.
 */
import { DEFAULT_PARAMETERS } from '../../src/governance/domain/parameters';
import { GridLedgerContext } from '../../src/kernel/context';
import { mustReadParticipant, pendingScoreCredits } from '../../src/governance/ledger/participants';
import { readParameters } from '../../src/governance/ledger/parameters';
import { penalise, settleTradeReputation, withCreditedScore } from '../../src/governance/services/reputation';
import { seedMembers } from '../support/community';
import { FakeStub, WorldState } from '../support/fakeStub';
import { TestLedger } from '../support/ledger';
import { take } from '../support/lists';

function contextOn(world: WorldState, txId = 'tx-view'): { ctx: GridLedgerContext; stub: FakeStub } {
  const stub = new FakeStub(world, { txId, timestamp: Date.UTC(2026, 0, 1) / 1000, creatorMspId: 'Org1MSP' });
  const ctx = new GridLedgerContext();
  (ctx as { stub: unknown }).stub = stub;
  ctx.begin();
  return { ctx, stub };
}

describe('StateView: read-your-writes over a stub that has none', () => {
  it('answers reads from this transaction\'s writes while the stub still returns the committed value', async () => {
    const world = new WorldState();
    const seed = contextOn(world, 'seed');
    await seed.ctx.state.put(seed.ctx.state.key('t.obj', ['a']), { n: 1 });
    seed.stub.commitTo(world);

    const { ctx, stub } = contextOn(world);
    const key = ctx.state.key('t.obj', ['a']);
    await ctx.state.put(key, { n: 2 });
    expect(await ctx.state.get(key)).toEqual({ n: 2 });
    // The stub keeps Fabric's semantics: no read-your-writes.
    expect(JSON.parse(Buffer.from(await stub.getState(key)).toString())).toEqual({ n: 1 });
    // Values handed out are copies: mutating one does not change what the view holds.
    const copy = await ctx.state.get<{ n: number }>(key);
    copy!.n = 99;
    expect(await ctx.state.get(key)).toEqual({ n: 2 });
    await ctx.state.del(key);
    expect(await ctx.state.get(key)).toBeUndefined();
  });

  it('overlays partial-key lists with this transaction\'s writes and deletions, in key order', async () => {
    const world = new WorldState();
    const seed = contextOn(world, 'seed');
    for (const id of ['a', 'c']) await seed.ctx.state.put(seed.ctx.state.key('t.obj', ['g', id]), { id });
    seed.stub.commitTo(world);

    const { ctx } = contextOn(world);
    await ctx.state.put(ctx.state.key('t.obj', ['g', 'b']), { id: 'b' });
    await ctx.state.put(ctx.state.key('t.obj', ['g', 'c']), { id: 'c2' });
    await ctx.state.del(ctx.state.key('t.obj', ['g', 'a']));
    await ctx.state.put(ctx.state.key('t.obj', ['h', 'x']), { id: 'other group' });
    const rows = await ctx.state.list<{ id: string }>('t.obj', ['g']);
    expect(rows.map((r) => [r.attributes, r.value.id])).toEqual([[['g', 'b'], 'b'], [['g', 'c'], 'c2']]);
  });

  it('lists only the first `limit` entries of the overlaid view, reading the committed range no further than needed', async () => {
    const world = new WorldState();
    const seed = contextOn(world, 'seed');
    for (const id of ['a', 'c', 'e', 'g']) await seed.ctx.state.put(seed.ctx.state.key('t.obj', ['g', id]), { id });
    seed.stub.commitTo(world);

    const { ctx, stub } = contextOn(world);
    await ctx.state.del(ctx.state.key('t.obj', ['g', 'a'])); // deleted here: not counted
    await ctx.state.put(ctx.state.key('t.obj', ['g', 'b']), { id: 'b' }); // written here, before the stop
    await ctx.state.put(ctx.state.key('t.obj', ['g', 'f']), { id: 'f' }); // written here, beyond the stop
    const ids = async (limit?: number) => (await ctx.state.list<{ id: string }>('t.obj', ['g'], limit)).map((r) => r.value.id);
    const before = stub.readKeys.length;
    expect(await ids(2)).toEqual(['b', 'c']);
    // a, c, e handed out by the committed range: 'a' is deleted by this transaction, so reading stopped at e
    expect(stub.readKeys.slice(before).map((k) => k.split('\u0000')[3])).toEqual(['a', 'c', 'e']);
    expect(await ids(3)).toEqual(['b', 'c', 'e']);
    expect(await ids(4)).toEqual(['b', 'c', 'e', 'f']);
    expect(await ids(10)).toEqual(await ids());
    expect(await ids()).toEqual(['b', 'c', 'e', 'f', 'g']);
  });

  it('fetches a committed key from the peer once per transaction', async () => {
    const { ctx, stub } = contextOn(new WorldState());
    const key = ctx.state.key('t.obj', ['z']);
    await ctx.state.get(key);
    await ctx.state.get(key);
    expect(stub.readKeys.filter((k) => k === key)).toHaveLength(1);
  });
});

describe('one state view for governance and market alike (the stale-copy bug class)', () => {
  it('governance penalises a member, the market then re-reads and rewards it in the same transaction: the final record keeps both changes', async () => {
    const ledger = new TestLedger();
    const [seller, buyer, member] = take(await seedMembers(ledger, 3, ['z1']), 3);
    const { ctx, stub } = contextOn(ledger.world, 'tx-settle');
    const params = await readParameters(ctx);
    const now = ledger.now;

    // governance (trade validation): the member voted against the decided outcome
    await penalise(ctx, await mustReadParticipant(ctx, member.participantId), params, 'vote contradicts the decided outcome', 't-1/execution', now);
    // market (trade settlement): the same member is rewarded as an honest validator of the trade;
    // it re-reads the record — before the shared state view it read the committed, unpenalised copy
    await settleTradeReputation(ctx, { tradeId: 'tr-1', seller: seller.participantId, buyer: buyer.participantId, honest: [member.participantId], outcome: { kind: 'success' } }, params, now);
    stub.commitTo(ledger.world);

    const after = contextOn(ledger.world, 'tx-read').ctx;
    const p = await mustReadParticipant(after, member.participantId);
    expect(p.penaltyCount).toBe(1); // the governance change survived the market's write
    expect(p.qHistoryCount).toBe(1); // the penalty's history entry; the reward is a pending credit (ledger/participants.ts)
    expect(await pendingScoreCredits(after, member.participantId)).toHaveLength(1);
    // and the reward applies on top of the penalty: initial − Δ + Δ·x (x = 1 for a success)
    expect((await withCreditedScore(after, p, params)).qScore).toBe(DEFAULT_PARAMETERS.qScoreInitial - DEFAULT_PARAMETERS.qStep + DEFAULT_PARAMETERS.qStep);
  });
});
