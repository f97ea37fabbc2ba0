/**
 * Shared by the market flows (08 escrow, 10 auction): wallets, balances and the validated settlement of a trade
 * (seed 002 Fig. 5) through the gateways. Not a test file.
 */
import { RUN, TEST_GOVERNANCE, enrolAndJoin, enterAsLeader, eventually, expectStatus, memberClient, RestClient, saveMember, voteAfterEntry, type GatewayDescriptor, type HttpResponse, type Member } from './support';
import { sleep } from '../support';

/** A task's leader may have to wait for the next slots (403 not the leader / 409 Condition 2). */
const LEADER_WAIT_MS = (TEST_GOVERNANCE.slotSeconds * 4 + 60) * 1000;

/**
 * Market parameters the auction flow runs with (regulator, through REST; same on both tiers): winners get
 * 60 s instead of an hour to claim after t2, so the delivery interval may start minutes after the request.
 */
/**
 * The market flows run on 60 s metering intervals (market parameter minIntervalSeconds, docs/market.md
 * "Metering intervals"), so a trade settles in about two minutes after its interval ends; the start
 * scripts set it at bootstrap from test-network-config/network.yaml, and the suite makes sure of it.
 */
export const TEST_MARKET = { auctionClaimSeconds: 60, minIntervalSeconds: 60 } as const;
/** The delivery interval of the market flows, in seconds. */
export const TEST_INTERVAL = TEST_MARKET.minIntervalSeconds;

export async function ensureMarketParameters(regulator: RestClient): Promise<any> {
  let p = await regulator.get('/api/v1/market/parameters');
  expectStatus(p, 200);
  if (Object.entries(TEST_MARKET).some(([k, v]) => p.body[k] !== v)) {
    expectStatus(await regulator.post('/api/v1/market/parameters', TEST_MARKET), 201);
    p = await regulator.get('/api/v1/market/parameters');
    expectStatus(p, 200);
  }
  return p.body;
}

/** One validation stage (seed 002 Fig. 5): the task's slot leader enters, every other member attests, the regulator decides. */
export async function runBallot(tradeId: string, taskId: string, ballot: string, conditions: Record<string, boolean>, byPid: Map<string, Member>, regulator: RestClient) {
  const { leader } = await enterAsLeader(taskId, `/api/v1/trades/${tradeId}/entry`, byPid, regulator, LEADER_WAIT_MS);
  const task = (await regulator.get(`/api/v1/committees/tasks/${taskId}`)).body;
  for (const pid of task.committee as string[]) {
    const m = byPid.get(pid)!;
    if (m === leader) continue;
    const v = await voteAfterEntry(m, `/api/v1/trades/${tradeId}/votes`, { approve: true, conditions });
    expectStatus(v, 201);
  }
  const d = await regulator.post(`/api/v1/trades/${tradeId}/decision`, {});
  if (d.status !== 201) throw new Error(`${ballot} ballot of trade ${tradeId}: decision answered ${d.status} ${d.text}`);
  return d.body.result;
}

export async function balance(regulator: RestClient, participantId: string): Promise<number> {
  const w = await regulator.get(`/api/v1/wallets/${participantId}`);
  expectStatus(w, 200);
  return w.body.balance as number;
}

export async function qScore(regulator: RestClient, m: Member): Promise<number> {
  const p = await regulator.get(`/api/v1/participants/${m.participantId}`);
  expectStatus(p, 200);
  return p.body.qScore as number;
}

/**
 * Accepts an offer through the buyer's gateway once that gateway sees it. The seller's POST returned
 * after the seller's own peer committed the offer; the buyer's org peer commits the same block a moment
 * later (each peer pulls blocks from the orderers), so accepting at once can read "offer does not exist"
 * there. Seen on Fabric with each org on its own host (docs/operations.md §3).
 */
