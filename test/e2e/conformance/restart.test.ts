/**
 * Conformance: crash durability. The ledger processes (control.ledgerPidFiles) are killed with
 * SIGKILL — no shutdown hooks — and brought back with control.restartLedger; committed state,
 * history and commit statuses must be intact and the network must keep committing.
 */
import { StatusCode, type Commit } from '@hyperledger/fabric-gateway';
import { awaitBlock, connectOrg, isAlive, killLedger, ledgerWeights, loadNetwork, readLedgerPids, restartLedger, utf8, type OrgDescriptor } from '../support';
import { CHAINCODE, openFixture, type Fixture } from './fixture';

/** A Fabric restart (orderers, peers catching up) takes far longer than the devnet's. */
const RESTART_TIMEOUT_MS = 240_000;

let f: Fixture;
let org1: OrgDescriptor;

beforeAll(() => {
  f = openFixture();
  org1 = f.orgs[0]!;
});

afterAll(() => f.close());

async function evaluateVia(o: OrgDescriptor, fn: string, ...args: string[]): Promise<string> {
  const conn = connectOrg(o);
  try {
    return utf8(await conn.gateway.getNetwork(f.net.channel).getContract(CHAINCODE).evaluateTransaction(fn, ...args));
  } finally {
    conn.close();
  }
}

describe('crash and restart', () => {
  it('keeps state, history and commit statuses after SIGKILL and restart', async () => {
    const key = `${f.run}:durable`;
    const contract = f.contract(org1);
    const commits: Array<{ commit: Commit; block: bigint; value: string }> = [];
    for (const value of ['d1', 'd2']) {
      const submitted = await contract.submitAsync('put', { arguments: [key, value] });
      const status = await submitted.getStatus();
      expect(status.code).toBe(StatusCode.VALID);
      commits.push({ commit: submitted, block: status.blockNumber, value });
    }
    f.close(); // drop connections to the process about to die

    const pids = readLedgerPids(f.net);
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.every(isAlive)).toBe(true);
    await killLedger(f.net);
    expect(pids.some(isAlive)).toBe(false);

    await restartLedger(
      f.net,
      async () => {
        await evaluateVia(org1, 'get', key);
      },
      RESTART_TIMEOUT_MS,
    );
    // The restart rewrote network.json (pids may change); every org must be back.
    const net = loadNetwork(f.net.home);
    // ... at the CPU weight start.sh gave the ledger, not at nice 0 in a session of its own, where it would
    // outweigh the gateways (docs/operations.md "CPU priority"; devnet restart, network.sh restart-ledger)
    const weights = ledgerWeights(net);
    expect(weights.length).toBeGreaterThan(0);
    for (const w of weights) expect({ pidFile: w.pidFile, nice: w.actual }).toEqual({ pidFile: w.pidFile, nice: w.expected });

    for (const o of net.organizations) {
      await expect(evaluateVia(o, 'get', key)).resolves.toBe('d2');
    }
    const history = JSON.parse(await evaluateVia(org1, 'history', key)) as Array<{ txId: string; value: string }>;
    expect(history.map((h) => [h.txId, h.value])).toEqual(
      [...commits].reverse().map((c) => [c.commit.getTransactionId(), c.value]),
    );

    const conn = connectOrg(org1);
    try {
      for (const c of commits) {
        const status = await conn.gateway.newCommit(c.commit.getBytes()).getStatus();
        expect(status.code).toBe(StatusCode.VALID);
        expect(status.blockNumber).toBe(c.block);
      }
      const next = await conn.gateway.getNetwork(net.channel).getContract(CHAINCODE).submitAsync('put', { arguments: [key, 'd3'] });
      const status = await next.getStatus();
      expect(status.code).toBe(StatusCode.VALID);
      expect(status.blockNumber).toBeGreaterThan(commits[1]!.block);
      // every restarted peer keeps receiving new blocks, not only the one that committed it (on Fabric a
      // peer whose first Deliver after the restart failed retried after a back-off of about a minute; a
      // flow right after the restart then met a stale peer)
      for (const o of net.organizations) {
        const c = connectOrg(o);
        try {
          await awaitBlock(c.gateway.getNetwork(net.channel), status.blockNumber, RESTART_TIMEOUT_MS);
        } finally {
          c.close();
        }
      }
    } finally {
      conn.close();
    }
    for (const o of net.organizations) await expect(evaluateVia(o, 'get', key)).resolves.toBe('d3');
  }, RESTART_TIMEOUT_MS * 2 + 60_000);
});
