/**
 * The meters' agents (issue 17, docs/agents.md): nobody calls an entry, a vote or a decision here. Each
 * utility's gateway runs an agent per meter it holds; the agents follow the chaincode events, lead their
 * Eq. (1) slots, check the ballot's conditions themselves from the ledger, vote, decide, and — as keepers —
 * re-draw a committee whose round ran out. The test only enrols, asks to join, sets behaviours, and reads.
 */
import {
  collectSse,
  enrolAndJoin,
  ensureCommunity,
  eventually,
  expectStatus,
  loadGateways,
  regulatorClient,
  RestClient,
  RUN,
  saveMember,
  setAgentBehaviour,
  TEST_GOVERNANCE,
  type GatewayDescriptor,
  type Member,
  type SseEvent,
  memberClient,
} from './support';
import { acceptOffer, balance, ensureMarketParameters, fundWallet, TEST_INTERVAL } from './market';

const gateways = loadGateways();
const regulator = regulatorClient(gateways);
const gwOf = (m: Member) => gateways.find((g) => g.org === m.org)!;
/** Eq. (1) needs every member's slot before the deadline: α·n = 30 s × 4 (the chaincode's minimum). */
const TASK_DEADLINE_SECONDS = TEST_GOVERNANCE.slotSeconds * 4;
const NAMES = ['TaskOpened', 'CommitteeDrawn', 'LeaderEntryRecorded', 'VoteRecorded', 'BallotDecided', 'ParticipantAdmitted', 'TaskCancelled'];

async function participant(pid: string): Promise<{ status: string; stake: number; qScore: number; pendingCredits: number }> {
  const r = await regulator.get(`/api/v1/participants/${pid}`);
  expectStatus(r, 200);
  return r.body;
}

/** A meter joins; the agents of the community admit it. Returns the new member and the join's block. */
async function joinAndWaitForAgents(gw: GatewayDescriptor, meterId: string, zone: string, stake: number, timeoutMs: number): Promise<{ member: Member; taskId: string; fromBlock: number }> {
  const { meter, participant: p, blockNumber } = await enrolAndJoin(gw, meterId, zone, stake, 'honest');
  const pid = p.participantId as string;
  await eventually(`admission of ${meterId} by the agents`, async () => ((await participant(pid)).status === 'ACTIVE' ? true : undefined), timeoutMs);
  const member = { meterId, apiKey: meter.apiKey, participantId: pid, org: gw.org };
  saveMember(member);
  return { member, taskId: p.admissionTaskId as string, fromBlock: blockNumber };
}

