/**
 * Fixed-price offers with escrow — seed 001's five scenarios — and their validated settlement
 * (seed 002 Fig. 5), including the §4 attack scenarios. Invariants are checked after every test.
 */
import type { Offer } from '../../src/market/domain/offer';
import type { Trade } from '@gridledger/protocol';
import { expectCode, TestLedger } from '../support/ledger';
import { communityLedger, drawCommittee, participantOf, runStage } from '../support/community';
import { balance, checkInvariants, fund, MeterSim, pid, T0, who, exportProof, importProof } from '../support/marketLedger';
import { nth } from '../support/lists';

const D = T0 + 2 * 86_400; // delivery interval [D, D+900), day 3
const OFFER = { amountWh: 2000, pricePerKwh: 30, deliveryStart: D, deliveryLength: 900, ttlSeconds: 3600 };
const COST = 60;
const COLLATERAL = 12; // 20 % of the cost (collateralBps 2000)
const POOL = 'pool:penalties';

let ledger: TestLedger;
let sellerMeter: MeterSim;
let buyerMeter: MeterSim;

beforeEach(async () => {
  ledger = await communityLedger();
  sellerMeter = new MeterSim(who.seller);
  buyerMeter = new MeterSim(who.buyer);
  await fund(ledger, who.seller, 1000);
  await fund(ledger, who.buyer, 1000);
});
afterEach(() => checkInvariants(ledger.world));

async function makeOffer(o: object = OFFER, seller = who.seller): Promise<Offer> {
  return (await ledger.submit<Offer>(seller, 'offers:create', [JSON.stringify(o)])).result;
}
async function accept(offer: Offer, buyer = who.buyer): Promise<Trade> {
  return (await ledger.submit<Trade>(buyer, 'offers:accept', [offer.offerId, String(offer.amountWh), String(offer.pricePerKwh)])).result;
}
async function trade(id: string): Promise<Trade> {
  return ledger.evaluate<Trade>(who.regulator, 'trades:get', [id]);
}

/** After the delivery interval: both meters report, the seller mints, and (optionally) escrows. */
async function afterDelivery(t: Trade, o: { exportWh: number; importWh: number; mintWh?: number; escrowWh?: number }): Promise<{ packetId: string }> {
  ledger.now = D + 900 + 60;
  await sellerMeter.post(ledger, sellerMeter.next(D, 10, o.exportWh));
  await buyerMeter.post(ledger, buyerMeter.next(D, o.importWh, 0));
  const pkt = await ledger.submit<{ packetId: string }>(who.seller, 'energy:mint', [JSON.stringify({ intervalStart: D, amountWh: o.mintWh ?? o.exportWh, source: 'solar' })], { transient: { exportProof: exportProof(sellerMeter.last!) } });
  if (o.escrowWh !== undefined) {
    await ledger.submit(who.seller, 'trades:deliverEnergy', [t.tradeId, JSON.stringify([{ packetId: pkt.result.packetId, amountWh: o.escrowWh }])]);
  }
  return pkt.result;
}

const approveAll = [{ approve: true }, { approve: true }, undefined];
const confirm = (t: Trade, receivedWh: number) =>
  ledger.submit<Trade>(who.buyer, 'trades:confirmDelivery', [t.tradeId, String(receivedWh)], { transient: { importProof: importProof(buyerMeter.last!) } });

describe('offer events', () => {
  it('OfferCreated names the seller, its utility and meter (the analytics store files the offer without reading it)', async () => {
    const r = await ledger.submit<Offer>(who.seller, 'offers:create', [JSON.stringify(OFFER)]);
    expect(r.events.find((e) => e.name === 'OfferCreated')?.payload).toEqual({
      offerId: r.result.offerId, amountWh: r.result.amountWh, pricePerKwh: r.result.pricePerKwh, deliveryStart: r.result.deliveryStart, expiresAt: r.result.expiresAt,
      seller: r.result.seller, sellerMspId: r.result.sellerMspId, sellerMeterId: r.result.sellerMeterId,
    });
    expect(typeof r.result.sellerMeterId).toBe('string');
  });
});

