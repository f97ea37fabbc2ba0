/**
 * Changing the SmartBFT consenter set under load (Fabric tier only; #15): `network.sh add-orderer`
 * grows the ordering service 4 → 5 → 6 → 7 (f = 1 → 2) and `remove-orderer` shrinks it back to the
 * four it started with, while a steady load of submissions runs. Every acknowledged transaction must
 * commit exactly once on every peer (./load.ts), and each step is refused when it would leave fewer
 * than 3f+1 = 4 consenters. Prints each operation's duration and the commits per second around it.
 */
import { readFileSync } from 'node:fs';
import { addOrderer, connectOrg, loadNetwork, newRunId, removeOrderer, rejectionOf, type Connection, type NetworkDescriptor } from '../support';
import { expectExactlyOnce, startLoad, type Outcome } from './load';

interface OrdererNode { name: string; endpoint: string; operations: string; pidFile: string }

let net: NetworkDescriptor;
let conn: Connection;
const run = newRunId();

const nodes = (): OrdererNode[] => ((loadNetwork().orderer as { nodes?: OrdererNode[] } | undefined)?.nodes ?? []);

/** The channel height every orderer of network.json reports (operations /metrics). */
async function ordererHeights(): Promise<number[]> {
  return Promise.all(nodes().map(async (n) => {
    const text = await (await fetch(`${n.operations}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('ledger_blockchain_height') && l.includes(`channel="${net.channel}"`));
    return line ? Number(line.trim().split(/\s+/).pop()) : -1;
  }));
}

/** Commits per second of `outcomes` acknowledged within [from, to). */
const rate = (outcomes: Outcome[], from: number, to: number): string =>
  (outcomes.filter((o) => o.code !== undefined && o.at >= from && o.at < to).length / Math.max(1, (to - from) / 1000)).toFixed(1);

beforeAll(() => {
  net = loadNetwork();
  if (nodes().length !== 4) throw new Error(`expected the 4 SmartBFT orderers of a fresh Fabric network, network.json has ${nodes().length}`);
  conn = connectOrg(net.organizations[0]!);
});

afterAll(() => conn?.close());

describe('SmartBFT consenter set changes (network.sh add-orderer / remove-orderer)', () => {
  it('refuses to go below 3f+1 = 4 consenters', async () => {
    const err = await rejectionOf(removeOrderer(net, 'orderer4'));
    expect(String(err)).toMatch(/refusing to remove orderer4: 3 consenters would remain.*3f\+1 = 4/s);
    expect(nodes().map((n) => n.name)).toEqual(['orderer1', 'orderer2', 'orderer3', 'orderer4']);
  }, 120_000);

  it('grows 4 → 5 → 7 and shrinks back to 4 under load; every transaction commits exactly once', async () => {
    const load = startLoad(net, conn.gateway, `${run}:members`, 2);
    const figures: string[] = [];
    let outcomes: Outcome[] = [];
    try {
      const step = async (what: string, op: () => Promise<string>, expectCount: number): Promise<void> => {
        const t0 = Date.now();
        await op();
        const t1 = Date.now();
        expect(nodes()).toHaveLength(expectCount);
        figures.push(`${what.padEnd(24)} ${((t1 - t0) / 1000).toFixed(1)} s, ${rate(load.outcomes, t0, t1)} commits/s during (before: ${rate(load.outcomes, t0 - 15_000, t0)})`);
      };
      await new Promise((r) => setTimeout(r, 5000));
      await step('add orderer5 (4 → 5)', () => addOrderer(net), 5);
      await step('add orderer6 (5 → 6)', () => addOrderer(net), 6);
      await step('add orderer7 (6 → 7)', () => addOrderer(net), 7);
      // all seven order: every node reaches the height the first one has now
      const target = Math.max(...(await ordererHeights()));
      const until = Date.now() + 120_000;
      while ((await ordererHeights()).some((h) => h < target) && Date.now() < until) await new Promise((r) => setTimeout(r, 1000));
      expect(Math.min(...(await ordererHeights()))).toBeGreaterThanOrEqual(target);
      await step('remove orderer7 (7 → 6)', () => removeOrderer(net, 'orderer7'), 6);
      await step('remove orderer6 (6 → 5)', () => removeOrderer(net, 'orderer6'), 5);
      await step('remove orderer5 (5 → 4)', () => removeOrderer(net, 'orderer5'), 4);
      await new Promise((r) => setTimeout(r, 5000));
    } finally {
      outcomes = await load.stop();
    }
    console.log(`consenter set changes under load (2 submitters):\n  ${figures.join('\n  ')}\n  ${outcomes.length} transactions`);
    expect(outcomes.length).toBeGreaterThan(20);
    await expectExactlyOnce(net, outcomes);
    expect(nodes().map((n) => n.name)).toEqual(['orderer1', 'orderer2', 'orderer3', 'orderer4']);
    for (const n of ['orderer5', 'orderer6', 'orderer7']) {
      expect(readFileSync(`${net.home}/orderers.removed`, 'utf8')).toContain(n.slice(-1));
    }
  }, 1_500_000);
});
