/**
 * `committees:getMemberView` (issue 17, the agents' evaluations): one read answers what an agent's member
 * duty read with `committees:getTask`, `committees:getBallot` per ballot and the subject's reads — the same
 * values, as the same caller sees them — and refuses bad arguments with typed errors.
 */
import { leaderAt } from '../../src/governance/services/tasks';
import type { Offer } from '../../src/market/domain/offer';
import type { Trade } from '@gridledger/protocol';
import { identities, IdentitySpec } from '../support/fakeIdentity';
import { expectCode, TestLedger } from '../support/ledger';
import { byPid, communityLedger, drawCommittee, join, readTaskOf, registerUtilities, runBeacon, seedMembers, validators, whenLeads, byId } from '../support/community';
import { exportProof, fund, MeterSim, T0, who } from '../support/marketLedger';
import { nth } from '../support/lists';

interface View {
  task: { taskId: string; round: number; ballots: Array<{ name: string }> };
  ballots: Array<{ name: string; ballot: unknown; round: number; votes: unknown[] }>;
  subject: Record<string, unknown> | null;
}

/** What the separate reads answer, composed as the view composes them (ballots up to the first not approved). */
async function separateReads(ledger: TestLedger, as: IdentitySpec, taskId: string): Promise<Omit<View, 'subject'>> {
  const task = await ledger.evaluate<View['task']>(as, 'committees:getTask', [taskId]);
  const ballots: View['ballots'] = [];
  for (const b of task.ballots) {
    const s = await ledger.evaluate<{ ballot: { status: string; round: number } | null; round: number; votes: unknown[] }>(as, 'committees:getBallot', [taskId, b.name]);
    ballots.push({ name: b.name, ...s });
    if (s.ballot?.status !== 'APPROVED' || s.ballot.round !== task.round) break;
  }
  return { task, ballots };
}

describe('committees:getMemberView on an admission task', () => {
  it('equals getTask + getBallot, and the candidate as participants:get shows it to each caller', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const members = await seedMembers(ledger, 8, ['z1', 'z2', 'z3']);
    const joiner = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    ledger.advance(10);
    const task = await runBeacon(ledger, joiner.taskId);
    ledger.now = whenLeads(task, nth(task.committee, 0), ledger.now);
    const leader = byId(members, nth(task.committee, 0));
    await ledger.submit(leader.identity, 'admissions:recordEntry', [joiner.participantId]);
    await ledger.submit(byId(members, nth(task.committee, 1)).identity, 'admissions:vote', [joiner.participantId, JSON.stringify({ approve: true, conditions: { condition1: true, condition2: true } })]);

    // a member (another utility's meter: the public view), the candidate's own operator (the full record)
    const callers = [leader.identity, identities.operator('Org2MSP'), identities.operator('Org1MSP')];
    for (const as of callers) {
      const view = await ledger.evaluate<View>(as, 'committees:getMemberView', [joiner.taskId, 'true']);
      expect(view).toEqual({ ...(await separateReads(ledger, as, joiner.taskId)), subject: { participant: await ledger.evaluate(as, 'participants:get', [joiner.participantId]) } });
      expect(view.ballots.map((b) => b.votes.length)).toEqual([2]); // the entry's vote and one member's
    }
    // what each sees differs as participants:get differs: the meter id only for the candidate's utility
    const own = await ledger.evaluate<View>(identities.operator('Org2MSP'), 'committees:getMemberView', [joiner.taskId, 'true']);
    const other = await ledger.evaluate<View>(identities.operator('Org1MSP'), 'committees:getMemberView', [joiner.taskId, 'true']);
    expect(own.subject!.participant).toHaveProperty('meterId', 'new-1');
    expect(other.subject!.participant).not.toHaveProperty('meterId');

    // without the flag ("" or "false"): no subject, the rest the same
    for (const flag of ['', 'false']) {
      expect(await ledger.evaluate(leader.identity, 'committees:getMemberView', [joiner.taskId, flag])).toEqual({ ...(await separateReads(ledger, leader.identity, joiner.taskId)), subject: null });
    }
  });

  it('refuses bad arguments with typed errors', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    await seedMembers(ledger, 8, ['z1', 'z2', 'z3']);
    const joiner = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    const op = identities.operator('Org1MSP');
    await expectCode(ledger.evaluate(op, 'committees:getMemberView', [joiner.taskId, 'yes']), 'INVALID_ARGUMENT:NOT_ALLOWED_VALUE', /withSubject must be "true" or "false"/);
    await expectCode(ledger.evaluate(op, 'committees:getMemberView', ['a b', 'true']), 'INVALID_ARGUMENT:BAD_ID');
    await expectCode(ledger.evaluate(op, 'committees:getMemberView', ['task-unknown', '']), 'NOT_FOUND:TASK_NOT_FOUND');
  });
});

