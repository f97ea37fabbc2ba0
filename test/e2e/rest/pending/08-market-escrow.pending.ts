/**
 * DRAFT (not yet runnable on main — see the report): one escrowed fixed-price trade through the gateways,
 * offer → acceptance → delivery interval metered by two distinct meters → mint → delivery → execution
 * ballot → delivery confirmation → final ballot → SETTLED; money conserved across seller, buyer and pool.
 * Blocked by: POST /api/v1/energy/packets and /trades/{id}/delivery-confirmation sending transient
 * `reading` where the chaincode wants `exportProof` / `importProof` (meters:getProof has no route).
 */
import { ensureCommunity, expectStatus, loadGateways, memberClient, RestClient } from '../support';
import { deliverAndSettle, fundWallet } from './market-support';

const gateways = loadGateways();

describe('escrowed fixed-price trade', () => {
  test('offer to settled, metered by two distinct meters; balances conserved', async () => {
    const { members } = await ensureCommunity();
    const byPid = new Map(members.map((m) => [m.participantId, m]));
    const regulator = new RestClient(gateways[0]!.url, gateways[0]!.apiKeys.regulator);
    const [seller, buyer] = [members[0]!, members[1]!];
    const gwOf = (org: string) => gateways.find((g) => g.org === org)!;
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
    expect(trade.status).toBe('SETTLED');
    expect(await total()).toBe(before);
  }, 20 * 60_000);
});
