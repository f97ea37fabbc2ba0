/**
 * Committee index maintenance (docs/governance.md §6): participants that leave `active` for a
 * lasting reason leave their zone's dense index (swap-with-last), come back on reinstatement or
 * after their ban ran out, and hot paths never touch the index.
 */
import { readFileSync, readdirSync, statSync } from 'fs';
import { join as joinPath, relative } from 'path';
import { GridLedgerContext } from '../../src/kernel/context';
import { Q_SCALE } from '../../src/governance/domain/fixedPoint';
import { addToIndex, removeFromIndex } from '../../src/governance/ledger/eligibilityIndex';
import { KEY } from '../../src/governance/ledger/keys';
import { mustReadParticipant } from '../../src/governance/ledger/participants';
import { readParameters } from '../../src/governance/ledger/parameters';
import type { Task } from '../../src/governance/ledger/tasks';
import { castVote } from '../../src/governance/services/tasks';
import { penalise, settleTradeReputation } from '../../src/governance/services/reputation';
import { FakeClientIdentity, identities } from '../support/fakeIdentity';
import { FakeStub } from '../support/fakeStub';
import { CallResult, expectCode, TestLedger } from '../support/ledger';
import { beaconSignatureHex, byId, join, Member, registerUtilities, regulator, runBeacon, seedMembers, whenLeads } from '../support/community';
import { nth, take } from '../support/lists';

const SEP = '\u0000';
const prefixOf = (type: string) => `${SEP}${type}${SEP}`;
const isIndexKey = (k: string) => k.startsWith(`${SEP}gl.elig.`);

function decodeValue<T>(v: Uint8Array): T {
  return JSON.parse(Buffer.from(v).toString('utf8')) as T;
}

/**
 * Reads the committed index and checks its invariants: for every zone counter, positions
 * 0..count-1 each hold a slot (and no slot lies beyond), every indexed participant appears once
 * across all zones, its position key points back at its slot, and there is no other position key.
 * Returns the participants per zone, in position order.
 */
function checkIndex(ledger: TestLedger): Map<string, string[]> {
  const counters = new Map<string, number>();
  const slots = new Map<string, string>(); // zone SEP position -> pid
  const positions = new Map<string, { zone: string; position: number }>();
  for (const [key, value] of ledger.world.state) {
    const parts = key.split(SEP);
    if (key.startsWith(prefixOf(KEY.eligibleZone))) {
      const c = decodeValue<{ zone: string; count: number }>(value);
      expect(parts[2]).toBe(c.zone);
      counters.set(c.zone, c.count);
    } else if (key.startsWith(prefixOf(KEY.eligibleSlot))) {
      slots.set(`${parts[2]}${SEP}${Number(parts[3])}`, decodeValue<{ participantId: string }>(value).participantId);
    } else if (key.startsWith(prefixOf(KEY.eligiblePosition))) {
      positions.set(nth(parts, 2), decodeValue<{ zone: string; position: number }>(value));
    }
  }
  const byZone = new Map<string, string[]>();
  const seen = new Set<string>();
  let total = 0;
  for (const [zone, count] of counters) {
    const pids: string[] = [];
    for (let i = 0; i < count; i++) {
      const pid = slots.get(`${zone}${SEP}${i}`);
      if (pid === undefined) throw new Error(`zone ${zone} position ${i} of ${count} is empty`);
      if (seen.has(pid)) throw new Error(`${pid} is indexed twice`);
      seen.add(pid);
      expect(positions.get(pid)).toEqual({ zone, position: i });
      pids.push(pid);
    }
    total += count;
    byZone.set(zone, pids);
  }
  expect(slots.size).toBe(total); // nothing beyond count-1, no slot in an unknown zone
  expect(positions.size).toBe(total); // no dangling position keys
  return byZone;
}

/** Runs a library function inside one transaction and commits it (as a contract would). */
async function inTx<T>(ledger: TestLedger, fn: (ctx: GridLedgerContext, now: number) => Promise<T>, txId = `lib-${ledger.now}`): Promise<{ out: T; stub: FakeStub }> {
  const stub = new FakeStub(ledger.world, { txId, timestamp: ledger.now, creatorMspId: 'RegulatorMSP' });
  const ctx = new GridLedgerContext();
  (ctx as { stub: unknown }).stub = stub;
  ctx.clientIdentity = new FakeClientIdentity(regulator);
  const out = await fn(ctx, ledger.now);
  stub.commitTo(ledger.world);
  return { out, stub };
}

