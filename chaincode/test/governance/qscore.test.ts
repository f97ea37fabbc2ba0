import { Q_SCALE } from '../../src/governance/domain/fixedPoint';
import { fEq2, qScoreEq2, updatePartyScores, xForOutcome } from '../../src/governance/domain/qscore';

const q = (whole: number) => BigInt(whole * Q_SCALE);
const bounds = { qStep: 1 * Q_SCALE, qScoreMin: 0, qScoreMax: 100 * Q_SCALE };

describe('Eq. (2) verbatim, fixed point (Q_SCALE = 10^6), hand-computed vectors', () => {
  it('x = 0.5, v=2, L=4, S=3, B=5: v=1, L=0.5, f=(3+5)·0.5^5=0.25, Q=1.75', () => {
    expect(qScoreEq2({ x: 500_000, vPrev: q(2), lPrev: q(4), S: q(3), B: q(5) })).toEqual({
      v: 1_000_000n,
      L: 500_000n,
      f: 250_000n,
      q: 1_750_000n,
    });
  });

  it('x = 1: v and L unchanged, f = S + B: Q = 2 + 4 + 8 = 14', () => {
    expect(qScoreEq2({ x: q(1), vPrev: q(2), lPrev: q(4), S: q(3), B: q(5) }).q).toBe(14_000_000n);
  });

  it('x = −0.5, α = +1 (seller at fault): f = +1·S·x⁵ = 3·(−0.03125) = −0.09375; Q = −1 − 0.5 − 0.09375', () => {
    const r = qScoreEq2({ x: -500_000, vPrev: q(2), lPrev: q(4), S: q(3), B: q(5), alpha: 1 });
    expect(r).toEqual({ v: -1_000_000n, L: -500_000n, f: -93_750n, q: -1_593_750n });
  });

  it('x = −0.5, α = −1 (buyer at fault): f = −1·B·x⁵ = +0.15625 — the sign the text overrides', () => {
    const r = qScoreEq2({ x: -500_000, vPrev: q(2), lPrev: q(4), S: q(3), B: q(5), alpha: -1 });
    expect(r.f).toBe(156_250n);
    expect(r.q).toBe(-1_343_750n);
  });

  it('rounds each term once toward −∞: x = ±0.333333, S = 1 gives f = 4115 and −4116', () => {
    expect(fEq2(333_333n, q(1), 0n)).toBe(4_115n);
    expect(fEq2(-333_333n, q(1), 0n, 1)).toBe(-4_116n);
  });

  it('defines x = 0 as f = 0 and requires α when x < 0', () => {
    expect(qScoreEq2({ x: 0, vPrev: q(2), lPrev: q(4), S: q(3), B: q(5) })).toEqual({ v: 0n, L: 0n, f: 0n, q: 0n });
    expect(() => fEq2(-1n, 1n, 1n)).toThrow(/^\[INVALID_ARGUMENT:BAD_ALPHA\] Eq. \(2\): α must be/);
  });

  it('stays exact where floats would not: x⁵ of 10^6-scaled values exceeds 2^53', () => {
    // 0.999999^5 · (S + B) with S + B = 200: floats lose the last digits, BigInt does not.
    expect(fEq2(999_999n, q(100), q(100))).toBe(199_999_000n);
  });
});

describe('outcome → x mapping', () => {
  it('success is x = +1; buyer fault x = −1, α = −1; seller fault −shortfall/contracted, α = +1', () => {
    expect(xForOutcome({ kind: 'success' })).toEqual({ x: 1_000_000n });
    expect(xForOutcome({ kind: 'buyer-fault' })).toEqual({ x: -1_000_000n, alpha: -1 });
    expect(xForOutcome({ kind: 'seller-fault', contractedWh: 1000, deliveredWh: 250 })).toEqual({ x: -750_000n, alpha: 1 });
    expect(xForOutcome({ kind: 'seller-fault', contractedWh: 1000, deliveredWh: 0 })).toEqual({ x: -1_000_000n, alpha: 1 });
    // any shortfall is strictly negative (rounded away from zero)
    expect(xForOutcome({ kind: 'seller-fault', contractedWh: 3, deliveredWh: 2 }).x).toBe(-333_334n);
    expect(() => xForOutcome({ kind: 'seller-fault', contractedWh: 10, deliveredWh: 10 })).toThrow(/deliveredWh < contractedWh/);
  });
});

describe('per-party update rule (spec §5)', () => {
  const before = { seller: 10 * Q_SCALE, buyer: 20 * Q_SCALE, leader: 30 * Q_SCALE, honest: { a: 40 * Q_SCALE, b: 50 * Q_SCALE } };

  it('success raises seller, buyer, leader and every honest member', () => {
    const r = updatePartyScores(before, 1_000_000n, undefined, bounds);
    expect(r).toEqual({ seller: 11 * Q_SCALE, buyer: 21 * Q_SCALE, leader: 31 * Q_SCALE, honest: { a: 41 * Q_SCALE, b: 51 * Q_SCALE } });
  });

  it('partial quality scales each party by its Eq. (2) power: x=0.5 → members Δ·x, leader Δ·x³, seller/buyer Δ·x⁵', () => {
    const r = updatePartyScores(before, 500_000n, undefined, bounds);
    expect((r.honest.a ?? 0) - before.honest.a).toBe(500_000);
    expect((r.leader as number) - before.leader).toBe(125_000);
    expect(r.seller - before.seller).toBe(31_250);
  });

  it('a seller fault lowers only the seller', () => {
    const r = updatePartyScores(before, -1_000_000n, 1, bounds);
    expect(r).toEqual({ ...before, seller: 9 * Q_SCALE });
  });

  it('a buyer fault lowers only the buyer (the equation would raise it)', () => {
    const r = updatePartyScores(before, -1_000_000n, -1, bounds);
    expect(r).toEqual({ ...before, buyer: 19 * Q_SCALE });
  });

  it('scores stay within [qScoreMin, qScoreMax]', () => {
    const top = updatePartyScores({ seller: 100 * Q_SCALE, buyer: 0, honest: {} }, 1_000_000n, undefined, bounds);
    expect(top.seller).toBe(100 * Q_SCALE);
    const bottom = updatePartyScores({ seller: 0, buyer: 0, honest: {} }, -1_000_000n, 1, bounds);
    expect(bottom.seller).toBe(0);
  });
});
