/**
 * One sealed-bid reverse auction through the gateways (seed 000, issue 3): request → two sealed bids →
 * reveals → close (lowest price wins) → identity claims → trade → delivery metered by distinct meters →
 * validated settlement (seed 002 Fig. 5); money conserved.
 */
import { createHash } from 'node:crypto';
import { ensureCommunity, expectStatus, loadGateways, memberClient, regulatorClient, RUN } from './support';
import { sleep } from '../support';
import { admitByCommittee, balance, deliverAndSettle, ensureMarketParameters, fundWallet, TEST_INTERVAL, TEST_MARKET } from './market';

const gateways = loadGateways();
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const identity = (pid: string, secret: string) => sha(`gridledger/auction/identity\n${pid}\n${secret}`);
const price = (requestId: string, p: number, salt: string) => sha(`gridledger/auction/price\n${requestId}\n${p}\n${salt}`);
const until = async (t: number) => {
  while (Date.now() / 1000 < t + 2) await sleep(1000);
};

describe('sealed-bid reverse auction', () => {
  test('request to settled: lowest revealed price wins, trade settled, balances conserved', async () => {
    const { members } = await ensureCommunity();
    const byPid = new Map(members.map((m) => [m.participantId, m]));
    const regulator = regulatorClient(gateways);
    const gwOf = (org: string) => gateways.find((g) => g.org === org)!;
    // the trade's validator committee excludes its two parties: they are admitted by the founding committee,
    // so 3f+1 founders remain eligible; the losing bidder may be a founder
    const buyer = await admitByCommittee(gateways[0]!, `a-buyer-${RUN}`, 'zone-b', byPid, regulator);
    const cheap = await admitByCommittee(gateways[2] ?? gateways[0]!, `a-cheap-${RUN}`, 'zone-s', byPid, regulator);
    const dear = members[0]!;
    for (const m of [buyer, cheap, dear]) await fundWallet(m, gwOf(m.org), 100_000);
    const funds = async () => Promise.all([buyer, cheap, dear].map((m) => balance(regulator, m.participantId)));
    const [buyerFunds, cheapFunds, dearFunds] = (await funds()) as [number, number, number];
    const pool = await balance(regulator, 'pool:penalties');

    await ensureMarketParameters(regulator);
    const now = Math.floor(Date.now() / 1000);
    const len = TEST_INTERVAL;
    const t1 = now + 60;
    const t2 = now + 120;
    const deliveryStart = Math.ceil((t2 + TEST_MARKET.auctionClaimSeconds + 30) / len) * len;
    const buyerSecret = `buyer-secret-${RUN}`;
    const req = await memberClient(buyer).post('/api/v1/auctions', {
      meterId: buyer.meterId, amountWh: 200, maxPricePerKwh: 300, t1, t2, buyerCommitment: identity(buyer.participantId, buyerSecret), deliveryStart, deliveryLength: len,
    });
    expectStatus(req, 201);
    const requestId = req.body.result.requestId as string;
    const bids = [
      { m: cheap, p: 200, salt: `salt-cheap-${RUN}-0123456789`, secret: `seller-secret-cheap-${RUN}` },
      { m: dear, p: 280, salt: `salt-dear-${RUN}-0123456789`, secret: `seller-secret-dear-${RUN}` },
    ];
    const offerIds: string[] = [];
    for (const b of bids) {
      const bid = await memberClient(b.m).post(`/api/v1/auctions/${requestId}/bids`, { meterId: b.m.meterId, energyWh: 300, priceCommitment: price(requestId, b.p, b.salt), sellerCommitment: identity(b.m.participantId, b.secret) });
      expectStatus(bid, 201);
      offerIds.push(bid.body.result.offerId);
    }
    // no price is readable before its reveal
    const sealed = await regulator.get(`/api/v1/auctions/${requestId}/bids`);
    expect(JSON.stringify(sealed.body)).not.toMatch(/"pricePerKwh":(200|280)/);
    await until(t1);
    for (const [i, b] of bids.entries()) {
      expectStatus(await memberClient(b.m).post(`/api/v1/auctions/${requestId}/bids/${offerIds[i]}/reveal`, { meterId: b.m.meterId, pricePerKwh: b.p, salt: b.salt }), 201);
    }
    await until(t2);
    // From t2 anyone may close it — the utilities' keeper agents (docs/agents.md §3) too, a few seconds
    // after t2: if one was first, the close answers 409 and the auction reads as it closed it.
    const close = await regulator.post(`/api/v1/auctions/${requestId}/close`, {});
    if (close.status !== 201) expectStatus(close, 409, 'chaincode-conflict');
    const closed = close.status === 201 ? close.body.result : (await regulator.get(`/api/v1/auctions/${requestId}`)).body;
    expect(closed).toMatchObject({ status: 'AWARDED', winnerOfferId: offerIds[0], winnerPricePerKwh: 200 });
    expectStatus(await memberClient(buyer).post(`/api/v1/auctions/${requestId}/buyer-claim`, { meterId: buyer.meterId, secret: buyerSecret }), 201);
    const claimed = await memberClient(cheap).post(`/api/v1/auctions/${requestId}/seller-claim`, { meterId: cheap.meterId, secret: bids[0]!.secret });
    expectStatus(claimed, 201);
    const tradeId = claimed.body.result.tradeId as string;
    const trade = await deliverAndSettle({ tradeId, seller: cheap, buyer, deliveryStart, len, amountWh: 200, byPid, regulator });
    expect(trade.state).toBe('SETTLED');
    // the winner's price, not the buyer's maximum: 200 Wh at 200 per kWh; the losing bidder is untouched
    expect(trade.pricePerKwh).toBe(200);
    expect(trade.cost).toBe(40);
    expect(await funds()).toEqual([buyerFunds - 40, cheapFunds + 40, dearFunds]);
    expect(await balance(regulator, 'pool:penalties')).toBe(pool);
  }, 25 * 60_000);
});
