/**
 * Pure market rules: reading validation, money arithmetic, offer transitions (seed 001), stage
 * decisions (seed 002 Fig. 5), auction commitments/filters/winner (seed 000).
 */
import * as A from '../../src/market/domain/auction';
import { bpsOf, costOf } from '../../src/market/domain/money';
import * as O from '../../src/market/domain/offer';
import { DEFAULT_MARKET_PARAMS as P, mergeMarketParams } from '../../src/market/domain/params';
import * as R from '../../src/market/domain/reading';
import type { Trade } from '@gridledger/protocol';
import * as T from '../../src/market/domain/trade';
import { nth } from '../support/lists';

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (/^\[([A-Z_]+):[A-Z][A-Z0-9_]*\] /.exec((e as Error).message) ?? [])[1] ?? 'NO_CODE';
  }
  return 'NO_ERROR';
};

/** Readings under the production market parameters (minIntervalSeconds 300). */
const parse = (o: Record<string, unknown>, what: string) => R.parseReading(o, what, P.minIntervalSeconds);

const base = { meterId: 'm-1', intervalStart: 1_767_225_600, intervalLength: 900, importWh: 100, exportWh: 250, importRegisterWh: 1000, exportRegisterWh: 5000 };

describe('readings', () => {
  it('accepts a well-formed reading and hashes it canonically', () => {
    const r = parse({ ...base }, 'reading');
    expect(r.nonce).toBe('');
    const reordered = parse(JSON.parse(JSON.stringify({ ...base, exportWh: 250 })), 'reading');
    expect(R.readingHash(reordered)).toBe(R.readingHash(r));
    expect(R.readingRecord(r)).toBe(JSON.stringify(JSON.parse(R.readingRecord(r)), Object.keys(JSON.parse(R.readingRecord(r))).sort()));
  });
  it.each([
    ['unknown field', { ...base, extra: 1 }],
    ['float', { ...base, importWh: 1.5 }],
    ['negative', { ...base, exportWh: -1 }],
    ['bad length', { ...base, intervalLength: 600 }],
    ['misaligned', { ...base, intervalStart: base.intervalStart + 60 }],
    ['too old', { ...base, intervalStart: 900 }],
    ['register below flow', { ...base, importRegisterWh: 50 }],
    ['string number', { ...base, importWh: '100' }],
  ])('rejects %s', (_n, o) => {
    expect(codeOf(() => parse(o as never, 'reading'))).toBe('INVALID_ARGUMENT');
  });
  it('60 s intervals: refused under production parameters, accepted once the regulator lowered minIntervalSeconds, aligned to 60 s', () => {
    const short = { ...base, intervalStart: base.intervalStart + 60, intervalLength: 60 };
    expect(P.minIntervalSeconds).toBe(300);
    expect(R.allowedIntervalLengths(P.minIntervalSeconds)).toEqual([300, 900, 1800, 3600]);
    expect(() => parse(short, 'reading')).toThrow(/minIntervalSeconds <= 60; it is 300/);
    const dev = mergeMarketParams(P, { minIntervalSeconds: 60 });
    expect(R.parseReading(short, 'reading', dev.minIntervalSeconds)).toMatchObject({ intervalLength: 60, intervalStart: base.intervalStart + 60 });
    expect(codeOf(() => R.parseReading({ ...short, intervalStart: short.intervalStart + 30 }, 'reading', dev.minIntervalSeconds))).toBe('INVALID_ARGUMENT');
    // the longer intervals stay valid on a development network; other lengths never are
    expect(R.parseReading({ ...base }, 'reading', dev.minIntervalSeconds).intervalLength).toBe(900);
    expect(codeOf(() => R.parseReading({ ...short, intervalLength: 120 }, 'reading', dev.minIntervalSeconds))).toBe('INVALID_ARGUMENT');
  });
  it('refuses an interval that has not ended yet', () => {
    const r = parse({ ...base }, 'reading');
    expect(codeOf(() => R.checkIntervalEnded(r, base.intervalStart + 899, 'reading'))).toBe('PRECONDITION_FAILED');
    expect(codeOf(() => R.checkIntervalEnded(r, base.intervalStart + 900, 'reading'))).toBe('NO_ERROR');
  });
  it('registers never go backwards and must cover the interval flow', () => {
    const a = parse({ ...base }, 'r');
    const next = { ...base, intervalStart: base.intervalStart + 900, importRegisterWh: 1100, exportRegisterWh: 5250 };
    expect(codeOf(() => R.checkSuccessor(a, parse(next, 'r'), 'r'))).toBe('NO_ERROR');
    expect(codeOf(() => R.checkSuccessor(a, parse({ ...next, importRegisterWh: 999 }, 'r'), 'r'))).toBe('CONFLICT');
    expect(codeOf(() => R.checkSuccessor(a, parse({ ...next, exportRegisterWh: 5100 }, 'r'), 'r'))).toBe('CONFLICT');
    expect(codeOf(() => R.checkSuccessor(a, parse({ ...base }, 'r'), 'r'))).toBe('CONFLICT');
  });
  it('identical re-post is a duplicate, a different one a conflict', () => {
    const a = parse({ ...base }, 'r');
    expect(R.classifyRepost(R.readingHash(a), a, 'r')).toBe('DUPLICATE');
    expect(codeOf(() => R.classifyRepost(R.readingHash(a), parse({ ...base, importWh: 101 }, 'r'), 'r'))).toBe('CONFLICT');
  });
});

