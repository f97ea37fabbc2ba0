/**
 * A gateway SIGKILLed in the middle of a ballot its agent takes part in (issue 17, docs/agents.md §2): after
 * the restart the agent resumes from its checkpointed duties, re-reads the ballot on the ledger, and votes
 * at most once — the ledger holds exactly one vote of the member, the gateway's log shows no second attempt
 * (a second vote would be refused by the chaincode as a lost race, and logged as such), and the ballot
 * completes. The crash is a real SIGKILL of the gateway process, restarted by start.sh's own function, as
 * crash test 06 does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkHome } from '../support';
import {
  collectSse,
  enrolAndJoin,
  ensureCommunity,
  eventually,
  expectStatus,
  killGateway,
  loadGateways,
  restartGateways,
  regulatorClient,
  RestClient,
  RUN,
  setAgentBehaviour,
  type Member,
  type SseEvent,
} from './support';

const gateways = loadGateways();
const regulator = regulatorClient(gateways);
const gwOf = (m: Member) => gateways.find((g) => g.org === m.org)!;

interface BallotBody {
  ballot: { status: string; round: number; entry?: { leader: string } } | null;
  votes: Array<{ voter: string; approve: boolean; round: number }>;
}

describe('an agent that crashes mid-ballot', () => {
  const community: Member[] = [];

  afterAll(async () => {
    // whoever runs next on this network finds honest agents
    await restartGateways().catch(() => undefined);
    await Promise.all(community.map((m) => setAgentBehaviour(gwOf(m), m.meterId, 'honest').catch(() => undefined)));
  });

  test('a gateway SIGKILLed mid-ballot resumes without a second vote, and the ballot completes', async () => {
    const { members, params } = await ensureCommunity('honest');
    expect(params.f).toBe(1);
    for (const m of members) {
      const v = (await regulator.get(`/api/v1/participants/${m.participantId}`)).body;
      if (v.stake >= params.minStake && v.qScore >= params.minQScore) community.push(m);
    }
    // Every member holds still until the seats are assigned (honest agents act within a second of the draw).
    await Promise.all(community.map((m) => setAgentBehaviour(gwOf(m), m.meterId, 'silent')));
    const { participant: p, blockNumber } = await enrolAndJoin(gateways[0]!, `crashjoin-${RUN}`, 'zone-c', 0, 'honest');
    const pid = p.participantId as string;
    const taskId = p.admissionTaskId as string;
    const task = await eventually('committee drawn for the newcomer', async () => {
      const t = await regulator.get(`/api/v1/committees/tasks/${taskId}`);
      expectStatus(t, 200);
      return t.body.status === 'ACTIVE' ? t.body : undefined;
    }, 120_000);
    const byPid = new Map(community.map((m) => [m.participantId, m]));
    const seats = (task.committee as string[]).map((x) => byPid.get(x));
    for (const m of seats) if (!m) throw new Error(`committee ${JSON.stringify(task.committee)} holds a member this suite has no key for`);
    // victim: its vote is needed for 2f+1 = 3 approvals, because one other seat stays silent
    const [victim, mute, ...rest] = seats as Member[];
    if (!victim || !mute) throw new Error(`committee ${JSON.stringify(task.committee)} has fewer than 2 seats`);
    await Promise.all(rest.map((m) => setAgentBehaviour(gwOf(m), m.meterId, 'honest')));
    const ballotNow = async (via: RestClient = regulator): Promise<BallotBody> => {
      const b = await via.get(`/api/v1/committees/tasks/${taskId}/ballots/admission`);
      expectStatus(b, 200);
      return b.body;
    };
    // the two honest seats: one enters at its slot (its approval), the other votes — one approval short
    await eventually('entry and a vote by the two honest seats', async () => {
      const b = await ballotNow();
      return b.ballot?.entry && b.votes.filter((v) => v.round === task.round && v.approve).length >= 2 ? true : undefined;
    }, 4 * task.slotSeconds * 1000 + 60_000);
    expect((await ballotNow()).ballot!.status).toBe('OPEN');

    // The victim's agent wakes up (its seat reopens and it votes) — and its gateway is killed under it.
    const gw = gwOf(victim);
    // while it is down, the ballot is read through another utility's gateway
    const survivor = gateways.find((g) => g.org !== gw.org) ?? gw;
    const reader = new RestClient(survivor.url, survivor.apiKeys.operator);
    expect(victim.participantId).not.toBe(mute.participantId);
    await setAgentBehaviour(gw, victim.meterId, 'honest');
    await new Promise((r) => setTimeout(r, 150));
    await killGateway(gw.org);
    const atKill = await ballotNow(reader);
    await restartGateways();

    await eventually('the newcomer admitted after the restart', async () => {
      const r = await regulator.get(`/api/v1/participants/${pid}`);
      expectStatus(r, 200);
      return r.body.status === 'ACTIVE' ? true : undefined;
    }, 3 * 60_000);
    const after = await ballotNow();
    expect(after.ballot).toMatchObject({ status: 'APPROVED', round: task.round });
    // the ledger: the victim voted exactly once (before or after the crash), approving; the mute seat never
    const mine = after.votes.filter((v) => v.voter === victim.participantId);
    expect(mine).toEqual([expect.objectContaining({ approve: true, round: task.round })]);
    expect(after.votes.filter((v) => v.voter === mute.participantId)).toEqual([]);
    const seen = await collectSse(
      regulator,
      `?fromBlock=${blockNumber}&names=VoteRecorded,LeaderEntryRecorded,BallotDecided`,
      (e) => e.data.payload?.taskId === taskId,
      (c) => c.some((e) => e.event === 'BallotDecided'),
      { timeoutMs: 60_000 },
    );
    const votesOfVictim = seen.events.filter((e: SseEvent) => e.event === 'VoteRecorded' && e.data.payload.voter === victim.participantId);
    expect(votesOfVictim).toHaveLength(1);
    expect(seen.events.filter((e: SseEvent) => e.event === 'BallotDecided')).toHaveLength(1);

    // the gateway's own log (before and after the crash): at most one committed vote act for the seat, and
    // no attempt the chaincode refused as already done (which a second vote would be)
    const actKey = `vote|${taskId}|${task.round}|admission|${victim.meterId}`;
    const lines = readFileSync(join(networkHome(), 'logs', `gateway-${gw.org}.log`), 'utf8').split('\n').filter((l) => l.includes(`"act":"${actKey}"`));
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs.filter((m) => m === 'agent act committed').length).toBeLessThanOrEqual(1);
    expect(msgs.filter((m) => /already done/.test(m))).toEqual([]);
    // for the report: whether the vote committed before the kill or after the restart
    console.log(`victim vote ${atKill.votes.some((v) => v.voter === victim.participantId) ? 'on the ledger before the SIGKILL' : 'not on the ledger when the gateway was killed (in flight, or cast after the restart)'}; log lines for its act: ${msgs.join(' | ') || 'none'}`);
  }, 10 * 60_000);
});
