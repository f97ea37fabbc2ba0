/**
 * One escrowed fixed-price trade through the gateways (seed 001, issue 3): offer → acceptance → delivery
 * interval metered by two distinct meters → mint → delivery → execution ballot → delivery confirmation →
 * final ballot → SETTLED; money conserved across seller, buyer and the penalty pool. The run waits out a
 * real metering interval: 60 s, the test network's minIntervalSeconds (TEST_MARKET).
 */
import { RUN, ensureCommunity, expectStatus, loadGateways, memberClient, regulatorClient } from './support';
import { acceptOffer, admitByCommittee, balance, deliverAndSettle, ensureMarketParameters, fundWallet, TEST_INTERVAL } from './market';

const gateways = loadGateways();

describe('escrowed fixed-price trade', () => {
  test('offer to settled, metered by two distinct meters; balances conserved', async () => {
    const { members } = await ensureCommunity();
    const byPid = new Map(members.map((m) => [m.participantId, m]));
    const regulator = regulatorClient(gateways);
    const gwOf = (org: string) => gateways.find((g) => g.org === org)!;
    // traders outside the founding committee, admitted by it (the trade's committee excludes both parties)
    const seller = await admitByCommittee(gateways[0]!, `seller-${RUN}`, 'zone-s', byPid, regulator);
    const buyer = await admitByCommittee(gateways[1] ?? gateways[0]!, `buyer-${RUN}`, 'zone-b', byPid, regulator);
    await fundWallet(seller, gwOf(seller.org), 100_000);
    await fundWallet(buyer, gwOf(buyer.org), 100_000);
    const [sellerFunds, buyerFunds, pool] = [await balance(regulator, seller.participantId), await balance(regulator, buyer.participantId), await balance(regulator, 'pool:penalties')];

    await ensureMarketParameters(regulator);
    const len = TEST_INTERVAL;
    const deliveryStart = Math.ceil((Date.now() / 1000 + 90) / len) * len;
    const offer = await memberClient(seller).post('/api/v1/offers', { meterId: seller.meterId, amountWh: 200, pricePerKwh: 250, deliveryStart, deliveryLength: len, ttlSeconds: 60 });
    expectStatus(offer, 201);
    const accepted = await acceptOffer(buyer, offer.body.result.offerId, { meterId: buyer.meterId, amountWh: 200, pricePerKwh: 250 });
    expectStatus(accepted, 201);
    const trade = await deliverAndSettle({ tradeId: accepted.body.result.tradeId, seller, buyer, deliveryStart, len, amountWh: 200, byPid, regulator });
    expect(trade.state).toBe('SETTLED');
    // the buyer paid exactly 200 Wh at 250 per kWh; the seller got that and its collateral back; nothing forfeited
    expect(trade.cost).toBe(50);
    expect(await balance(regulator, seller.participantId)).toBe(sellerFunds + 50);
    expect(await balance(regulator, buyer.participantId)).toBe(buyerFunds - 50);
    expect(await balance(regulator, 'pool:penalties')).toBe(pool);
  }, 20 * 60_000);
});