describe('money', () => {
  it('rounds down and stays integral', () => {
    expect(costOf(1500, 21)).toBe(31); // 31.5 -> 31
    expect(costOf(10_000_000, 1_000_000)).toBe(10_000_000_000);
    expect(bpsOf(999, 1000)).toBe(99);
  });
  it('validates regulator parameters', () => {
    expect(mergeMarketParams(P, { faultForfeitBps: 1 }).faultForfeitBps).toBe(1);
    expect(codeOf(() => mergeMarketParams(P, { collateralBps: 10_001 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => mergeMarketParams(P, { minPricePerKwh: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => mergeMarketParams(P, { maxPricePerKwh: 2 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => mergeMarketParams(P, { nope: 1 }))).toBe('INVALID_ARGUMENT');
  });
});

const NOW = 1_767_225_600;
const seller = { participantId: 'p-seller', mspId: 'Utility1MSP', meterId: 'm-s' };
const input = { amountWh: 2000, pricePerKwh: 30, deliveryStart: NOW + 3600, deliveryLength: 900, ttlSeconds: 600 };

describe('offers (seed 001)', () => {
  const offer = O.newOffer(input, seller, NOW, P, 'ofr-1');
  it('locks collateral as a share of the cost', () => {
    expect(offer.cost).toBe(60);
    expect(offer.collateral).toBe(bpsOf(60, P.collateralBps));
    expect(offer.expiresAt).toBe(NOW + 600);
  });
  it('rejects prices below P_k, misaligned delivery, delivery before expiry', () => {
    expect(codeOf(() => O.newOffer({ ...input, pricePerKwh: 1 }, seller, NOW, P, 'x'))).toBe('PRECONDITION_FAILED');
    expect(codeOf(() => O.newOffer({ ...input, deliveryStart: NOW + 3601 }, seller, NOW, P, 'x'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => O.newOffer({ ...input, deliveryStart: NOW + 300 }, seller, NOW, P, 'x'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => O.newOffer({ ...input, ttlSeconds: 1 }, seller, NOW, P, 'x'))).toBe('INVALID_ARGUMENT');
  });
  it('60 s delivery intervals only where the regulator enabled them, aligned to 60 s', () => {
    const short = { ...input, deliveryStart: NOW + 660, deliveryLength: 60 };
    expect(codeOf(() => O.newOffer(short, seller, NOW, P, 'x'))).toBe('INVALID_ARGUMENT');
    const dev = mergeMarketParams(P, { minIntervalSeconds: 60 });
    expect(O.newOffer(short, seller, NOW, dev, 'x')).toMatchObject({ deliveryStart: NOW + 660, deliveryLength: 60, status: 'OPEN' });
    expect(codeOf(() => O.newOffer({ ...short, deliveryStart: NOW + 690 }, seller, NOW, dev, 'x'))).toBe('INVALID_ARGUMENT');
  });
  it('minIntervalSeconds is one of the metering interval lengths', () => {
    expect(mergeMarketParams(P, { minIntervalSeconds: 60 }).minIntervalSeconds).toBe(60);
    expect(mergeMarketParams(P, { minIntervalSeconds: 900 }).minIntervalSeconds).toBe(900);
    for (const bad of [0, 30, 120, 600]) expect(codeOf(() => mergeMarketParams(P, { minIntervalSeconds: bad }))).toBe('INVALID_ARGUMENT');
  });
  it('acceptance: match, expiry, self-dealing', () => {
    expect(codeOf(() => O.checkAcceptance(offer, 'p-b', 2000, 30, NOW + 599))).toBe('NO_ERROR');
    expect(codeOf(() => O.checkAcceptance(offer, 'p-b', 2000, 30, NOW + 600))).toBe('PRECONDITION_FAILED');
    expect(codeOf(() => O.checkAcceptance(offer, 'p-b', 1999, 30, NOW))).toBe('CONFLICT');
    expect(codeOf(() => O.checkAcceptance(offer, 'p-b', 2000, 29, NOW))).toBe('CONFLICT');
    expect(codeOf(() => O.checkAcceptance(offer, 'p-seller', 2000, 30, NOW))).toBe('FORBIDDEN');
  });
  it('give up before expiry forfeits a share, after expiry returns all', () => {
    const early = O.giveUp(offer, NOW + 10, P);
    expect(early.offer.status).toBe('WITHDRAWN');
    expect(early.forfeited).toBe(bpsOf(offer.collateral, P.giveUpForfeitBps));
    expect(early.returned + early.forfeited).toBe(offer.collateral);
    const late = O.giveUp(offer, NOW + 600, P);
    expect(late.offer.status).toBe('EXPIRED');
    expect(late.returned).toBe(offer.collateral);
    expect(codeOf(() => O.giveUp(late.offer, NOW + 700, P))).toBe('CONFLICT');
    expect(codeOf(() => O.expire(offer, NOW + 599))).toBe('PRECONDITION_FAILED');
    expect(O.expire(offer, NOW + 600).returned).toBe(offer.collateral);
  });
});

const buyer = { participantId: 'p-buyer', mspId: 'Utility2MSP', meterId: 'm-b' };

describe('trade stages (seed 002 Fig. 5)', () => {
  const t0 = T.newTrade({ origin: 'offer', originId: 'ofr-1', seller, buyer, amountWh: 2000, pricePerKwh: 30, collateral: 12, deliveryStart: NOW + 3600, deliveryLength: 900 }, 't-1', NOW, P);
  it('fixes the contract and escrows', () => {
    expect(t0.state).toBe('AWAITING_ENERGY');
    expect(t0.paymentEscrow).toBe(60);
    expect(t0.contractHash).toMatch(/^[0-9a-f]{64}$/);
    expect(t0.deliveryDeadline).toBe(NOW + 3600 + 900 + P.deliveryGraceSeconds);
  });
  it('ends stages by committee outcome, never against the facts', () => {
    const ok = T.recordEnergyEscrow(t0, [{ packetId: 'a', amountWh: 2000 }], NOW);
    const over = T.recordEnergyEscrow(t0, [{ packetId: 'a', amountWh: 2001 }], NOW);
    expect(T.stageEnd(ok, 'execution', 'APPROVED')).toBe('advance');
    expect(T.stageEnd(ok, 'execution', undefined)).toBe('advance');
    expect(T.stageEnd(ok, 'execution', 'REJECTED')).toBe('no-fault-declined');
    expect(T.stageEnd(over, 'execution', 'APPROVED')).toBe('seller-declined');
    expect(T.stageEnd(over, 'execution', 'REJECTED')).toBe('seller-declined');
    const fin = { ...ok, state: 'FINAL' as const };
    expect(T.stageEnd(fin, 'final', undefined)).toBe('buyer-fault');
    expect(T.stageEnd(T.recordEvidence(fin, 2000, 2000, 'h'), 'final', 'APPROVED')).toBe('settled');
    expect(T.stageEnd(T.recordEvidence(fin, 1000, 1000, 'h'), 'final', undefined)).toBe('settled');
    expect(T.stageEnd(T.recordEvidence(fin, 2000, 2000, 'h'), 'final', 'REJECTED')).toBe('no-fault-declined');
    expect(T.stageEnd(T.recordEvidence(fin, 0, 2000, 'h'), 'final', 'APPROVED')).toBe('buyer-fault');
    expect(T.stageEnd(T.recordEvidence(fin, 0, 2000, 'h'), 'final', 'REJECTED')).toBe('buyer-fault');
  });
  it('conditions 1-4', () => {
    const ex = T.recordEnergyEscrow(t0, [{ packetId: 'a', amountWh: 2000 }], NOW);
    expect(T.condition1(ex) && T.condition2(ex)).toBe(true);
    const over = T.recordEnergyEscrow(t0, [{ packetId: 'a', amountWh: 2500 }], NOW);
    expect(T.condition1(over)).toBe(false);
    const fin = T.recordEvidence({ ...ex, state: 'FINAL' }, 1500, 1500, 'h');
    expect(fin.meteredWh).toBe(1500);
    expect(T.condition3(fin) && T.condition4(fin)).toBe(true);
    const lie = T.recordEvidence({ ...ex, state: 'FINAL' }, 0, 1800, 'h');
    expect(T.condition3(lie)).toBe(false);
  });
  it('outcomes conserve escrowed money and energy', () => {
    const ex = { ...T.recordEnergyEscrow(t0, [{ packetId: 'a', amountWh: 1200 }, { packetId: 'b', amountWh: 800 }], NOW), state: 'FINAL' as const };
    const cases: Array<[Trade, Parameters<typeof T.closeOutcome>[1]]> = [
      [T.recordEvidence(ex, 2000, 5000, 'h'), 'settled'],
      [T.recordEvidence(ex, 1500, 1500, 'h'), 'settled'],
      [T.recordEvidence(ex, 0, 1000, 'h'), 'buyer-fault'],
      [ex, 'buyer-fault'],
      [ex, 'seller-declined'],
      [t0, 'late'],
      [ex, 'no-fault-declined'],
    ];
    for (const [t, kind] of cases) {
      const { outcome } = T.closeOutcome(t, kind, NOW);
      expect(outcome.paidToSeller + outcome.refundedToBuyer).toBe(t.paymentEscrow);
      expect(outcome.collateralReturned + outcome.forfeited).toBe(t.collateralEscrow);
      expect(outcome.energyToBuyerWh + outcome.energyReturnedWh).toBe(t.energyEscrowWh);
    }
    const pro = T.closeOutcome(T.recordEvidence(ex, 1500, 1500, 'h'), 'settled', NOW).outcome;
    expect(pro).toMatchObject({ fault: 'seller', paidToSeller: 45, refundedToBuyer: 15, energyToBuyerWh: 1500, energyReturnedWh: 500 });
    const full = T.closeOutcome(T.recordEvidence(ex, 2000, 5000, 'h'), 'settled', NOW).outcome;
    expect(full).toMatchObject({ fault: 'none', paidToSeller: 60, forfeited: 0 });
    expect(T.splitPackets(ex.packets, 1500)).toEqual([
      { packetId: 'a', amountWh: 1200, deliveredWh: 1200, returnedWh: 0 },
      { packetId: 'b', amountWh: 800, deliveredWh: 300, returnedWh: 500 },
    ]);
  });
});

describe('sealed-bid auction (seed 000)', () => {
  const buyerC = A.identityCommitment('p-buyer', 'buyer-secret-0123456789');
  const req = A.parseRequest({ amountWh: 1000, maxPricePerKwh: 40, t1: NOW + 100, t2: NOW + 200, buyerCommitment: buyerC, deliveryStart: NOW + 7200, deliveryLength: 900 }, NOW, P, 'req-1');
  const bid = (n: number, price: number, energy = 1000) => {
    const salt = `salt-${n}-abcdefghijklmnop`;
    const b = A.newBid(req, { energyWh: energy, priceCommitment: A.priceCommitment('req-1', price, salt), sellerCommitment: A.identityCommitment(`p-s${n}`, `seller-secret-${n}-xxxxxxxx`) }, NOW + 10);
    return { b, salt, price };
  };
  it('rejects P_m <= P_k and bad deadlines', () => {
    const o = { amountWh: 1000, maxPricePerKwh: P.minPricePerKwh, t1: NOW + 100, t2: NOW + 200, buyerCommitment: buyerC, deliveryStart: NOW + 7200, deliveryLength: 900 };
    expect(codeOf(() => A.parseRequest(o, NOW, P, 'r'))).toBe('PRECONDITION_FAILED');
    expect(codeOf(() => A.parseRequest({ ...o, maxPricePerKwh: 40, t2: NOW + 100 }, NOW, P, 'r'))).toBe('INVALID_ARGUMENT');
  });
  it('filter 1 and the t1 deadline', () => {
    expect(codeOf(() => bid(1, 30, 999))).toBe('PRECONDITION_FAILED');
    const { b } = bid(1, 30);
    expect(b.pricePerKwh).toBeUndefined();
    expect(JSON.stringify(b)).not.toContain('"30"');
    expect(codeOf(() => A.newBid(req, { energyWh: 1000, priceCommitment: b.priceCommitment, sellerCommitment: b.sellerCommitment }, NOW + 100))).toBe('PRECONDITION_FAILED');
  });
  it('filter 2, hash mismatch, replayed reveal, window', () => {
    const { b, salt } = bid(1, 30);
    expect(codeOf(() => A.reveal(req, b, { pricePerKwh: 30, salt }, NOW + 99, P))).toBe('PRECONDITION_FAILED');
    expect(codeOf(() => A.reveal(req, b, { pricePerKwh: 31, salt }, NOW + 150, P))).toBe('INVALID_ARGUMENT');
    const r = A.reveal(req, b, { pricePerKwh: 30, salt }, NOW + 150, P);
    expect(r.status).toBe('REVEALED');
    expect(codeOf(() => A.reveal(req, r, { pricePerKwh: 30, salt }, NOW + 151, P))).toBe('CONFLICT');
    expect(codeOf(() => A.reveal(req, b, { pricePerKwh: 30, salt }, NOW + 200, P))).toBe('PRECONDITION_FAILED');
    const hi = bid(2, 41);
    expect(A.reveal(req, hi.b, { pricePerKwh: 41, salt: hi.salt }, NOW + 150, P).status).toBe('FILTERED');
    const lo = bid(3, 1);
    expect(A.reveal(req, lo.b, { pricePerKwh: 1, salt: lo.salt }, NOW + 150, P).status).toBe('FILTERED');
  });
  it('lowest price wins; ties break deterministically whatever the input order', () => {
    const revealed = [bid(1, 30), bid(2, 25), bid(3, 25), bid(4, 20, 2000)].map((x) => A.reveal(req, x.b, { pricePerKwh: x.price, salt: x.salt }, NOW + 150, P));
    expect(A.selectWinner(revealed).winner?.pricePerKwh).toBe(20);
    const tie = revealed.slice(0, 3);
    const w1 = A.selectWinner(tie).winner?.offerId;
    const w2 = A.selectWinner([...tie].reverse()).winner?.offerId;
    expect(w1).toBe(w2);
    expect([nth(revealed, 1).offerId, nth(revealed, 2).offerId]).toContain(w1);
    const closed = A.close(req, revealed, NOW + 200);
    expect(closed).toMatchObject({ status: 'AWARDED', winnerPricePerKwh: 20 });
    expect(A.close(req, [], NOW + 200).status).toBe('NO_WINNER');
    expect(codeOf(() => A.close(req, revealed, NOW + 199))).toBe('PRECONDITION_FAILED');
  });
  it('identity reveal binds the secret to the committing participant', () => {
    expect(codeOf(() => A.checkIdentity(buyerC, 'p-buyer', 'buyer-secret-0123456789', 'buyer'))).toBe('NO_ERROR');
    expect(codeOf(() => A.checkIdentity(buyerC, 'p-other', 'buyer-secret-0123456789', 'buyer'))).toBe('FORBIDDEN');
    expect(codeOf(() => A.checkIdentity(buyerC, 'p-buyer', 'wrong-secret-0123456789', 'buyer'))).toBe('FORBIDDEN');
  });
});
