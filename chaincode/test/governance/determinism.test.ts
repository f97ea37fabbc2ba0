import { identities } from '../support/fakeIdentity';
import { CallResult, TestLedger } from '../support/ledger';
import { beaconSignatureHex, byId, join, registerUtilities, regulator, runBeacon, seedMembers, whenLeads } from '../support/community';
import { nth } from '../support/lists';

function fingerprint(r: CallResult): string {
  const writes = [...r.stub.writes.entries()].map(([k, v]) => [k, v === null ? null : Buffer.from(v).toString('base64')]);
  return JSON.stringify({ writes, event: r.stub.event ? Buffer.from(r.stub.event.payload).toString('base64') : null, response: r.raw });
}

describe('determinism: the same transaction on copies of the same state writes identical bytes', () => {
  it('committee draw and admission decision, with endorsers whose clocks differ within the tolerance', async () => {
    const ledger = new TestLedger();
    await registerUtilities(ledger);
    const members = await seedMembers(ledger, 12, ['z1', 'z2', 'z3']);
    const j = await join(ledger, 'Org2MSP', 'new-1', 'z2');
    await ledger.submit(identities.operator('Org1MSP'), 'committees:contributeEntropy', [j.taskId, '0', beaconSignatureHex('Org1MSP', j.taskId, 0)]);

    // The quorum-th contribution draws the committee: endorse it on two peers (forks).
    const args = [j.taskId, '0', beaconSignatureHex('Org2MSP', j.taskId, 0)];
    const peerA = await ledger.fork().run(identities.operator('Org2MSP'), 'committees:contributeEntropy', args, { txId: 'tx-draw', peerClock: ledger.now - 20 });
    const peerB = await ledger.fork().run(identities.operator('Org2MSP'), 'committees:contributeEntropy', args, { txId: 'tx-draw', peerClock: ledger.now + 45 });
    expect(peerA.stub.writes.size).toBeGreaterThan(0);
    expect(fingerprint(peerA)).toBe(fingerprint(peerB));

    // Carry on to a decision, then endorse the decision twice.
    const task = await runBeacon(ledger, j.taskId, ['Org2MSP']);
    ledger.now = whenLeads(task, nth(task.committee, 0), ledger.now);
    const vote = JSON.stringify({ approve: true, conditions: { condition1: true, condition2: true } });
    await ledger.submit(byId(members, nth(task.committee, 0)).identity, 'admissions:recordEntry', [j.participantId]);
    await ledger.submit(byId(members, nth(task.committee, 1)).identity, 'admissions:vote', [j.participantId, vote]);
    await ledger.submit(byId(members, nth(task.committee, 2)).identity, 'admissions:vote', [j.participantId, vote]);
    const d1 = await ledger.fork().run(regulator, 'admissions:decide', [j.participantId], { txId: 'tx-decide' });
    const d2 = await ledger.fork().run(regulator, 'admissions:decide', [j.participantId], { txId: 'tx-decide', peerClock: ledger.now + 59 });
    expect(d1.stub.writes.size).toBeGreaterThan(5);
    expect(fingerprint(d1)).toBe(fingerprint(d2));
  });
});
