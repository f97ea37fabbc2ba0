/**
 * Conformance: chaincode events resumed from a block number arrive exactly once (P§1.7). Events are
 * read from a start block, checkpointed per event, the connection is dropped mid-stream, more events
 * are committed while disconnected, and a new connection resumes from the checkpoint.
 */
import { checkpointers, type ChaincodeEvent } from '@hyperledger/fabric-gateway';
import { collectEvents, connectOrg, utf8, type OrgDescriptor } from '../support';
import { CHAINCODE, EVENT_NAME, openFixture, type Fixture } from './fixture';

let f: Fixture;
let org1: OrgDescriptor;

beforeAll(() => {
  f = openFixture();
  org1 = f.orgs[0]!;
});

afterAll(() => f.close());

async function emit(i: number): Promise<{ txId: string; block: bigint }> {
  const submitted = await f.contract(org1).submitAsync('emit', { arguments: [`${f.run}:ev${i}`, `${f.run}:${i}`] });
  const status = await submitted.getStatus();
  expect(status.successful).toBe(true);
  return { txId: submitted.getTransactionId(), block: status.blockNumber };
}

describe('chaincode events', () => {
  it('resumed from a block number and a checkpoint, each event arrives exactly once and in block order', async () => {
    const ours = (e: ChaincodeEvent): boolean => utf8(e.payload).startsWith(`${f.run}:`);
    const first = await emit(0);
    // Several at once so that some share a block: resuming must then skip by transaction id, not block.
    const batch = await Promise.all([1, 2, 3, 4, 5].map(emit));
    const expected = new Map([first, ...batch].map((t) => [t.txId, t.block]));

    const checkpointer = checkpointers.inMemory();
    const conn1 = connectOrg(org1);
    let part1: ChaincodeEvent[];
    try {
      const events = await conn1.gateway.getNetwork(f.net.channel).getChaincodeEvents(CHAINCODE, { startBlock: first.block });
      part1 = await collectEvents(events, ours, (got) => got.length >= 3, 30_000, (e) => checkpointer.checkpointChaincodeEvent(e));
    } finally {
      conn1.close(); // the "reconnect": drop the connection mid-stream
    }
    expect(part1).toHaveLength(3);

    // Committed while nobody listens; the last one (alone in its block, after all others) is the fence.
    const later = await Promise.all([6, 7].map(emit));
    const fence = await emit(8);
    for (const t of [...later, fence]) expected.set(t.txId, t.block);

    const conn2 = connectOrg(org1);
    let part2: ChaincodeEvent[];
    try {
      const events = await conn2.gateway.getNetwork(f.net.channel).getChaincodeEvents(CHAINCODE, { checkpoint: checkpointer });
      // Read up to the fence: events come in block order, so any duplicate or replay would precede it.
      part2 = await collectEvents(events, ours, (got) => got.some((e) => e.transactionId === fence.txId), 30_000);
    } finally {
      conn2.close();
    }

    const all = [...part1, ...part2];
    const ids = all.map((e) => e.transactionId);
    expect(new Set(ids).size).toBe(ids.length); // no duplicates
    expect(new Set(ids)).toEqual(new Set(expected.keys())); // none missing, none extra
    for (const e of all) {
      expect(e.chaincodeName).toBe(CHAINCODE);
      expect(e.eventName).toBe(EVENT_NAME);
      expect(e.blockNumber).toBe(expected.get(e.transactionId));
    }
    const blocks = all.map((e) => e.blockNumber);
    expect([...blocks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(blocks);
    expect(all[0]!.transactionId).toBe(first.txId);
    expect(all[all.length - 1]!.transactionId).toBe(fence.txId);
  });

  it('a stream started at a block does not replay events of earlier blocks', async () => {
    const ours = (e: ChaincodeEvent): boolean => utf8(e.payload).startsWith(`${f.run}:`);
    const before = await emit(100);
    const after = await emit(101);
    expect(after.block).toBeGreaterThan(before.block); // the second was submitted after the first committed
    const conn = connectOrg(org1);
    try {
      const events = await conn.gateway.getNetwork(f.net.channel).getChaincodeEvents(CHAINCODE, { startBlock: after.block });
      const got = await collectEvents(events, ours, (g) => g.length >= 1, 30_000);
      expect(got.map((e) => e.transactionId)).toEqual([after.txId]);
    } finally {
      conn.close();
    }
  });
});
