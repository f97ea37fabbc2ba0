import { expectCode, TestLedger } from '../support/ledger';
import { balance, checkInvariants, fund, MeterSim, newLedger, pid, T0, U1, who, exportProof } from '../support/marketLedger';
import type { Reading } from '@gridledger/protocol';
import { nth } from '../support/lists';

const I0 = T0;

describe('wallets', () => {
  let ledger: TestLedger;
  beforeEach(() => {
    ledger = newLedger();
  });
  afterEach(() => checkInvariants(ledger.world));

  it('an operator credits participants of its own utility only', async () => {
    await ledger.submit(who.seller, 'wallets:open');
    const r = await ledger.submit(who.op1, 'wallets:credit', [pid(who.seller), '5000', 'bank-ref-1']);
    expect(r.result).toEqual({ participantId: pid(who.seller), balance: 5000 });
    expect(r.events).toEqual([{ name: 'WalletCredited', payload: { participantId: pid(who.seller), amount: 5000, reference: 'bank-ref-1' } }]);
    await expectCode(ledger.submit(who.op2, 'wallets:credit', [pid(who.seller), '1', 'x']), 'FORBIDDEN', /own utility/);
    await expectCode(ledger.submit(who.buyer2, 'wallets:credit', [pid(who.seller), '1', 'x']), 'FORBIDDEN', /needs role operator/);
    await expectCode(ledger.submit(who.regulator, 'wallets:credit', [pid(who.seller), '1', 'x']), 'FORBIDDEN');
    await expectCode(ledger.submit(who.op1, 'wallets:credit', ['p-unknown', '1', 'x']), 'NOT_FOUND');
    for (const bad of ['0', '-5', '1.5', 'abc', '1e3']) {
      await expectCode(ledger.submit(who.op1, 'wallets:credit', [pid(who.seller), bad, 'x']), 'INVALID_ARGUMENT');
    }
    expect(await balance(ledger, who.seller)).toBe(5000);
  });

  it('credits never touch the balance key, so concurrent credits do not collide', async () => {
    await ledger.submit(who.seller, 'wallets:open');
    const a = await ledger.run(who.op1, 'wallets:credit', [pid(who.seller), '10', 'a']);
    const b = await ledger.run(who.op1, 'wallets:credit', [pid(who.seller), '20', 'b']);
    const wa = [...a.stub.writes.keys()];
    const wb = new Set(b.stub.writes.keys());
    expect(wa.filter((k) => wb.has(k))).toEqual([]);
    expect(wa.some((k) => k.includes('gl.market.wallet\u0000'))).toBe(false);
    a.stub.commitTo(ledger.world);
    b.stub.commitTo(ledger.world);
    expect(await balance(ledger, who.seller)).toBe(30);
  });

  it('the conservation check is not vacuous: it catches minted money', async () => {
    await fund(ledger, who.seller, 100);
    const [key, v] = [...ledger.world.state].find(([k]) => k.includes('gl.market.walletCredit')) as [string, Uint8Array];
    const forged = { ...JSON.parse(Buffer.from(v).toString()), amount: 101 };
    const copy = ledger.world.clone();
    copy.state.set(key, Buffer.from(JSON.stringify(forged)));
    expect(() => checkInvariants(copy)).toThrow();
  });

  it('is readable by owner, its utility operators and the regulator; has an audit trail', async () => {
    await fund(ledger, who.seller, 700);
    expect((await ledger.evaluate<{ balance: number }>(who.seller, 'wallets:get', [pid(who.seller)])).balance).toBe(700);
    expect((await ledger.evaluate<{ balance: number }>(who.op1, 'wallets:get', [pid(who.seller)])).balance).toBe(700);
    await expectCode(ledger.evaluate(who.op2, 'wallets:get', [pid(who.seller)]), 'FORBIDDEN');
    await expectCode(ledger.evaluate(who.buyer, 'wallets:get', [pid(who.seller)]), 'FORBIDDEN');
    await ledger.submit(who.op1, 'wallets:credit', [pid(who.seller), '5', 'second']);
    const page1 = await ledger.evaluate<{ items: Array<{ amount: number; reference: string }>; bookmark: string }>(who.seller, 'wallets:history', [pid(who.seller), '1', '']);
    expect(page1.items).toHaveLength(1);
    expect(page1.bookmark).not.toBe('');
    const page2 = await ledger.evaluate<{ items: Array<{ amount: number; reference: string }>; bookmark: string }>(who.seller, 'wallets:history', [pid(who.seller), '1', page1.bookmark]);
    expect([nth(page1.items, 0).reference, nth(page2.items, 0).reference].sort()).toEqual(['second', 'topup-700']);
  });
});

