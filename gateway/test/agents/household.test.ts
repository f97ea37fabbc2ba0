import { nextHouseholdStep, type HouseholdInput } from '../../src/agents/duties/household';
import { trade } from './fixtures';

const on = { behaviour: 'honest' as const, autopilot: true };
const end = (1_767_300_000 + 300) * 1000;
const awaiting = trade({ state: 'AWAITING_ENERGY', energyEscrowWh: 0, packets: [] });
const input = (over: Partial<HouseholdInput> = {}): HouseholdInput => ({ trade: awaiting, nowMs: end + 1000, seller: on, ...over });

describe('household autopilot', () => {
  it('does nothing for meters without the autopilot (off by default) or held by another gateway', () => {
    expect(nextHouseholdStep(input({ seller: { behaviour: 'honest', autopilot: false } })).kind).toBe('done');
    expect(nextHouseholdStep(input({ seller: undefined })).kind).toBe('done');
  });

  it('seller: waits for the interval to end and its reading, mints from its proven surplus, then delivers the packet', () => {
    expect(nextHouseholdStep(input({ nowMs: end - 1 }))).toEqual({ kind: 'wait', atMs: end, why: 'the delivery interval has not ended' });
    expect(nextHouseholdStep(input({ exportWh: null })).kind).toBe('wait');
    expect(nextHouseholdStep(input({ exportWh: 500, packets: [] }))).toEqual({ kind: 'mint', amountWh: 200, intervalStart: 1_767_300_000 });
    expect(nextHouseholdStep(input({ exportWh: 120, packets: [] }))).toEqual({ kind: 'mint', amountWh: 120, intervalStart: 1_767_300_000 }); // only what it proved
    // after a crash between mint and delivery: the minted packet is found and delivered, not minted again
    expect(nextHouseholdStep(input({ exportWh: 500, packets: [{ packetId: 'pkt-9', availableWh: 200 }] }))).toEqual({ kind: 'deliver', packetId: 'pkt-9', amountWh: 200 });
  });

  it('seller behaviours: withhold-delivery never delivers; under-deliver delivers half', () => {
    expect(nextHouseholdStep(input({ seller: { behaviour: 'withhold-delivery', autopilot: true }, exportWh: 500 }))).toEqual({ kind: 'done', why: 'withholds delivery (test behaviour)' });
    expect(nextHouseholdStep(input({ seller: { behaviour: 'under-deliver', autopilot: true }, exportWh: 500, packets: [] }))).toMatchObject({ kind: 'mint', amountWh: 100 });
  });

  it('buyer: after the execution stage, confirms what its meter imported (up to the escrowed energy); a lying buyer declares half', () => {
    const final = trade({ state: 'FINAL' });
    expect(nextHouseholdStep({ trade: final, nowMs: end, buyer: on, importWh: null }).kind).toBe('wait');
    expect(nextHouseholdStep({ trade: final, nowMs: end, buyer: on, importWh: 300 })).toEqual({ kind: 'confirm', receivedWh: 200 });
    expect(nextHouseholdStep({ trade: final, nowMs: end, buyer: on, importWh: 150 })).toEqual({ kind: 'confirm', receivedWh: 150 });
    expect(nextHouseholdStep({ trade: final, nowMs: end, buyer: { behaviour: 'lying-buyer', autopilot: true }, importWh: 300 })).toEqual({ kind: 'confirm', receivedWh: 100 });
    expect(nextHouseholdStep({ trade: { ...final, meteredWh: 200, buyerDeclaredWh: 200 }, nowMs: end, buyer: on, importWh: 300 })).toEqual({ kind: 'done', why: "the buyer's delivery evidence is recorded" }); // already confirmed: nothing left
    expect(nextHouseholdStep({ trade: trade({ state: 'EXECUTION' }), nowMs: end, buyer: on }).kind).toBe('wait'); // the committee's turn, then its confirmation
  });

  it("is over once the held meters have nothing left to do: a seller's part ends with its delivery", () => {
    expect(nextHouseholdStep(input({ trade: trade({ state: 'EXECUTION' }) }))).toEqual({ kind: 'done', why: "the energy is escrowed; the buyer's confirmation is not this gateway's" });
    expect(nextHouseholdStep(input({ trade: trade({ state: 'FINAL' }) })).kind).toBe('done');
    expect(nextHouseholdStep(input({ trade: trade({ state: 'FINAL' }), buyer: { behaviour: 'honest', autopilot: false } })).kind).toBe('done');
  });

  it('ends with the trade', () => {
    expect(nextHouseholdStep(input({ trade: trade({ state: 'SETTLED' }) }))).toEqual({ kind: 'done', why: 'trade SETTLED' });
    expect(nextHouseholdStep(input({ trade: trade({ state: 'DECLINED' }), buyer: on }))).toEqual({ kind: 'done', why: 'trade DECLINED' });
  });
});
