/**
 * A utility joins and leaves the consortium under load (Fabric tier only; #15). `network.sh add-org`
 * brings in a fourth utility — its CA, peer, chaincode definitions with its collection, its REST gateway —
 * while two clients keep submitting; its peer catches up on the blocks written before it joined; a meter
 * enrolled at its CA is admitted by a committee of the existing community with a stake that makes it
 * committee-eligible, and trades (offer → acceptance) with a member of another utility through the REST
 * gateways. Then `remove-org` takes it out again and the network keeps committing. Every acknowledged
 * transaction commits exactly once on every remaining peer (./load.ts). Both commands are idempotent and
 * refuse what would break the consortium. Prints each operation's duration and the commits per second
 * around it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addOrg, connectOrg, loadNetwork, newRunId, rejectionOf, removeOrg, utf8, type Connection, type NetworkDescriptor } from '../support';
import { RUN, ensureCommunity, expectStatus, loadGateways, loadMembers, memberClient, regulatorClient, type Member } from '../rest/support';
import { admitByCommittee, ensureMarketParameters, fundWallet, TEST_INTERVAL } from '../rest/market';
import { CHAINCODE, expectExactlyOnce, startLoad, type Outcome } from './load';

const NEW_ORG = 'utility4';

let net: NetworkDescriptor;
let conn: Connection;
const run = newRunId();

const orgNames = (): string[] => loadNetwork().organizations.map((o) => o.name);
const gatewayOrgs = (): string[] => loadGateways().map((g) => g.org);

/** Commits per second of `outcomes` acknowledged within [from, to). */
const rate = (outcomes: Outcome[], from: number, to: number): string =>
  (outcomes.filter((o) => o.code !== undefined && o.at >= from && o.at < to).length / Math.max(1, (to - from) / 1000)).toFixed(1);

beforeAll(() => {
  net = loadNetwork();
  if (net.organizations.length !== 3) throw new Error(`expected the 3 utilities of a fresh Fabric network, network.json has ${net.organizations.length}`);
  conn = connectOrg(net.organizations[0]!);
});

afterAll(() => conn?.close());