const indexKeysTouched = (stub: FakeStub) => [...stub.readKeys, ...stub.writes.keys()].filter(isIndexKey);
const pidsOf = (ms: Member[]) => ms.map((m) => m.participantId);
const ids = (ms: Member[], ...is: number[]) => is.map((i) => nth(ms, i).participantId);
const status = async (ledger: TestLedger, pid: string) => (await ledger.evaluate<{ status: string }>(regulator, 'participants:get', [pid])).status;

async function community(count: number, zones: string[]): Promise<{ ledger: TestLedger; members: Member[] }> {
  const ledger = new TestLedger();
  await registerUtilities(ledger);
  const members = await seedMembers(ledger, count, zones);
  return { ledger, members };
}

/** Slot keys read by a draw = draw attempts (each attempt reads exactly one slot). */
const slotReads = (r: CallResult) => r.stub.readKeys.filter((k) => k.startsWith(prefixOf(KEY.eligibleSlot))).length;

/** The transaction that completes the beacon (and draws), run and committed. */
async function drawTx(ledger: TestLedger, taskId: string): Promise<CallResult<Task>> {
  await ledger.submit(identities.operator('Org1MSP'), 'committees:contributeEntropy', [taskId, '0', beaconSignatureHex('Org1MSP', taskId, 0)]);
  return ledger.submit<Task>(identities.operator('Org2MSP'), 'committees:contributeEntropy', [taskId, '0', beaconSignatureHex('Org2MSP', taskId, 0)]);
}

