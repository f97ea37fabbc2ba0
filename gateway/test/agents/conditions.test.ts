import { contractHashOf } from '@gridledger/protocol';
import { admissionConditions, costOf, entryApproves, executionConditions, finalConditions } from '../../src/agents/duties/conditions';
import type { PacketView, ParticipantView } from '../../src/agents/duties/types';
import { ballot, task, trade } from './fixtures';

const candidate: ParticipantView = { participantId: 'p-new', mspId: 'Utility2MSP', zone: 'zone-c', status: 'PENDING', admissionTaskId: 't-1' };

describe('admission Conditions 1–2, checked from the ledger', () => {
  it('hold for the slot leader\'s entry about the pending request, alone in its slot', () => {
    // slot 10 is led by committee[(10 + 1) mod 4] = p-D
    const b = ballot('admission', { entryBy: 'p-D', slot: 10 }).ballot!;
    expect(admissionConditions(task(), b, candidate, [{ taskId: 't-1', ballot: 'admission' }])).toEqual({ conditions: { condition1: true, condition2: true }, reasons: [] });
  });

  it('Condition 1 fails for an entry by a member who did not lead that slot, or that names another slot', () => {
    const byWrong = ballot('admission', { entryBy: 'p-A', slot: 10 }).ballot!;
    const v = admissionConditions(task(), byWrong, candidate, []);
    expect(v.conditions.condition1).toBe(false);
    expect(v.reasons.join()).toMatch(/slot 10 is led by p-D/);
    const wrongSlot = ballot('admission', { entryBy: 'p-D', slot: 10 }).ballot!;
    wrongSlot.entry!.slot = 14; // p-D leads 14 too, but the entry's time is in slot 10
    expect(admissionConditions(task(), wrongSlot, candidate, []).conditions.condition1).toBe(false);
  });

  it('Condition 1 fails when the entry does not match the request as enrolled, or the request is no longer pending', () => {
    const forged = ballot('admission', { entryBy: 'p-D', slot: 10, payload: { participantId: 'p-new', mspId: 'Utility3MSP', zone: 'zone-c' } }).ballot!;
    expect(admissionConditions(task(), forged, candidate, []).conditions.condition1).toBe(false);
    const ok = ballot('admission', { entryBy: 'p-D', slot: 10 }).ballot!;
    expect(admissionConditions(task(), ok, { ...candidate, status: 'ACTIVE' }, []).conditions.condition1).toBe(false);
  });

  it('Condition 2 holds for the other ballots of the entry\'s own block (one block per leader per slot), not for another block', () => {
    const b = ballot('admission', { entryBy: 'p-D', slot: 10 }).ballot!;
    b.entry!.block = [{ taskId: 't-1', ballot: 'admission' }, { taskId: 't-9', ballot: 'execution' }];
    const seen = [{ taskId: 't-1', ballot: 'admission' }, { taskId: 't-9', ballot: 'execution' }];
    expect(admissionConditions(task(), b, candidate, seen)).toEqual({ conditions: { condition1: true, condition2: true }, reasons: [] });
    const v = admissionConditions(task(), b, candidate, [...seen, { taskId: 't-7', ballot: 'final' }]);
    expect(v.conditions).toEqual({ condition1: true, condition2: false });
    expect(v.reasons[0]).toMatch(/another block in slot 10 \(t-7\/final\)/);
    // an entry whose block does not list this ballot is not this ballot's block
    b.entry!.block = [{ taskId: 't-9', ballot: 'execution' }];
    expect(admissionConditions(task(), b, candidate, seen).conditions.condition2).toBe(false);
  });

  it('Condition 2 fails when the same leader made another entry in that slot', () => {
    const b = ballot('admission', { entryBy: 'p-D', slot: 10 }).ballot!;
    const v = admissionConditions(task(), b, candidate, [{ taskId: 't-1', ballot: 'admission' }, { taskId: 't-other', ballot: 'execution' }]);
    expect(v.conditions).toEqual({ condition1: true, condition2: false });
    expect(v.reasons[0]).toMatch(/t-other/);
  });
});

