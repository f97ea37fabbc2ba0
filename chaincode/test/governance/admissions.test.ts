import { Q_SCALE } from '../../src/governance/domain/fixedPoint';
import { leaderAt } from '../../src/governance/services/tasks';
import type { Task } from '../../src/governance/ledger/tasks';
import { identities } from '../support/fakeIdentity';
import { expectCode, TestLedger } from '../support/ledger';
import { byId, join, Member, registerUtilities, regulator, runBeacon, seedMembers, whenLeads } from '../support/community';
import { nth, take } from '../support/lists';

const approve = JSON.stringify({ approve: true, conditions: { condition1: true, condition2: true } });
const refuse = JSON.stringify({ approve: false, conditions: { condition1: false }, reason: 'entry not made by the slot leader' });

interface Setup {
  ledger: TestLedger;
  members: Member[];
  joiner: Member & { taskId: string };
  task: Task;
  leader: Member;
  others: Member[];
}

/** 12 members in 3 zones, one joiner, beacon run, and the clock moved to a slot its leader leads. */
async function setup(memberCount = 12): Promise<Setup> {
  const ledger = new TestLedger();
  await registerUtilities(ledger);
  const members = await seedMembers(ledger, memberCount, ['z1', 'z2', 'z3']);
  const joiner = await join(ledger, 'Org2MSP', 'new-1', 'z2');
  ledger.advance(10);
  const task = await runBeacon(ledger, joiner.taskId);
  expect(task.status).toBe('ACTIVE');
  const leaderPid = nth(task.committee, 0);
  ledger.now = whenLeads(task, leaderPid, ledger.now);
  const leader = byId(members, leaderPid);
  const others = task.committee.filter((p) => p !== leaderPid).map((p) => byId(members, p));
  return { ledger, members, joiner, task, leader, others };
}

const participant = (ledger: TestLedger, pid: string) => ledger.evaluate<Record<string, number | string>>(regulator, 'participants:get', [pid]);