describe('swap-with-last removal and re-add keep the index dense and consistent', () => {
  it('removes a middle entry (the last one moves into its place), the last entry, the only entry, and re-adds at the end', async () => {
    const { ledger, members } = await community(6, ['z1', 'z2']); // z1: 0,2,4   z2: 1,3,5
    expect(checkIndex(ledger).get('z1')).toEqual(ids(members, 0, 2, 4));

    // middle of z1: the last (4) moves to position 0
    const first = await inTx(ledger, (ctx) => removeFromIndex(ctx, nth(members, 0).participantId));
    expect(first.out).toBe(true);
    expect(checkIndex(ledger).get('z1')).toEqual(ids(members, 4, 2));
    expect(checkIndex(ledger).get('z2')).toEqual(ids(members, 1, 3, 5)); // other zones untouched
    expect([...first.stub.writes.keys()].every((k) => !k.includes(`${SEP}z2${SEP}`))).toBe(true);

    // the last entry of z1: nothing moves
    const last = await inTx(ledger, (ctx) => removeFromIndex(ctx, nth(members, 2).participantId));
    expect(checkIndex(ledger).get('z1')).toEqual(ids(members, 4));
    expect(last.stub.writes.size).toBe(3); // slot deleted, position key deleted, counter

    // the only entry: the zone is empty (counter 0, no slots)
    await inTx(ledger, (ctx) => removeFromIndex(ctx, nth(members, 4).participantId));
    expect(checkIndex(ledger).get('z1')).toEqual([]);

    // removing an unindexed participant is a no-op that writes nothing
    const again = await inTx(ledger, (ctx) => removeFromIndex(ctx, nth(members, 4).participantId));
    expect(again.out).toBe(false);
    expect(again.stub.writes.size).toBe(0);

    // re-add appends at the end; adding twice keeps one entry
    await inTx(ledger, (ctx) => addToIndex(ctx, nth(members, 2).participantId, 'z1'));
    await inTx(ledger, (ctx) => addToIndex(ctx, nth(members, 0).participantId, 'z1'));
    const dup = await inTx(ledger, (ctx) => addToIndex(ctx, nth(members, 0).participantId, 'z1'));
    expect(dup.out).toBe(1);
    expect(dup.stub.writes.size).toBe(0);
    expect(checkIndex(ledger).get('z1')).toEqual(ids(members, 2, 0));
  });

  it('two removals in a row, in separate transactions and within ONE transaction (no read-your-writes in Fabric)', async () => {
    const a = await community(8, ['z1']);
    await inTx(a.ledger, (ctx) => removeFromIndex(ctx, nth(a.members, 1).participantId));
    await inTx(a.ledger, (ctx) => removeFromIndex(ctx, nth(a.members, 3).participantId), 'second');
    const separate = checkIndex(a.ledger).get('z1');
    expect(separate).toEqual(ids(a.members, 0, 7, 2, 6, 4, 5));

    const b = await community(8, ['z1']);
    await inTx(b.ledger, async (ctx) => {
      await removeFromIndex(ctx, nth(b.members, 1).participantId);
      await removeFromIndex(ctx, nth(b.members, 3).participantId);
      // and an add in the same zone, same transaction
      await removeFromIndex(ctx, nth(b.members, 0).participantId);
      await addToIndex(ctx, nth(b.members, 1).participantId, 'z1');
    });
    expect(checkIndex(b.ledger).get('z1')).toEqual(ids(b.members, 5, 7, 2, 6, 4, 1));
  });

  it('suspension, ban, reinstatement and syncCommitteeIndex move the entry; the record stays the source of truth', async () => {
    const { ledger, members } = await community(5, ['z1']);
    const op1 = identities.operator('Org1MSP');
    const [m0, , m2] = take(members, 3);

    await ledger.submit(op1, 'participants:suspend', [m0.participantId, 'meter tampering suspected']);
    expect(checkIndex(ledger).get('z1')).not.toContain(m0.participantId);
    await ledger.submit(op1, 'participants:reinstate', [m0.participantId]);
    expect(checkIndex(ledger).get('z1')?.at(-1)).toBe(m0.participantId);

    // ban: out; while it runs, sync keeps it out and writes nothing
    await ledger.submit(regulator, 'participants:ban', [m2.participantId, '3600', 'fraud']);
    expect(checkIndex(ledger).get('z1')).not.toContain(m2.participantId);
    const during = await ledger.submit<{ change: string; indexed: boolean }>(nth(members, 1).identity, 'participants:syncCommitteeIndex', [m2.participantId]);
    expect(during.result).toMatchObject({ change: 'none', indexed: false, status: 'BANNED' });
    expect(during.stub.writes.size).toBe(0);

    // the ban runs out lazily: active by the rules, but not back in the index until synced
    ledger.advance(3601);
    expect(await status(ledger, m2.participantId)).toBe('ACTIVE');
    expect(checkIndex(ledger).get('z1')).not.toContain(m2.participantId);
    await expectCode(ledger.submit(regulator, 'participants:reinstate', [m2.participantId]), 'CONFLICT', /ban ran out .* call participants:syncCommitteeIndex/);
    const back = await ledger.submit<{ change: string; position: number }>(identities.meter('Org3MSP', 'anyone', 'z9'), 'participants:syncCommitteeIndex', [m2.participantId]);
    expect(back.result).toMatchObject({ change: 'added', indexed: true, position: 4, status: 'ACTIVE' });
    expect(checkIndex(ledger).get('z1')?.[4]).toBe(m2.participantId);
    const idle = await ledger.submit<{ change: string }>(regulator, 'participants:syncCommitteeIndex', [m2.participantId]);
    expect(idle.result.change).toBe('none');
    expect(idle.stub.writes.size).toBe(0);

    // a participant whose ban ran out can also come back by re-pledging its stake
    await ledger.submit(regulator, 'participants:ban', [m0.participantId, '60', 'spam']);
    ledger.advance(61);
    expect(checkIndex(ledger).get('z1')).not.toContain(m0.participantId);
    await ledger.submit(m0.identity, 'participants:setStake', [String(2 * Q_SCALE)]);
    expect(checkIndex(ledger).get('z1')).toContain(m0.participantId);

    // banning a suspended participant keeps it out; the regulator's reinstatement brings it back once
    await ledger.submit(op1, 'participants:suspend', [m0.participantId, 'x']);
    await ledger.submit(regulator, 'participants:ban', [m0.participantId, '3600', 'y']);
    expect(checkIndex(ledger).get('z1')).toHaveLength(4);
    await ledger.submit(regulator, 'participants:reinstate', [m0.participantId]);
    expect(checkIndex(ledger).get('z1')).toHaveLength(5);
    await expectCode(ledger.submit(regulator, 'participants:syncCommitteeIndex', ['p-unknown']), 'NOT_FOUND', /participant p-unknown/);
  });

  it('a ban by penalty on the hot path leaves the entry; syncCommitteeIndex (or the admission decision) removes it', async () => {
    const { ledger, members } = await community(5, ['z1']);
    await ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ penaltyThreshold: 0 })]);
    const params = (await inTx(ledger, (ctx) => readParameters(ctx))).out;
    const pen = await inTx(ledger, async (ctx, now) => penalise(ctx, await mustReadParticipant(ctx, nth(members, 1).participantId), params, 'late delivery', 'tr-1', now));
    expect(pen.out).toBe(true);
    expect(indexKeysTouched(pen.stub)).toEqual([]);
    expect(await status(ledger, nth(members, 1).participantId)).toBe('BANNED');
    expect(checkIndex(ledger).get('z1')).toContain(nth(members, 1).participantId);
    const r = await ledger.submit<{ change: string }>(regulator, 'participants:syncCommitteeIndex', [nth(members, 1).participantId]);
    expect(r.result.change).toBe('removed');
    expect(checkIndex(ledger).get('z1')).toEqual(ids(members, 0, 4, 2, 3));
  });

  it('admissions:decide takes the verifiers it banned out of the index, in the same zone as the admitted joiner', async () => {
    const { ledger, members } = await community(6, ['z1']);
    await ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ penaltyThreshold: 0 })]);
    const j = await join(ledger, 'Org1MSP', 'new-1', 'z1');
    const task = await runBeacon(ledger, j.taskId);
    ledger.now = whenLeads(task, nth(task.committee, 0), ledger.now);
    const [l, a, b, c] = take(task.committee.map((p) => byId(members, p)), 4);
    const yes = JSON.stringify({ approve: true, conditions: { condition1: true, condition2: true } });
    await ledger.submit(l.identity, 'admissions:recordEntry', [j.participantId]);
    await ledger.submit(a.identity, 'admissions:vote', [j.participantId, yes]);
    await ledger.submit(b.identity, 'admissions:vote', [j.participantId, yes]);
    await ledger.submit(c.identity, 'admissions:vote', [j.participantId, JSON.stringify({ approve: false })]);
    await ledger.submit(regulator, 'admissions:decide', [j.participantId]);
    const z1 = checkIndex(ledger).get('z1') ?? [];
    expect(z1).toContain(j.participantId); // admitted: appended
    expect(z1).not.toContain(c.participantId); // banned contrary voter: removed in the same tx
    expect(z1).toHaveLength(6);
  });
});

