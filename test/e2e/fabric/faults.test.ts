/**
 * Fault tolerance of the real network (Fabric tier only; run by `npm run test:fabric` through
 * fabric/jest.config.js — the devnet has no orderers to kill).
 *
 * 4 SmartBFT orderers tolerate f = 1 faulty node; the peer gateway broadcasts every transaction to
 * all orderers and needs a quorum of 3 acceptances (Fabric `internal/pkg/gateway/submit.go`).
 *
 *  1. under a steady submit load, SIGKILL one follower, then the current leader (metric
 *     consensus_smartbft_view_leader_id): every submission commits VALID exactly once;
 *  2. with two orderers killed, submissions fail with UNAVAILABLE, and once the orderers are back
 *     each failed transaction is either committed everywhere or nowhere (nothing half-done);
 *  3. the chaincode server (fabric-shim exits the process on one unexpected message) is restarted by
 *     its supervisor and every peer's next invocation reaches it again;
 *  4. a restarted orderer and a restarted peer catch up to the same block height.
 *
 * Each submission is endorsed once and its signed envelope re-sent on a submit error, so a
 * transaction can never be applied twice, and its outcome is read back with CommitStatus (./load.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { StatusCode, type Contract } from '@hyperledger/fabric-gateway';
import type { NetworkOrdererNode } from '@gridledger/protocol';
import {
  connectOrg, isAlive, loadNetwork, newRunId, restartLedger, sleep, utf8,
  type Connection, type NetworkDescriptor, type OrgDescriptor,
} from '../support';
import { CHAINCODE, expectExactlyOnce as exactlyOnce, startLoad as load, submitOnce as submit, type Outcome } from './load';

/** A Fabric-tier orderer as network.json lists it (the devnet's one orderer has no operations endpoint or pid file). */
type OrdererNode = Required<Pick<NetworkOrdererNode, 'name' | 'endpoint' | 'operations' | 'pidFile'>>;

let net: NetworkDescriptor;
let conn: Connection;
let contract: Contract;
const run = newRunId();

function orderers(): OrdererNode[] {
  const nodes = net.orderer.nodes.filter((n): n is NetworkOrdererNode & OrdererNode => !!n.operations && !!n.pidFile);
  if (nodes.length !== 4) throw new Error('network.json has no orderer.nodes (4 SmartBFT orderers): not a Fabric-tier network');
  return nodes;
}

const pidOf = (file: string): number => Number.parseInt(readFileSync(file, 'utf8').trim(), 10);

async function metric(url: string, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(`channel="${net.channel}"`));
    return line ? Number(line.trim().split(/\s+/).pop()) : undefined;
  } catch {
    return undefined;
  }
}

/** The SmartBFT leader (consenter id = orderer index + 1, network/fabric/lib/fabric.js), as the live orderers report it. */
async function leader(): Promise<OrdererNode> {
  const nodes = orderers();
  for (const n of nodes) {
    if (!isAlive(pidOf(n.pidFile))) continue;
    const id = await metric(n.operations, 'consensus_smartbft_view_leader_id');
    if (id && id >= 1 && id <= nodes.length) return nodes[id - 1]!;
  }
  throw new Error('no live orderer reports consensus_smartbft_view_leader_id');
}

async function kill(n: OrdererNode | OrgDescriptor): Promise<void> {
  const file = 'pidFile' in n ? n.pidFile : net.control.ledgerPidFiles.find((f) => f.includes(`peer0.${(n).name}.`))!;
  const pid = pidOf(file);
  process.kill(pid, 'SIGKILL');
  const until = Date.now() + 15_000;
  while (isAlive(pid)) {
    if (Date.now() > until) throw new Error(`pid ${pid} survived SIGKILL`);
    await sleep(100);
  }
}

/**
 * Brings every dead ledger process back (control.restartLedger starts only what is not running),
 * then waits until every orderer and peer reports a block height at least the one the survivors had.
 */
async function restore(): Promise<void> {
  const before = Math.max(0, ...Object.values(await heights()).filter((h): h is number => h !== undefined));
  await restartLedger(net, async () => {
    await contract.evaluateTransaction('get', `${run}:probe`);
    const now = Object.values(await heights());
    if (!now.every((h) => h !== undefined && h >= before)) throw new Error(`not every node is back at height ${before}: ${JSON.stringify(now)}`);
  }, 180_000);
}

async function heights(): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const n of orderers()) out[n.name] = await metric(n.operations, 'ledger_blockchain_height');
  for (const o of net.organizations) out[o.name] = await metric((o as unknown as { operations: string }).operations, 'ledger_blockchain_height');
  return out;
}

/** Waits until every orderer and peer reports the same block height (and at least `min`). */
async function expectSameHeight(min: number, timeoutMs = 120_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  let last: Record<string, number | undefined> = {};
  for (;;) {
    last = await heights();
    const values = Object.values(last);
    if (values.every((h) => h !== undefined && h === values[0] && h >= min)) return values[0]!;
    if (Date.now() > until) throw new Error(`nodes did not converge on one height ≥ ${min}: ${JSON.stringify(last)}`);
    await sleep(1000);
  }
}

const submitOnce = (gateway: Connection['gateway'], key: string, value: string, resendForMs: number): Promise<Outcome> =>
  submit(net, gateway, key, value, resendForMs);
const startLoad = (tag: string, concurrency = 4) => load(net, conn.gateway, `${run}:${tag}`, concurrency);
const expectExactlyOnce = (outcomes: Outcome[]): Promise<void> => exactlyOnce(net, outcomes);

