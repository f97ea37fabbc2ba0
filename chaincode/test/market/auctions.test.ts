/**
 * Sealed-bid reverse auction (seed 000) end to end on the ledger: request, hashed bids (filter 1),
 * reveals (filter 2), close with deterministic tie-break, identity reveal by the winners, then the
 * escrowed trade settles through the committee. Invariants are checked after every test.
 */
import { identityCommitment, priceCommitment } from '../../src/market/domain/auction';
import type { AuctionBid, AuctionRequest } from '../../src/market/domain/auction';
import type { Trade } from '@gridledger/protocol';
import { expectCode, TestLedger } from '../support/ledger';
import { communityLedger, drawCommittee, runStage } from '../support/community';
import { balance, checkInvariants, fund, MeterSim, pid, T0, who, exportProof, importProof } from '../support/marketLedger';

const NOW = T0 + 86_400;
const D = T0 + 2 * 86_400;
const U_VB = 'buyer-unique-value-0001';
const secret = (n: number) => `seller-unique-value-000${n}`;
const salt = (n: number) => `price-salt-abcdef-${n}`;

let ledger: TestLedger;
beforeEach(async () => {
  ledger = await communityLedger();
  for (const s of [who.buyer, who.seller, who.seller2, who.buyer2]) await fund(ledger, s, 1000);
});
afterEach(() => checkInvariants(ledger.world));

const REQ = { amountWh: 1000, maxPricePerKwh: 40, t1: NOW + 600, t2: NOW + 1200, deliveryStart: D, deliveryLength: 900 };

async function request(extra: object = {}): Promise<AuctionRequest> {
  const body = { ...REQ, buyerCommitment: identityCommitment(pid(who.buyer), U_VB), ...extra };
  return (await ledger.submit<AuctionRequest>(who.buyer, 'auctions:request', [JSON.stringify(body)])).result;
}
async function bid(r: AuctionRequest, spec: typeof who.seller, n: number, price: number, energyWh = 1000): Promise<AuctionBid> {
  const body = { energyWh, priceCommitment: priceCommitment(r.requestId, price, salt(n)), sellerCommitment: identityCommitment(pid(spec), secret(n)) };
  return (await ledger.submit<AuctionBid>(spec, 'auctions:bid', [r.requestId, JSON.stringify(body)])).result;
}
const reveal = (r: AuctionRequest, b: AuctionBid, n: number, price: number, spec = who.seller) =>
  ledger.submit<AuctionBid>(spec, 'auctions:reveal', [r.requestId, b.offerId, JSON.stringify({ pricePerKwh: price, salt: salt(n) })]);