describe('scenario 1: energy sent and received', () => {
  it('offer → accept → escrow → execution (2f+1) → buyer meter evidence → final (2f+1) → settled', async () => {
    const offer = await makeOffer();
    expect(offer).toMatchObject({ status: 'OPEN', cost: COST, collateral: COLLATERAL });
    expect(await balance(ledger, who.seller)).toBe(1000 - COLLATERAL);
    const open = await ledger.evaluate<{ items: Offer[] }>(who.buyer, 'offers:listOpen', [String(D), '10', '']);
    expect(open.items.map((i) => i.offerId)).toEqual([offer.offerId]);

    const accepted = await ledger.submit<Trade>(who.buyer, 'offers:accept', [offer.offerId, String(offer.amountWh), String(offer.pricePerKwh)]);
    const t = accepted.result;
    expect(t).toMatchObject({ state: 'AWAITING_ENERGY', paymentEscrow: COST, collateralEscrow: COLLATERAL, amountWh: 2000 });
    // the event tells listeners when the delivery interval ends (the agents' slot leaders wait for the stage it opens)
    expect(accepted.events.find((e) => e.name === 'TradeCreated')?.payload).toMatchObject({ tradeId: t.tradeId, deliveryStart: D, deliveryLength: 900, deliveryDeadline: t.deliveryDeadline });
    // and who the parties are: a gateway knows whether the trade concerns its meters without reading it
    expect(accepted.events.find((e) => e.name === 'TradeCreated')?.payload).toMatchObject({ seller: t.seller, buyer: t.buyer, sellerMspId: t.sellerMspId, buyerMspId: t.buyerMspId, sellerMeterId: t.sellerMeterId, buyerMeterId: t.buyerMeterId });
    expect([t.seller, t.buyer, t.sellerMeterId, t.buyerMeterId].every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
    expect(await balance(ledger, who.buyer)).toBe(1000 - COST);
    expect((await ledger.evaluate<{ items: Offer[] }>(who.buyer, 'offers:listOpen', [String(D), '10', ''])).items).toEqual([]);

    await afterDelivery(t, { exportWh: 2500, importWh: 2600, escrowWh: 2000 });
    const ex = await trade(t.tradeId);
    expect(ex).toMatchObject({ state: 'EXECUTION', energyEscrowWh: 2000 });
    await drawCommittee(ledger, ex.validation.taskId);
    expect(await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll)).toMatchObject({ state: 'FINAL' });

    const ev = await confirm(t, 2000);
    expect(ev.result).toMatchObject({ meteredWh: 2000, buyerDeclaredWh: 2000 });
    const before = { seller: await participantOf(ledger, who.seller), buyer: await participantOf(ledger, who.buyer) };
    const done = (await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll)) as Trade;
    expect(done.state).toBe('SETTLED');
    expect(done.outcome).toMatchObject({ fault: 'none', paidToSeller: COST, refundedToBuyer: 0, collateralReturned: COLLATERAL, forfeited: 0, energyToBuyerWh: 2000 });
    expect(done.qScore?.q).toMatch(/^-?\d+$/);
    expect(await balance(ledger, who.seller)).toBe(1000 + COST);
    expect(await balance(ledger, who.buyer)).toBe(1000 - COST);
    const sellerE = await ledger.evaluate(who.buyer, 'energy:balance', [pid(who.seller)]);
    expect(sellerE).toMatchObject({ availableWh: 500, escrowedWh: 0, soldWh: 2000 });
    expect(await ledger.evaluate(who.buyer, 'energy:balance', [pid(who.buyer)])).toMatchObject({ claimedWh: 2000 });
    const after = { seller: await participantOf(ledger, who.seller), buyer: await participantOf(ledger, who.buyer) };
    expect(after.seller.qScore).toBeGreaterThan(before.seller.qScore);
    expect(after.buyer.qScore).toBeGreaterThan(before.buyer.qScore);

    // Double settlement attempts are conflicts and change nothing.
    await expectCode(ledger.submit(who.regulator, 'trades:decide', [t.tradeId]), 'CONFLICT');
    await expectCode(ledger.submit(who.regulator, 'trades:timeout', [t.tradeId]), 'CONFLICT');
    await expectCode(confirm(t, 2000), 'CONFLICT');
    await expectCode(accept(offer), 'CONFLICT', /ACCEPTED/);

    const mine = await ledger.evaluate<{ items: Array<{ role: string }> }>(who.buyer, 'trades:listByParticipant', [pid(who.buyer), '10', '']);
    expect(mine.items.map((i) => i.role)).toEqual(['buyer']);
    const hist = await ledger.evaluate<{ items: Array<{ state: string }> }>(who.buyer, 'trades:history', [t.tradeId, '50', '']);
    expect(hist.items.map((h) => h.state)).toEqual(['AWAITING_ENERGY', 'EXECUTION', 'FINAL', 'FINAL', 'SETTLED']);
  });

  it('under-delivery pays pro rata and is a seller fault', async () => {
    const t = await accept(await makeOffer());
    await afterDelivery(t, { exportWh: 1500, importWh: 3000, escrowWh: 1500 });
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll);
    await confirm(t, 1500);
    const done = (await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll)) as Trade;
    expect(done.outcome).toMatchObject({ fault: 'seller', paidToSeller: 45, refundedToBuyer: 15, forfeited: 3, collateralReturned: 9, energyToBuyerWh: 1500 });
    expect(await balance(ledger, POOL)).toBe(3);
    const seller = await participantOf(ledger, who.seller);
    expect(seller.penaltyCount).toBe(1);
    // Eq. (2) term (x = -1/4) and the penalty step are two history entries, none overwritten.
    const hist = await ledger.evaluate<{ entries: Array<{ seq: number; delta: number; qScore: number }> }>(who.seller, 'participants:getQScoreHistory', [pid(who.seller), '10', '']);
    expect(hist.entries.map((e) => e.seq)).toEqual([0, 1]);
    expect(hist.entries.every((e) => e.delta < 0)).toBe(true);
    expect(nth(hist.entries, 1).qScore).toBe(seller.qScore);
  });

  it('the buyer meter evidences less than was escrowed: pro rata, rest returns to the seller', async () => {
    const t = await accept(await makeOffer());
    await afterDelivery(t, { exportWh: 2000, importWh: 1200, escrowWh: 2000 });
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll);
    expect((await confirm(t, 1200)).result.meteredWh).toBe(1200);
    const done = (await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll)) as Trade;
    expect(done.outcome).toMatchObject({ paidToSeller: 36, refundedToBuyer: 24, energyToBuyerWh: 1200, energyReturnedWh: 800 });
    expect(await ledger.evaluate(who.buyer, 'energy:balance', [pid(who.seller)])).toMatchObject({ availableWh: 800, soldWh: 1200 });
  });
});