describe('meter agents', () => {
  let deadlineBefore: number | undefined;

  afterAll(async () => {
    if (deadlineBefore !== undefined) await regulator.post('/api/v1/governance/parameters', { taskDeadlineSeconds: deadlineBefore });
  });

  test('a community of 8 meters (one silent, one refuse-all) admits a newcomer by committee with no manual entry, vote or decision', async () => {
    const { members: founders, params } = await ensureCommunity('honest');
    const n = 3 * params.f + 1;
    expect(params.f).toBe(1);
    deadlineBefore = params.taskDeadlineSeconds;
    expectStatus(await regulator.post('/api/v1/governance/parameters', { taskDeadlineSeconds: TASK_DEADLINE_SECONDS }), 201);

    // Grow the committee-eligible community to 8 across the three utilities — each newcomer admitted by
    // the agents alone. (Members other suites admitted with stake 0 are never drawn: they do not count.)
    const community: Member[] = [];
    for (const m of founders) {
      const v = await participant(m.participantId);
      if (v.stake >= params.minStake && v.qScore >= params.minQScore) community.push(m);
    }
    for (let i = 0; community.length < 8; i++) {
      const gw = gateways[i % gateways.length]!;
      const { member } = await joinAndWaitForAgents(gw, `agent-${RUN}-${i}`, `zone-${i % 3}`, params.minStake, 5 * 60_000);
      community.push(member);
    }
    expect(new Set(community.map((m) => m.org)).size).toBe(Math.min(3, gateways.length));

    // The newcomer. Its committee is drawn from the beacon; once drawn, two of its members turn faulty:
    // one silent, one refuse-all — more than f = 1, so round 0 cannot decide and a keeper re-draws it.
    // (zone-c, as 07's candidate: a zone holding only stake-0 members costs every later draw attempts —
    // chaincode/src/governance/domain/sampling.ts — so the suite keeps to the zones it already uses)
    // Every member holds still until the faulty seats are assigned: honest agents act within a second of
    // CommitteeDrawn, faster than a test can turn two of them faulty (seen: round 0 decided before that).
    await Promise.all(community.map((m) => setAgentBehaviour(gwOf(m), m.meterId, 'silent')));
    const gw = gateways[2] ?? gateways[0]!;
    const { meter, participant: p, blockNumber } = await enrolAndJoin(gw, `newcomer-${RUN}`, 'zone-c', 0, 'honest');
    const pid = p.participantId as string;
    const taskId = p.admissionTaskId as string;
    const task0 = await eventually('committee drawn for the newcomer', async () => {
      const t = await regulator.get(`/api/v1/committees/tasks/${taskId}`);
      expectStatus(t, 200);
      return t.body.status === 'ACTIVE' ? t.body : undefined;
    }, 120_000);
    // Not the leader of this slot or the last one (it may be entering right now): the two other seats.
    const leaderOfSlot = (s: number) => (task0.committee as string[])[(((s + task0.leaderOffset) % n) + n) % n]!;
    const slotNow = Math.floor((Date.now() / 1000 - task0.genesisAt) / task0.slotSeconds); // ledger times are Unix seconds
    const byPid = new Map(community.map((m) => [m.participantId, m]));
    const seats = (task0.committee as string[]).filter((x) => x !== leaderOfSlot(slotNow) && x !== leaderOfSlot(slotNow - 1)).map((x) => byPid.get(x)!);
    expect(seats.length).toBeGreaterThanOrEqual(2);
    for (const m of seats) if (!m) throw new Error(`committee ${JSON.stringify(task0.committee)} holds a member this suite has no key for`);
    const [silent, refuser] = seats as [Member, Member];
    // The refuser and every other member wake up (a silent agent's finished duties reopen); the silent one stays.
    await Promise.all(community.filter((m) => m.participantId !== silent.participantId).map((m) =>
      setAgentBehaviour(gwOf(m), m.meterId, m.participantId === refuser.participantId ? 'refuse-all' : 'honest')));

    // Nothing else: the agents enter, vote, decide; the keepers re-draw a stuck round.
    await eventually('the newcomer admitted by the agents', async () => ((await participant(pid)).status === 'ACTIVE' ? true : undefined), 12 * 60_000);

    // The whole admission, from the SSE stream, in ledger order.
    const seen = await collectSse(
      regulator,
      `?fromBlock=${blockNumber}&names=${NAMES.join(',')}`,
      (e) => e.data.payload?.taskId === taskId || e.data.payload?.participantId === pid,
      (c) => c.some((e) => e.event === 'ParticipantAdmitted'),
      { timeoutMs: 60_000 },
    );
    expect(seen.status).toBe(200);
    const of = (name: string) => seen.events.filter((e: SseEvent) => e.event === name).map((e) => e.data.payload);
    const drawn = of('CommitteeDrawn');
    const decided = of('BallotDecided');
    const entries = of('LeaderEntryRecorded');
    const votes = of('VoteRecorded');
    expect(of('TaskCancelled')).toEqual([]); // not a founding admission
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ taskId, ballot: 'admission', outcome: 'APPROVED' });
    expect(decided[0].approvals).toBeGreaterThanOrEqual(2 * params.f + 1);
    expect(of('ParticipantAdmitted')).toHaveLength(1);

    // Round 0 held both faulty members: it could not decide; a keeper re-drew it after its deadline.
    expect(drawn[0]).toMatchObject({ round: 0 });
    expect(decided[0].round).toBeGreaterThan(0);
    expect(of('TaskOpened').some((t) => t.round === decided[0].round)).toBe(true);

    // The silent member never entered nor voted; the refuse-all member refused in round 0 and never approved.
    const acts = [...entries.map((e) => ({ round: e.round, voter: e.leader, approve: true })), ...votes.map((v) => ({ round: v.round, voter: v.voter, approve: v.approve }))];
    expect(acts.filter((a) => a.voter === silent.participantId)).toEqual([]);
    expect(acts.filter((a) => a.voter === refuser.participantId && a.approve)).toEqual([]);
    expect(votes.filter((v) => v.round === 0 && v.voter === refuser.participantId)).toEqual([expect.objectContaining({ approve: false })]);
    // Every act in a round came from that round's committee, and no member acted twice in a round.
    for (const a of acts) expect(drawn.find((d) => d.round === a.round)!.committee).toContain(a.voter);
    const keys = acts.map((a) => `${a.round}|${a.voter}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Exactly one entry per round that reached one, and the deciding round's entry came before its votes.
    expect(new Set(entries.map((e) => e.round)).size).toBe(entries.length);

    // The agents' own view: nothing left pending for the newcomer's task.
    for (const g of gateways) {
      const r = await new RestClient(g.url, g.apiKeys.operator).get('/api/v1/agents');
      expectStatus(r, 200);
      expect(r.body.enabled).toBe(true);
      expect(r.body.pending.filter((d: { subject: string; kind: string }) => d.subject === taskId && d.kind === 'member')).toEqual([]);
    }
    // A meter key sees its own agent; another meter's agent is not its business.
    const own = await meter.client.get(`/api/v1/meters/${meter.meterId}/agent`);
    expectStatus(own, 200);
    expect(own.body).toMatchObject({ meterId: meter.meterId, behaviour: 'honest', participantId: pid });
    expectStatus(await meter.client.get(`/api/v1/meters/${silent.meterId}/agent`), 403, 'forbidden-meter');
    saveMember({ meterId: meter.meterId, apiKey: meter.apiKey, participantId: pid, org: gw.org });

    // Back to honest, for whoever runs next on this network.
    await Promise.all([setAgentBehaviour(gwOf(silent), silent.meterId, 'honest'), setAgentBehaviour(gwOf(refuser), refuser.meterId, 'honest')]);
  }, 25 * 60_000);

  test('a fixed-price trade is delivered, validated by committee and settled by the agents: the test only offers, accepts and posts the meters\' readings', async () => {
    const { members } = await ensureCommunity('honest');
    const params = (await regulator.get('/api/v1/governance/parameters')).body;
    // seller and buyer: fresh meters (stake 0: never drawn), admitted by the agents, autopilot on
    const sellerGw = gateways[0]!;
    const buyerGw = gateways[1] ?? gateways[0]!;
    const [{ member: seller }, { member: buyer }] = await Promise.all([
      joinAndWaitForAgents(sellerGw, `seller-${RUN}`, 'zone-s', 0, 5 * 60_000),
      joinAndWaitForAgents(buyerGw, `buyer-${RUN}`, 'zone-b', 0, 5 * 60_000),
    ]);
    expect(members.length).toBeGreaterThanOrEqual(3 * params.f + 1);
    for (const [gw, m] of [[sellerGw, seller], [buyerGw, buyer]] as const) {
      const r = await new RestClient(gw.url, gw.apiKeys.operator).request('PUT', `/api/v1/meters/${m.meterId}/agent`, { body: { autopilot: true } });
      expectStatus(r, 200);
      expect(r.body).toMatchObject({ behaviour: 'honest', autopilot: true });
    }
    await fundWallet(seller, sellerGw, 100_000);
    await fundWallet(buyer, buyerGw, 100_000);
    const [sellerBefore, buyerBefore] = [await balance(regulator, seller.participantId), await balance(regulator, buyer.participantId)];
    const scoreBefore = new Map([[seller.participantId, (await participant(seller.participantId)).qScore], [buyer.participantId, (await participant(buyer.participantId)).qScore]]);

    await ensureMarketParameters(regulator); // 60 s metering intervals (docs/market.md "Metering intervals")
    const len = TEST_INTERVAL;
    const deliveryStart = Math.ceil((Date.now() / 1000 + 90) / len) * len;
    const offer = await memberClient(seller).post('/api/v1/offers', { meterId: seller.meterId, amountWh: 200, pricePerKwh: 250, deliveryStart, deliveryLength: len, ttlSeconds: 60 });
    expectStatus(offer, 201);
    const accepted = await acceptOffer(buyer, offer.body.result.offerId, { meterId: buyer.meterId, amountWh: 200, pricePerKwh: 250 });
    expectStatus(accepted, 201);
    const tradeId = accepted.body.result.tradeId as string;

    // The meters report the delivery interval once it ended (a meter's job, not an agent's) ...
    while (Date.now() / 1000 < deliveryStart + len + 5) await new Promise((r) => setTimeout(r, 2000));
    const reading = (importWh: number, exportWh: number) => ({ intervalStart: deliveryStart, intervalLength: len, importWh, exportWh, importRegisterWh: 1_000_000 + importWh, exportRegisterWh: 1_000_000 + exportWh });
    expectStatus(await memberClient(seller).post(`/api/v1/meters/${seller.meterId}/readings?sync=true`, reading(0, 500)), 200);
    expectStatus(await memberClient(buyer).post(`/api/v1/meters/${buyer.meterId}/readings?sync=true`, reading(300, 0)), 200);

    // ... and everything else is the agents': mint + delivery, execution ballot, confirmation, final ballot.
    const trade = await eventually('the trade settled by the agents', async () => {
      const t = await regulator.get(`/api/v1/trades/${tradeId}`);
      expectStatus(t, 200);
      return ['SETTLED', 'DECLINED', 'FAILED_LATE'].includes(t.body.state) ? t.body : undefined;
    }, 8 * 60_000);
    expect(trade).toMatchObject({ state: 'SETTLED', meteredWh: 200, buyerDeclaredWh: 200, outcome: { fault: 'none', paidToSeller: trade.cost, refundedToBuyer: 0, forfeited: 0 } });
    expect(trade.validation.decidedByFacts).toBe(false); // by committee votes, not by a stage window
    expect(trade.validation.contrary).toEqual([]);
    expect(await balance(regulator, seller.participantId)).toBe(sellerBefore + trade.cost);
    expect(await balance(regulator, buyer.participantId)).toBe(buyerBefore - trade.cost);
    const history = await regulator.get(`/api/v1/trades/${tradeId}/history?pageSize=50`);
    const states = (history.body.items as Array<{ state: string }>).map((h) => h.state).filter((st, i, all) => i === 0 || all[i - 1] !== st);
    expect(states).toEqual(['AWAITING_ENERGY', 'EXECUTION', 'FINAL', 'SETTLED']);

    // The settlement raised seller and buyer by score credits (docs/governance.md §8); the score of record —
    // what the leaderboard orders by — catches up when each party's own utility's keeper folds them, once the
    // party has been quiet for a while (docs/agents.md §3 score-fold). Nobody calls participants:foldScore here.
    await eventually("the parties' score credits folded by their utilities' keepers", async () => {
      for (const m of [seller, buyer]) if ((await participant(m.participantId)).pendingCredits !== 0) return undefined;
      return true;
    }, 5 * 60_000);
    const board: Array<{ participantId: string; qScore: number }> = [];
    for (let bookmark = '', first = true; first || bookmark !== ''; first = false) {
      const page = await regulator.get(`/api/v1/participants/leaderboard?pageSize=100${bookmark ? `&bookmark=${encodeURIComponent(bookmark)}` : ''}`);
      expectStatus(page, 200);
      board.push(...page.body.entries);
      bookmark = page.body.bookmark;
    }
    for (let i = 1; i < board.length; i++) expect(board[i]!.qScore).toBeLessThanOrEqual(board[i - 1]!.qScore);
    for (const m of [seller, buyer]) {
      const listed = board.filter((e) => e.participantId === m.participantId);
      expect(listed).toEqual([{ participantId: m.participantId, qScore: (await participant(m.participantId)).qScore }]);
      expect(listed[0]!.qScore).toBeGreaterThan(scoreBefore.get(m.participantId)!); // the trade's raise, folded
    }
  }, 20 * 60_000);

  test('an offer nobody accepted is closed by a keeper once it expired, its collateral returned', async () => {
    const { members } = await ensureCommunity('honest');
    const seller = members[0]!;
    await ensureMarketParameters(regulator);
    const market = await regulator.get('/api/v1/market/parameters');
    expectStatus(market, 200);
    await fundWallet(seller, gwOf(seller), 10_000);
    const before = await balance(regulator, seller.participantId);
    const len = TEST_INTERVAL;
    const ttl = market.body.minOfferTtlSeconds as number;
    const deliveryStart = Math.ceil((Date.now() / 1000 + ttl + 60) / len) * len;
    const created = await memberClient(seller).post('/api/v1/offers', { meterId: seller.meterId, amountWh: 100, pricePerKwh: 200, deliveryStart, deliveryLength: len, ttlSeconds: ttl });
    expectStatus(created, 201);
    const offer = created.body.result;
    expect(offer).toMatchObject({ status: 'OPEN' });
    expect(offer.collateral).toBeGreaterThan(0);
    expect(await balance(regulator, seller.participantId)).toBe(before - offer.collateral);

    // Nobody calls offers:expire: every utility's keeper has it scheduled, the seller's own utility's at
    // expiresAt + its margin, the others' standing in 20 s later (agents.keeper.backupMs; docs/agents.md §3)
    for (const gw of loadGateways()) {
      // each gateway's agents see the offer's block on their own event stream, shortly after the 201
      const duty = await eventually(`${gw.org}'s expiry keeper of ${offer.offerId}`, async () => {
        const duties = await new RestClient(gw.url, gw.apiKeys.operator).get('/api/v1/agents');
        expectStatus(duties, 200);
        return (duties.body.pending as Array<{ kind: string; subject: string; dueAt: number; meterId: string | null }>).find((d) => d.kind === 'offer-expire' && d.subject === offer.offerId);
      }, 30_000);
      expect(duty.meterId).toBeNull();
      if (gw.org === seller.org) expect(duty.dueAt).toBeLessThan(offer.expiresAt + 20);
      else expect(duty.dueAt).toBeGreaterThanOrEqual(offer.expiresAt + 20);
    }
    const closed = await eventually('the offer expired by a keeper', async () => {
      const o = await regulator.get(`/api/v1/offers/${offer.offerId}`);
      expectStatus(o, 200);
      return o.body.status === 'OPEN' ? undefined : o.body;
    }, (ttl + 90) * 1000);
    expect(closed).toMatchObject({ status: 'EXPIRED', collateralReturned: offer.collateral, forfeited: 0 });
    expect(closed.closedAt).toBeGreaterThanOrEqual(offer.expiresAt);
    expect(await balance(regulator, seller.participantId)).toBe(before);
  }, 5 * 60_000);
});
