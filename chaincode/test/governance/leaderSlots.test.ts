/**
 * committees:nextLeaderSlots — which upcoming slots a committee member leads (issue 16: leaders
 * polled leaderOf and retried their entries up to 112 times). Computed from the task alone.
 */
import { slotsLedBy } from '../../src/governance/domain/leader';
import type { Task } from '../../src/governance/ledger/tasks';
import { leaderAt } from '../../src/governance/services/tasks';
import { expectCode, TestLedger } from '../support/ledger';
import { byId, join, registerUtilities, regulator, runBeacon, seedMembers } from '../support/community';
import { nth } from '../support/lists';

interface Slots {
  taskId: string;
  round: number;
  memberId: string;
  slots: Array<{ slot: string; startAt: number; endAt: number }>;
  at: number;
}

async function drawnTask(): Promise<{ ledger: TestLedger; task: Task; members: Awaited<ReturnType<typeof seedMembers>> }> {
  const ledger = new TestLedger();
  await registerUtilities(ledger);
  const members = await seedMembers(ledger, 12, ['z1', 'z2', 'z3']);
  const joiner = await join(ledger, 'Org2MSP', 'new-1', 'z2');
  ledger.advance(10);
  const task = await runBeacon(ledger, joiner.taskId);
  expect(task.status).toBe('ACTIVE');
  return { ledger, task, members };
}

describe('committees:nextLeaderSlots', () => {
  it('lists, for every member, exactly the slots Eq. (1) gives it, every n-th slot from the current one', async () => {
    const { ledger, task } = await drawnTask();
        const firsts: bigint[] = [];
    for (const member of task.committee) {
      const r = await ledger.evaluate<Slots>(regulator, 'committees:nextLeaderSlots', [task.taskId, member, '3']);
      expect(r).toMatchObject({ taskId: task.taskId, round: task.round, memberId: member, at: ledger.now });
      expect(r.slots).toHaveLength(3);
      for (const s of r.slots) {
        expect(s.endAt - s.startAt).toBe(task.slotSeconds);
        expect(leaderAt(task, s.startAt)).toEqual({ leader: member, slot: s.slot });
        expect(leaderAt(task, s.endAt - 1).leader).toBe(member);
      }
      expect(BigInt(nth(r.slots, 1).slot) - BigInt(nth(r.slots, 0).slot)).toBe(BigInt(task.n));
      expect(BigInt(nth(r.slots, 2).slot) - BigInt(nth(r.slots, 1).slot)).toBe(BigInt(task.n));
      expect(nth(r.slots, 0).endAt).toBeGreaterThan(ledger.now); // never a slot that is over
      firsts.push(BigInt(nth(r.slots, 0).slot));
    }
    // The members' first slots are the n slots from the current one, each led by exactly one member.
    const current = BigInt(leaderAt(task, ledger.now).slot);
    expect(firsts.sort((a, b) => (a < b ? -1 : 1))).toEqual(Array.from({ length: task.n }, (_, i) => current + BigInt(i)));
  });

  it('gives a slot in which the member\'s leader entry is accepted (Condition 1)', async () => {
    const { ledger, task, members } = await drawnTask();
    const member = nth(task.committee, task.n - 1);
    const r = await ledger.evaluate<Slots>(regulator, 'committees:nextLeaderSlots', [task.taskId, member, '']);
    expect(r.slots).toHaveLength(1); // "" = the next one
    ledger.now = nth(r.slots, 0).startAt;
    const entry = await ledger.submit<{ entry: { leader: string; slot: string } }>(byId(members, member).identity, 'admissions:recordEntry', [nth(task.subjectId.split('#'), 0)]);
    expect(entry.result.entry).toMatchObject({ leader: member, slot: nth(r.slots, 0).slot });
  });

  it('is cheap: reads the task (and the parameters for the clock guard), nothing else', async () => {
    const { ledger, task } = await drawnTask();
    const run = await ledger.run(regulator, 'committees:nextLeaderSlots', [task.taskId, nth(task.committee, 0), '100']);
    expect(new Set(run.stub.readKeys).size).toBeLessThanOrEqual(2);
    expect((run.result as Slots).slots).toHaveLength(100);
  });

  it('refuses a non-member, a bad count and a task without committee, saying which', async () => {
    const { ledger, task } = await drawnTask();
    await expectCode(ledger.evaluate(regulator, 'committees:nextLeaderSlots', [task.taskId, 'p-nobody', '1']), 'NOT_FOUND:NOT_A_MEMBER', /p-nobody is not on the committee/);
    await expectCode(ledger.evaluate(regulator, 'committees:nextLeaderSlots', [task.taskId, nth(task.committee, 0), '101']), 'INVALID_ARGUMENT:OUT_OF_RANGE');
    await expectCode(ledger.evaluate(regulator, 'committees:nextLeaderSlots', ['t-missing', nth(task.committee, 0), '1']), 'NOT_FOUND:TASK_NOT_FOUND');
    const pending = await join(ledger, 'Org3MSP', 'new-2', 'z3');
    await expectCode(ledger.evaluate(regulator, 'committees:nextLeaderSlots', [pending.taskId, nth(task.committee, 0), '1']), 'PRECONDITION_FAILED:NO_COMMITTEE');
  });

  it('matches Eq. (1) before genesis and for negative offsets alike (pure function)', () => {
    // genesis 10 s slots, η = 4, offset 3: member i leads slot s iff (s + 3) mod 4 = i.
    const slots = slotsLedBy(2, -25, 0, 10, 4, 3, 3);
    expect(slots.map((s) => s.slot)).toEqual(['-1', '3', '7']);
    expect(slots[0]).toEqual({ slot: '-1', startAt: -10, endAt: 0 });
  });
});