describe('energy packets', () => {
  let ledger: TestLedger;
  let m: MeterSim;
  beforeEach(async () => {
    ledger = newLedger();
    m = new MeterSim(who.seller);
    await m.post(ledger, m.next(I0, 100, 3000));
  });
  afterEach(() => checkInvariants(ledger.world));

  const mint = (amountWh: number, reading: object | undefined, spec = who.seller) =>
    ledger.submit<{ packetId: string; amountWh: number; availableWh: number; owner: string }>(
      spec, 'energy:mint', [JSON.stringify({ intervalStart: I0, amountWh, source: 'solar' })],
      { transient: reading ? { exportProof: exportProof(reading as Reading) } : {} },
    );

  it('mints from measured surplus export, never more than the export in total', async () => {
    const a = await mint(2000, m.last);
    expect(a.result).toMatchObject({ amountWh: 2000, availableWh: 2000, owner: pid(who.seller) });
    await mint(1000, m.last);
    await expectCode(mint(1, m.last), 'INSUFFICIENT_ENERGY', /at most 0 Wh/);
    const bal = await ledger.evaluate<{ availableWh: number; packets: number }>(who.buyer, 'energy:balance', [pid(who.seller)]);
    expect(bal).toMatchObject({ availableWh: 3000, packets: 2 });
    const list = await ledger.evaluate<{ items: unknown[]; bookmark: string }>(who.buyer, 'energy:listByOwner', [pid(who.seller), '1', '']);
    expect(list.items).toHaveLength(1);
    expect(list.bookmark).not.toBe('');
  });

  it('refuses a forged reading, someone else\'s reading, or none', async () => {
    await expectCode(mint(10, { ...m.last, exportWh: 999_999, exportRegisterWh: 99_999_999 }), 'CONFLICT', /does not match the hash/);
    await expectCode(mint(10, undefined), 'INVALID_ARGUMENT', /transient "exportProof"/);
    await expectCode(mint(10, m.last, who.buyer2), 'FORBIDDEN', /own readings/);
    await expectCode(mint(10, m.last, who.op1), 'FORBIDDEN');
    await expectCode(ledger.submit(who.seller, 'energy:mint', [JSON.stringify({ intervalStart: I0, amountWh: 10, source: 'coal' })], { transient: { exportProof: exportProof(m.last!) } }), 'INVALID_ARGUMENT', /source/);
  });

  it('energy:balance reads a constant number of keys, however many packets the owner has', async () => {
    const readsFor = async () => (await ledger.run(who.buyer, 'energy:balance', [pid(who.seller)])).stub.readKeys.length;
    await mint(10, m.last);
    const one = await readsFor();
    for (let i = 0; i < 24; i++) await mint(10, m.last);
    expect(await readsFor()).toBe(one);
    const bal = await ledger.evaluate<{ availableWh: number; packets: number }>(who.buyer, 'energy:balance', [pid(who.seller)]);
    expect(bal).toMatchObject({ availableWh: 250, packets: 25 });
  });

  it('the export value stays off the channel and off the block', async () => {
    const r = await mint(500, m.last);
    const text = [...ledger.world.state.values()].map((v) => Buffer.from(v).toString()).join('\n');
    expect(text).not.toContain('3000');
    expect(r.stub.getArgs().join(' ')).not.toContain('3000');
    expect(U1).toBe('Utility1MSP');
  });
});

describe('query argument validation', () => {
  it('refuses malformed ids with INVALID_ARGUMENT, never a crash', async () => {
    const ledger = newLedger();
    await expectCode(ledger.evaluate(who.regulator, 'wallets:get', ['bad\u0000id']), 'INVALID_ARGUMENT');
    await expectCode(ledger.evaluate(who.regulator, 'wallets:history', ['', '10', '']), 'INVALID_ARGUMENT');
    await expectCode(ledger.evaluate(who.regulator, 'energy:balance', ['bad id']), 'INVALID_ARGUMENT');
    await expectCode(ledger.evaluate(who.regulator, 'energy:listByOwner', ['x', '0', '']), 'INVALID_ARGUMENT', /pageSize/);
    await expectCode(ledger.evaluate(who.regulator, 'meters:getHead', ['', 'm']), 'INVALID_ARGUMENT');
    await expectCode(ledger.evaluate(who.regulator, 'energy:get', ['pkt-none']), 'NOT_FOUND');
  });
});