describe('sealed-bid reverse auction', () => {
  it('runs from request to a settled trade; no price is on the ledger before its reveal', async () => {
    const r = await request();
    expect(r.requestId).toMatch(/^req-/);
    expect(JSON.stringify(r)).not.toContain(pid(who.buyer));
    const open = await ledger.evaluate<{ items: AuctionRequest[] }>(who.seller, 'auctions:listOpen', [String(D), '10', '']);
    expect(open.items.map((i) => i.requestId)).toEqual([r.requestId]);

    const b1 = await bid(r, who.seller, 1, 25);
    const b2 = await bid(r, who.seller2, 2, 30);
    await expectCode(bid(r, who.buyer2, 3, 20, 999), 'PRECONDITION_FAILED', /filter 1/);
    const auctionState = [...ledger.world.state.entries()].filter(([k]) => k.includes('gl.market.auction')).map(([, v]) => Buffer.from(v).toString()).join('\n');
    expect(auctionState).not.toMatch(/"pricePerKwh"/);
    for (const s of [who.buyer, who.seller, who.seller2]) expect(auctionState).not.toContain(pid(s));

    await expectCode(reveal(r, b1, 1, 25), 'PRECONDITION_FAILED', /reveals open at t1/);
    ledger.now = NOW + 600;
    await expectCode(bid(r, who.buyer2, 4, 20), 'PRECONDITION_FAILED', /t1/);
    await expectCode(reveal(r, b1, 1, 24), 'INVALID_ARGUMENT', /do not match the commitment/);
    expect((await reveal(r, b1, 1, 25)).result).toMatchObject({ status: 'REVEALED', pricePerKwh: 25 });
    await expectCode(reveal(r, b1, 1, 25), 'CONFLICT', /replayed/);
    expect((await reveal(r, b2, 2, 30, who.seller2)).result.status).toBe('REVEALED');
    await expectCode(ledger.submit(who.regulator, 'auctions:close', [r.requestId]), 'PRECONDITION_FAILED');

    ledger.now = NOW + 1200;
    await expectCode(reveal(r, b2, 2, 30, who.seller2), 'PRECONDITION_FAILED', /closed at t2/);
    const closed = (await ledger.submit<AuctionRequest>(who.regulator, 'auctions:close', [r.requestId])).result;
    expect(closed).toMatchObject({ status: 'AWARDED', winnerOfferId: b1.offerId, winnerPricePerKwh: 25 });
    await expectCode(ledger.submit(who.regulator, 'auctions:close', [r.requestId]), 'CONFLICT');

    // Identity reveal: the secret only opens the commitment for the participant who made it.
    await expectCode(ledger.submit(who.buyer2, 'auctions:claimBuyer', [r.requestId, U_VB]), 'FORBIDDEN');
    await expectCode(ledger.submit(who.seller2, 'auctions:claimSeller', [r.requestId, secret(2)]), 'FORBIDDEN');
    await ledger.submit(who.buyer, 'auctions:claimBuyer', [r.requestId, U_VB]);
    expect(await balance(ledger, who.buyer)).toBe(1000 - 25);
    await expectCode(ledger.submit(who.buyer, 'auctions:claimBuyer', [r.requestId, U_VB]), 'CONFLICT');
    const traded = (await ledger.submit<AuctionRequest>(who.seller, 'auctions:claimSeller', [r.requestId, secret(1)])).result;
    expect(traded.status).toBe('TRADED');
    expect(await balance(ledger, who.seller)).toBe(1000 - 5);

    const t = await ledger.evaluate<Trade>(who.regulator, 'trades:get', [traded.tradeId as string]);
    expect(t).toMatchObject({ origin: 'auction', amountWh: 1000, pricePerKwh: 25, paymentEscrow: 25, collateralEscrow: 5, seller: pid(who.seller), buyer: pid(who.buyer) });

    // Delivery, with readings from two distinct meter identities, then validated settlement.
    const sm = new MeterSim(who.seller);
    const bm = new MeterSim(who.buyer);
    ledger.now = D + 960;
    await sm.post(ledger, sm.next(D, 0, 1200));
    await bm.post(ledger, bm.next(D, 1500, 0));
    const pkt = await ledger.submit<{ packetId: string }>(who.seller, 'energy:mint', [JSON.stringify({ intervalStart: D, amountWh: 1000, source: 'solar' })], { transient: { exportProof: exportProof(sm.last!) } });
    await ledger.submit(who.seller, 'trades:deliverEnergy', [t.tradeId, JSON.stringify([{ packetId: pkt.result.packetId, amountWh: 1000 }])]);
    const taskId = t.validation.taskId;
    await drawCommittee(ledger, taskId);
    const approve = [{ approve: true }, { approve: true }, { approve: true }];
    await runStage(ledger, t.tradeId, taskId, approve);
    await ledger.submit(who.buyer, 'trades:confirmDelivery', [t.tradeId, '1000'], { transient: { importProof: importProof(bm.last!) } });
    const done = (await runStage(ledger, t.tradeId, taskId, approve)) as Trade;
    expect(done).toMatchObject({ state: 'SETTLED', outcome: { fault: 'none', paidToSeller: 25 } });
    expect(await balance(ledger, who.seller)).toBe(1025);
    expect(await balance(ledger, who.buyer)).toBe(975);
  });

  it('filter 2 drops prices above P_m or below P_k; ties break the same whatever the bid order', async () => {
    const r = await request();
    const b1 = await bid(r, who.seller, 1, 30);
    const b2 = await bid(r, who.seller2, 2, 30);
    const b3 = await bid(r, who.buyer2, 3, 41);
    ledger.now = NOW + 600;
    await reveal(r, b2, 2, 30);
    await reveal(r, b1, 1, 30);
    expect((await reveal(r, b3, 3, 41)).result).toMatchObject({ status: 'FILTERED', filterReason: expect.stringMatching(/P_m/) });
    ledger.now = NOW + 1200;
    const fork = ledger.fork();
    const a = (await ledger.submit<AuctionRequest>(who.regulator, 'auctions:close', [r.requestId])).result;
    const b = (await fork.submit<AuctionRequest>(who.seller, 'auctions:close', [r.requestId], { txId: 'another-tx' })).result;
    expect(a.winnerOfferId).toBe(b.winnerOfferId);
    expect([b1.offerId, b2.offerId]).toContain(a.winnerOfferId);
    const bids = await ledger.evaluate<{ items: AuctionBid[]; bookmark: string }>(who.buyer, 'auctions:listBids', [r.requestId, '2', '']);
    expect(bids.items).toHaveLength(2);
    const rest = await ledger.evaluate<{ items: AuctionBid[]; bookmark: string }>(who.buyer, 'auctions:listBids', [r.requestId, '2', bids.bookmark]);
    expect(rest).toMatchObject({ bookmark: '' });
    expect(rest.items).toHaveLength(1);
  });

  it('rejects P_m ≤ P_k, bad deadlines; no valid reveal means no winner', async () => {
    await expectCode(request({ maxPricePerKwh: 5 }), 'PRECONDITION_FAILED', /P_m/);
    await expectCode(request({ t1: NOW - 1 }), 'INVALID_ARGUMENT');
    await expectCode(ledger.submit(who.op1, 'auctions:request', [JSON.stringify({ ...REQ, buyerCommitment: 'a'.repeat(64) })]), 'FORBIDDEN');
    const r = await request();
    await bid(r, who.seller, 1, 30);
    ledger.now = NOW + 1200; // never revealed
    expect((await ledger.submit<AuctionRequest>(who.regulator, 'auctions:close', [r.requestId])).result.status).toBe('NO_WINNER');
  });

  it('a winner who does not claim in time: escrow returned, auction FAILED', async () => {
    const r = await request();
    const b1 = await bid(r, who.seller, 1, 30);
    ledger.now = NOW + 600;
    await reveal(r, b1, 1, 30);
    ledger.now = NOW + 1200;
    await ledger.submit(who.regulator, 'auctions:close', [r.requestId]);
    await ledger.submit(who.buyer, 'auctions:claimBuyer', [r.requestId, U_VB]);
    await expectCode(ledger.submit(who.regulator, 'auctions:expire', [r.requestId]), 'PRECONDITION_FAILED');
    ledger.now = r.claimDeadline + 1;
    await expectCode(ledger.submit(who.seller, 'auctions:claimSeller', [r.requestId, secret(1)]), 'PRECONDITION_FAILED', /claim window/);
    expect((await ledger.submit<AuctionRequest>(who.regulator, 'auctions:expire', [r.requestId])).result.status).toBe('FAILED');
    expect(await balance(ledger, who.buyer)).toBe(1000);
  });

  it('the buyer without funds cannot claim; the regulator sets P_k', async () => {
    await ledger.submit(who.regulator, 'market:setParameters', [JSON.stringify({ minPricePerKwh: 20 })]);
    await expectCode(ledger.submit(who.op1, 'market:setParameters', [JSON.stringify({ minPricePerKwh: 1 })]), 'FORBIDDEN');
    const r = await request({ amountWh: 100_000 });
    const b1 = await bid(r, who.seller, 1, 19, 100_000);
    const b2 = await bid(r, who.seller2, 2, 39, 100_000);
    ledger.now = NOW + 600;
    expect((await reveal(r, b1, 1, 19)).result.status).toBe('FILTERED');
    await reveal(r, b2, 2, 39, who.seller2);
    ledger.now = NOW + 1200;
    await ledger.submit(who.regulator, 'auctions:close', [r.requestId]);
    await expectCode(ledger.submit(who.buyer, 'auctions:claimBuyer', [r.requestId, U_VB]), 'INSUFFICIENT_FUNDS');
  });
});