describe('trade Conditions 1–4, checked from the trade, escrow and packet views', () => {
  const packet = (over: Partial<PacketView> = {}): PacketView => ({ packetId: 'pkt-1', owner: 'p-S', meterId: 'm-s', intervalStart: 1_767_300_000, escrowedWh: 200, ...over });

  it('execution: energy in escrow per contract and payment = cost', () => {
    expect(costOf(200, 250)).toBe(50);
    expect(executionConditions(trade(), { 'pkt-1': packet() })).toEqual({ conditions: { condition1: true, condition2: true }, reasons: [] });
  });

  it('Condition 1 fails when more is escrowed than contracted, nothing is, or a packet is not the seller meter\'s of that interval', () => {
    expect(executionConditions(trade({ energyEscrowWh: 250, packets: [{ packetId: 'pkt-1', amountWh: 250 }] }), { 'pkt-1': packet({ escrowedWh: 250 }) }).conditions.condition1).toBe(false);
    expect(executionConditions(trade({ energyEscrowWh: 0, packets: [] }), {}).conditions.condition1).toBe(false);
    expect(executionConditions(trade(), { 'pkt-1': packet({ meterId: 'm-other' }) }).conditions.condition1).toBe(false);
    expect(executionConditions(trade(), { 'pkt-1': packet({ intervalStart: 1_767_299_700 }) }).conditions.condition1).toBe(false);
    expect(executionConditions(trade(), {}).conditions.condition1).toBe(false);
    expect(executionConditions(trade({ energyEscrowWh: 150 }), { 'pkt-1': packet() }).conditions.condition1).toBe(false); // packets do not add up
  });

  it('Condition 2 fails when the escrowed payment differs from the cost, or the contract hash does not match the terms', () => {
    expect(executionConditions(trade({ paymentEscrow: 49 }), { 'pkt-1': packet() }).conditions.condition2).toBe(false);
    const t = trade();
    expect(executionConditions({ ...t, pricePerKwh: 300 }, { 'pkt-1': packet() }).conditions.condition2).toBe(false);
    expect(executionConditions({ ...t, contractHash: contractHashOf({ ...t, amountWh: 100 }) }, { 'pkt-1': packet() }).conditions.condition2).toBe(false);
  });

  it('final: nothing to attest before the evidence; Condition 3 = declared equals metered; Condition 4 = payout within escrow', () => {
    expect(finalConditions(trade({ state: 'FINAL' }))).toBeUndefined();
    expect(finalConditions(trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 200 }))).toEqual({ conditions: { condition3: true, condition4: true }, reasons: [] });
    const lying = finalConditions(trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 120 }))!;
    expect(lying.conditions).toEqual({ condition3: false, condition4: true });
    expect(lying.reasons[0]).toMatch(/declared 120 Wh, its meter evidences 200 Wh/);
    expect(finalConditions(trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 200, paymentEscrow: 10 }))!.conditions.condition4).toBe(false);
    // under-delivery is paid pro rata: still within escrow
    expect(finalConditions(trade({ state: 'FINAL', meteredWh: 150, buyerDeclaredWh: 150 }))!.conditions).toEqual({ condition3: true, condition4: true });
  });

  it('entryApproves mirrors the verdict the chaincode records with a leader entry (stageFacts), which the agent\'s own check implies', () => {
    expect(entryApproves(trade(), 'execution')).toBe(true);
    expect(entryApproves(trade({ energyEscrowWh: 250 }), 'execution')).toBe(false);
    expect(entryApproves(trade({ energyEscrowWh: 0, packets: [] }), 'execution')).toBe(false);
    expect(entryApproves(trade({ paymentEscrow: 49 }), 'execution')).toBe(false);
    // a packet the agent cannot find fails its own Condition 1, not the chaincode's: the entry would approve
    expect(executionConditions(trade(), {}).conditions.condition1).toBe(false);
    expect(entryApproves(trade(), 'execution')).toBe(true);
    expect(entryApproves(trade({ state: 'FINAL' }), 'final')).toBe(false);
    expect(entryApproves(trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 200 }), 'final')).toBe(true);
    expect(entryApproves(trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 100 }), 'final')).toBe(false); // a lying buyer
    expect(entryApproves(trade({ state: 'FINAL', meteredWh: 200, buyerDeclaredWh: 200, paymentEscrow: 10 }), 'final')).toBe(false);
    // every trade the agent's own check approves, the recorded entry approves too
    for (const t of [trade(), trade({ state: 'FINAL', meteredWh: 150, buyerDeclaredWh: 150 })]) {
      const stage = t.state === 'FINAL' ? 'final' : 'execution';
      const own = stage === 'final' ? finalConditions(t)! : executionConditions(t, { 'pkt-1': packet() });
      expect(Object.values(own.conditions).every(Boolean)).toBe(true);
      expect(entryApproves(t, stage)).toBe(true);
    }
  });
});
