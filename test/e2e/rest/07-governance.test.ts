/**
 * Governance through the gateways (issue 8): one admission decided by a committee with four distinct
 * meter identities voting — founding members admitted by the regulator, a committee drawn from the
 * utilities' beacon (each utility's gateway contributes), the slot leader's entry, votes, the decision,
 * and the Q-scores that result.
 */
import { RUN, collectSse, enrolAndJoin, ensureCommunity, enterAsLeader, eventually, expectStatus, loadGateways, memberClient, regulatorClient, saveMember, voteAfterEntry, type Member } from './support';

const gateways = loadGateways();

describe('admission by committee', () => {
  test('a candidate is admitted by a drawn committee: leader entry + votes from four distinct meters, decision, Q-scores', async () => {
    const { members, params } = await ensureCommunity();
    const n = 3 * params.f + 1;
    const gw = gateways[1] ?? gateways[0]!;
    const regulator = regulatorClient(gateways);

    const { meter, participant, blockNumber } = await enrolAndJoin(gw, `candidate-${RUN}`, 'zone-c', 0);
    expect(participant).toMatchObject({ status: 'PENDING', mspId: gw.mspId });
    const pid = participant.participantId as string;
    const taskId = participant.admissionTaskId as string;
    expect(taskId).toMatch(/^t-[0-9a-f]{32}$/);

    // the utilities' gateways contribute beacon entropy; the committee appears once the quorum is reached
    const task = await eventually('committee drawn', async () => {
      const t = await regulator.get(`/api/v1/committees/tasks/${taskId}`);
      expectStatus(t, 200);
      return t.body.status === 'ACTIVE' ? t.body : undefined;
    }, 120_000);
    expect(task.committee).toHaveLength(n);
    expect(task.committee).not.toContain(pid);
    expect(task.contributions.length).toBeGreaterThanOrEqual(params.beaconQuorum);
    expect(new Set(task.contributions.map((c: { mspId: string }) => c.mspId)).size).toBe(task.contributions.length);
    const byPid = new Map(members.map((m) => [m.participantId, m]));
    const committee: Member[] = task.committee.map((p: string) => {
      const m = byPid.get(p);
      if (!m) throw new Error(`committee member ${p} is not a member this suite holds a key for`);
      return m;
    });
    expect(new Set(committee.map((m) => m.meterId)).size).toBe(n);

    const before = new Map<string, number>();
    for (const m of committee) {
      const got = await regulator.get(`/api/v1/participants/${m.participantId}`);
      expectStatus(got, 200);
      before.set(m.participantId, got.body.qScore);
    }

    // the slot leader (Eq. (1)) records the entry
    const { leader } = await enterAsLeader(taskId, `/api/v1/admissions/${pid}/entry`, byPid, regulator, (params.slotSeconds * 4 + 60) * 1000);

    // every other member votes approve with both conditions attested
    for (const m of committee.filter((c) => c !== leader)) {
      const vote = await voteAfterEntry(m, `/api/v1/admissions/${pid}/votes`, { approve: true, conditions: { condition1: true, condition2: true } });
      expectStatus(vote, 201);
      expect(vote.body.txId).toMatch(/^[0-9a-f]{64}$/);
    }
    // a member cannot vote twice; a non-member cannot vote
    const again = await memberClient(committee.find((c) => c !== leader)!).post(`/api/v1/admissions/${pid}/votes`, { meterId: committee.find((c) => c !== leader)!.meterId, approve: true });
    expectStatus(again, 409, 'chaincode-conflict');
    const outsider = await meter.client.post(`/api/v1/admissions/${pid}/votes`, { meterId: meter.meterId, approve: true });
    expectStatus(outsider, 403, 'chaincode-forbidden');

    const decided = await regulator.post(`/api/v1/admissions/${pid}/decision`, {});
    expectStatus(decided, 201);
    expect(decided.body.result).toMatchObject({ participantId: pid, status: 'ACTIVE', decision: { outcome: 'APPROVED' } });
    expect(decided.body.result.decision.approvals).toBeGreaterThanOrEqual(2 * params.f + 1);
    expect(decided.body.result.decision.contrary).toEqual([]);

    // the decision committed on the regulator's org's peer; the candidate reads through its own
    // org's gateway, whose peer commits the same block independently (on Fabric, moments later)
    const admitted = await eventually('the admission visible through the candidate\'s own gateway', async () => {
      const r = await meter.client.get(`/api/v1/participants/${pid}`);
      expectStatus(r, 200);
      return r.body.status === 'PENDING' ? undefined : r;
    }, 30_000);
    expect(admitted.body).toMatchObject({ status: 'ACTIVE', qScore: params.qScoreInitial });
    saveMember({ meterId: meter.meterId, apiKey: meter.apiKey, participantId: pid, org: gw.org });

    // honest committee members and the leader are rewarded; the history shows it
    for (const m of committee) {
      const got = await regulator.get(`/api/v1/participants/${m.participantId}`);
      expect(got.body.qScore).toBeGreaterThan(before.get(m.participantId)!);
    }
    // the history pages oldest first, and a founder that other suites' agents drew (11–13) has a long one:
    // read every page, so the entry for this task is found wherever it falls
    const entries: Array<{ ref: string }> = [];
    for (let bookmark = '', pages = 0; pages < 50; pages++) {
      const history = await regulator.get(`/api/v1/participants/${leader.participantId}/qscore-history?pageSize=100${bookmark ? `&bookmark=${encodeURIComponent(bookmark)}` : ''}`);
      expectStatus(history, 200);
      entries.push(...history.body.entries);
      if (!history.body.bookmark || history.body.entries.length === 0) break;
      bookmark = history.body.bookmark;
    }
    expect(entries.map((e) => e.ref)).toContainEqual(expect.stringContaining(taskId));
    // the whole admission as events on the SSE stream, in ledger order
    const names = ['TaskOpened', 'CommitteeDrawn', 'BallotDecided', 'ParticipantAdmitted'];
    const seen = await collectSse(
      regulator,
      `?fromBlock=${blockNumber}&names=${names.join(',')}`,
      (e) => e.data.payload?.taskId === taskId || e.data.payload?.participantId === pid,
      (c) => c.some((e) => e.event === 'ParticipantAdmitted'),
    );
    expect(seen.status).toBe(200);
    const order = seen.events.map((e) => e.event);
    for (const name of names) expect(order).toContain(name);
    expect(order.indexOf('TaskOpened')).toBeLessThan(order.indexOf('CommitteeDrawn'));
    expect(order.indexOf('CommitteeDrawn')).toBeLessThan(order.indexOf('BallotDecided'));

    const board = await regulator.get('/api/v1/participants/leaderboard?pageSize=100');
    expectStatus(board, 200);
    expect(board.body.entries.length).toBeGreaterThan(0);
  }, 15 * 60_000);
});