describe('determinism', () => {
  it('two endorsers produce byte-identical settlements (result, writes, event)', async () => {
    const t = await accept(await makeOffer());
    await afterDelivery(t, { exportWh: 2000, importWh: 2000, escrowWh: 2000 });
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll);
    await confirm(t, 2000);
    await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll, false);
    const other = ledger.fork();
    const a = await ledger.run(who.regulator, 'trades:decide', [t.tradeId], { txId: 'same-tx' });
    const b = await other.run(who.seller, 'trades:decide', [t.tradeId], { txId: 'same-tx', peerClock: ledger.now + 20 });
    const dump = (m: Map<string, Uint8Array | null>) => [...m].map(([k, v]) => [k, v ? Buffer.from(v).toString('hex') : null]);
    expect(a.raw).toBe(b.raw);
    expect(dump(a.stub.writes)).toEqual(dump(b.stub.writes));
    expect(a.stub.event?.payload).toEqual(b.stub.event?.payload);
    a.stub.commitTo(ledger.world);
  });
});

describe('scenario 2: give up an offer', () => {
  it('before expiry a share of the collateral is forfeited', async () => {
    const offer = await makeOffer();
    const r = await ledger.submit<Offer>(who.seller, 'offers:giveUp', [offer.offerId]);
    expect(r.result).toMatchObject({ status: 'WITHDRAWN', forfeited: 1, collateralReturned: 11 });
    expect(await balance(ledger, who.seller)).toBe(999);
    expect(await balance(ledger, POOL)).toBe(1);
    await expectCode(accept(offer), 'CONFLICT', /WITHDRAWN/);
  });
  it('after expiry the collateral comes back in full; only the seller may give up', async () => {
    const offer = await makeOffer();
    await expectCode(ledger.submit(who.buyer, 'offers:giveUp', [offer.offerId]), 'FORBIDDEN');
    ledger.advance(3600);
    expect((await ledger.submit<Offer>(who.seller, 'offers:giveUp', [offer.offerId])).result).toMatchObject({ status: 'EXPIRED', forfeited: 0 });
    expect(await balance(ledger, who.seller)).toBe(1000);
  });
});