describe('consortium membership changes (network.sh add-org / remove-org)', () => {
  it('refuses to remove the regulator\'s utility, to go below three utilities, or an unknown one', async () => {
    expect(String(await rejectionOf(removeOrg(net, 'utility1')))).toMatch(/refusing to remove utility1: it holds the regulator identity/);
    expect(String(await rejectionOf(removeOrg(net, 'utility3')))).toMatch(/refusing to remove utility3: 2 utilities would remain, fewer than 3/);
    expect(String(await rejectionOf(removeOrg(net, 'nosuchutility')))).toMatch(/nosuchutility is not a utility of this network/);
    expect(orgNames()).toEqual(['utility1', 'utility2', 'utility3']);
  }, 300_000);

  it('a fourth utility joins under load, its meter trades, it leaves; every transaction commits exactly once', async () => {
    // the community a new member is admitted by (founded on a fresh network, else the suites' own)
    const { members, params } = await ensureCommunity();
    const byPid = new Map(members.map((m) => [m.participantId, m]));
    const regulator = regulatorClient(loadGateways());

    const load = startLoad(net, conn.gateway, `${run}:orgs`, 2);
    const loadStart = Date.now();
    const figures: string[] = [];
    let outcomes: Outcome[] = [];
    let newMember: Member | undefined;
    try {
      const step = async (what: string, op: () => Promise<string>): Promise<string> => {
        const t0 = Date.now();
        const out = await op();
        const t1 = Date.now();
        figures.push(`${what.padEnd(30)} ${((t1 - t0) / 1000).toFixed(1)} s, ${rate(load.outcomes, t0, t1)} commits/s during (before: ${rate(load.outcomes, Math.max(loadStart, t0 - 15_000), t0)})`);
        return out;
      };
      await new Promise((r) => setTimeout(r, 5000));
      const firstKey = load.outcomes[0]?.key;
      expect(firstKey).toBeDefined();

      expect(await step(`add-org ${NEW_ORG}`, () => addOrg(net, NEW_ORG))).toMatch(new RegExp(`${NEW_ORG} \\(Utility4MSP\\) is a member of ${net.channel}`));
      expect(orgNames()).toEqual(['utility1', 'utility2', 'utility3', NEW_ORG]);
      expect(gatewayOrgs()).toContain(NEW_ORG);
      expect(readFileSync(join(net.home, 'network.yaml'), 'utf8')).toMatch(/Utility4MSPPrivateCollection/);
      expect(await step(`add-org ${NEW_ORG} again`, () => addOrg(net, NEW_ORG))).toMatch(/is already a member of .*nothing changed/);

      // its peer caught up on what was written before it joined
      const c4 = connectOrg(loadNetwork().organizations.find((o) => o.name === NEW_ORG)!);
      try {
        expect(utf8(await c4.gateway.getNetwork(net.channel).getContract(CHAINCODE).evaluateTransaction('get', firstKey!))).toBe(firstKey);
      } finally {
        c4.close();
      }

      // a meter enrolled at the new utility's CA, admitted by a committee with a stake: committee-eligible
      const gw4 = loadGateways().find((g) => g.org === NEW_ORG)!;
      const t0 = Date.now();
      newMember = await admitByCommittee(gw4, `u4-${RUN}`, 'zone-u4', byPid, regulator, params.minStake);
      const p = await regulator.get(`/api/v1/participants/${newMember.participantId}`);
      expectStatus(p, 200);
      expect(p.body).toMatchObject({ status: 'ACTIVE', mspId: 'Utility4MSP' });
      expect(p.body.stake).toBeGreaterThanOrEqual(params.minStake);
      expect(p.body.qScore).toBeGreaterThanOrEqual(params.minQScore);
      // it trades with a member of another utility through the REST gateways
      const buyer = members.find((m) => m.org === 'utility1') ?? members[0]!;
      await fundWallet(newMember, gw4, 100_000);
      await fundWallet(buyer, loadGateways().find((g) => g.org === buyer.org)!, 100_000);
      await ensureMarketParameters(regulator);
      const deliveryStart = Math.ceil((Date.now() / 1000 + 600) / TEST_INTERVAL) * TEST_INTERVAL;
      const offer = await memberClient(newMember).post('/api/v1/offers', { meterId: newMember.meterId, amountWh: 200, pricePerKwh: 250, deliveryStart, deliveryLength: TEST_INTERVAL, ttlSeconds: 300 });
      expectStatus(offer, 201);
      const accepted = await memberClient(buyer).post(`/api/v1/offers/${offer.body.result.offerId}/acceptances`, { meterId: buyer.meterId, amountWh: 200, pricePerKwh: 250 });
      expectStatus(accepted, 201);
      expect(accepted.body.result.tradeId).toEqual(expect.any(String));
      figures.push(`${'utility4 meter admitted+trade'.padEnd(30)} ${((Date.now() - t0) / 1000).toFixed(1)} s, ${rate(load.outcomes, t0, Date.now())} commits/s during`);

      // it leaves: before that its participants are suspended by the regulator (remove-org changes the
      // channel, not the ledger's community; docs/operations.md §3)
      expectStatus(await regulator.post(`/api/v1/participants/${newMember.participantId}/suspension`, { reason: `${NEW_ORG} leaves the consortium` }, { idempotencyKey: `suspend-${newMember.participantId}` }), 201);
      expect(await step(`remove-org ${NEW_ORG}`, () => removeOrg(net, NEW_ORG))).toMatch(new RegExp(`${NEW_ORG} left ${net.channel}`));
      expect(orgNames()).toEqual(['utility1', 'utility2', 'utility3']);
      expect(gatewayOrgs()).not.toContain(NEW_ORG);
      expect(await step(`remove-org ${NEW_ORG} again`, () => removeOrg(net, NEW_ORG))).toMatch(/is not a member of .*nothing changed/);
      expect(String(await rejectionOf(addOrg(net, NEW_ORG)))).toMatch(/utility4 left .*a name is never reused/);
      await new Promise((r) => setTimeout(r, 10_000));
    } finally {
      outcomes = await load.stop();
      // the suites' members file must not name a utility that has no gateway any more
      const file = join(net.home, 'rest-e2e-members.json');
      if (newMember && existsSync(file)) writeFileSync(file, JSON.stringify(loadMembers().filter((m) => m.org !== NEW_ORG), null, 2) + '\n', { mode: 0o600 });
    }
    const after = outcomes.filter((o) => o.at >= Date.now() - 10_000).length;
    console.log(`consortium membership changes under load (2 submitters):\n  ${figures.join('\n  ')}\n  ${outcomes.length} transactions (${load.superseded.length} endorsed again after a membership or definition change invalidated them [validation codes ${load.superseded.map((o) => o.code).join(', ')}]; ${after} committed in the last 10 s)`);
    expect(outcomes.length).toBeGreaterThan(20);
    expect(after).toBeGreaterThan(0);
    await expectExactlyOnce(loadNetwork(), outcomes);
  }, 3_600_000);
});
