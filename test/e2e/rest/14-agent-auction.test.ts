/**
 * The auction autopilot of the agents (issue 17, docs/agents.md §4), end to end: a buyer's sealed-bid
 * reverse auction (seed 000) with two bidders whose agents hold their secrets. After the bids, nobody
 * calls a reveal, a close, a claim, a mint, a delivery, a confirmation, an entry, a vote or a decision:
 * - each bidder hands its price, salt and identity secret to its agent (`POST /api/v1/agents/{meterId}/
 *   auction-secrets`), the buyer its identity secret;
 * - the bidders' agents reveal between t1 and t2; a keeper closes the auction after t2 (lowest price wins);
 * - the winning seller's and the buyer's agents claim, which creates the trade;
 * - the meters report the delivery interval (a meter's job, not an agent's), the seller's autopilot mints
 *   and delivers, the buyer's confirms, and the committee's agents settle the trade by votes.
 * The timing uses the dev networks' short windows: 60 s intervals and a 60 s claim window.
 */
import { createHash } from 'node:crypto';
import { ensureCommunity, eventually, expectStatus, loadGateways, memberClient, regulatorClient, RUN, type Member } from './support';
import { agentHousehold, balance, ensureMarketParameters, fundWallet, TEST_INTERVAL, TEST_MARKET } from './market';

const gateways = loadGateways();
const regulator = regulatorClient(gateways);
const gwOf = (m: Member) => gateways.find((g) => g.org === m.org)!;
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const identity = (pid: string, secret: string) => sha(`gridledger/auction/identity\n${pid}\n${secret}`);
const priceCommitment = (requestId: string, p: number, salt: string) => sha(`gridledger/auction/price\n${requestId}\n${p}\n${salt}`);

interface BidView { offerId: string; pricePerKwh?: number; revealedAt?: number; filterReason?: string }

