/**
 * DRAFT (not yet runnable on main — see the report): one escrowed fixed-price trade through the gateways,
 * offer → acceptance → delivery interval metered by two distinct meters → mint → delivery → execution
 * ballot → delivery confirmation → final ballot → SETTLED; money conserved across seller, buyer and pool.
 * Blocked by: the beacon contributor (no committee without it), POST /api/v1/energy/packets and
 * /trades/{id}/delivery-confirmation sending transient `reading` where the chaincode wants
 * `exportProof` / `importProof` (meters:getProof has no route).
 */
import { RUN, ensureCommunity, eventually, expectStatus, loadGateways, memberClient, RestClient, type Member } from '../support';
import { sleep } from '../../support';

const gateways = loadGateways();

async function runBallot(tradeId: string, taskId: string, ballot: string, conditions: Record<string, boolean>, byPid: Map<string, Member>, regulator: RestClient) {
  let leader: Member | undefined;
  await eventually(`${ballot} entry`, async () => {
    const l = await regulator.get(`/api/v1/committees/tasks/${taskId}/leader`);
    expectStatus(l, 200);
    leader = byPid.get(l.body.leader);
    if (!leader) throw new Error(`leader ${l.body.leader} is not a member this suite holds`);
    const e = await memberClient(leader).post(`/api/v1/trades/${tradeId}/entry`, { meterId: leader.meterId });
    if (e.status === 403 && /leader/.test(e.text)) return undefined;
    expectStatus(e, 201);
    return e.body;
  }, 60_000);
  const task = (await regulator.get(`/api/v1/committees/tasks/${taskId}`)).body;
  for (const pid of task.committee as string[]) {
    const m = byPid.get(pid)!;
    if (m === leader) continue;
    const v = await memberClient(m).post(`/api/v1/trades/${tradeId}/votes`, { meterId: m.meterId, approve: true, conditions });
    expectStatus(v, 201);
  }
  const d = await regulator.post(`/api/v1/trades/${tradeId}/decision`, {});
  expectStatus(d, 201);
  return d.body.result;
}

describe('escrowed fixed-price trade', () => {
  test('offer to settled, metered by two distinct meters; balances conserved', async () => {
    const { members, params } = await ensureCommunity();
    void params;
    const byPid = new Map(members.map((m) => [m.participantId, m]));
    const regulator = new RestClient(gateways[0]!.url, gateways[0]!.apiKeys.regulator);
    const sellerGw = gateways[0]!;
    const buyerGw = gateways[1] ?? gateways[0]!;
    // seller and buyer must be active participants; here two founding-sized members of the community are used
    const seller = members.find((m) => m.org === sellerGw.org)!;
    const buyer = members.find((m) => m.org === buyerGw.org && m !== seller)!;
    const sellerClient = memberClient(seller);
    const buyerClient = memberClient(buyer);
    for (const [m, c, gw] of [[seller, sellerClient, sellerGw], [buyer, buyerClient, buyerGw]] as const) {
      const open = await c.post('/api/v1/wallets', { meterId: m.meterId });
      expect([201, 409]).toContain(open.status);
      const credit = await new RestClient(gw.url, gw.apiKeys.operator).post(`/api/v1/wallets/${m.participantId}/credits`, { amount: 100_000, reference: `e2e-${RUN}-${m.meterId}` }, { idempotencyKey: `credit-${RUN}-${m.meterId}` });
      expectStatus(credit, 201);
    }
    const balance = async (pid: string, c: RestClient) => (await c.get(`/api/v1/wallets/${pid}`)).body.balance as number;
    const pool = async () => (await regulator.get('/api/v1/wallets/pool:penalties')).body.balance as number;
    const before = (await balance(seller.participantId, sellerClient)) + (await balance(buyer.participantId, buyerClient)) + (await pool());

    const len = 300;
    const deliveryStart = Math.ceil((Date.now() / 1000 + 90) / len) * len;
    const offer = await sellerClient.post('/api/v1/offers', { meterId: seller.meterId, amountWh: 200, pricePerKwh: 250, deliveryStart, deliveryLength: len, ttlSeconds: 60 });
    expectStatus(offer, 201);
    const offerId = offer.body.result.offerId as string;
    const accepted = await buyerClient.post(`/api/v1/offers/${offerId}/acceptances`, { meterId: buyer.meterId, amountWh: 200, pricePerKwh: 250 });
    expectStatus(accepted, 201);
    const tradeId = accepted.body.result.tradeId as string;

    // wait until the delivery interval has ended, then both meters post their readings of it
    while (Date.now() / 1000 < deliveryStart + len + 5) await sleep(2000);
    const reading = (importWh: number, exportWh: number) => ({ intervalStart: deliveryStart, intervalLength: len, importWh, exportWh, importRegisterWh: 1_000_000 + importWh, exportRegisterWh: 1_000_000 + exportWh });
    expectStatus(await sellerClient.post(`/api/v1/meters/${seller.meterId}/readings?sync=true`, reading(0, 500)), 200);
    expectStatus(await buyerClient.post(`/api/v1/meters/${buyer.meterId}/readings?sync=true`, reading(300, 0)), 200);

    const mint = await sellerClient.post('/api/v1/energy/packets', { meterId: seller.meterId, intervalStart: deliveryStart, amountWh: 200, source: 'solar', reading: { ...reading(0, 500), meterId: seller.meterId } });
    expectStatus(mint, 201);
    const packetId = mint.body.result.packetId as string;
    const delivered = await sellerClient.post(`/api/v1/trades/${tradeId}/deliveries`, { meterId: seller.meterId, packets: [{ packetId, amountWh: 200 }] });
    expectStatus(delivered, 201);
    const taskId = delivered.body.result.taskId as string;
    await eventually('validator committee drawn', async () => ((await regulator.get(`/api/v1/committees/tasks/${taskId}`)).body.status === 'active' ? true : undefined), 120_000);
    await runBallot(tradeId, taskId, 'execution', { condition1: true, condition2: true }, byPid, regulator);
    const confirm = await buyerClient.post(`/api/v1/trades/${tradeId}/delivery-confirmation`, { meterId: buyer.meterId, receivedWh: 200, reading: { ...reading(300, 0), meterId: buyer.meterId } });
    expectStatus(confirm, 201);
    await runBallot(tradeId, taskId, 'final', { condition3: true, condition4: true }, byPid, regulator);
    const trade = await regulator.get(`/api/v1/trades/${tradeId}`);
    expect(trade.body.status).toBe('SETTLED');
    const after = (await balance(seller.participantId, sellerClient)) + (await balance(buyer.participantId, buyerClient)) + (await pool());
    expect(after).toBe(before);
  }, 20 * 60_000);
});