describe('committees:getMemberView on a trade task', () => {
  const D = T0 + 2 * 86_400;
  const OFFER = { amountWh: 1000, pricePerKwh: 40, deliveryStart: D, deliveryLength: 900, ttlSeconds: 3600 };

  it('equals getTask + getBallot up to the open ballot, and trades:get + energy:get of its packets', async () => {
    const ledger = await communityLedger();
    const sm = new MeterSim(who.seller);
    await fund(ledger, who.seller, 500);
    await fund(ledger, who.buyer, 500);
    const offer = (await ledger.submit<Offer>(who.seller, 'offers:create', [JSON.stringify(OFFER)])).result;
    const t0 = (await ledger.submit<Trade>(who.buyer, 'offers:accept', [offer.offerId, '1000', '40'])).result;
    ledger.now = D + 960;
    await sm.post(ledger, sm.next(D, 0, 1000));
    const pkt = await ledger.submit<{ packetId: string }>(who.seller, 'energy:mint', [JSON.stringify({ intervalStart: D, amountWh: 1000, source: 'solar' })], { transient: { exportProof: exportProof(sm.last!) } });
    const t = (await ledger.submit<Trade>(who.seller, 'trades:deliverEnergy', [t0.tradeId, JSON.stringify([{ packetId: pkt.result.packetId, amountWh: 1000 }])])).result;
    const taskId = t.validation.taskId;
    await drawCommittee(ledger, taskId);
    const member = nth(validators, 0);

    const expectSame = async (as: IdentitySpec): Promise<View> => {
      const view = await ledger.evaluate<View>(as, 'committees:getMemberView', [taskId, 'true']);
      const trade = await ledger.evaluate<Trade>(as, 'trades:get', [t.tradeId]);
      const packets = [];
      for (const u of trade.packets) packets.push(await ledger.evaluate(as, 'energy:get', [u.packetId]));
      expect(view).toEqual({ ...(await separateReads(ledger, as, taskId)), subject: { trade, packets } });
      return view;
    };
    // execution open, no entry yet: one ballot
    let view = await expectSame(member);
    expect(view.ballots.map((b) => b.name)).toEqual(['execution']);
    expect((view.subject!.packets as unknown[]).length).toBe(1);

    // the execution stage approved: the view reaches the final ballot
    ledger.advance(300);
    const task = await readTaskOf(ledger, taskId);
    const { leader } = leaderAt(task, ledger.now);
    await ledger.submit(byPid.get(leader) as IdentitySpec, 'trades:recordEntry', [t.tradeId]);
    const others = task.committee.filter((m) => m !== leader);
    for (const m of others.slice(0, 2)) await ledger.submit(byPid.get(m) as IdentitySpec, 'trades:vote', [t.tradeId, JSON.stringify({ approve: true })]);
    await ledger.submit(who.regulator, 'trades:decide', [t.tradeId]);
    view = await expectSame(who.regulator);
    expect(view.ballots.map((b) => [b.name, (b.ballot as { status: string } | null)?.status ?? null])).toEqual([['execution', 'APPROVED'], ['final', null]]);
    await expectSame(member);
  });
});
