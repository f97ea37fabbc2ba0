/**
 * The household faults of the agents (issue 17, docs/agents.md §4–5), end to end: nobody calls a mint, a
 * delivery, a confirmation, an entry, a vote, a decision or a timeout here. Three fixed-price trades for one
 * delivery interval run side by side, to keep the file short (about one interval plus the delivery grace):
 * - a `withhold-delivery` seller never escrows; after the delivery deadline a keeper calls trades:timeout:
 *   FAILED_LATE, the seller is penalised (collateral forfeited, Q-score down), the buyer refunded in full;
 * - a `lying-buyer` declares half of what its meter evidences; the final stage's slot leader enters with a
 *   refusal (its own check fails, and the chaincode records the same verdict), the committee refuses by
 *   votes, and the trade is settled per the buyer's meter, the buyer losing Q-score.
 * - an `under-deliver` seller mints and escrows half the contract; the committee approves both stages
 *   (the facts hold), and the trade settles pro rata with a seller fault: half paid, half refunded, part of
 *   the collateral forfeited.
 * Then: no agent signs for a meter of another utility — the gateway does not act for it, and the
 * chaincode refuses an identity of one utility that asserts another utility's meter.
 */
import { EndorseError } from '@hyperledger/fabric-gateway';
import { CaHelper, connectOrg, loadNetwork, org, rejectionOf, utf8 } from '../support';
import {
  ensureCommunity,
  eventually,
  expectStatus,
  loadGateways,
  memberClient,
  regulatorClient,
  RestClient,
  RUN,
  type GatewayDescriptor,
  type Member,
} from './support';
import { acceptOffer, agentHousehold, balance, ensureMarketParameters, fundWallet, TEST_INTERVAL } from './market';

const gateways = loadGateways();
const regulator = regulatorClient(gateways);
const operator = (gw: GatewayDescriptor) => new RestClient(gw.url, gw.apiKeys.operator);
const gwOf = (m: Member) => gateways.find((g) => g.org === m.org)!;
/** The seller's delivery grace on this run (the market default is an hour): a late trade fails one interval after it ended. */
const GRACE_SECONDS = 60;

async function participant(pid: string): Promise<{ status: string; qScore: number }> {
  const r = await regulator.get(`/api/v1/participants/${pid}`);
  expectStatus(r, 200);
  return r.body;
}

const household = (gw: GatewayDescriptor, meterId: string, zone: string, behaviour: string) => agentHousehold(gw, meterId, zone, behaviour, regulator);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a REST answer, checked field by field below
async function closedTrade(tradeId: string, timeoutMs: number): Promise<any> {
  return eventually(`trade ${tradeId} closed by the agents`, async () => {
    const t = await regulator.get(`/api/v1/trades/${tradeId}`);
    expectStatus(t, 200);
    return ['SETTLED', 'DECLINED', 'FAILED_LATE'].includes(t.body.state) ? t.body : undefined;
  }, timeoutMs);
}