describe('scenario 3: late acceptance', () => {
  it('is refused without charging the buyer; the collateral is returned on expiry', async () => {
    const offer = await makeOffer();
    ledger.advance(3600);
    await expectCode(accept(offer), 'PRECONDITION_FAILED', /expired/);
    expect(await balance(ledger, who.buyer)).toBe(1000);
    await expectCode(ledger.submit(who.buyer, 'offers:expire', ['ofr-nope']), 'NOT_FOUND');
    expect((await ledger.submit<Offer>(who.buyer, 'offers:expire', [offer.offerId])).result).toMatchObject({ status: 'EXPIRED', collateralReturned: COLLATERAL });
    expect(await balance(ledger, who.seller)).toBe(1000);
  });
  it('cannot expire an offer early; mismatched or self acceptance and missing funds are refused', async () => {
    const offer = await makeOffer();
    await expectCode(ledger.submit(who.buyer, 'offers:expire', [offer.offerId]), 'PRECONDITION_FAILED');
    await expectCode(ledger.submit(who.buyer, 'offers:accept', [offer.offerId, '1999', '30']), 'CONFLICT', /match the offer/);
    await expectCode(ledger.submit(who.buyer, 'offers:accept', [offer.offerId, '2000', '31']), 'CONFLICT');
    await expectCode(ledger.submit(who.seller, 'offers:accept', [offer.offerId, '2000', '30']), 'FORBIDDEN');
    await expectCode(accept(offer, who.buyer2), 'INSUFFICIENT_FUNDS');
    await expectCode(makeOffer(OFFER, who.buyer2), 'INSUFFICIENT_FUNDS');
    await expectCode(ledger.submit(who.op1, 'offers:create', [JSON.stringify(OFFER)]), 'FORBIDDEN');
    await expectCode(makeOffer({ ...OFFER, pricePerKwh: 1 }), 'PRECONDITION_FAILED', /P_k/);
    await expectCode(makeOffer({ ...OFFER, extra: 1 }), 'INVALID_ARGUMENT');
  });
});

describe('scenario 4: late delivery', () => {
  it('a late deliverEnergy refunds the buyer, forfeits a share and counts a penalty', async () => {
    const t = await accept(await makeOffer());
    const pkt = await afterDelivery(t, { exportWh: 2000, importWh: 2000 });
    ledger.now = t.deliveryDeadline + 1;
    const r = await ledger.submit<Trade>(who.seller, 'trades:deliverEnergy', [t.tradeId, JSON.stringify([{ packetId: pkt.packetId, amountWh: 2000 }])]);
    expect(r.result).toMatchObject({ state: 'FAILED_LATE', outcome: { fault: 'seller', refundedToBuyer: COST, forfeited: 3, collateralReturned: 9 } });
    expect(await balance(ledger, who.buyer)).toBe(1000);
    expect(await balance(ledger, who.seller)).toBe(997);
    expect((await participantOf(ledger, who.seller)).penaltyCount).toBe(1);
    expect(await ledger.evaluate(who.buyer, 'energy:balance', [pid(who.seller)])).toMatchObject({ availableWh: 2000, escrowedWh: 0 });
  });
  it('anyone may time out an undelivered trade after the deadline, not before', async () => {
    const t = await accept(await makeOffer());
    await expectCode(ledger.submit(who.buyer, 'trades:timeout', [t.tradeId]), 'PRECONDITION_FAILED');
    ledger.now = t.deliveryDeadline;
    expect((await ledger.submit<Trade>(who.buyer, 'trades:timeout', [t.tradeId])).result.state).toBe('FAILED_LATE');
  });
});

