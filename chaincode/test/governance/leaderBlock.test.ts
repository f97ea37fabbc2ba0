/**
 * One entry per leader per slot — seed 002's block — that may carry several tasks' ballots
 * (`committees:recordEntries`, docs/governance.md §7): Condition 1 per task, Condition 2 once per block,
 * each ballot with the leader's own verdict, all or nothing.
 */
import { leaderAt, recordLeaderBlock } from '../../src/governance/services/tasks';
import type { Task } from '../../src/governance/ledger/tasks';
import { GridLedgerContext } from '../../src/kernel/context';
import { FakeStub } from '../support/fakeStub';
import { expectCode, TestLedger } from '../support/ledger';
import { byId, join, Member, registerUtilities, regulator, runBeacon, seedMembers, whenLeads } from '../support/community';
import { nth } from '../support/lists';

interface Found {
  ledger: TestLedger;
  members: Member[];
  tasks: Task[];
  a: Task;
  b: Task;
  t: number;
  leader: Member;
}

/** Four members (so every committee is the same four) and four join tasks; two tasks and a slot both led by one member. */
async function twoTasksOneLeader(): Promise<Found> {
  const ledger = new TestLedger();
  await registerUtilities(ledger);
  const members = await seedMembers(ledger, 4, ['z1', 'z2']);
  const tasks: Task[] = [];
  for (let i = 0; i < 4; i++) {
    const j = await join(ledger, 'Org1MSP', `new-${i}`, 'z1');
    tasks.push(await runBeacon(ledger, j.taskId));
  }
  const from = ledger.now;
  for (let i = 0; i < tasks.length; i++) {
    for (let j = i + 1; j < tasks.length; j++) {
      for (let s = 0; s < 4; s++) {
        const a = nth(tasks, i);
        const b = nth(tasks, j);
        const t = whenLeads(a, nth(a.committee, 0), from) + s * a.slotSeconds;
        const la = leaderAt(a, t).leader;
        if (la === leaderAt(b, t).leader) {
          ledger.now = t;
          return { ledger, members, tasks, a, b, t, leader: byId(members, la) };
        }
      }
    }
  }
  throw new Error('no two tasks share a slot leader (the search covers every phase of 6 pairs)');
}

const entries = (...taskIds: string[]) => JSON.stringify({ taskIds });
const ballotOf = (ledger: TestLedger, taskId: string) =>
  ledger.evaluate<{ ballot: null | { entry?: { txId: string; leader: string; slot: string; block?: Array<{ taskId: string; ballot: string }> } }; votes: Array<{ voter: string; approve: boolean; conditions: Record<string, boolean> }> }>(
    regulator,
    'committees:getBallot',
    [taskId, 'admission'],
  );