describe('verification of a new prosumer (seed 002 Fig. 4)', () => {
  it('draws a committee of n = 3f+1 existing members, never the joiner, spread across zones', async () => {
    const { task, joiner } = await setup();
    expect(task.committee).toHaveLength(4);
    expect(new Set(task.committee).size).toBe(4);
    expect(task.committee).not.toContain(joiner.participantId);
    for (const z of ['z1', 'z2', 'z3']) expect(task.committeeZones.filter((x) => x === z).length).toBeLessThanOrEqual(2);
  });

  it('admits at 2f+1 approvals (leader entry + 2 votes), rewards leader and honest verifiers, emits events', async () => {
    const { ledger, joiner, leader, others } = await setup();
    const entry = await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    expect(entry.events.map((e) => e.name)).toEqual(['LeaderEntryRecorded']);
    await ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, approve]);
    const v = await ledger.submit(nth(others, 1).identity, 'admissions:vote', [joiner.participantId, approve]);
    expect(v.events).toEqual([{ name: 'VoteRecorded', payload: expect.objectContaining({ approve: true, voter: nth(others, 1).participantId }) }]);
    const d = await ledger.submit<{ status: string; decision: { outcome: string; approvals: number } }>(regulator, 'admissions:decide', [joiner.participantId]);
    expect(d.result.status).toBe('ACTIVE');
    expect(d.result.decision).toMatchObject({ outcome: 'APPROVED', approvals: 3 });
    expect(d.events.map((e) => e.name)).toEqual(expect.arrayContaining(['BallotDecided', 'ParticipantAdmitted', 'QScoreChanged']));
    const admitted = await participant(ledger, joiner.participantId);
    expect(admitted).toMatchObject({ status: 'ACTIVE', qScore: 10 * Q_SCALE });
    expect((await participant(ledger, leader.participantId)).qScore).toBe(11 * Q_SCALE);
    expect((await participant(ledger, nth(others, 0).participantId)).qScore).toBe(11 * Q_SCALE);
    // the silent member is neither rewarded nor penalised
    expect(await participant(ledger, nth(others, 2).participantId)).toMatchObject({ qScore: 10 * Q_SCALE, penaltyCount: 0 });
  });

  it('f wrong votes cannot change the outcome, and the wrong voter is penalised', async () => {
    const { ledger, joiner, leader, others } = await setup();
    await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    await ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, refuse]); // Byzantine
    await ledger.submit(nth(others, 1).identity, 'admissions:vote', [joiner.participantId, approve]);
    await ledger.submit(nth(others, 2).identity, 'admissions:vote', [joiner.participantId, approve]);
    const d = await ledger.submit<{ status: string }>(regulator, 'admissions:decide', [joiner.participantId]);
    expect(d.result.status).toBe('ACTIVE');
    expect(await participant(ledger, nth(others, 0).participantId)).toMatchObject({ penaltyCount: 1, qScore: 9 * Q_SCALE });
  });

  it('f+1 refusals block an admission; f+1 Byzantine approvals cannot forge one', async () => {
    const { ledger, joiner, leader, others } = await setup();
    await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    await ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, approve]);
    // leader + one member approve = f+1 = 2 < 2f+1: no admission
    await expectCode(ledger.submit(regulator, 'admissions:decide', [joiner.participantId]), 'PRECONDITION_FAILED', /2 approvals, 0 refusals of 4; needs 3 approvals or 2 refusals/);
    await ledger.submit(nth(others, 1).identity, 'admissions:vote', [joiner.participantId, refuse]);
    await ledger.submit(nth(others, 2).identity, 'admissions:vote', [joiner.participantId, refuse]);
    const d = await ledger.submit<{ status: string; decision: { outcome: string; contrary: string[] } }>(regulator, 'admissions:decide', [joiner.participantId]);
    expect(d.result.status).toBe('REJECTED');
    expect(d.result.decision.contrary.sort()).toEqual([leader.participantId, nth(others, 0).participantId].sort());
    expect((await participant(ledger, joiner.participantId)).status).toBe('REJECTED');
    expect((await participant(ledger, leader.participantId)).penaltyCount).toBe(1);
    // a decided ballot takes no more votes or decisions
    await expectCode(ledger.submit(regulator, 'admissions:decide', [joiner.participantId]), 'CONFLICT');
  });

  it('rejects a non-member vote, a double vote, a vote before the entry and a vote after the deadline', async () => {
    const { ledger, joiner, leader, others, members, task } = await setup();
    const outsider = members.find((m) => !task.committee.includes(m.participantId)) as Member;
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, approve]), 'PRECONDITION_FAILED', /no leader entry yet/);
    await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    await expectCode(ledger.submit(outsider.identity, 'admissions:vote', [joiner.participantId, approve]), 'FORBIDDEN', /not on the committee/);
    await expectCode(ledger.submit(joiner.identity, 'admissions:vote', [joiner.participantId, approve]), 'FORBIDDEN', /not on the committee/);
    await ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, approve]);
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, refuse]), 'CONFLICT', /already voted/);
    await expectCode(ledger.submit(leader.identity, 'admissions:vote', [joiner.participantId, approve]), 'CONFLICT', /already voted/);
    await expectCode(
      ledger.submit(nth(others, 1).identity, 'admissions:vote', [joiner.participantId, JSON.stringify({ approve: true, conditions: { condition2: false } })]),
      'INVALID_ARGUMENT',
      /approving vote cannot report a failed condition/,
    );
    ledger.now = task.deadlineAt + 1;
    await expectCode(ledger.submit(nth(others, 1).identity, 'admissions:vote', [joiner.participantId, approve]), 'PRECONDITION_FAILED', /passed its deadline/);
  });

  it('refuses a vote whose timestamp is outside the clock guard, even from a member', async () => {
    const { ledger, joiner, leader, others } = await setup();
    await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    await expectCode(
      ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, approve], { at: ledger.now - 120, peerClock: ledger.now }),
      'PRECONDITION_FAILED',
      /clock guard/,
    );
  });

  it('Condition 1: only the leader of the current slot may record the entry', async () => {
    const { ledger, joiner, others, task } = await setup();
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:recordEntry', [joiner.participantId]), 'FORBIDDEN', /Condition 1: slot \d+ of task .* is led by/);
    await expectCode(ledger.submit(joiner.identity, 'admissions:recordEntry', [joiner.participantId]), 'FORBIDDEN', /not on the committee/);
    // in its own slot, the other member may
    ledger.now = whenLeads(task, nth(others, 0).participantId, ledger.now);
    const r = await ledger.submit(nth(others, 0).identity, 'admissions:recordEntry', [joiner.participantId]);
    expect(nth(r.events, 0).payload).toMatchObject({ leader: nth(others, 0).participantId });
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:recordEntry', [joiner.participantId]), 'CONFLICT', /already has a leader entry/);
  });

  it('Condition 2: a leader cannot make a second entry in the same slot (equivocation), even for another task', async () => {
    // With exactly 4 members every committee is the same 4; find two join tasks and a slot both led by one member.
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const members = await seedMembers(ledger, 4, ['z1', 'z2']);
    const tasks: Task[] = [];
    for (let i = 0; i < 4; i++) {
      const j = await join(ledger, 'Org1MSP', `new-${i}`, 'z1');
      tasks.push(await runBeacon(ledger, j.taskId));
    }
    const from = ledger.now;
    let found: { a: Task; b: Task; t: number; leader: string } | undefined;
    for (let i = 0; i < tasks.length && !found; i++) {
      for (let j = i + 1; j < tasks.length && !found; j++) {
        for (let s = 1; s <= 4 && !found; s++) {
          const t = whenLeads(nth(tasks, i), nth(nth(tasks, i).committee, 0), from) + (s - 1) * 300;
          const la = leaderAt(nth(tasks, i), t).leader;
          if (la === leaderAt(nth(tasks, j), t).leader) found = { a: nth(tasks, i), b: nth(tasks, j), t, leader: la };
        }
      }
    }
    expect(found).toBeDefined();
    const { a, b, t, leader } = found as NonNullable<typeof found>;
    ledger.now = t;
    const who = byId(members, leader).identity;
    const subject = (task: Task) => nth(task.subjectId.split('#'), 0);
    await ledger.submit(who, 'admissions:recordEntry', [subject(a)]);
    await expectCode(ledger.submit(who, 'admissions:recordEntry', [subject(b)]), 'CONFLICT', /Condition 2: leader .* already made an entry in slot/);
    // in its next own slot, it may lead task b
    ledger.now = whenLeads(b, leader, t + 300);
    await ledger.submit(who, 'admissions:recordEntry', [subject(b)]);
  });

  it('after the deadline a task is re-drawn: new round, fresh beacon, new committee; old votes do not count', async () => {
    const { ledger, joiner, leader, others, task } = await setup();
    await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    await ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, approve]);
    await expectCode(ledger.submit(regulator, 'committees:redraw', [joiner.taskId]), 'PRECONDITION_FAILED', /can be re-drawn only after/);
    ledger.now = task.deadlineAt + 1;
    await expectCode(ledger.submit(regulator, 'admissions:decide', [joiner.participantId]), 'PRECONDITION_FAILED', /deadline has passed — call committees:redraw/);
    const r = await ledger.submit<Task>(regulator, 'committees:redraw', [joiner.taskId]);
    expect(r.result).toMatchObject({ round: 1, status: 'AWAITING_ENTROPY', committee: [] });
    expect(r.events[0]).toMatchObject({ name: 'TaskOpened', payload: expect.objectContaining({ round: 1 }) });
    const t2 = await runBeacon(ledger, joiner.taskId, ['Org2MSP', 'Org3MSP']);
    expect(t2.status).toBe('ACTIVE');
    expect(t2.seedHex).not.toBe(task.seedHex);
    // the new round starts with no entry and no votes
    const ballot = await ledger.evaluate<{ votes: unknown[] }>(regulator, 'committees:getBallot', [joiner.taskId, 'admission']);
    expect(ballot.votes).toEqual([]);
    await expectCode(ledger.submit(regulator, 'admissions:decide', [joiner.participantId]), 'PRECONDITION_FAILED', /no leader entry yet/);
  });

  it('bans a verifier whose penalties exceed k, and a banned member is no longer drawn', async () => {
    const ledger = new TestLedger();
    await ledger.submit(regulator, 'governance:setParameters', [JSON.stringify({ penaltyThreshold: 0 })]);
    await registerUtilities(ledger);
    const members = await seedMembers(ledger, 5, ['z1']);
    const j = await join(ledger, 'Org1MSP', 'new-1', 'z1');
    const task = await runBeacon(ledger, j.taskId);
    ledger.now = whenLeads(task, nth(task.committee, 0), ledger.now);
    const [l, a, b, c] = take(task.committee.map((p) => byId(members, p)), 4);
    await ledger.submit(l.identity, 'admissions:recordEntry', [j.participantId]);
    await ledger.submit(a.identity, 'admissions:vote', [j.participantId, approve]);
    await ledger.submit(b.identity, 'admissions:vote', [j.participantId, approve]);
    await ledger.submit(c.identity, 'admissions:vote', [j.participantId, refuse]);
    const d = await ledger.submit(regulator, 'admissions:decide', [j.participantId]);
    expect(d.events.map((e) => e.name)).toContain('ParticipantBanned');
    expect((await participant(ledger, c.participantId)).status).toBe('BANNED');
    // the next committee never contains the banned member: exactly the 4 unbanned staked members remain eligible
    const j2 = await join(ledger, 'Org2MSP', 'new-2', 'z1');
    const t2 = await runBeacon(ledger, j2.taskId);
    expect(t2.committee).not.toContain(c.participantId);
  });
});

