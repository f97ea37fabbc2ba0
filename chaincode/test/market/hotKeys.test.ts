/**
 * Transactions of different trades must not read what another trade's transactions write: Fabric
 * invalidates a transaction (MVCC code 11, phantom code 12) when a key it read, or a range it read,
 * was written by a transaction committed after its simulation (core/ledger/kvledger/txmgmt/
 * validation), and the gateway then endorses, orders and validates it again (docs/benchmarks.md
 * "Hot records"). Here two trades with different parties run side by side on the in-memory stub,
 * which records every key and range a transaction reads and every key it writes; the settlement
 * of trade A is checked against each transaction of trade B, both ways.
 */
import type { Offer } from '../../src/market/domain/offer';
import type { Trade } from '@gridledger/protocol';
import type { IdentitySpec } from '../support/fakeIdentity';
import type { FakeStub } from '../support/fakeStub';
import { byteCompare } from '../support/fakeStub';
import { TestLedger } from '../support/ledger';
import { leaderAt } from '../../src/governance/services/tasks';
import { beaconSignatureHex, byPid, communityLedger, drawCommittee, participantOf, readTaskOf, runStage } from '../support/community';
import { checkInvariants, exportProof, fund, importProof, MeterSim, T0, U1, U2, who } from '../support/marketLedger';
import { nth } from '../support/lists';

const D = T0 + 2 * 86_400;
const OFFER = { amountWh: 1000, pricePerKwh: 40, deliveryStart: D, deliveryLength: 900, ttlSeconds: 3600 };
const APPROVE = { approve: true };

/** Keys `writer` wrote that `reader` read, or that fall into a range `reader` read (readable form). */
function collisions(writer: FakeStub, reader: FakeStub): string[] {
  const hits = [...writer.writes.keys()].filter(
    (k) => reader.readKeys.includes(k) || reader.readRanges.some((r) => byteCompare(k, r.start) >= 0 && (r.end === '' || byteCompare(k, r.end) < 0)),
  );
  return hits.map((k) => k.split('\u0000').filter(Boolean).join('~'));
}

interface Party {
  seller: IdentitySpec;
  buyer: IdentitySpec;
  sm: MeterSim;
  bm: MeterSim;
}

let ledger: TestLedger;
beforeEach(async () => {
  ledger = await communityLedger();
  for (const p of [who.seller, who.seller2, who.buyer, who.buyer2]) await fund(ledger, p, 500);
});
afterEach(() => checkInvariants(ledger.world));