describe('draws after removal', () => {
  it('a banned participant is never drawn and costs no draw attempts', async () => {
    // 8 members in one zone; 4 are banned by the regulator (positions 0..3, so entries get swapped)
    const { ledger, members } = await community(8, ['z1']);
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z1');
    const lazy = ledger.fork(); // same state, bans by penalty that nobody synced yet
    const banned = members.slice(0, 4);
    for (const m of banned) await ledger.submit(regulator, 'participants:ban', [m.participantId, '86400', 'fraud']);
    expect(checkIndex(ledger).get('z1')).toHaveLength(4);
    const draw = await drawTx(ledger, j.taskId);
    expect(draw.result.status).toBe('ACTIVE');
    expect([...draw.result.committee].sort()).toEqual(pidsOf(members.slice(4)).sort());
    for (const m of banned) expect(draw.stub.readKeys.some((k) => k.includes(m.participantId))).toBe(false);

    // Reference: a community of exactly 4 members (other identities) draws with the same seed
    // in the same number of attempts — the removed entries cost nothing.
    const ref = await community(4, ['z1']);
    const jr = await join(ref.ledger, 'Org2MSP', 'new-1', 'z1');
    const refDraw = await drawTx(ref.ledger, jr.taskId);
    expect(jr.taskId).toBe(j.taskId);
    expect(slotReads(draw)).toBe(slotReads(refDraw));
    // same seed, same zone size => the same positions are drawn, whoever sits there
    const at = (l: TestLedger, committee: string[]) => committee.map((p) => (checkIndex(l).get('z1') ?? []).indexOf(p));
    expect(at(ledger, draw.result.committee)).toEqual(at(ref.ledger, refDraw.result.committee));

    // Lazily skipped entries (banned by penalty, not synced) do cost attempts; syncing removes the cost.
    await lazy.submit(regulator, 'governance:setParameters', [JSON.stringify({ penaltyThreshold: 0 })]);
    const params = (await inTx(lazy, (ctx) => readParameters(ctx))).out;
    for (const m of banned) await inTx(lazy, async (ctx, now) => penalise(ctx, await mustReadParticipant(ctx, m.participantId), params, 'late', 'tr', now), `pen-${m.participantId}`);
    const synced = lazy.fork();
    const lazyDraw = await drawTx(lazy, j.taskId);
    expect(lazyDraw.result.committee.filter((p) => pidsOf(banned).includes(p))).toEqual([]);
    expect(slotReads(lazyDraw)).toBeGreaterThan(slotReads(draw));
    for (const m of banned) await synced.submit(regulator, 'participants:syncCommitteeIndex', [m.participantId]);
    const syncedDraw = await drawTx(synced, j.taskId);
    expect(syncedDraw.result.committee).toEqual(draw.result.committee); // same removals, same index, same committee
    expect(slotReads(syncedDraw)).toBe(slotReads(draw));
  });

  it('finds 3f+1 members among 100 when 96 are banned (lazy skipping alone runs out of attempts)', async () => {
    const { ledger, members } = await community(100, ['z1']);
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z1');
    const keep = members.slice(96);
    const lazy = ledger.fork();
    await lazy.submit(regulator, 'governance:setParameters', [JSON.stringify({ penaltyThreshold: 0 })]);
    const params = (await inTx(lazy, (ctx) => readParameters(ctx))).out;
    await inTx(lazy, async (ctx, now) => {
      for (const m of members.slice(0, 96)) await penalise(ctx, await mustReadParticipant(ctx, m.participantId), params, 'late', 'tr', now);
    });
    const lazyDraw = await drawTx(lazy, j.taskId);
    expect(lazyDraw.result.status).toBe('SEEDED');
    expect(lazyDraw.result.drawError).toMatch(/only \d of 4 eligible members found in \d+ attempts/);

    for (const m of members.slice(0, 96)) await ledger.submit(regulator, 'participants:ban', [m.participantId, '86400', 'fraud']);
    expect(checkIndex(ledger).get('z1')).toHaveLength(4);
    const draw = await drawTx(ledger, j.taskId);
    expect(draw.result.status).toBe('ACTIVE');
    expect([...draw.result.committee].sort()).toEqual(pidsOf(keep).sort());
  }, 60_000);

  it('admitFounding counts only indexed members: when bans shrink the index below 3f+1, the regulator can admit founders again', async () => {
    const { ledger, members } = await community(4, ['z1']);
    const j = await join(ledger, 'Org1MSP', 'f-1', 'z1');
    await expectCode(ledger.submit(regulator, 'participants:admitFounding', [j.participantId]), 'PRECONDITION_FAILED', /already has 4/);
    await ledger.submit(regulator, 'participants:ban', [nth(members, 0).participantId, '86400', 'fraud']);
    await ledger.submit(regulator, 'participants:admitFounding', [j.participantId]);
    expect(checkIndex(ledger).get('z1')).toHaveLength(4);
  });
});

