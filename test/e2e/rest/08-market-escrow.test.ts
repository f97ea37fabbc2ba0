/**
 * DRAFT (not yet runnable on main — see the report): one escrowed fixed-price trade through the gateways,
 * offer → acceptance → delivery interval metered by two distinct meters → mint → delivery → execution
 * ballot → delivery confirmation → final ballot → SETTLED; money conserved across seller, buyer and pool.
 * Status: 08 ran on main up to the EXECUTION stage (traders admitted by committee, wallets funded,
 * offer, acceptance, both meters' readings, mint, delivery → validation task opened); the ballots and
 * settlement steps have not run yet. A run waits for the delivery interval to end (>= 6 minutes) and
 * possibly for Eq. (1) slots (Condition 2: one entry per leader per slot).
 */
import { RUN, ensureCommunity, expectStatus, loadGateways, memberClient, RestClient } from '../support';
import { admitByCommittee, deliverAndSettle, fundWallet } from './market-support';

const gateways = loadGateways();

describe('escrowed fixed-price trade', () => {
  test('offer to settled, metered by two distinct meters; balances conserved', async () => {
    const { members } = await ensureCommunity();
    const byPid = new Map(members.map((m) => [m.participantId, m]));
    const regulator = new RestClient(gateways[0]!.url, gateways[0]!.apiKeys.regulator);
    const gwOf = (org: string) => gateways.find((g) => g.org === org)!;
    // traders outside the founding committee, admitted by it (the trade's committee excludes both parties)
    const seller = await admitByCommittee(gateways[0]!, `seller-${RUN}`, 'zone-s', byPid, regulator);
    const buyer = await admitByCommittee(gateways[1] ?? gateways[0]!, `buyer-${RUN}`, 'zone-b', byPid, regulator);
    await fundWallet(seller, gwOf(seller.org), 100_000);
    await fundWallet(buyer, gwOf(buyer.org), 100_000);
    const balance = async (pid: string) => (await regulator.get(`/api/v1/wallets/${pid}`)).body.balance as number;
    const total = async () => (await balance(seller.participantId)) + (await balance(buyer.participantId)) + (await balance('pool:penalties'));
    const before = await total();

    const len = 300;
    const deliveryStart = Math.ceil((Date.now() / 1000 + 90) / len) * len;
    const offer = await memberClient(seller).post('/api/v1/offers', { meterId: seller.meterId, amountWh: 200, pricePerKwh: 250, deliveryStart, deliveryLength: len, ttlSeconds: 60 });
    expectStatus(offer, 201);
    const accepted = await memberClient(buyer).post(`/api/v1/offers/${offer.body.result.offerId}/acceptances`, { meterId: buyer.meterId, amountWh: 200, pricePerKwh: 250 });
    expectStatus(accepted, 201);
    const trade = await deliverAndSettle({ tradeId: accepted.body.result.tradeId, seller, buyer, deliveryStart, len, amountWh: 200, byPid, regulator });
    expect(trade.state).toBe('SETTLED');
    expect(await total()).toBe(before);
  }, 20 * 60_000);
});
