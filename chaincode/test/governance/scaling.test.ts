import type { Task } from '../../src/governance/ledger/tasks';
import { maxDrawAttempts } from '../../src/governance/domain/sampling';
import { identities } from '../support/fakeIdentity';
import { TestLedger } from '../support/ledger';
import { beaconSignatureHex, join, Member, registerUtilities, regulator, seedMembers } from '../support/community';
import { nth } from '../support/lists';

/** Reads made by the transaction that completes the beacon and draws the committee. */
async function drawReads(communitySize: number, mspOf?: (i: number) => string): Promise<{ reads: string[]; task: Task; ledger: TestLedger; members: Member[] }> {
  const ledger = new TestLedger();
  await registerUtilities(ledger);
  const members = await seedMembers(ledger, communitySize, ['z1', 'z2', 'z3', 'z4', 'z5'], 'seed', mspOf);
  const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
  await ledger.submit(identities.operator('Org1MSP'), 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org1MSP', j.taskId, 0)]);
  const r = await ledger.run<Task>(identities.operator('Org3MSP'), 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org3MSP', j.taskId, 0)]);
  expect(r.result.status).toBe('ACTIVE');
  r.stub.commitTo(ledger.world);
  return { reads: r.stub.readKeys, task: r.result, ledger, members };
}

/** Keys read and written by a regulator's ban of the first seeded member (an index removal with a swap). */
async function banCost(ledger: TestLedger, members: Member[]): Promise<{ reads: number; writes: number; indexWrites: number }> {
  const r = await ledger.run(regulator, 'participants:ban', [nth(members, 0).participantId, '3600', 'fraud']);
  return { reads: r.stub.readKeys.length, writes: r.stub.writes.size, indexWrites: [...r.stub.writes.keys()].filter((k) => k.startsWith('\u0000gl.elig.')).length };
}

describe('committee selection cost does not grow with the community', () => {
  it('touches a bounded number of keys for 10 and for 10,000 participants', async () => {
    const small = await drawReads(10);
    const large = await drawReads(10_000);
    // parameters + task + 5 zone counters + at most 2 keys (slot, record) per attempt
    const bound = 2 + 5 + 2 * maxDrawAttempts(4);
    expect(small.reads.length).toBeLessThanOrEqual(bound);
    expect(large.reads.length).toBeLessThanOrEqual(bound);
    // with plenty of eligible members the draw needs about one attempt per seat
    expect(large.reads.length).toBeLessThanOrEqual(2 + 5 + 2 * 8);
    expect(large.task.committee).toHaveLength(4);

    // removing a participant from the index costs the same for 10 and 10,000 participants:
    // parameters, record, position key, zone counter, its slot, the last slot (6 reads);
    // record + leaderboard unchanged, counter, moved slot, moved position, last slot, own position.
    const smallBan = await banCost(small.ledger, small.members);
    const largeBan = await banCost(large.ledger, large.members);
    expect(largeBan).toEqual(smallBan);
    expect(largeBan.indexWrites).toBe(5);
    expect(largeBan.reads).toBeLessThanOrEqual(6);
  }, 120_000);

  it('stays bounded with the custodian rule at work (70% of members at one utility), for 10 and 10,000 participants', async () => {
    const uneven = (i: number): string => (i % 10 < 7 ? 'Org1MSP' : i % 10 < 9 ? 'Org2MSP' : 'Org3MSP');
    const bound = 2 + 5 + 2 * maxDrawAttempts(4);
    for (const size of [10, 10_000]) {
      const { reads, task, members } = await drawReads(size, uneven);
      const custodianOf = new Map(members.map((m, i) => [m.participantId, uneven(i)]));
      expect(task.committee).toHaveLength(4);
      const seats = new Map<string, number>();
      for (const m of task.committee) seats.set(custodianOf.get(m)!, (seats.get(custodianOf.get(m)!) ?? 0) + 1);
      expect(Math.max(...seats.values())).toBeLessThanOrEqual(2);
      // the custodian is read from the record the eligibility check read: no key beyond slot + record per attempt
      expect(reads.length).toBeLessThanOrEqual(bound);
      expect(new Set(reads).size).toBe(reads.length);
    }
  }, 120_000);
});