describe('hot paths never touch the committee index', () => {
  it('leader entries, votes and trade settlement (even one that bans by penalty) read and write no gl.elig.* key', async () => {
    const { ledger, members } = await community(8, ['z1', 'z2']);
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    const task = await runBeacon(ledger, j.taskId);
    ledger.now = whenLeads(task, nth(task.committee, 0), ledger.now);
    const [l, a] = take(task.committee.map((p) => byId(members, p)), 2);
    const entry = await ledger.submit(l.identity, 'admissions:recordEntry', [j.participantId]);
    const vote = await ledger.submit(a.identity, 'admissions:vote', [j.participantId, JSON.stringify({ approve: true })]);
    expect(indexKeysTouched(entry.stub)).toEqual([]);
    expect(indexKeysTouched(vote.stub)).toEqual([]);
    // the library calls the market uses
    const libVote = await inTx(ledger, (ctx, now) => castVote(ctx, task.taskId, 'admission', nth(task.committee, 2), { approve: true }, now));
    expect(libVote.out).toMatchObject({ approve: true });
    expect(indexKeysTouched(libVote.stub)).toEqual([]);

    await ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ penaltyThreshold: 0 })]);
    const params = (await inTx(ledger, (ctx) => readParameters(ctx))).out;
    const [seller, buyer] = take(members.filter((m) => !task.committee.includes(m.participantId)), 2);
    const settle = await inTx(ledger, (ctx, now) =>
      settleTradeReputation(ctx, { tradeId: 'tr-1', seller: seller.participantId, buyer: buyer.participantId, honest: [], outcome: { kind: 'buyer-fault' }, penaliseFaulty: { reason: 'did not pay' } }, params, now),
    );
    expect(await status(ledger, buyer.participantId)).toBe('BANNED');
    expect(indexKeysTouched(settle.stub)).toEqual([]);
  });

  it('only the registry writes the index and only draws read it (import graph of src/)', () => {
    const root = joinPath(__dirname, '../../src');
    const files: string[] = [];
    const walk = (d: string) => readdirSync(d).forEach((f) => (statSync(joinPath(d, f)).isDirectory() ? walk(joinPath(d, f)) : f.endsWith('.ts') && files.push(joinPath(d, f))));
    walk(root);
    const importers = (mod: RegExp) => files.filter((f) => mod.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f)).sort();
    expect(importers(/from '[./]*\/?(ledger\/)?eligibilityIndex'/)).toEqual(['governance/services/registry.ts', 'governance/services/tasks.ts']);
    // registry functions (which may move index entries) are called only from the governance contracts
    expect(importers(/from '[./]*services\/registry'/)).toEqual(['governance/contracts/admissions.contract.ts', 'governance/contracts/participants.contract.ts']);
    // and tasks.ts only reads it
    expect(readFileSync(joinPath(root, 'governance/services/tasks.ts'), 'utf8')).toMatch(/import \{ lookupSlot, readZones \} from '..\/ledger\/eligibilityIndex'/);
  });
});