describe('household faults run by the agents', () => {
  let graceBefore: number | undefined;
  let seller: Member;
  let buyer: Member;
  let honestSeller: Member;
  let underSeller: Member;
  let honestBuyer: Member;
  let lyingTradeId: string;

  afterAll(async () => {
    if (graceBefore !== undefined) await regulator.post('/api/v1/market/parameters', { deliveryGraceSeconds: graceBefore });
  });

  test('a withholding seller fails late, is penalised and the buyer refunded in full; a lying buyer is settled per its meter and loses Q-score; an under-delivering seller is paid pro rata', async () => {
    await ensureCommunity('honest');
    const market = await ensureMarketParameters(regulator);
    graceBefore = market.deliveryGraceSeconds as number;
    expectStatus(await regulator.post('/api/v1/market/parameters', { deliveryGraceSeconds: GRACE_SECONDS }), 201);

    const [g0, g1, g2] = [gateways[0]!, gateways[1] ?? gateways[0]!, gateways[2] ?? gateways[0]!];
    [seller, honestSeller, buyer, underSeller, honestBuyer] = await Promise.all([
      household(g0, `withholder-${RUN}`, 'zone-s', 'withhold-delivery'),
      household(g1, `hseller-${RUN}`, 'zone-s', 'honest'),
      household(g2, `liar-${RUN}`, 'zone-b', 'lying-buyer'),
      household(g0, `underdel-${RUN}`, 'zone-s', 'under-deliver'),
      household(g1, `hbuyer-${RUN}`, 'zone-b', 'honest'),
    ]);
    for (const m of [seller, honestSeller, buyer, underSeller, honestBuyer]) await fundWallet(m, gwOf(m), 100_000);
    const before = {
      seller: await balance(regulator, seller.participantId),
      honestSeller: await balance(regulator, honestSeller.participantId),
      buyer: await balance(regulator, buyer.participantId),
      sellerQ: (await participant(seller.participantId)).qScore,
      buyerQ: (await participant(buyer.participantId)).qScore,
      underSeller: await balance(regulator, underSeller.participantId),
      honestBuyer: await balance(regulator, honestBuyer.participantId),
      underQ: (await participant(underSeller.participantId)).qScore,
    };

    // Both trades deliver in the same interval (the nearest one far enough ahead to offer and accept).
    const len = TEST_INTERVAL;
    const deliveryStart = Math.ceil((Date.now() / 1000 + 75) / len) * len; // an offer expires before its delivery starts (ttl 60 s)
    const trade = async (s: Member, b: Member = buyer) => {
      const offer = await memberClient(s).post('/api/v1/offers', { meterId: s.meterId, amountWh: 200, pricePerKwh: 250, deliveryStart, deliveryLength: len, ttlSeconds: 60 });
      expectStatus(offer, 201);
      const accepted = await acceptOffer(b, offer.body.result.offerId, { meterId: b.meterId, amountWh: 200, pricePerKwh: 250 });
      expectStatus(accepted, 201);
      return { tradeId: accepted.body.result.tradeId as string, collateral: offer.body.result.collateral as number };
    };
    const late = await trade(seller);
    const lying = await trade(honestSeller);
    const under = await trade(underSeller, honestBuyer);
    lyingTradeId = lying.tradeId;

    // The meters report the interval once it ended (a meter's job, not an agent's): both sellers exported
    // enough, the buyer imported both trades' energy.
    while (Date.now() / 1000 < deliveryStart + len + 2) await new Promise((r) => setTimeout(r, 1000));
    const reading = (importWh: number, exportWh: number) => ({ intervalStart: deliveryStart, intervalLength: len, importWh, exportWh, importRegisterWh: 1_000_000 + importWh, exportRegisterWh: 1_000_000 + exportWh });
    await Promise.all([
      memberClient(seller).post(`/api/v1/meters/${seller.meterId}/readings?sync=true`, reading(0, 500)).then((r) => expectStatus(r, 200)),
      memberClient(honestSeller).post(`/api/v1/meters/${honestSeller.meterId}/readings?sync=true`, reading(0, 500)).then((r) => expectStatus(r, 200)),
      memberClient(buyer).post(`/api/v1/meters/${buyer.meterId}/readings?sync=true`, reading(400, 0)).then((r) => expectStatus(r, 200)),
      memberClient(underSeller).post(`/api/v1/meters/${underSeller.meterId}/readings?sync=true`, reading(0, 500)).then((r) => expectStatus(r, 200)),
      memberClient(honestBuyer).post(`/api/v1/meters/${honestBuyer.meterId}/readings?sync=true`, reading(300, 0)).then((r) => expectStatus(r, 200)),
    ]);

    const [failed, settled, partial] = await Promise.all([closedTrade(late.tradeId, 6 * 60_000), closedTrade(lying.tradeId, 6 * 60_000), closedTrade(under.tradeId, 6 * 60_000)]);

    // withhold-delivery: nothing escrowed, closed late by a keeper, the buyer refunded in full
    expect(failed).toMatchObject({ state: 'FAILED_LATE', energyEscrowWh: 0, outcome: { fault: 'seller', paidToSeller: 0, refundedToBuyer: failed.cost } });
    expect(failed.outcome.forfeited).toBeGreaterThan(0);
    expect(failed.outcome.collateralReturned).toBe(late.collateral - failed.outcome.forfeited);
    expect(failed.validation.opened).toBe(false); // no stage opened: the keeper's timeout closed it
    expect(failed.outcome.closedAt).toBeGreaterThanOrEqual(failed.deliveryDeadline);
    expect(await balance(regulator, seller.participantId)).toBe(before.seller - failed.outcome.forfeited);
    expect((await participant(seller.participantId)).qScore).toBeLessThan(before.sellerQ);

    // lying-buyer: declared half of its metered 200 Wh; the committee refused the final stage by votes
    // (not by the stage window), and the seller was paid for what the buyer's meter shows
    expect(settled).toMatchObject({ state: 'SETTLED', meteredWh: 200, buyerDeclaredWh: 100, outcome: { fault: 'buyer', paidToSeller: settled.cost, refundedToBuyer: 0, forfeited: 0 } });
    expect(settled.validation.decidedByFacts).toBe(false);
    const fin = await regulator.get(`/api/v1/committees/tasks/${settled.validation.taskId}/ballots/final`);
    expectStatus(fin, 200);
    expect(fin.body.ballot).toMatchObject({ status: 'REJECTED' });
    // the slot leader's entry is its refusal (Condition 3 fails), and every vote refused with it
    expect(fin.body.votes.length).toBeGreaterThanOrEqual(2);
    for (const v of fin.body.votes) expect(v).toMatchObject({ approve: false, conditions: { condition3: false, condition4: true } });
    expect(fin.body.votes.map((v: { voter: string }) => v.voter)).toContain(fin.body.ballot.entry.leader);
    expect(await balance(regulator, honestSeller.participantId)).toBe(before.honestSeller + settled.cost);
    expect((await participant(buyer.participantId)).qScore).toBeLessThan(before.buyerQ);

    // the buyer paid for the settled trade only: the late one was refunded in full
    expect(await balance(regulator, buyer.participantId)).toBe(before.buyer - settled.cost);

    // under-deliver: half the contract escrowed, delivered and metered; both stages approved by committee;
    // paid pro rata, the rest refunded, part of the collateral forfeited
    const half = Math.floor(partial.cost / 2);
    expect(partial).toMatchObject({ state: 'SETTLED', energyEscrowWh: 100, meteredWh: 100, buyerDeclaredWh: 100, outcome: { fault: 'seller', paidToSeller: half, refundedToBuyer: partial.cost - half } });
    expect(partial.outcome.forfeited).toBeGreaterThan(0);
    expect(partial.validation.decidedByFacts).toBe(false);
    expect(await balance(regulator, underSeller.participantId)).toBe(before.underSeller + half - partial.outcome.forfeited);
    expect(await balance(regulator, honestBuyer.participantId)).toBe(before.honestBuyer - half);
    expect((await participant(underSeller.participantId)).qScore).toBeLessThan(before.underQ);
  }, 15 * 60_000);

  test("no agent signs for another utility's meter: the gateway does not act for it, and the chaincode refuses an identity that asserts it", async () => {
    expect(buyer).toBeDefined();
    const other = gateways.find((g) => g.org !== buyer.org);
    if (!other) return; // a one-utility network has no other utility
    // The gateway of another utility holds no key for the buyer's meter: no agent, no settings, no duty.
    expectStatus(await operator(other).request('PUT', `/api/v1/meters/${buyer.meterId}/agent`, { body: { behaviour: 'honest' } }), 404, 'meter-not-enrolled');
    expectStatus(await operator(other).get(`/api/v1/meters/${buyer.meterId}/agent`), 404, 'meter-not-enrolled');
    const duties = await operator(other).get('/api/v1/agents');
    expectStatus(duties, 200);
    expect(duties.body.pending.filter((d: { meterId: string | null }) => d.meterId === buyer.meterId)).toEqual([]);

    // An identity of the other utility's CA asserting the buyer's meter id, straight to the peer gateway:
    // the chaincode sees another participant (its id is derived from the MSP and certificate) and refuses.
    const net = loadNetwork();
    const o = org(net, other.org);
    const forged = await new CaHelper(o).registerAndEnroll(`${buyer.meterId}-at-${other.org}`, { role: 'meter', meterId: buyer.meterId, zone: 'zone-b' });
    const conn = connectOrg(o, forged);
    try {
      const contract = conn.gateway.getNetwork(net.channel).getContract('gridledger');
      const who = JSON.parse(utf8(await contract.evaluateTransaction('participants:whoAmI')));
      expect(who).toMatchObject({ role: 'meter', meterId: buyer.meterId, mspId: other.mspId });
      expect(who.participantId).not.toBe(buyer.participantId);
      const err = await rejectionOf(contract.submit('trades:confirmDelivery', { arguments: [lyingTradeId, '200'] }));
      expect(err).toBeInstanceOf(EndorseError);
      const messages = (err as EndorseError).details.map((d) => d.message).join('\n') + (err as Error).message;
      expect(messages).toContain('[FORBIDDEN:NOT_BUYER]');
    } finally {
      conn.close();
    }
  }, 2 * 60_000);
});
