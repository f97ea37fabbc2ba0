/**
 * Validated settlement details: committee rules (Condition 1 leader, one vote per member,
 * contrary voters), the liveness fallback when no committee decides, and flat costs.
 */
import { leaderAt } from '../../src/governance/services/tasks';
import type { Offer } from '../../src/market/domain/offer';
import type { Trade } from '@gridledger/protocol';
import { identities, IdentitySpec } from '../support/fakeIdentity';
import { expectCode, TestLedger } from '../support/ledger';
import { byPid, communityLedger, drawCommittee, participantOf, readTaskOf, runStage, validators } from '../support/community';
import { checkInvariants, fund, MeterSim, pid, T0, U2, who, exportProof, importProof } from '../support/marketLedger';
import { nth, take } from '../support/lists';

const D = T0 + 2 * 86_400;
const OFFER = { amountWh: 1000, pricePerKwh: 40, deliveryStart: D, deliveryLength: 900, ttlSeconds: 3600 };

let ledger: TestLedger;
let sm: MeterSim;
let bm: MeterSim;
beforeEach(async () => {
  ledger = await communityLedger();
  sm = new MeterSim(who.seller);
  bm = new MeterSim(who.buyer);
  await fund(ledger, who.seller, 500);
  await fund(ledger, who.buyer, 500);
});
afterEach(() => checkInvariants(ledger.world));

/** Offer, acceptance, both readings, the mint and the seller's delivery: the delivery's submission (result and events). */
async function escrowTrade() {
  const offer = (await ledger.submit<Offer>(who.seller, 'offers:create', [JSON.stringify(OFFER)])).result;
  const t = (await ledger.submit<Trade>(who.buyer, 'offers:accept', [offer.offerId, '1000', '40'])).result;
  ledger.now = D + 960;
  await sm.post(ledger, sm.next(D, 0, 1000));
  await bm.post(ledger, bm.next(D, 1000, 0));
  const pkt = await ledger.submit<{ packetId: string }>(who.seller, 'energy:mint', [JSON.stringify({ intervalStart: D, amountWh: 1000, source: 'solar' })], { transient: { exportProof: exportProof(sm.last!) } });
  return ledger.submit<Trade>(who.seller, 'trades:deliverEnergy', [t.tradeId, JSON.stringify([{ packetId: pkt.result.packetId, amountWh: 1000 }])]);
}
const escrowedTrade = async (): Promise<Trade> => (await escrowTrade()).result;
const confirm = (t: Trade, wh: number) => ledger.submit(who.buyer, 'trades:confirmDelivery', [t.tradeId, String(wh)], { transient: { importProof: importProof(bm.last!) } });