describe('upgrade from an index without position keys', () => {
  /** Rewrites the committed index as the previous chaincode version left it: no position keys, counters {zone, count}. */
  function makeLegacy(ledger: TestLedger): void {
    for (const [key, value] of [...ledger.world.state]) {
      if (key.startsWith(prefixOf(KEY.eligiblePosition))) ledger.world.state.delete(key);
      if (key.startsWith(prefixOf(KEY.eligibleZone))) {
        const c = decodeValue<{ zone: string; count: number }>(value);
        ledger.world.state.set(key, Buffer.from(JSON.stringify({ count: c.count, zone: c.zone })));
      }
    }
  }

  it('leaves a legacy zone as it was until the regulator backfilled it page by page, then maintains it', async () => {
    const { ledger, members } = await community(7, ['z1', 'z2']); // z1: 0,2,4,6  z2: 1,3,5
    makeLegacy(ledger);
    const op1 = identities.operator('Org1MSP');
    // status changes still work; the legacy zone is not touched (skipped lazily, as before)
    const susp = await ledger.submit(regulator, 'participants:suspend', [nth(members, 2).participantId, 'x']);
    expect([...susp.stub.writes.keys()].filter(isIndexKey)).toEqual([]);
    await ledger.submit(regulator, 'participants:ban', [nth(members, 3).participantId, '3600', 'fraud']);
    await expectCode(ledger.submit(regulator, 'participants:syncCommitteeIndex', [nth(members, 2).participantId]), 'PRECONDITION_FAILED', /zone z1 predates position keys; the regulator must first run participants:backfillCommitteeIndex/);
    await expectCode(ledger.submit(op1, 'participants:backfillCommitteeIndex', ['z1', '2']), 'FORBIDDEN');
    await expectCode(ledger.submit(regulator, 'participants:backfillCommitteeIndex', ['z9', '2']), 'NOT_FOUND', /zone z9/);

    const p1 = await ledger.submit<Record<string, unknown>>(regulator, 'participants:backfillCommitteeIndex', ['z1', '2']);
    expect(p1.result).toEqual({ zone: 'z1', count: 4, written: 2, backfilledTo: 2, complete: false, outOfStep: [nth(members, 2).participantId] });
    // an admission in the middle of the backfill appends with its own position key
    const late = await seedMembers(ledger, 1, ['z1'], 'late');
    const p2 = await ledger.submit<Record<string, unknown>>(regulator, 'participants:backfillCommitteeIndex', ['z1', '500']);
    expect(p2.result).toEqual({ zone: 'z1', count: 5, written: 2, backfilledTo: 5, complete: true, outOfStep: [] });
    const p3 = await ledger.submit<Record<string, unknown>>(regulator, 'participants:backfillCommitteeIndex', ['z1', '500']);
    expect(p3.result).toMatchObject({ complete: true, written: 0 });
    expect(p3.stub.writes.size).toBe(0);
    const z2 = await ledger.submit<Record<string, unknown>>(regulator, 'participants:backfillCommitteeIndex', ['z2', '10']);
    expect(z2.result).toMatchObject({ complete: true, written: 3, outOfStep: [nth(members, 3).participantId] });

    expect(checkIndex(ledger).get('z1')).toEqual([...ids(members, 0, 2, 4, 6), nth(late, 0).participantId]);
    for (const m of [nth(members, 2), nth(members, 3)]) {
      const r = await ledger.submit<{ change: string }>(regulator, 'participants:syncCommitteeIndex', [m.participantId]);
      expect(r.result.change).toBe('removed');
    }
    await ledger.submit(regulator, 'participants:ban', [nth(members, 0).participantId, '3600', 'fraud']);
    const idx = checkIndex(ledger);
    // [0,2,4,6,late] - 2 (late moves to 1) - 0 (6 moves to 0)
    expect(idx.get('z1')).toEqual([nth(members, 6).participantId, nth(late, 0).participantId, nth(members, 4).participantId]);
    expect(idx.get('z2')).toEqual(ids(members, 1, 5));
  });
});