describe('hot records: the transactions of one trade read nothing another trade writes', () => {
  it('the settlement of trade A against the offer, acceptance, mint, delivery, draw, entries, votes, confirmation and decisions of trade B', async () => {
    const A: Party = { seller: who.seller, buyer: who.buyer, sm: new MeterSim(who.seller), bm: new MeterSim(who.buyer) };
    const B: Party = { seller: who.seller2, buyer: who.buyer2, sm: new MeterSim(who.seller2), bm: new MeterSim(who.buyer2) };
    const ofB: Array<[string, FakeStub]> = [];
    const step = async <T>(label: string, spec: IdentitySpec, fn: string, args: string[], transient?: Record<string, string>): Promise<T> => {
      const r = await ledger.submit<T>(spec, fn, args, transient ? { transient } : {});
      ofB.push([label, r.stub]);
      return r.result;
    };

    // Both trades are agreed before their delivery interval.
    const offerA = (await ledger.submit<Offer>(A.seller, 'offers:create', [JSON.stringify(OFFER)])).result;
    const tA = (await ledger.submit<Trade>(A.buyer, 'offers:accept', [offerA.offerId, '1000', '40'])).result;
    const offerB = await step<Offer>('offers:create', B.seller, 'offers:create', [JSON.stringify(OFFER)]);
    const tB = await step<Trade>('offers:accept', B.buyer, 'offers:accept', [offerB.offerId, '1000', '40']);

    // Trade A runs to its final ballot, voted but not decided.
    ledger.now = D + 960;
    for (const p of [A, B]) {
      await p.sm.post(ledger, p.sm.next(D, 0, 1000));
      await p.bm.post(ledger, p.bm.next(D, 1000, 0));
    }
    const pktA = (await ledger.submit<{ packetId: string }>(A.seller, 'energy:mint', [JSON.stringify({ intervalStart: D, amountWh: 1000, source: 'solar' })], { transient: { exportProof: exportProof(A.sm.last!) } })).result;
    await ledger.submit(A.seller, 'trades:deliverEnergy', [tA.tradeId, JSON.stringify([{ packetId: pktA.packetId, amountWh: 1000 }])]);
    await drawCommittee(ledger, tA.validation.taskId);
    await runStage(ledger, tA.tradeId, tA.validation.taskId, [APPROVE, APPROVE, APPROVE]);
    await ledger.submit(A.buyer, 'trades:confirmDelivery', [tA.tradeId, '1000'], { transient: { importProof: importProof(A.bm.last!) } });
    await runStage(ledger, tA.tradeId, tA.validation.taskId, [APPROVE, APPROVE, APPROVE], false);
    const settleA = await ledger.run<Trade>(who.regulator, 'trades:decide', [tA.tradeId]);
    expect(settleA.result.state).toBe('SETTLED');
    const membersA = (await readTaskOf(ledger, tA.validation.taskId)).committee;

    // Trade B from its mint to its settlement, every transaction recorded.
    const pktB = await step<{ packetId: string }>('energy:mint', B.seller, 'energy:mint', [JSON.stringify({ intervalStart: D, amountWh: 1000, source: 'solar' })], { exportProof: exportProof(B.sm.last!) });
    await step('trades:deliverEnergy', B.seller, 'trades:deliverEnergy', [tB.tradeId, JSON.stringify([{ packetId: pktB.packetId, amountWh: 1000 }])]);
    for (const [msp, op] of [[U1, who.op1], [U2, who.op2]] as const) {
      // the second contribution completes the beacon and draws the committee (reading candidates' records)
      await step('committees:contributeEntropy', op, 'committees:contributeEntropy', [tB.validation.taskId, '0', beaconSignatureHex(msp, tB.validation.taskId, 0)]);
    }
    const membersB = (await readTaskOf(ledger, tB.validation.taskId)).committee;
    expect(membersB).toHaveLength(4);
    // the point of the test: the committees share members, as they must in a small community
    expect(membersB.filter((m) => membersA.includes(m)).length).toBeGreaterThan(0);
    await stageSteps(tB, 'execution');
    await step('trades:confirmDelivery', B.buyer, 'trades:confirmDelivery', [tB.tradeId, '1000'], { importProof: importProof(B.bm.last!) });
    await stageSteps(tB, 'final');
    expect((await ledger.evaluate<Trade>(who.regulator, 'trades:get', [tB.tradeId])).state).toBe('SETTLED');

    for (const [label, stub] of ofB) {
      expect({ label, aWritesBReads: collisions(settleA.stub, stub) }).toEqual({ label, aWritesBReads: [] });
      expect({ label, bWritesAReads: collisions(stub, settleA.stub) }).toEqual({ label, bWritesAReads: [] });
    }

    // A's settlement still applies: committed now, every member of both committees is credited.
    settleA.stub.commitTo(ledger.world);
    for (const m of new Set([...membersA, ...membersB])) {
      expect((await participantOf(ledger, m)).qScore).toBeGreaterThan(2_000_000);
    }

    /** One stage of trade B as the agents run it: the slot leader's entry, three votes, a decision. */
    async function stageSteps(t: Trade, stage: string): Promise<void> {
      ledger.advance(300);
      const task = await readTaskOf(ledger, t.validation.taskId);
      const { leader } = leaderAt(task, ledger.now);
      await step(`trades:recordEntry (${stage})`, byPid.get(leader) as IdentitySpec, 'trades:recordEntry', [t.tradeId]);
      const others = task.committee.filter((m) => m !== leader);
      for (let i = 0; i < 3; i++) await step(`trades:vote (${stage})`, byPid.get(nth(others, i)) as IdentitySpec, 'trades:vote', [t.tradeId, JSON.stringify(APPROVE)]);
      await step(`trades:decide (${stage})`, who.regulator, 'trades:decide', [t.tradeId]);
    }
  });
});
