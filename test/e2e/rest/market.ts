/**
 * Shared by the pending market flows: wallets, balances and the validated settlement of a trade
 * (seed 002 Fig. 5) through the gateways. Not a test file.
 */
import { RUN, enrolAndJoin, eventually, expectStatus, memberClient, RestClient, saveMember, type GatewayDescriptor, type Member } from '../support';
import { sleep } from '../../support';

export async function runBallot(tradeId: string, taskId: string, ballot: string, conditions: Record<string, boolean>, byPid: Map<string, Member>, regulator: RestClient) {
  let leader: Member | undefined;
  await eventually(`${ballot} entry`, async () => {
    const l = await regulator.get(`/api/v1/committees/tasks/${taskId}/leader`);
    expectStatus(l, 200);
    leader = byPid.get(l.body.leader);
    if (!leader) throw new Error(`leader ${l.body.leader} is not a member this suite holds`);
    const e = await memberClient(leader).post(`/api/v1/trades/${tradeId}/entry`, { meterId: leader.meterId });
    if (e.status === 403 && /leader/.test(e.text)) return undefined;
    // Condition 2: this leader already entered another task in this slot — wait for the next slot's leader
    if (e.status === 409 && /Condition 2/.test(e.text)) return undefined;
    expectStatus(e, 201);
    return e.body;
  }, 420_000);
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
  await eventually('validator committee drawn', async () => ((await regulator.get(`/api/v1/committees/tasks/${taskId}`)).body.status === 'active' ? true : undefined), 120_000);
  await runBallot(tradeId, taskId, 'execution', { condition1: true, condition2: true }, byPid, regulator);
  const confirm = await buyerClient.post(`/api/v1/trades/${tradeId}/delivery-confirmation`, { meterId: buyer.meterId, receivedWh: amountWh });
  expectStatus(confirm, 201);
  await runBallot(tradeId, taskId, 'final', { condition3: true, condition4: true }, byPid, regulator);
  const trade = await regulator.get(`/api/v1/trades/${tradeId}`);
  expectStatus(trade, 200);
  return trade.body;
}

/** A fresh meter joins and is admitted by a drawn committee of members this suite holds (as in 07); returns the new member. */
export async function admitByCommittee(gw: GatewayDescriptor, meterId: string, zone: string, byPid: Map<string, Member>, regulator: RestClient): Promise<Member> {
  const { meter, participant } = await enrolAndJoin(gw, meterId, zone, 0);
  const pid = participant.participantId as string;
  const taskId = participant.admissionTaskId as string;
  const task = await eventually('committee drawn', async () => {
    const t = await regulator.get(`/api/v1/committees/tasks/${taskId}`);
    return t.body.status === 'active' ? t.body : undefined;
  }, 120_000);
  let leader: Member | undefined;
  await eventually('leader entry', async () => {
    const l = await regulator.get(`/api/v1/committees/tasks/${taskId}/leader`);
    leader = byPid.get(l.body.leader);
    if (!leader) throw new Error(`leader ${l.body.leader} unknown`);
    const e = await memberClient(leader).post(`/api/v1/admissions/${pid}/entry`, { meterId: leader.meterId });
    if (e.status === 403 && /leader/.test(e.text)) return undefined;
    // Condition 2: this leader already entered another task in this slot — wait for the next slot's leader
    if (e.status === 409 && /Condition 2/.test(e.text)) return undefined;
    expectStatus(e, 201);
    return true;
  }, 420_000);
  for (const p of task.committee as string[]) {
    const m = byPid.get(p)!;
    if (m === leader) continue;
    expectStatus(await memberClient(m).post(`/api/v1/admissions/${pid}/votes`, { meterId: m.meterId, approve: true, conditions: { condition1: true, condition2: true } }), 201);
  }
  const d = await regulator.post(`/api/v1/admissions/${pid}/decision`, {});
  expectStatus(d, 201);
  const member = { meterId, apiKey: meter.apiKey, participantId: pid, org: gw.org };
  saveMember(member);
  return member;
}