describe('auction autopilot of the agents', () => {
  test('bids revealed by the agents between t1 and t2, closed by a keeper, claimed by the agents, settled by committee', async () => {
    await ensureCommunity('honest');
    await ensureMarketParameters(regulator);
    const [g0, g1, g2] = [gateways[0]!, gateways[1] ?? gateways[0]!, gateways[2] ?? gateways[0]!];
    const [buyer, cheap, dear] = await Promise.all([
      agentHousehold(g0, `a-buyer-${RUN}`, 'zone-b', 'honest', regulator),
      agentHousehold(g1, `a-cheap-${RUN}`, 'zone-s', 'honest', regulator),
      agentHousehold(g2, `a-dear-${RUN}`, 'zone-s', 'honest', regulator),
    ]);
    for (const m of [buyer, cheap, dear]) await fundWallet(m, gwOf(m), 100_000);
    const funds = async () => Promise.all([buyer, cheap, dear].map((m) => balance(regulator, m.participantId)));
    const before = await funds();

    // The buyer's request: bids until t1, reveals in [t1, t2), claims until t2 + 60 s, delivery after that.
    const len = TEST_INTERVAL;
    const now = Math.floor(Date.now() / 1000);
    const t1 = now + 40;
    const t2 = t1 + 30;
    const deliveryStart = Math.ceil((t2 + TEST_MARKET.auctionClaimSeconds) / len) * len;
    const buyerSecret = `buyer-secret-${RUN}`;
    const req = await memberClient(buyer).post('/api/v1/auctions', {
      meterId: buyer.meterId, amountWh: 200, maxPricePerKwh: 300, t1, t2, buyerCommitment: identity(buyer.participantId, buyerSecret), deliveryStart, deliveryLength: len,
    });
    expectStatus(req, 201);
    const requestId = req.body.result.requestId as string;
    const handOver = async (m: Member, body: Record<string, unknown>) => {
      const r = await memberClient(m).post(`/api/v1/agents/${m.meterId}/auction-secrets`, { meterId: m.meterId, requestId, ...body });
      expectStatus(r, 201);
      expect(r.body).toMatchObject({ meterId: m.meterId, requestId, stored: true });
      expect(JSON.stringify(r.body)).not.toContain(body.secret as string); // never returned
    };
    await handOver(buyer, { role: 'buyer', secret: buyerSecret });

    const bids = [
      { m: cheap, p: 200, salt: `salt-cheap-${RUN}-0123456789`, secret: `seller-secret-cheap-${RUN}` },
      { m: dear, p: 280, salt: `salt-dear-${RUN}-0123456789`, secret: `seller-secret-dear-${RUN}` },
    ];
    const offerIds: string[] = [];
    for (const b of bids) {
      const bid = await memberClient(b.m).post(`/api/v1/auctions/${requestId}/bids`, { meterId: b.m.meterId, energyWh: 300, priceCommitment: priceCommitment(requestId, b.p, b.salt), sellerCommitment: identity(b.m.participantId, b.secret) });
      expectStatus(bid, 201);
      offerIds.push(bid.body.result.offerId as string);
      await handOver(b.m, { role: 'seller', secret: b.secret, offerId: bid.body.result.offerId, pricePerKwh: b.p, salt: b.salt });
    }
    expect(Math.floor(Date.now() / 1000)).toBeLessThan(t1); // every bid and secret was in before the reveals opened

    // From here on the test only reads, and posts the meters' readings once the delivery interval ended.
    const auction = async () => {
      const a = await regulator.get(`/api/v1/auctions/${requestId}`);
      expectStatus(a, 200);
      return a.body;
    };
    const traded = await eventually(`auction ${requestId} traded by the agents`, async () => {
      const a = await auction();
      expect(['OPEN', 'AWARDED', 'TRADED']).toContain(a.status);
      return a.status === 'TRADED' ? a : undefined;
    }, (deliveryStart - Math.floor(Date.now() / 1000) + 30) * 1000);

    // every bid revealed by its agent in [t1, t2); the keeper closed after t2; the lowest price won
    const listed = await regulator.get(`/api/v1/auctions/${requestId}/bids`);
    expectStatus(listed, 200);
    const revealed = listed.body.items as BidView[];
    expect(revealed.map((b) => b.offerId).sort()).toEqual([...offerIds].sort());
    for (const [i, b] of bids.entries()) {
      const v = revealed.find((x) => x.offerId === offerIds[i])!;
      expect(v.pricePerKwh).toBe(b.p);
      expect(v.filterReason).toBeUndefined();
      expect(v.revealedAt).toBeGreaterThanOrEqual(t1);
      expect(v.revealedAt).toBeLessThan(t2);
    }
    expect(traded).toMatchObject({ winnerOfferId: offerIds[0], winnerPricePerKwh: 200 });
    expect(traded.closedAt).toBeGreaterThanOrEqual(t2);
    // both claims by the agents, within the claim window, by the right participants
    expect(traded.buyerClaim).toMatchObject({ participantId: buyer.participantId, meterId: buyer.meterId });
    expect(traded.sellerClaim).toMatchObject({ participantId: cheap.participantId, meterId: cheap.meterId });
    const tradeId = traded.tradeId as string;
    expect(tradeId).toBeTruthy();

    // The delivery interval: the meters report it once it ended; the agents do the rest.
    while (Date.now() / 1000 < deliveryStart + len + 2) await new Promise((r) => setTimeout(r, 1000));
    const reading = (importWh: number, exportWh: number) => ({ intervalStart: deliveryStart, intervalLength: len, importWh, exportWh, importRegisterWh: 1_000_000 + importWh, exportRegisterWh: 1_000_000 + exportWh });
    expectStatus(await memberClient(cheap).post(`/api/v1/meters/${cheap.meterId}/readings?sync=true`, reading(0, 500)), 200);
    expectStatus(await memberClient(buyer).post(`/api/v1/meters/${buyer.meterId}/readings?sync=true`, reading(300, 0)), 200);

    const trade = await eventually(`trade ${tradeId} settled by the agents`, async () => {
      const t = await regulator.get(`/api/v1/trades/${tradeId}`);
      expectStatus(t, 200);
      expect(['AWAITING_ENERGY', 'EXECUTION', 'FINAL', 'SETTLED']).toContain(t.body.state);
      return t.body.state === 'SETTLED' ? t.body : undefined;
    }, 6 * 60_000);
    // the winner's price, delivered in full, both stages attested by the committee's votes
    expect(trade).toMatchObject({ pricePerKwh: 200, cost: 40, meteredWh: 200, outcome: { fault: 'none', paidToSeller: 40, refundedToBuyer: 0, forfeited: 0, energyToBuyerWh: 200 } });
    expect(trade.validation.decidedByFacts).toBe(false);
    for (const ballot of ['execution', 'final']) {
      const b = await regulator.get(`/api/v1/committees/tasks/${trade.validation.taskId}/ballots/${ballot}`);
      expectStatus(b, 200);
      expect(b.body.ballot).toMatchObject({ status: 'APPROVED' });
    }
    // money conserved: the buyer paid the winner's price, the losing bidder is untouched
    expect(await funds()).toEqual([before[0]! - 40, before[1]! + 40, before[2]!]);
  }, 15 * 60_000);
});