beforeAll(() => {
  net = loadNetwork();
  orderers();
  conn = connectOrg(net.organizations[0]!);
  contract = conn.gateway.getNetwork(net.channel).getContract(CHAINCODE);
});

afterAll(async () => {
  conn?.close();
});

describe('SmartBFT ordering service (4 orderers, f = 1)', () => {
  it('keeps committing exactly once when a follower, then the leader, is killed under load', async () => {
    await restore(); // every node up before the first fault
    const lead = await leader();
    const follower = orderers().find((n) => n.name !== lead.name)!;
    const load = startLoad('f1');
    let outcomes: Outcome[];
    let newLead: OrdererNode;
    try {
      await sleep(3000);
      await kill(follower);
      await sleep(8000);
      await restore(); // f = 1: bring the follower back before the next fault
      newLead = await leader();
      await kill(newLead);
      await sleep(25_000); // long enough for a view change (LeaderHeartbeatTimeout 10 s)
    } finally {
      outcomes = await load.stop(); // never leave workers running past the test
    }
    expect(outcomes.length).toBeGreaterThan(10);
    await expectExactlyOnce(outcomes);
    const after = await leader();
    expect(after.name).not.toBe(newLead.name);
    await restore();
  }, 600_000);

  it('refuses submissions with UNAVAILABLE when two orderers are down, and leaves nothing half-done', async () => {
    const [a, b] = orderers().slice(2);
    await kill(a!);
    await kill(b!);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 3; i++) outcomes.push(await submitOnce(conn.gateway, `${run}:f2:${i}`, 'v', 0));
    for (const o of outcomes) {
      expect(o.error).toMatch(/^14 .*insufficient number of orderers/s); // gRPC UNAVAILABLE
    }
    await restore();
    // consensus is back: a new transaction commits (and with it anything the survivors still held)
    const probe = await submitOnce(conn.gateway, `${run}:f2:after`, 'v', 120_000);
    expect(probe.code).toBe(StatusCode.VALID);
    const height = await expectSameHeight(1);
    // each refused transaction ends either committed on every peer or on none. A survivor may still hold it
    // in its SmartBFT request pool and order it after the probe (the pool forwards held requests once a
    // quorum is back), so the peers are read until they agree, for at most a minute: a block that reached
    // one peer and never another would still fail here.
    for (const o of outcomes) {
      const until = Date.now() + 60_000;
      let seen: string[];
      for (;;) {
        seen = [];
        for (const org of net.organizations) {
          const c = connectOrg(org);
          try {
            seen.push(utf8(await c.gateway.getNetwork(net.channel).getContract(CHAINCODE).evaluateTransaction('get', o.key)));
          } finally {
            c.close();
          }
        }
        if (new Set(seen).size === 1 || Date.now() > until) break;
        await sleep(2000);
      }
      expect({ key: o.key, seen }).toEqual({ key: o.key, seen: seen.map(() => seen[0]) });
    }
    expect(height).toBeGreaterThan(0);
  }, 600_000);

  it('the peers recover when the chaincode server exits (its supervisor restarts it)', async () => {
    // What fabric-shim does when one Connect stream sends an unexpected message: process.exit.
    // Every server of the chaincode: one (pids/cc-<name>.pid), or one per org when each org runs its own
    // (pids/cc-<name>-<org>.pid, each org on its own host: docs/operations.md §3).
    const supervisors = readdirSync(`${net.home}/pids`)
      .filter((f) => f === `cc-${CHAINCODE}.pid` || (f.startsWith(`cc-${CHAINCODE}-`) && f.endsWith('.pid')))
      .map((f) => pidOf(`${net.home}/pids/${f}`));
    expect(supervisors.length).toBeGreaterThan(0);
    const childOf = (pid: number): number[] => {
      try {
        return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    const servers = supervisors.map((pid) => childOf(pid)[0]!);
    for (const server of servers) {
      expect(server).toBeGreaterThan(1);
      process.kill(server, 'SIGKILL');
    }
    for (const server of servers) while (isAlive(server)) await sleep(100);
    // Endorsements fail (ABORTED) until the supervisor has the server back; then the peers redial it.
    const recoveredBy = Date.now() + 60_000;
    let recovered: Outcome | undefined;
    while (!recovered) {
      try {
        recovered = await submitOnce(conn.gateway, `${run}:cc:first`, `${run}:cc:first`, 60_000);
      } catch (err) {
        if (Date.now() > recoveredBy) throw err;
        await sleep(500);
      }
    }
    const outcomes: Outcome[] = [recovered];
    for (let i = 0; i < 3; i++) outcomes.push(await submitOnce(conn.gateway, `${run}:cc:${i}`, `${run}:cc:${i}`, 60_000));
    supervisors.forEach((supervisor, i) => {
      expect(isAlive(supervisor)).toBe(true);
      expect(childOf(supervisor)[0]).not.toBe(servers[i]);
    });
    await expectExactlyOnce(outcomes); // endorsed by a majority of orgs, read back on every peer
  }, 300_000);

  it('a restarted orderer and a restarted peer catch up to the same block height', async () => {
    const target = orderers()[0]!;
    const peerOrg = net.organizations[1]!;
    await kill(target);
    await kill(peerOrg);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 5; i++) outcomes.push(await submitOnce(conn.gateway, `${run}:catchup:${i}`, `${run}:catchup:${i}`, 30_000));
    expect(outcomes.filter((o) => o.code !== StatusCode.VALID)).toEqual([]);
    await restore();
    const h = await expectSameHeight(1);
    expect(h).toBeGreaterThan(0);
    await expectExactlyOnce(outcomes);
  }, 600_000);
});