describe('participant registry around admission', () => {
  it('only enrolled meters of the operator\'s own utility can join, with the enrolled zone', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const meter = identities.meter('Org1MSP', 'm-1', 'z1');
    await expectCode(ledger.submit(meter, 'participants:requestJoin', ['{}']), 'PRECONDITION_FAILED', /not enrolled by Org1MSP/);
    // an Org2 operator enrolling "m-1" enrols it for Org2, which does not help Org1's meter
    await ledger.submit(identities.operator('Org2MSP'), 'participants:enrolMeter', ['m-1', 'z1']);
    await expectCode(ledger.submit(meter, 'participants:requestJoin', ['{}']), 'PRECONDITION_FAILED', /not enrolled by Org1MSP/);
    await ledger.submit(identities.operator('Org1MSP'), 'participants:enrolMeter', ['m-1', 'z9']);
    await expectCode(ledger.submit(meter, 'participants:requestJoin', ['{}']), 'FORBIDDEN', /zone z1 does not match the zone z9/);
    await expectCode(ledger.submit(meter, 'participants:enrolMeter', ['m-1', 'z1']), 'FORBIDDEN', /needs role operator/);
  });

  it('keeps contact data in the utility\'s private collection only, and the id is a pseudonym', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    await ledger.submit(identities.operator('Org1MSP'), 'participants:enrolMeter', ['m-1', 'z1']);
    const r = await ledger.submit<{ participantId: string; status: string }>(identities.meter('Org1MSP', 'm-1', 'z1'), 'participants:requestJoin', ['{}'], {
      transient: { contact: JSON.stringify({ email: 'alice@example.org' }) },
    });
    expect(r.result.status).toBe('PENDING');
    expect(r.events.map((e) => e.name)).toEqual(['TaskOpened', 'ParticipantJoined']);
    const publicBytes = [...ledger.world.state.values()].map((v) => Buffer.from(v).toString()).join('\n');
    expect(publicBytes).not.toContain('alice@example.org');
    expect(r.result.participantId).toMatch(/^p-[0-9a-f]{32}$/);
    const priv = ledger.world.privateData.get('Org1MSPPrivateCollection');
    expect([...(priv?.values() ?? [])].map((v) => Buffer.from(v).toString())).toEqual(['{"email":"alice@example.org"}']);
    // others see the public view without meterId; the owner sees it
    const otherView = await ledger.evaluate<Record<string, unknown>>(identities.meter('Org2MSP', 'x', 'z1'), 'participants:get', [r.result.participantId]);
    expect(otherView.meterId).toBeUndefined();
    const ownView = await ledger.evaluate<Record<string, unknown>>(identities.meter('Org1MSP', 'm-1', 'z1'), 'participants:get', [r.result.participantId]);
    expect(ownView.meterId).toBe('m-1');
    await expectCode(ledger.submit(identities.meter('Org1MSP', 'm-1', 'z1'), 'participants:requestJoin', ['{}']), 'CONFLICT', /already exists with status PENDING/);
  });

  it('bootstraps founding members by the regulator only while the community is smaller than a committee', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const founders: string[] = [];
    // Founders pledge stake: only committee-eligible members count toward 3f+1 (issue 16).
    for (let i = 0; i < 5; i++) {
      const j = await join(ledger, 'Org1MSP', `f-${i}`, `z${i % 2}`, 2 * Q_SCALE);
      founders.push(j.participantId);
    }
    await expectCode(ledger.submit(identities.operator('Org1MSP'), 'participants:admitFounding', [nth(founders, 0)]), 'FORBIDDEN');
    for (let i = 0; i < 4; i++) {
      const r = await ledger.submit(regulator, 'participants:admitFounding', [nth(founders, i)]);
      expect(r.events.map((e) => e.name)).toEqual(['ParticipantAdmitted', 'TaskCancelled']);
    }
    await expectCode(ledger.submit(regulator, 'participants:admitFounding', [nth(founders, 4)]), 'PRECONDITION_FAILED', /admitted by committee/);
    const p = await participant(ledger, nth(founders, 0));
    expect(p).toMatchObject({ status: 'ACTIVE', qScore: 10 * Q_SCALE, stake: 2 * Q_SCALE });
  });

  it('founding admission counts committee-eligible members only: stake-0 traders do not close the bootstrap', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const traders: string[] = [];
    for (let i = 0; i < 6; i++) traders.push((await join(ledger, 'Org2MSP', `t-${i}`, 'z1')).participantId);
    // six stake-0 traders admitted: the index holds 6 ≥ 3f+1 = 4, but none can sit on a committee
    for (const t of traders) await ledger.submit(regulator, 'participants:admitFounding', [t]);
    const founders: string[] = [];
    for (let i = 0; i < 5; i++) founders.push((await join(ledger, 'Org1MSP', `f-${i}`, `z${i % 2}`, 2 * Q_SCALE)).participantId);
    for (let i = 0; i < 4; i++) await ledger.submit(regulator, 'participants:admitFounding', [nth(founders, i)]);
    await expectCode(ledger.submit(regulator, 'participants:admitFounding', [nth(founders, 4)]), 'PRECONDITION_FAILED:COMMUNITY_FOUNDED', /already has 4 committee-eligible members/);
    // the traders were admitted all the same (they trade; they just cannot verify)
    expect(await participant(ledger, nth(traders, 0))).toMatchObject({ status: 'ACTIVE', stake: 0 });
  });

  it('suspension, reinstatement, bans with expiry, stake limits', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const [m] = take(await seedMembers(ledger, 1, ['z1']), 1);
    const op1 = identities.operator('Org1MSP');
    await expectCode(ledger.submit(identities.operator('Org2MSP'), 'participants:suspend', [m.participantId, 'x']), 'FORBIDDEN', /operators of Org1MSP/);
    const s = await ledger.submit<{ status: string }>(op1, 'participants:suspend', [m.participantId, 'meter tampering suspected']);
    expect(s.result.status).toBe('SUSPENDED');
    expect(nth(s.events, 0).name).toBe('ParticipantSuspended');
    await ledger.submit(op1, 'participants:reinstate', [m.participantId]);
    const b = await ledger.submit<{ status: string; bannedUntil: number }>(regulator, 'participants:ban', [m.participantId, '3600', 'fraud']);
    expect(b.result.status).toBe('BANNED');
    ledger.advance(3601);
    expect((await participant(ledger, m.participantId)).status).toBe('ACTIVE'); // ban expired by itself
    await expectCode(ledger.submit(m.identity, 'participants:setStake', [String(11 * Q_SCALE)]), 'INVALID_ARGUMENT', /your Q-score/);
    const st = await ledger.submit<{ stake: number }>(m.identity, 'participants:setStake', [String(3 * Q_SCALE)]);
    expect(st.result.stake).toBe(3 * Q_SCALE);
  });

  it('validates request and vote JSON at the contract boundary', async () => {
    const { ledger, joiner, leader, others, task } = await setup();
    await expectCode(ledger.submit(identities.meter('Org1MSP', 'x', 'z1'), 'participants:requestJoin', ['{"stake":1,"name":"alice"}']), 'INVALID_ARGUMENT', /unknown field "name"/);
    await expectCode(ledger.submit(identities.meter('Org1MSP', 'x', 'z1'), 'participants:requestJoin', ['{"stake":-1}']), 'INVALID_ARGUMENT:BAD_STAKE', /requestJson\.stake must be between 0 and/);
    await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, '{"approve":"yes"}']), 'INVALID_ARGUMENT', /approve must be true or false/);
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, '{"approve":true,"weight":9}']), 'INVALID_ARGUMENT', /unknown field "weight"/);
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:vote', [joiner.participantId, 'approve']), 'INVALID_ARGUMENT', /voteJson is not valid JSON/);
    await expectCode(ledger.submit(nth(others, 0).identity, 'admissions:vote', ['p-unknown', approve]), 'NOT_FOUND', /participant p-unknown/);
    const lead = await ledger.evaluate<{ leader: string; slot: string; round: number }>(regulator, 'committees:leaderOf', [task.taskId]);
    expect(lead).toMatchObject({ leader: leader.participantId, round: 0 });
  });

  it('answers whoAmI from the certificate', async () => {
    const ledger = new TestLedger();
    const me = await ledger.evaluate<Record<string, string>>(identities.meter('Org1MSP', 'm-1', 'z1'), 'participants:whoAmI');
    expect(me).toMatchObject({ mspId: 'Org1MSP', role: 'meter', meterId: 'm-1', zone: 'z1' });
    expect(me.participantId).toMatch(/^p-/);
  });
});
