/**
 * REST suite support — the members the REST suites share (enrolled, admitted, keyed), and the committee steps tests drive by hand.
 * Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkHome } from '../../support/network';
import { sleep } from '../../support/control';
import { GatewayDescriptor, loadGateways, regulatorClient } from './gateways';
import { HttpResponse, RUN, RestClient, eventually, expectStatus } from './http';
import { AgentBehaviour, EnrolledMeter, enrolMeter, setAgentBehaviour } from './meters';

export interface Member {
  meterId: string;
  apiKey: string;
  participantId: string;
  org: string;
}

const membersFile = (home: string) => join(home, 'rest-e2e-members.json');

export function loadMembers(home: string = networkHome()): Member[] {
  const f = membersFile(home);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Member[]) : [];
}

export function saveMember(m: Member, home: string = networkHome()): void {
  const all = loadMembers(home).filter((x) => x.participantId !== m.participantId);
  all.push(m);
  writeFileSync(membersFile(home), JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
}

export function memberClient(m: Member): RestClient {
  const gw = loadGateways().find((g) => g.org === m.org);
  if (!gw) throw new Error(`no gateway for ${m.org}`);
  return new RestClient(gw.url, m.apiKey);
}

/** Enrols a meter and asks to join (stake in fixed point); returns the pending participant. */
export async function enrolAndJoin(gw: GatewayDescriptor, meterId: string, zone: string, stake: number, agent: AgentBehaviour = 'silent'): Promise<{ meter: EnrolledMeter; participant: any; blockNumber: number }> {
  const meter = await enrolMeter(gw, meterId, zone, agent);
  const res = await meter.client.post('/api/v1/participants/join', { meterId, request: { stake } }, { idempotencyKey: `join-${meterId}` });
  expectStatus(res, 201);
  return { meter, participant: res.body.result, blockNumber: res.body.blockNumber };
}

/**
 * Governance parameters the community flows run with, set by the regulator through the REST API (same on
 * both tiers): Eq. (1) leader slots of 30 s instead of 300 s, so a flow waiting for its task's leader —
 * or, after Condition 2 (one entry per leader per slot), for the next slot's leader — waits seconds, not
 * minutes. The clock guard's tolerance must stay at most half a slot (governance:setParameters checks it);
 * 15 s is far above the skew between a gateway and a peer on one machine.
 */
export const TEST_GOVERNANCE = { slotSeconds: 30, clockToleranceSeconds: 15 } as const;

/**
 * The slot leader of a committee task records its entry (`entryPath`, e.g. `/api/v1/admissions/<pid>/entry`).
 * The leader is asked again whenever the slot turns between asking and entering (403 "not the leader"), or
 * when it already entered another task in this slot (409 Condition 2: wait for the next slot's leader).
 * Returns the leader and the entry's response body.
 */
export async function enterAsLeader(taskId: string, entryPath: string, byPid: Map<string, Member>, regulator: RestClient, timeoutMs: number): Promise<{ leader: Member; body: any }> {
  return eventually(`leader entry for task ${taskId}`, async () => {
    const l = await regulator.get(`/api/v1/committees/tasks/${taskId}/leader`);
    expectStatus(l, 200);
    const leader = byPid.get(l.body.leader);
    if (!leader) throw new Error(`leader ${l.body.leader} of task ${taskId} is not a member this suite holds a key for`);
    const entry = await memberClient(leader).post(entryPath, { meterId: leader.meterId });
    if ((entry.status === 403 && /leader/.test(entry.text)) || (entry.status === 409 && /Condition 2/.test(entry.text))) {
      await sleep(1000);
      return undefined;
    }
    expectStatus(entry, 201);
    return { leader, body: entry.body };
  }, timeoutMs);
}

/**
 * A committee member votes right after the leader's entry committed. On Fabric each org's peer commits on
 * its own, so the member's endorsers may not have the entry yet (412 "no leader entry yet"): like a real
 * client it tries again for a little while. Any other answer is returned as is.
 */
