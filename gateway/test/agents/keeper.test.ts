import { auctionClosePlan, auctionExpirePlan, DEFAULT_FOLD_POLICY, drawPlan, foldPlan, foldPolicyFor, indexSyncPlan, keeperDelayMs, offerPlan, redrawPlan, tradePlan } from '../../src/agents/duties/keeper';
import { task, trade } from './fixtures';
import type { AuctionView, ParticipantView } from '../../src/agents/duties/types';

const S = 1_767_300_000;

describe('keeper plans', () => {
  it('offers:expire from expiresAt while the offer is open', () => {
    expect(offerPlan({ offerId: 'o', expiresAt: S, status: 'OPEN' }, S * 1000 - 1)).toEqual({ act: false, atMs: S * 1000 });
    expect(offerPlan({ offerId: 'o', expiresAt: S, status: 'OPEN' }, S * 1000)).toEqual({ act: true });
    expect(offerPlan({ offerId: 'o', expiresAt: S, status: 'ACCEPTED' }, S * 1000 + 5)).toEqual({ done: 'offer accepted' });
  });

  it('trades:timeout after the delivery deadline, then after each stage window; never on a closed trade', () => {
    const t = trade({ state: 'AWAITING_ENERGY', deliveryDeadline: S });
    expect(tradePlan(t, S * 1000 - 1)).toEqual({ act: false, atMs: S * 1000 });
    expect(tradePlan(t, S * 1000)).toEqual({ act: true });
    expect(tradePlan(trade({ state: 'FINAL', stageDeadline: S + 60 }), S * 1000)).toEqual({ act: false, atMs: (S + 60) * 1000 });
    expect(tradePlan(trade({ state: 'SETTLED' }), S * 1000)).toEqual({ done: 'trade SETTLED' });
  });

  it('auctions:close from t2; auctions:expire from the claim deadline while awarded (a re-award moves it)', () => {
    const a: AuctionView = { requestId: 'r', t1: S, t2: S + 60, claimDeadline: S + 120, status: 'OPEN' };
    expect(auctionClosePlan(a, (S + 59) * 1000)).toEqual({ act: false, atMs: (S + 60) * 1000 });
    expect(auctionClosePlan(a, (S + 60) * 1000)).toEqual({ act: true });
    expect(auctionClosePlan({ ...a, status: 'AWARDED' }, (S + 60) * 1000)).toEqual({ done: 'auction AWARDED' });
    expect(auctionExpirePlan({ ...a, status: 'AWARDED' }, (S + 100) * 1000)).toEqual({ act: false, atMs: (S + 120) * 1000 });
    expect(auctionExpirePlan({ ...a, status: 'AWARDED' }, (S + 120) * 1000)).toEqual({ act: true });
    expect(auctionExpirePlan({ ...a, status: 'TRADED' }, (S + 120) * 1000)).toEqual({ done: 'auction TRADED' });
    expect('act' in auctionExpirePlan(a, (S + 10) * 1000) && !(auctionExpirePlan(a, (S + 10) * 1000) as { act: boolean }).act).toBe(true);
  });

  it('committees:redraw strictly after the round deadline, for that round only', () => {
    const t = task();
    expect(redrawPlan(t, 0, t.deadlineAt * 1000)).toEqual({ act: false, atMs: (t.deadlineAt + 1) * 1000 });
    expect(redrawPlan(t, 0, (t.deadlineAt + 1) * 1000 - 1)).toEqual({ act: false, atMs: (t.deadlineAt + 1) * 1000 });
    expect(redrawPlan(t, 0, (t.deadlineAt + 1) * 1000)).toEqual({ act: true });
    expect(redrawPlan({ ...t, round: 1 }, 0, (t.deadlineAt + 1) * 1000)).toEqual({ done: 'round 0 already replaced by round 1' });
    expect(redrawPlan({ ...t, status: 'CLOSED', outcome: 'APPROVED' }, 0, (t.deadlineAt + 1) * 1000)).toEqual({ done: 'task closed (APPROVED)' });
  });

  it('participants:syncCommitteeIndex once the ban ran out (the view then reads active)', () => {
    const p: ParticipantView = { participantId: 'p', mspId: 'M', zone: 'z', status: 'BANNED', bannedUntil: 1000 };
    expect(indexSyncPlan(p, 500_000)).toEqual({ act: false, atMs: 1_001_000 });
    expect(indexSyncPlan({ ...p, status: 'ACTIVE' }, 1_001_000)).toEqual({ act: true });
    expect(indexSyncPlan({ ...p, status: 'ACTIVE' }, 999_999)).toEqual({ done: 'participant ACTIVE' });
    expect(indexSyncPlan({ ...p, status: 'SUSPENDED' }, 1_001_000)).toEqual({ done: 'participant SUSPENDED' });
    expect(indexSyncPlan({ ...p, bannedUntil: 0, status: 'ACTIVE' }, 1_001_000)).toEqual({ done: 'no ban' });
  });

  it('staggers the utilities\' keepers so they do not all collide on one key', () => {
    const delays = new Set(['Utility1MSP', 'Utility2MSP', 'Utility3MSP'].map((m) => keeperDelayMs(m, 2000, 3000)));
    for (const d of delays) expect([2000, 5000, 8000]).toContain(d);
    expect(delays.size).toBeGreaterThan(1);
  });

  it("the offer's own utility keeps its deadline first; the others stand in backupMs later, still staggered", () => {
    expect(keeperDelayMs('Utility1MSP', 2000, 3000, 'Utility1MSP', 20_000)).toBe(2000);
    for (const m of ['Utility2MSP', 'Utility3MSP']) expect([22_000, 25_000, 28_000]).toContain(keeperDelayMs(m, 2000, 3000, 'Utility1MSP', 20_000));
    // no custodian: the staggered delay as before
    expect(keeperDelayMs('Utility2MSP', 2000, 3000, undefined, 20_000)).toBe(keeperDelayMs('Utility2MSP', 2000, 3000));
  });

  it('committees:draw while the round is seeded without a committee; over once drawn, replaced or closed', () => {
    expect(drawPlan(task({ status: 'SEEDED', committee: [] }), 0, S * 1000)).toEqual({ act: true });
    expect(drawPlan(task(), 0, S * 1000)).toEqual({ done: 'committee drawn' });
    expect(drawPlan(task({ status: 'SEEDED', round: 1 }), 0, S * 1000)).toEqual({ done: 'round 0 already replaced by round 1' });
    expect(drawPlan(task({ status: 'CLOSED', outcome: 'CANCELLED' }), 0, S * 1000)).toEqual({ done: 'task closed (CANCELLED)' });
    // a peer that has not seen the beacon complete yet: look again shortly
    expect(drawPlan(task({ status: 'AWAITING_ENTROPY' }), 0, S * 1000)).toEqual({ act: false, atMs: S * 1000 + 5000 });
  });

  describe('participants:foldScore (score-fold): folds a quiet participant, waits while credits keep arriving', () => {
    const policy = { quietMs: 60_000, maxAgeMs: 300_000, maxPending: 32 };
    const p = (pendingCredits: number, oldestCreditAt: number, newestCreditAt: number): ParticipantView => ({ participantId: 'p', mspId: 'M', zone: 'z', status: 'ACTIVE', pendingCredits, oldestCreditAt, newestCreditAt });

    it('waits until no credit arrived for quietMs, then folds', () => {
      expect(foldPlan(p(3, S, S + 30), (S + 60) * 1000, policy)).toEqual({ act: false, atMs: (S + 90) * 1000 });
      expect(foldPlan(p(3, S, S + 30), (S + 90) * 1000, policy)).toEqual({ act: true });
    });

    it('a new credit moves the wait (the re-read sees it), so it never folds in the middle of a burst of settlements', () => {
      // the duty woke at the first credit's quiet time, but another credit arrived meanwhile
      expect(foldPlan(p(4, S, S + 55), (S + 60) * 1000, policy)).toEqual({ act: false, atMs: (S + 115) * 1000 });
    });

    it('a participant that is never quiet is folded once its oldest credit is maxAgeMs old, or maxPending are pending', () => {
      expect(foldPlan(p(10, S, S + 290), (S + 299) * 1000, policy)).toEqual({ act: false, atMs: (S + 300) * 1000 });
      expect(foldPlan(p(10, S, S + 299), (S + 300) * 1000, policy)).toEqual({ act: true });
      expect(foldPlan(p(32, S + 10, S + 20), (S + 21) * 1000, policy)).toEqual({ act: true });
      expect(foldPlan(p(31, S + 10, S + 20), (S + 21) * 1000, policy)).toEqual({ act: false, atMs: (S + 80) * 1000 });
    });

    it('is over once nothing is pending (a lowering, a re-stake or another caller folded first: a lost race, nothing to do)', () => {
      expect(foldPlan(p(0, 0, 0), (S + 1000) * 1000, policy)).toEqual({ done: 'no credits pending' });
      // a chaincode without the credit summary: nothing to decide on
      expect(foldPlan({ participantId: 'p', mspId: 'M', zone: 'z', status: 'ACTIVE' }, S * 1000, policy)).toMatchObject({ done: expect.stringContaining('no credit summary') });
    });

    it('defaults: quiet for a devnet interval, at most 5 minutes behind, at most 32 credits', () => {
      expect(DEFAULT_FOLD_POLICY).toEqual(policy);
    });

    it("follows the ledger's slot length: quiet for two slots, at most ten behind; what the gateway sets wins", () => {
      expect(foldPolicyFor(30)).toEqual(policy); // the devnet's 30 s slots give the defaults
      expect(foldPolicyFor(300)).toEqual({ quietMs: 600_000, maxAgeMs: 3_000_000, maxPending: 32 }); // production's 300 s slots
      expect(foldPolicyFor(300, { quietMs: 90_000 })).toEqual({ quietMs: 90_000, maxAgeMs: 3_000_000, maxPending: 32 });
      expect(foldPolicyFor(undefined, { maxPending: 8 })).toEqual({ ...policy, maxPending: 8 }); // slot length not known yet
      expect(foldPolicyFor(0)).toEqual(policy);
      // on 300 s slots a credit 5 minutes old is still within its burst: not folded yet
      expect(foldPlan(p(3, S, S + 300), (S + 600) * 1000, foldPolicyFor(300))).toEqual({ act: false, atMs: (S + 900) * 1000 });
    });
  });
});