describe('scenario 5: more than k penalties bans the seller', () => {
  it('is banned for the regulator\'s period, then may trade again', async () => {
    await ledger.submit(who.regulator, 'governance:setParameters', [JSON.stringify({ penaltyThreshold: 1, banSeconds: 86_400 })]);
    for (let i = 0; i < 2; i++) {
      const t = await accept(await makeOffer({ ...OFFER, deliveryStart: D + i * 900 }));
      ledger.now = t.deliveryDeadline;
      await ledger.submit(who.buyer, 'trades:timeout', [t.tradeId]);
      ledger.now = T0 + 86_400;
    }
    const p = await participantOf(ledger, who.seller);
    expect(p).toMatchObject({ penaltyCount: 2, status: 'BANNED' });
    ledger.now = p.bannedUntil - 1;
    const later = { ...OFFER, deliveryStart: D + 7 * 86_400 };
    await expectCode(makeOffer(later), 'FORBIDDEN', /banned/);
    ledger.now = p.bannedUntil;
    expect((await makeOffer(later)).status).toBe('OPEN');
  });
});

describe('seed 002 §4 attacks and wrong identities', () => {
  it('malicious seller escrows a different amount than contracted: declined, buyer made whole, seller penalised', async () => {
    const t = await accept(await makeOffer());
    await afterDelivery(t, { exportWh: 3000, importWh: 3000, escrowWh: 2500 });
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    const sellerQ = (await participantOf(ledger, who.seller)).qScore;
    const buyerQ = (await participantOf(ledger, who.buyer)).qScore;
    const reject = { approve: false, conditions: { condition1: false } };
    const done = (await runStage(ledger, t.tradeId, ex.validation.taskId, [reject, reject, undefined])) as Trade;
    expect(done).toMatchObject({ state: 'DECLINED', outcome: { fault: 'seller', paidToSeller: 0, refundedToBuyer: COST, energyReturnedWh: 2500, forfeited: 3 } });
    expect(await balance(ledger, who.buyer)).toBe(1000);
    expect((await participantOf(ledger, who.seller)).qScore).toBeLessThan(sellerQ);
    expect((await participantOf(ledger, who.buyer)).qScore).toBe(buyerQ);
    expect(await ledger.evaluate(who.buyer, 'energy:balance', [pid(who.seller)])).toMatchObject({ availableWh: 3000 });
  });

  it('a committee approval cannot move money against the facts', async () => {
    const t = await accept(await makeOffer());
    await afterDelivery(t, { exportWh: 3000, importWh: 3000, escrowWh: 2500 });
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    // The leader's entry refuses (its verdict follows the facts), so it takes all three other
    // members to approve: the committee approves, and the facts still decline.
    const done = (await runStage(ledger, t.tradeId, ex.validation.taskId, [{ approve: true }, { approve: true }, { approve: true }])) as Trade;
    expect(done).toMatchObject({ state: 'DECLINED', outcome: { fault: 'seller' } });
  });

  it('malicious buyer declares less than its meter shows: declined as buyer fault, seller paid per the meter', async () => {
    const t = await accept(await makeOffer());
    await afterDelivery(t, { exportWh: 2000, importWh: 2000, escrowWh: 2000 });
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll);
    await confirm(t, 0);
    const buyerQ = (await participantOf(ledger, who.buyer)).qScore;
    const sellerQ = (await participantOf(ledger, who.seller)).qScore;
    const reject = { approve: false, conditions: { condition3: false } };
    const done = (await runStage(ledger, t.tradeId, ex.validation.taskId, [reject, reject, undefined])) as Trade;
    expect(done).toMatchObject({ state: 'SETTLED', outcome: { fault: 'buyer', paidToSeller: COST, collateralReturned: COLLATERAL, energyToBuyerWh: 2000 } });
    expect((await participantOf(ledger, who.buyer)).qScore).toBeLessThan(buyerQ);
    expect((await participantOf(ledger, who.seller)).qScore).toBe(sellerQ);
    // the faulty party is penalised: a buyer fault counts toward the BUYER's penalty count
    expect((await participantOf(ledger, who.buyer)).penaltyCount).toBe(1);
    expect((await participantOf(ledger, who.seller)).penaltyCount).toBe(0);
    expect(await balance(ledger, who.seller)).toBe(1000 + COST);
  });

  it('a buyer who never evidences delivery is at fault when the final window closes', async () => {
    const t = await accept(await makeOffer());
    await afterDelivery(t, { exportWh: 2000, importWh: 2000, escrowWh: 2000 });
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    const fin = (await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll)) as Trade;
    await expectCode(ledger.submit(who.regulator, 'trades:timeout', [t.tradeId]), 'PRECONDITION_FAILED');
    await expectCode(ledger.submit(who.regulator, 'trades:decide', [t.tradeId]), 'PRECONDITION_FAILED', /evidence/);
    ledger.now = fin.stageDeadline as number;
    const done = (await ledger.submit<Trade>(who.regulator, 'trades:timeout', [t.tradeId])).result;
    expect(done).toMatchObject({ state: 'SETTLED', outcome: { fault: 'buyer', paidToSeller: COST }, validation: { decidedByFacts: true } });
    expect((await participantOf(ledger, who.buyer)).penaltyCount).toBe(1);
  });

  it('wrong identities, forged evidence, bad packets and insufficient energy are refused', async () => {
    const t = await accept(await makeOffer());
    // A packet metered in the interval before delivery is not evidence of this delivery.
    ledger.now = D + 960;
    await sellerMeter.post(ledger, sellerMeter.next(D - 900, 0, 500));
    const early = await ledger.submit<{ packetId: string }>(who.seller, 'energy:mint', [JSON.stringify({ intervalStart: D - 900, amountWh: 500, source: 'wind' })], { transient: { exportProof: exportProof(sellerMeter.last!) } });
    const pkt = await afterDelivery(t, { exportWh: 1800, importWh: 2000 });
    const deliver = (who_: typeof who.seller, uses: object) => ledger.submit(who_, 'trades:deliverEnergy', [t.tradeId, JSON.stringify(uses)]);
    await expectCode(deliver(who.buyer, [{ packetId: pkt.packetId, amountWh: 10 }]), 'FORBIDDEN');
    await expectCode(deliver(who.seller, [{ packetId: pkt.packetId, amountWh: 1801 }]), 'INSUFFICIENT_ENERGY');
    await expectCode(deliver(who.seller, [{ packetId: pkt.packetId, amountWh: 1 }, { packetId: pkt.packetId, amountWh: 1 }]), 'INVALID_ARGUMENT', /twice/);
    await expectCode(deliver(who.seller, []), 'INVALID_ARGUMENT');
    await expectCode(deliver(who.seller, [{ packetId: early.result.packetId, amountWh: 10 }]), 'CONFLICT', /not in the delivery interval/);
    await expectCode(deliver(who.seller, [{ packetId: 'pkt-missing', amountWh: 10 }]), 'NOT_FOUND');
    await expectCode(ledger.submit(who.buyer, 'trades:confirmDelivery', [t.tradeId, '1']), 'CONFLICT', /FINAL/);
    await deliver(who.seller, [{ packetId: pkt.packetId, amountWh: 1800 }]);
    await expectCode(deliver(who.seller, [{ packetId: pkt.packetId, amountWh: 1 }]), 'CONFLICT');
    const ex = await trade(t.tradeId);
    await drawCommittee(ledger, ex.validation.taskId);
    await expectCode(ledger.submit(who.seller, 'trades:vote', [t.tradeId, JSON.stringify({ approve: true })]), 'FORBIDDEN', /not on the committee/);
    await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll);
    await expectCode(ledger.submit(who.seller, 'trades:confirmDelivery', [t.tradeId, '1800'], { transient: { importProof: importProof(buyerMeter.last!) } }), 'FORBIDDEN');
    await expectCode(ledger.submit(who.buyer, 'trades:confirmDelivery', [t.tradeId, '1800'], { transient: { importProof: importProof({ ...buyerMeter.last!, importWh: 1 }) } }), 'CONFLICT', /hash/);
    await expectCode(ledger.submit(who.buyer, 'trades:confirmDelivery', [t.tradeId, '1800']), 'INVALID_ARGUMENT', /transient/);
    await confirm(t, 1800);
    const done = (await runStage(ledger, t.tradeId, ex.validation.taskId, approveAll)) as Trade;
    expect(done.outcome).toMatchObject({ fault: 'seller', energyToBuyerWh: 1800 });
  });
});