describe('committee rules on trades', () => {
  it('only the slot leader records the entry, once per slot; one vote per member; non-members cannot vote', async () => {
    const t = await escrowedTrade();
    await expectCode(ledger.submit(nth(validators, 0), 'trades:vote', [t.tradeId, JSON.stringify({ approve: true })]), 'FORBIDDEN', /not on the committee/);
    const task = await drawCommittee(ledger, t.validation.taskId);
    const { leader } = leaderAt(task, ledger.now);
    const other = task.committee.find((m) => m !== leader) as string;
    await expectCode(ledger.submit(byPid.get(other) as IdentitySpec, 'trades:recordEntry', [t.tradeId]), 'FORBIDDEN', /Condition 1/);
    await expectCode(ledger.submit(byPid.get(other) as IdentitySpec, 'trades:vote', [t.tradeId, JSON.stringify({ approve: true })]), 'PRECONDITION_FAILED', /no leader entry/);
    await ledger.submit(byPid.get(leader) as IdentitySpec, 'trades:recordEntry', [t.tradeId]);
    await ledger.submit(byPid.get(other) as IdentitySpec, 'trades:vote', [t.tradeId, JSON.stringify({ approve: true })]);
    await expectCode(ledger.submit(byPid.get(other) as IdentitySpec, 'trades:vote', [t.tradeId, JSON.stringify({ approve: false })]), 'CONFLICT', /one vote per member/);
    const outsider = validators.map((v) => pid(v)).find((p) => !task.committee.includes(p)) as string;
    await expectCode(ledger.submit(byPid.get(outsider) as IdentitySpec, 'trades:vote', [t.tradeId, JSON.stringify({ approve: true })]), 'FORBIDDEN');
    await expectCode(ledger.submit(who.regulator, 'trades:decide', [t.tradeId]), 'PRECONDITION_FAILED', /undecided/);
    await expectCode(ledger.submit(byPid.get(other) as IdentitySpec, 'trades:vote', ['trd-unknown', '{"approve":true}']), 'NOT_FOUND');
  });

  it('a member voting against the decided final ballot is penalised and not rewarded; honest members are', async () => {
    const t = await escrowedTrade();
    await drawCommittee(ledger, t.validation.taskId);
    await runStage(ledger, t.tradeId, t.validation.taskId, [{ approve: true }, { approve: true }, { approve: true }]);
    await confirm(t, 1000);
    ledger.advance(300);
    const task = await readTaskOf(ledger, t.validation.taskId);
    const { leader } = leaderAt(task, ledger.now);
    const [a, b, dissenter] = take(task.committee.filter((m) => m !== leader), 3);
    const before = { d: await participantOf(ledger, dissenter), a: await participantOf(ledger, a) };
    await ledger.submit(byPid.get(leader) as IdentitySpec, 'trades:recordEntry', [t.tradeId]);
    await ledger.submit(byPid.get(a) as IdentitySpec, 'trades:vote', [t.tradeId, '{"approve":true}']);
    await ledger.submit(byPid.get(b) as IdentitySpec, 'trades:vote', [t.tradeId, '{"approve":true}']);
    await ledger.submit(byPid.get(dissenter) as IdentitySpec, 'trades:vote', [t.tradeId, '{"approve":false,"conditions":{"condition3":false}}']);
    const done = (await ledger.submit<Trade>(who.regulator, 'trades:decide', [t.tradeId])).result;
    expect(done).toMatchObject({ state: 'SETTLED', outcome: { fault: 'none' } });
    expect(done.validation.contrary).toEqual([dissenter]);
    expect(done.validation.honest).not.toContain(dissenter);
    const after = { d: await participantOf(ledger, dissenter), a: await participantOf(ledger, a) };
    expect(after.d.penaltyCount).toBe(before.d.penaltyCount + 1);
    expect(after.d.qScore).toBeLessThan(before.d.qScore);
    expect(after.a.qScore).toBeGreaterThan(before.a.qScore);
  });

  it('the leader\'s entry carries its verdict on the facts: an honest leader is never penalised when the committee correctly refuses', async () => {
    const t = await escrowedTrade();
    await drawCommittee(ledger, t.validation.taskId);
    await runStage(ledger, t.tradeId, t.validation.taskId, [{ approve: true }, { approve: true }, { approve: true }]);
    await confirm(t, 900); // the buyer declares less than its meter shows: Condition 3 fails
    ledger.advance(300);
    const task = await readTaskOf(ledger, t.validation.taskId);
    const { leader } = leaderAt(task, ledger.now);
    const [a, b] = take(task.committee.filter((m) => m !== leader), 2);
    const before = await participantOf(ledger, leader);
    await ledger.submit(byPid.get(leader) as IdentitySpec, 'trades:recordEntry', [t.tradeId]);
    const ballot = await ledger.evaluate<{ votes: Array<{ voter: string; approve: boolean; conditions: Record<string, boolean>; reason: string }> }>(who.regulator, 'committees:getBallot', [t.validation.taskId, 'final']);
    expect(ballot.votes.find((v) => v.voter === leader)).toMatchObject({ approve: false, conditions: { condition3: false, condition4: true }, reason: 'leader entry: condition3 fail' });
    const refuse = '{"approve":false,"conditions":{"condition3":false}}';
    await ledger.submit(byPid.get(a) as IdentitySpec, 'trades:vote', [t.tradeId, refuse]);
    await ledger.submit(byPid.get(b) as IdentitySpec, 'trades:vote', [t.tradeId, refuse]);
    const done = (await ledger.submit<Trade>(who.regulator, 'trades:decide', [t.tradeId])).result;
    expect(done).toMatchObject({ state: 'SETTLED', outcome: { fault: 'buyer' } }); // seller paid per the meter
    expect(done.validation.contrary).not.toContain(leader);
    expect(done.validation.honest).toContain(leader);
    const after = await participantOf(ledger, leader);
    expect(after.penaltyCount).toBe(before.penaltyCount);
    expect(after.qScore).toBe(before.qScore); // a fault rewards nobody but changes only the faulty party
  });
});

