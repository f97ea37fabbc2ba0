import type { Reading } from '@gridledger/protocol';
import { flowProof } from '../../src/market/domain/reading';
/**
 * Market test support: a TestLedger with the market contracts, named identities, helpers that
 * post readings / fund wallets, and the conservation invariants checked after every test.
 */
import { createHash } from 'crypto';
import { GovernanceContract } from '../../src/governance/contracts/governance.contract';
import { HealthContract } from '../../src/health.contract';
import { EnergyContract } from '../../src/market/contracts/energy.contract';
import { MarketContract } from '../../src/market/contracts/market.contract';
import { MetersContract } from '../../src/market/contracts/meters.contract';
import { WalletsContract } from '../../src/market/contracts/wallets.contract';
import { participantIdFor } from '../../src/kernel/caller';
import { FakeClientIdentity, IdentitySpec, identities } from './fakeIdentity';
import { T0, TestLedger } from './ledger';
import { WorldState } from './fakeStub';
import '../support/quietLogs';
import { nth } from './lists';

export { T0 };
export const U1 = 'Utility1MSP';
export const U2 = 'Utility2MSP';
export const U3 = 'Utility3MSP';

export const who = {
  seller: identities.meter(U1, 'meter-s1', 'zone-a'),
  seller2: identities.meter(U3, 'meter-s2', 'zone-c'),
  buyer: identities.meter(U2, 'meter-b1', 'zone-b'),
  buyer2: identities.meter(U1, 'meter-b2', 'zone-a'),
  op1: identities.operator(U1, 'operator1'),
  op2: identities.operator(U2, 'operator2'),
  op3: identities.operator(U3, 'operator3'),
  regulator: identities.regulator(U1, 'regulator'),
};

export function pid(spec: IdentitySpec): string {
  const ci = new FakeClientIdentity(spec);
  return participantIdFor(ci.getMSPID(), ci.getID());
}