describe('auction winner no-show', () => {
  it('passes the award to the next-ranked bid when the winning seller does not claim', async () => {
    const r = await request({ deliveryStart: D + 86_400 });
    const b1 = await bid(r, who.seller, 1, 20);
    const b2 = await bid(r, who.seller2, 2, 35);
    ledger.now = NOW + 600;
    await reveal(r, b1, 1, 20);
    await reveal(r, b2, 2, 35, who.seller2);
    ledger.now = NOW + 1200;
    await ledger.submit(who.regulator, 'auctions:close', [r.requestId]);
    await ledger.submit(who.buyer, 'auctions:claimBuyer', [r.requestId, U_VB]);
    expect(await balance(ledger, who.buyer)).toBe(1000 - 20);
    ledger.now = r.claimDeadline + 1;
    const re = (await ledger.submit<AuctionRequest>(who.seller2, 'auctions:expire', [r.requestId])).result;
    expect(re).toMatchObject({ status: 'AWARDED', winnerOfferId: b2.offerId, winnerPricePerKwh: 35, passedOver: [b1.offerId] });
    expect(re.buyerClaim).toBeUndefined();
    expect(await balance(ledger, who.buyer)).toBe(1000);
    await expectCode(ledger.submit(who.seller, 'auctions:claimSeller', [r.requestId, secret(1)]), 'FORBIDDEN');
    await ledger.submit(who.seller2, 'auctions:claimSeller', [r.requestId, secret(2)]);
    const traded = (await ledger.submit<AuctionRequest>(who.buyer, 'auctions:claimBuyer', [r.requestId, U_VB])).result;
    expect(traded.status).toBe('TRADED');
    const t = await ledger.evaluate<Trade>(who.regulator, 'trades:get', [traded.tradeId as string]);
    expect(t).toMatchObject({ seller: pid(who.seller2), pricePerKwh: 35, paymentEscrow: 35 });
  });
});
