/**
 * Independence of committee members (issue 17 item 1; docs/governance.md "Independence of committee
 * members"): a utility's gateway holds the keys of all its meters, so the draw never gives one
 * utility (custodian) 2f+1 seats of a 3f+1 committee — with uneven utilities, at 10 and 10,000
 * participants, deterministically, and with a clear CUSTODIAN_CAP failure when it cannot.
 */
import { createHash } from 'crypto';
import type { Task } from '../../src/governance/ledger/tasks';
import { clusteredDraw, maxDrawAttempts } from '../../src/governance/domain/sampling';
import { approvalQuorum, maxCustodianSeats } from '../../src/governance/domain/quorum';
import { expectCode, TestLedger } from '../support/ledger';
import { getTask, join, registerUtilities, regulator, runBeacon, seedMembers } from '../support/community';
import { nth } from '../support/lists';

const ZONES = ['z1', 'z2', 'z3', 'z4', 'z5'];
/** 70% of members at Org1MSP, 20% at Org2MSP, 10% at Org3MSP. */
const uneven = (i: number): string => (i % 10 < 7 ? 'Org1MSP' : i % 10 < 9 ? 'Org2MSP' : 'Org3MSP');

function seatsPerCustodian(committee: string[], custodianOf: (pid: string) => string): Map<string, number> {
  const seats = new Map<string, number>();
  for (const m of committee) seats.set(custodianOf(m), (seats.get(custodianOf(m)) ?? 0) + 1);
  return seats;
}

describe('custodian rule in the sampling (pure)', () => {
  /** An in-memory committee index of `size` members over ZONES with the uneven utility split. */
  function community(size: number) {
    const table = new Map<string, string[]>(ZONES.map((z) => [z, []]));
    const custodian = new Map<string, string>();
    for (let i = 0; i < size; i++) {
      const pid = `p${i}`;
      table.get(nth(ZONES, i % ZONES.length))!.push(pid);
      custodian.set(pid, uneven(i));
    }
    const zones = ZONES.map((zone) => ({ zone, count: table.get(zone)!.length }));
    const looked: string[] = [];
    const lookup = async (z: string, i: number) => {
      looked.push(`${z}/${i}`);
      return table.get(z)![i];
    };
    return { zones, lookup, looked, custodianOf: (pid: string) => custodian.get(pid)! };
  }

  for (const size of [10, 10_000]) {
    for (const f of [1, 2]) {
      it(`never gives one utility more than 2f seats over 300 seeds (${size} participants, f = ${f}, 70/20/10 split)`, async () => {
        const c = community(size);
        const n = 3 * f + 1;
        let skipped = 0;
        for (let s = 0; s < 300; s++) {
          const seed = createHash('sha256').update(`independence ${size} ${f} ${s}`).digest('hex');
          c.looked.length = 0;
          const r = await clusteredDraw(seed, n, c.zones, new Set(), c.lookup, async () => true, {
            maxSeats: maxCustodianSeats(f),
            custodianOf: async (pid) => c.custodianOf(pid),
          });
          expect(r.members).toHaveLength(n);
          for (const seats of seatsPerCustodian(r.members, c.custodianOf).values()) {
            expect(seats).toBeLessThanOrEqual(2 * f);
            expect(seats).toBeLessThan(approvalQuorum(f));
          }
          // the cost stays bounded by the attempt cap whatever the community size
          expect(c.looked.length).toBeLessThanOrEqual(maxDrawAttempts(n));
          skipped += r.custodianSkips;
        }
        // with 70% at one utility the rule had to act (so the assertions above are not vacuous)
        expect(skipped).toBeGreaterThan(0);
      });
    }
  }

  it('without the rule the same uneven community does give one utility 2f+1 seats (the rule is what prevents it)', async () => {
    const c = community(10_000);
    let captured = 0;
    for (let s = 0; s < 100; s++) {
      const r = await clusteredDraw(`free-${s}`, 4, c.zones, new Set(), c.lookup, async () => true);
      if (Math.max(...seatsPerCustodian(r.members, c.custodianOf).values()) >= approvalQuorum(1)) captured++;
    }
    expect(captured).toBeGreaterThan(0);
  });

  it('fails (does not loop) when one utility holds every eligible member', async () => {
    const c = community(10_000);
    const r = await clusteredDraw('only-org1', 4, c.zones, new Set(), c.lookup, async (pid) => c.custodianOf(pid) === 'Org1MSP', {
      maxSeats: 2,
      custodianOf: async (pid) => c.custodianOf(pid),
    });
    expect(r.members).toHaveLength(2);
    expect(r.custodianSkips).toBeGreaterThan(0);
    expect(r.attempts).toBeLessThanOrEqual(maxDrawAttempts(4));
  });
});

describe('custodian rule in the committee draw (chaincode)', () => {
  async function unevenCommunity(size: number): Promise<{ ledger: TestLedger; custodianOf: (pid: string) => string }> {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const members = await seedMembers(ledger, size, ZONES, 'seed', uneven);
    const byPid = new Map(members.map((m, i) => [m.participantId, uneven(i)]));
    return { ledger, custodianOf: (pid) => byPid.get(pid)! };
  }

  for (const size of [10, 10_000]) {
    it(`every committee of 20 admission tasks keeps each utility below 2f+1 seats (${size} participants, 70% at one utility)`, async () => {
      const { ledger, custodianOf } = await unevenCommunity(size);
      for (let k = 0; k < 20; k++) {
        const j = await join(ledger, 'Org2MSP', `new-${k}`, nth(ZONES, k % ZONES.length));
        const task = await runBeacon(ledger, j.taskId);
        expect(task.status).toBe('ACTIVE');
        expect(task.committee).toHaveLength(task.n);
        for (const seats of seatsPerCustodian(task.committee, custodianOf).values()) expect(seats).toBeLessThanOrEqual(maxCustodianSeats(task.f));
      }
    }, 120_000);
  }

  it('draws the same committee from the same state (copied ledger)', async () => {
    const { ledger } = await unevenCommunity(200);
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    await runBeacon(ledger, j.taskId, ['Org1MSP']);
    const copy = ledger.fork();
    const a = await runBeacon(ledger, j.taskId, ['Org3MSP']);
    const b = await runBeacon(copy, j.taskId, ['Org3MSP']);
    expect(a.status).toBe('ACTIVE');
    expect(b.committee).toEqual(a.committee);
    expect(b.committeeZones).toEqual(a.committeeZones);
    expect(b.leaderOffset).toBe(a.leaderOffset);
  });

  it('fails clearly with CUSTODIAN_CAP when one utility holds every eligible member, and draws once another utility has members', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    await seedMembers(ledger, 40, ZONES, 'org1', () => 'Org1MSP');
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    const seeded = await runBeacon(ledger, j.taskId);
    expect(seeded).toMatchObject({ status: 'SEEDED', committee: [] });
    expect(seeded.drawError).toMatch(/^CUSTODIAN_CAP: only 2 of 4 members .* more than 2 seats/);
    await expectCode(ledger.submit(regulator, 'committees:draw', [j.taskId]), 'PRECONDITION_FAILED', /CUSTODIAN_CAP/);
    // two utilities suffice for f = 1 (2 + 2 seats)
    await seedMembers(ledger, 20, ZONES, 'org3', () => 'Org3MSP');
    const drawn = await ledger.submit<Task>(regulator, 'committees:draw', [j.taskId]);
    expect(drawn.result.status).toBe('ACTIVE');
    expect((await getTask(ledger, j.taskId)).committee).toHaveLength(4);
  }, 60_000);
});