export function operatorOf(spec: IdentitySpec): IdentitySpec {
  return spec.mspId === U1 ? who.op1 : spec.mspId === U2 ? who.op2 : who.op3;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const MARKET_CONTRACTS: any[] = [HealthContract, GovernanceContract, MetersContract, WalletsContract, EnergyContract, MarketContract];

export function newLedger(extra: unknown[] = []): TestLedger {
  const l = new TestLedger([...MARKET_CONTRACTS, ...extra] as never);
  l.now = T0 + 86_400; // day 2: intervals of day 1 have ended
  return l;
}


/** The settlement proofs a meter discloses (what meters:getProof returns from its utility's collection). */
export const exportProof = (r: Reading): string => JSON.stringify(flowProof({ nonce: '', ...r }, 'export'));
export const importProof = (r: Reading): string => JSON.stringify(flowProof({ nonce: '', ...r }, 'import'));

/** Keeps each meter's registers consistent across the readings a test posts. */
export class MeterSim {
  private importReg = 1_000_000;
  private exportReg = 2_000_000;
  last?: Reading;
  constructor(readonly spec: IdentitySpec) {}
  get meterId(): string {
    const id = (this.spec.attrs as Record<string, string>).meterId;
    if (id === undefined) throw new Error('test meter identity has no meterId attribute');
    return id;
  }
  next(intervalStart: number, importWh: number, exportWh: number): Reading {
    this.importReg += importWh;
    this.exportReg += exportWh;
    return { meterId: this.meterId, intervalStart, intervalLength: 900, importWh, exportWh, importRegisterWh: this.importReg, exportRegisterWh: this.exportReg, nonce: `n-${intervalStart}` };
  }
  async post(ledger: TestLedger, r: Reading): Promise<void> {
    const transient: Record<string, string> = this.last ? { previousReading: JSON.stringify(this.last) } : {};
    await ledger.submit(this.spec, 'meters:postReading', [JSON.stringify(r)], { transient });
    this.last = r;
  }
}

export async function fund(ledger: TestLedger, spec: IdentitySpec, amount: number): Promise<void> {
  await ledger.submit(spec, 'wallets:open');
  await ledger.submit(operatorOf(spec), 'wallets:credit', [pid(spec), String(amount), `topup-${amount}`]);
}

export async function balance(ledger: TestLedger, spec: IdentitySpec | string): Promise<number> {
  const id = typeof spec === 'string' ? spec : pid(spec);
  const r = await ledger.evaluate<{ balance: number }>(who.regulator, 'wallets:get', [id]);
  return r.balance;
}

// ---------------------------------------------------------------------------------------------
// Invariants over the committed world state

function decodeState(world: WorldState): Array<{ type: string; attrs: string[]; value: Record<string, unknown> }> {
  const out: Array<{ type: string; attrs: string[]; value: Record<string, unknown> }> = [];
  for (const [k, v] of world.state) {
    if (k[0] !== '\u0000') continue;
    const parts = k.slice(1).split('\u0000');
    out.push({ type: nth(parts, 0), attrs: parts.slice(1, -1), value: JSON.parse(Buffer.from(v).toString('utf8')) });
  }
  return out;
}

const TERMINAL = ['SETTLED', 'DECLINED', 'FAILED_LATE'];

/**
 * Money: every minor unit topped up is in a wallet (folded or pending) or in an escrow (open offer
 * collateral, live trade escrows, auction claims awaiting the other side). Energy: every minted Wh
 * is available, escrowed or sold in a seller packet; every sold Wh is claimed in a buyer packet;
 * live trades' escrowed energy equals the packets' escrowed energy.
 */
export function checkInvariants(world: WorldState): void {
  const rows = decodeState(world);
  const of = (t: string) => rows.filter((r) => r.type === t);
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  let topups = 0;
  for (const a of of('gl.market.walletAudit')) if (a.value.kind === 'topup') topups += num(a.value.amount);
  let held = 0;
  for (const w of of('gl.market.wallet')) held += num(w.value.balance);
  for (const c of of('gl.market.walletCredit')) held += num(c.value.amount);
  for (const o of of('gl.market.offer')) if (o.value.status === 'OPEN') held += num(o.value.collateral);
  for (const t of of('gl.market.trade')) if (!TERMINAL.includes(String(t.value.status ?? t.value.state))) held += num(t.value.paymentEscrow) + num(t.value.collateralEscrow);
  for (const a of of('gl.market.auction')) {
    if (a.value.status !== 'AWARDED') continue;
    const bc = a.value.buyerClaim as Record<string, unknown> | undefined;
    const sc = a.value.sellerClaim as Record<string, unknown> | undefined;
    held += num(bc?.payment) + num(sc?.collateral);
  }
  for (const w of [...of('gl.market.wallet'), ...of('gl.market.walletCredit')]) expect(num(w.value.balance ?? w.value.amount)).toBeGreaterThanOrEqual(0);
  expect(held).toBe(topups);

  let minted = 0;
  for (const m of of('gl.market.minted')) minted += num(m.value.mintedWh);
  let sellerSide = 0;
  let sold = 0;
  let claimed = 0;
  let packetEscrow = 0;
  for (const p of of('gl.market.packet')) {
    const v = p.value;
    if (v.origin === 'mint') {
      expect(num(v.availableWh) + num(v.escrowedWh) + num(v.soldWh)).toBe(num(v.amountWh));
      expect(Math.min(num(v.availableWh), num(v.escrowedWh), num(v.soldWh))).toBeGreaterThanOrEqual(0);
      sellerSide += num(v.amountWh);
      sold += num(v.soldWh);
      packetEscrow += num(v.escrowedWh);
    } else {
      claimed += num(v.claimedWh);
    }
  }
  expect(sellerSide).toBe(minted);
  expect(claimed).toBe(sold);
  let tradeEscrow = 0;
  for (const t of of('gl.market.trade')) if (!TERMINAL.includes(String(t.value.state))) tradeEscrow += num(t.value.energyEscrowWh);
  expect(packetEscrow).toBe(tradeEscrow);

  // The running per-owner balance shards equal the sums over the owner's packets.
  const fromPackets = new Map<string, Record<string, number>>();
  const fromShards = new Map<string, Record<string, number>>();
  const add = (m: Map<string, Record<string, number>>, owner: string, v: Record<string, unknown>, packets: number) => {
    const cur = m.get(owner) ?? { availableWh: 0, escrowedWh: 0, soldWh: 0, claimedWh: 0, packets: 0 };
    for (const f of ['availableWh', 'escrowedWh', 'soldWh', 'claimedWh']) cur[f] = (cur[f] ?? 0) + num(v[f]);
    cur.packets = (cur.packets ?? 0) + packets;
    m.set(owner, cur);
  };
  for (const p of of('gl.market.packet')) add(fromPackets, String(p.value.owner), p.value, 1);
  for (const b of of('gl.market.energyBalance')) add(fromShards, nth(b.attrs, 0), b.value, num(b.value.packets));
  expect(Object.fromEntries(fromShards)).toEqual(Object.fromEntries(fromPackets));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