export async function voteAfterEntry(m: Member, votePath: string, body: Record<string, unknown>): Promise<HttpResponse> {
  let last: HttpResponse | undefined;
  await eventually(`vote of ${m.meterId} on ${votePath}`, async () => {
    last = await memberClient(m).post(votePath, { meterId: m.meterId, ...body });
    if (last.status === 412 && /no leader entry yet/.test(last.text)) {
      await sleep(500);
      return undefined;
    }
    return true;
  }, 30_000);
  return last!;
}

/**
 * The community the committees are drawn from: at least n = 3f+1 active, committee-eligible members whose
 * meter keys this suite holds. On a fresh network the regulator admits founding members (one per
 * utility in turn, distinct zones); members are remembered in the home so a re-run acts for them again.
 */
export async function ensureCommunity(agent: AgentBehaviour = 'silent'): Promise<{ members: Member[]; params: any }> {
  const gws = loadGateways();
  const regulator = regulatorClient(gws);
  let p = await regulator.get('/api/v1/governance/parameters');
  expectStatus(p, 200);
  if (p.body.slotSeconds !== TEST_GOVERNANCE.slotSeconds || p.body.clockToleranceSeconds !== TEST_GOVERNANCE.clockToleranceSeconds) {
    expectStatus(await regulator.post('/api/v1/governance/parameters', TEST_GOVERNANCE), 201);
    p = await regulator.get('/api/v1/governance/parameters');
    expectStatus(p, 200);
  }
  const params = p.body;
  const n = 3 * params.f + 1;
  const members: Member[] = [];
  for (const m of loadMembers()) {
    const got = await memberClient(m).get(`/api/v1/participants/${m.participantId}?meterId=${m.meterId}`);
    if (got.status === 200 && got.body.status === 'ACTIVE') {
      await setAgentBehaviour(gws.find((g) => g.org === m.org)!, m.meterId, agent);
      members.push(m);
    }
  }
  let i = members.length;
  while (members.length < n) {
    const gw = gws[i % gws.length]!;
    const meterId = `founder-${RUN}-${i}`;
    const { meter, participant } = await enrolAndJoin(gw, meterId, `zone-${i % 3}`, params.minStake, agent);
    // The join opened an admission task that the utilities' beacon contributors seed right away. Admitting
    // while those contributions commit races them (endorsers at different heights: "ProposalResponsePayloads
    // do not match" — the gateway retries it, but a founding admission is clearer on a seeded task), so wait.
    await eventually(`admission task ${participant.admissionTaskId} seeded`, async () => {
      const t = await regulator.get(`/api/v1/committees/tasks/${participant.admissionTaskId}`);
      expectStatus(t, 200);
      return t.body.status !== 'AWAITING_ENTROPY' ? true : undefined;
    }, 120_000);
    const admitted = await regulator.post(`/api/v1/participants/${participant.participantId}/founding-admission`, {}, { idempotencyKey: `found-${meterId}` });
    if (admitted.status === 412 && /COMMUNITY_FOUNDED/.test(admitted.text)) {
      // founding admissions are over on this ledger, and the members that founded it are not in this home's
      // member file (another run's community, `npm start`'s): the suites need members they hold the keys of
      throw new Error(`this ledger's community was founded by members ${membersFile(networkHome())} does not list (${members.length} of ${n} known): run the suite on a fresh GRIDLEDGER_HOME`);
    }
    expectStatus(admitted, 201);
    if (admitted.body.result.status !== 'ACTIVE') throw new Error(`founding admission left ${participant.participantId} ${admitted.body.result.status}`);
    const m = { meterId, apiKey: meter.apiKey, participantId: participant.participantId, org: gw.org };
    saveMember(m);
    members.push(m);
    i++;
  }
  return { members, params };
}

/** One Server-Sent Event of `GET /api/v1/events`. */