export async function acceptOffer(buyer: Member, offerId: string, body: { meterId: string; amountWh: number; pricePerKwh: number }): Promise<HttpResponse> {
  const client = memberClient(buyer);
  await eventually(`offer ${offerId} visible at ${buyer.org}'s gateway`, async () => ((await client.get(`/api/v1/offers/${offerId}`)).status === 200 ? true : undefined));
  return client.post(`/api/v1/offers/${offerId}/acceptances`, body);
}

/** Opens (if needed) and credits a member's wallet through its utility's operator. */
export async function fundWallet(m: Member, gw: GatewayDescriptor, amount: number): Promise<void> {
  const open = await memberClient(m).post('/api/v1/wallets', { meterId: m.meterId });
  if (open.status !== 201 && open.status !== 409) expectStatus(open, 201);
  const credit = await new RestClient(gw.url, gw.apiKeys.operator).post(`/api/v1/wallets/${m.participantId}/credits`, { amount, reference: `e2e-${RUN}-${m.meterId}` }, { idempotencyKey: `credit-${RUN}-${m.meterId}` });
  expectStatus(credit, 201);
}

/** The delivery interval has ended; both meters post their readings of it, the seller mints, delivers, and the trade is validated to SETTLED. */
export async function deliverAndSettle(opts: {
  tradeId: string; seller: Member; buyer: Member; deliveryStart: number; len: number; amountWh: number; byPid: Map<string, Member>; regulator: RestClient;
}): Promise<any> {
  const { tradeId, seller, buyer, deliveryStart, len, amountWh, byPid, regulator } = opts;
  const [sellerBefore, buyerBefore] = [await qScore(regulator, seller), await qScore(regulator, buyer)];
  while (Date.now() / 1000 < deliveryStart + len + 5) await sleep(2000);
  const reading = (importWh: number, exportWh: number) => ({ intervalStart: deliveryStart, intervalLength: len, importWh, exportWh, importRegisterWh: 1_000_000 + importWh, exportRegisterWh: 1_000_000 + exportWh });
  const sellerClient = memberClient(seller);
  const buyerClient = memberClient(buyer);
  expectStatus(await sellerClient.post(`/api/v1/meters/${seller.meterId}/readings?sync=true`, reading(0, amountWh + 300)), 200);
  expectStatus(await buyerClient.post(`/api/v1/meters/${buyer.meterId}/readings?sync=true`, reading(amountWh + 100, 0)), 200);
  const mint = await sellerClient.post('/api/v1/energy/packets', { meterId: seller.meterId, intervalStart: deliveryStart, amountWh, source: 'solar' });
  expectStatus(mint, 201);
  const delivered = await sellerClient.post(`/api/v1/trades/${tradeId}/deliveries`, { meterId: seller.meterId, packets: [{ packetId: mint.body.result.packetId, amountWh }] });
  expectStatus(delivered, 201);
  const taskId = delivered.body.result.validation.taskId as string; // trades:deliverEnergy opens the validation task
  await eventually('validator committee drawn', async () => ((await regulator.get(`/api/v1/committees/tasks/${taskId}`)).body.status === 'ACTIVE' ? true : undefined), 120_000);
  await runBallot(tradeId, taskId, 'execution', { condition1: true, condition2: true }, byPid, regulator);
  const confirm = await buyerClient.post(`/api/v1/trades/${tradeId}/delivery-confirmation`, { meterId: buyer.meterId, receivedWh: amountWh });
  expectStatus(confirm, 201);
  await runBallot(tradeId, taskId, 'final', { condition3: true, condition4: true }, byPid, regulator);
  const got = await regulator.get(`/api/v1/trades/${tradeId}`);
  expectStatus(got, 200);
  const trade = got.body;
  // delivered in full and attested by the committee (not decided by the stage window's facts)
  expect(trade).toMatchObject({ state: 'SETTLED', meteredWh: amountWh, outcome: { fault: 'none', paidToSeller: trade.cost, refundedToBuyer: 0, forfeited: 0, energyToBuyerWh: amountWh } });
  expect(trade.validation.decidedByFacts).toBe(false);
  expect(trade.validation.contrary).toEqual([]);
  expect(trade.validation.honest).not.toContain(seller.participantId);
  expect(trade.validation.honest).not.toContain(buyer.participantId);
  // α = +1 raised both parties' Q-scores
  expect(await qScore(regulator, seller)).toBeGreaterThan(sellerBefore);
  expect(await qScore(regulator, buyer)).toBeGreaterThan(buyerBefore);
  // the trade's history holds every state it went through, in order
  const history = await regulator.get(`/api/v1/trades/${tradeId}/history?pageSize=50`);
  expectStatus(history, 200);
  const states = (history.body.items as Array<{ state: string }>).map((h) => h.state).filter((st, i, all) => i === 0 || all[i - 1] !== st);
  for (const st of ['EXECUTION', 'FINAL', 'SETTLED']) expect(states).toContain(st);
  expect(states.indexOf('EXECUTION')).toBeLessThan(states.indexOf('FINAL'));
  expect(states.indexOf('FINAL')).toBeLessThan(states.indexOf('SETTLED'));
  return trade;
}