describe('determinism of index maintenance', () => {
  it('a ban that swaps entries, and a re-add, write identical bytes on copies of the same state', async () => {
    const { ledger, members } = await community(9, ['z1', 'z2', 'z3']);
    const fingerprint = (r: CallResult) =>
      JSON.stringify({ writes: [...r.stub.writes.entries()].map(([k, v]) => [k, v === null ? null : Buffer.from(v).toString('base64')]), response: r.raw });
    const banArgs = [nth(members, 0).participantId, '600', 'fraud'];
    const a = await ledger.fork().run(regulator, 'participants:ban', banArgs, { txId: 'tx-ban', peerClock: ledger.now - 30 });
    const b = await ledger.fork().run(regulator, 'participants:ban', banArgs, { txId: 'tx-ban', peerClock: ledger.now + 50 });
    expect([...a.stub.writes.keys()].filter(isIndexKey)).toHaveLength(5); // counter, moved slot, moved position, last slot, own position
    expect(fingerprint(a)).toBe(fingerprint(b));

    await ledger.submit(regulator, 'participants:ban', banArgs);
    ledger.advance(601);
    const s1 = await ledger.fork().run(nth(members, 1).identity, 'participants:syncCommitteeIndex', [nth(members, 0).participantId], { txId: 'tx-sync' });
    const s2 = await ledger.fork().run(regulator, 'participants:syncCommitteeIndex', [nth(members, 0).participantId], { txId: 'tx-sync', peerClock: ledger.now + 59 });
    expect([...s1.stub.writes.keys()].filter(isIndexKey)).toHaveLength(3); // slot, position, counter
    expect(fingerprint(s1)).toBe(fingerprint(s2));
  });
});