describe('the leader\'s block (committees:recordEntries) on trade tasks', () => {
  it('enters a trade stage with the trade\'s facts and the leader\'s verdict on them, like trades:recordEntry', async () => {
    const t = await escrowedTrade();
    await drawCommittee(ledger, t.validation.taskId);
    await runStage(ledger, t.tradeId, t.validation.taskId, [{ approve: true }, { approve: true }, { approve: true }]);
    await expectCode(ledger.submit(who.regulator, 'trades:decide', [t.tradeId]), 'PRECONDITION_FAILED');
    ledger.advance(300);
    let task = await readTaskOf(ledger, t.validation.taskId);
    let { leader } = leaderAt(task, ledger.now);
    const entries = JSON.stringify({ taskIds: [t.validation.taskId] });
    await expectCode(ledger.submit(byPid.get(leader) as IdentitySpec, 'committees:recordEntries', [entries]), 'PRECONDITION_FAILED:NO_DELIVERY_EVIDENCE');
    await confirm(t, 900); // Condition 3 fails: the buyer declares less than its meter shows
    ledger.advance(300);
    task = await readTaskOf(ledger, t.validation.taskId);
    ({ leader } = leaderAt(task, ledger.now));
    const r = await ledger.submit<{ ballots: Array<{ name: string; entry: { payload: { stage: string; meteredWh: number; buyerDeclaredWh: number } } }> }>(byPid.get(leader) as IdentitySpec, 'committees:recordEntries', [entries]);
    expect(r.result.ballots).toHaveLength(1);
    expect(nth(r.result.ballots, 0)).toMatchObject({ name: 'final', entry: { payload: { stage: 'final', meteredWh: 1000, buyerDeclaredWh: 900 } } });
    const ballot = await ledger.evaluate<{ votes: Array<{ voter: string; approve: boolean; conditions: Record<string, boolean>; reason: string }> }>(who.regulator, 'committees:getBallot', [t.validation.taskId, 'final']);
    expect(ballot.votes.find((v) => v.voter === leader)).toMatchObject({ approve: false, conditions: { condition3: false, condition4: true }, reason: 'leader entry: condition3 fail' });
  });
});

describe('liveness fallback', () => {
  it('the escrow and stage events carry the state and stage window a timeout keeper needs (no read of the trade)', async () => {
    const escrow = await escrowTrade();
    const t = escrow.result;
    expect(escrow.events.find((e) => e.name === 'TradeEnergyEscrowed')?.payload).toMatchObject({ tradeId: t.tradeId, state: 'EXECUTION', stageDeadline: escrow.result.stageDeadline });
    expect(escrow.result.stageDeadline).toBe(D + 960 + escrow.result.stageWindowSeconds);
    ledger.now = escrow.result.stageDeadline as number;
    const advanced = await ledger.submit<Trade>(who.buyer, 'trades:timeout', [t.tradeId]);
    expect(advanced.events.find((e) => e.name === 'TradeStageAdvanced')?.payload).toEqual({ tradeId: t.tradeId, state: 'FINAL', decidedBy: 'facts', stageDeadline: advanced.result.stageDeadline });
    expect(advanced.result.stageDeadline).toBe(ledger.now + advanced.result.stageWindowSeconds);
  });

  it('when no committee decides in the stage window, the facts decide each stage', async () => {
    const t = await escrowedTrade();
    await expectCode(ledger.submit(who.buyer, 'trades:timeout', [t.tradeId]), 'PRECONDITION_FAILED', /execution stage runs until/);
    ledger.now = t.stageDeadline as number;
    const fin = (await ledger.submit<Trade>(who.buyer, 'trades:timeout', [t.tradeId])).result;
    expect(fin).toMatchObject({ state: 'FINAL', validation: { decidedByFacts: true } });
    await confirm(t, 1000);
    ledger.now = fin.stageDeadline as number;
    const done = (await ledger.submit<Trade>(who.seller, 'trades:timeout', [t.tradeId])).result;
    expect(done).toMatchObject({ state: 'SETTLED', outcome: { fault: 'none', paidToSeller: 40 } });
    const task = await readTaskOf(ledger, t.validation.taskId);
    expect(task).toMatchObject({ status: 'CLOSED', outcome: 'CANCELLED' });
  });
});

describe('flat costs', () => {
  it('accepting an offer reads the same keys whether the community has 12 or 42 members', async () => {
    const offer = (await ledger.submit<Offer>(who.seller, 'offers:create', [JSON.stringify(OFFER)])).result;
    const small = await ledger.run(who.buyer, 'offers:accept', [offer.offerId, '1000', '40'], { txId: 'probe' });
    for (let i = 0; i < 30; i++) await ledger.submit(identities.meter(U2, `meter-x${i}`, `zone-${i % 5}`), 'bootstrap:join', ['0']);
    const large = await ledger.run(who.buyer, 'offers:accept', [offer.offerId, '1000', '40'], { txId: 'probe' });
    expect(large.stub.readKeys).toEqual(small.stub.readKeys);
    expect(small.stub.readKeys.length).toBeLessThan(15);
  });
});