/**
 * A fresh meter joins and is admitted by a drawn committee of members this suite holds (as in 07); returns the new member.
 * With `stake` ≥ minStake the member is committee-eligible once admitted (a stake-0 trader is not).
 */
export async function admitByCommittee(gw: GatewayDescriptor, meterId: string, zone: string, byPid: Map<string, Member>, regulator: RestClient, stake = 0): Promise<Member> {
  const { meter, participant } = await enrolAndJoin(gw, meterId, zone, stake);
  const pid = participant.participantId as string;
  const taskId = participant.admissionTaskId as string;
  const task = await eventually('committee drawn', async () => {
    const t = await regulator.get(`/api/v1/committees/tasks/${taskId}`);
    return t.body.status === 'ACTIVE' ? t.body : undefined;
  }, 120_000);
  const { leader } = await enterAsLeader(taskId, `/api/v1/admissions/${pid}/entry`, byPid, regulator, LEADER_WAIT_MS);
  for (const p of task.committee as string[]) {
    const m = byPid.get(p)!;
    if (m === leader) continue;
    expectStatus(await voteAfterEntry(m, `/api/v1/admissions/${pid}/votes`, { approve: true, conditions: { condition1: true, condition2: true } }), 201);
  }
  const d = await regulator.post(`/api/v1/admissions/${pid}/decision`, {});
  expectStatus(d, 201);
  const member = { meterId, apiKey: meter.apiKey, participantId: pid, org: gw.org };
  saveMember(member);
  return member;
}

/**
 * A fresh meter (stake 0: never drawn onto a committee) joins and is admitted by the community's agents —
 * no manual entry, vote or decision; its agent's household autopilot is then on with `behaviour`.
 */
export async function agentHousehold(gw: GatewayDescriptor, meterId: string, zone: string, behaviour: string, regulator: RestClient): Promise<Member> {
  const { meter, participant: p } = await enrolAndJoin(gw, meterId, zone, 0, 'honest');
  const pid = p.participantId as string;
  await eventually(`admission of ${meterId} by the agents`, async () => {
    const r = await regulator.get(`/api/v1/participants/${pid}`);
    expectStatus(r, 200);
    return r.body.status === 'ACTIVE' ? true : undefined;
  }, 5 * 60_000);
  const m = { meterId, apiKey: meter.apiKey, participantId: pid, org: gw.org };
  saveMember(m);
  const r = await new RestClient(gw.url, gw.apiKeys.operator).request('PUT', `/api/v1/meters/${meterId}/agent`, { body: { behaviour, autopilot: true } });
  expectStatus(r, 200);
  expect(r.body).toMatchObject({ behaviour, autopilot: true });
  return m;
}