describe('one leader entry (block) per slot carrying several tasks (committees:recordEntries)', () => {
  it('enters every listed task the caller leads in one transaction; each ballot has the entry and the leader\'s vote', async () => {
    const { ledger, a, b, leader } = await twoTasksOneLeader();
    const r = await ledger.submit<{ leader: string; slot: string; txId: string; ballots: Array<{ taskId: string; entry: { txId: string; block: unknown } }> }>(
      leader.identity,
      'committees:recordEntries',
      [entries(a.taskId, b.taskId)],
    );
    expect(r.result.leader).toBe(leader.participantId);
    expect(r.result.ballots.map((x) => x.taskId)).toEqual([a.taskId, b.taskId]);
    expect(r.events.map((e) => [e.name, e.payload.taskId, e.payload.block])).toEqual([
      ['LeaderEntryRecorded', a.taskId, 2],
      ['LeaderEntryRecorded', b.taskId, 2],
    ]);
    const block = [{ taskId: a.taskId, ballot: 'admission' }, { taskId: b.taskId, ballot: 'admission' }];
    for (const task of [a, b]) {
      const view = await ballotOf(ledger, task.taskId);
      expect(view.ballot?.entry).toMatchObject({ leader: leader.participantId, slot: r.result.slot, txId: r.result.txId, block });
      expect(view.votes).toEqual([expect.objectContaining({ voter: leader.participantId, approve: true })]);
    }
    // Condition 2 as before: no second block in this slot — not even for a ballot not entered yet
    await expectCode(ledger.submit(leader.identity, 'committees:recordEntries', [entries(a.taskId)]), 'CONFLICT:ENTRY_EXISTS');
  });

  it('Condition 2 is unchanged: a second entry transaction by the same leader in the same slot is refused, whatever its form', async () => {
    const { ledger, a, b, t, leader } = await twoTasksOneLeader();
    const single = ledger.fork();
    await ledger.submit(leader.identity, 'committees:recordEntries', [entries(a.taskId)]);
    await expectCode(ledger.submit(leader.identity, 'committees:recordEntries', [entries(b.taskId)]), 'CONFLICT:LEADER_SLOT_USED', /Condition 2: leader .* already made an entry in slot/);
    await expectCode(ledger.submit(leader.identity, 'admissions:recordEntry', [nth(b.subjectId.split('#'), 0)]), 'CONFLICT:LEADER_SLOT_USED');
    // the single-task form is a block of one, and counts as the slot's block too
    await single.submit(leader.identity, 'admissions:recordEntry', [nth(a.subjectId.split('#'), 0)]);
    await expectCode(single.submit(leader.identity, 'committees:recordEntries', [entries(b.taskId)]), 'CONFLICT:LEADER_SLOT_USED');
    const view = await ballotOf(single, a.taskId);
    expect(view.ballot?.entry?.block).toEqual([{ taskId: a.taskId, ballot: 'admission' }]);
    // in its next own slot of task b the leader enters it
    ledger.now = whenLeads(b, leader.participantId, t + b.slotSeconds);
    await ledger.submit(leader.identity, 'committees:recordEntries', [entries(b.taskId)]);
  });

  it('Condition 1 per task: a block naming a task the caller does not lead in this slot is refused whole, nothing written', async () => {
    const { ledger, tasks, a, t, leader } = await twoTasksOneLeader();
    const notLed = tasks.find((x) => leaderAt(x, t).leader !== leader.participantId);
    expect(notLed).toBeDefined();
    await expectCode(
      ledger.submit(leader.identity, 'committees:recordEntries', [entries(a.taskId, (notLed as Task).taskId)]),
      'FORBIDDEN:NOT_SLOT_LEADER',
      new RegExp(`Condition 1: slot \\d+ of task ${(notLed as Task).taskId} is led by`),
    );
    expect((await ballotOf(ledger, a.taskId)).ballot).toBeNull();
    // the slot is still free: the block without that task goes through
    await ledger.submit(leader.identity, 'committees:recordEntries', [entries(a.taskId)]);
  });

  it('refuses a malformed list with a typed error: empty, duplicated, more than 16, an unknown task, a non-member', async () => {
    const { ledger, members, a, leader } = await twoTasksOneLeader();
    await expectCode(ledger.submit(leader.identity, 'committees:recordEntries', [entries()]), 'INVALID_ARGUMENT:BAD_ENTRIES');
    await expectCode(ledger.submit(leader.identity, 'committees:recordEntries', [entries(a.taskId, a.taskId)]), 'INVALID_ARGUMENT:BAD_ENTRIES');
    const many = Array.from({ length: 17 }, (_, i) => `t-${i}`);
    await expectCode(ledger.submit(leader.identity, 'committees:recordEntries', [entries(...many)]), 'INVALID_ARGUMENT:BAD_ENTRIES');
    await expectCode(ledger.submit(leader.identity, 'committees:recordEntries', ['{"tasks":[]}']), 'INVALID_ARGUMENT');
    await expectCode(ledger.submit(leader.identity, 'committees:recordEntries', [entries('t-unknown')]), 'NOT_FOUND:TASK_NOT_FOUND');
    await expectCode(ledger.submit(regulator, 'committees:recordEntries', [entries(a.taskId)]), 'FORBIDDEN');
    expect(members).toHaveLength(4);
  });

  it('each ballot of a block records the leader\'s verdict on THAT task (an approval beside a refusal)', async () => {
    const { ledger, a, b, leader } = await twoTasksOneLeader();
    const context = (txId: string) => {
      const stub = new FakeStub(ledger.world, { txId, timestamp: ledger.now, creatorMspId: 'Org1MSP' });
      const ctx = new GridLedgerContext();
      (ctx as { stub: unknown }).stub = stub;
      return { stub, ctx };
    };
    // an approval that reports a failed condition is refused for its ballot, and with it the block
    const bad = context('tx-bad');
    await expectCode(
      recordLeaderBlock(bad.ctx, leader.participantId, [{ taskId: a.taskId, ballot: 'admission', payload: {}, verdict: { approve: true, conditions: { condition1: false }, reason: '' } }], ledger.now),
      'INVALID_ARGUMENT:APPROVAL_WITH_FAILED_CONDITION',
    );
    const good = context('tx-block');
    const refusal = { approve: false, conditions: { condition1: false, condition2: true }, reason: 'request does not match' };
    const block = await recordLeaderBlock(
      good.ctx,
      leader.participantId,
      [
        { taskId: a.taskId, ballot: 'admission', payload: { n: 1 } },
        { taskId: b.taskId, ballot: 'admission', payload: { n: 2 }, verdict: refusal },
      ],
      ledger.now,
    );
    good.stub.commitTo(ledger.world);
    expect(block.ballots.map((x) => x.entry?.txId)).toEqual(['tx-block', 'tx-block']);
    expect((await ballotOf(ledger, a.taskId)).votes).toEqual([expect.objectContaining({ voter: leader.participantId, approve: true, conditions: { condition1: true, condition2: true } })]);
    expect((await ballotOf(ledger, b.taskId)).votes).toEqual([expect.objectContaining({ voter: leader.participantId, approve: false, conditions: refusal.conditions, reason: refusal.reason })]);
  });
});
