/**
 * Quality of Transaction (seed 002 §2.2.3, Eq. 2) and the per-party update rule.
 *
 * Eq. (2), verbatim:  Q_i = v_i + L_i + f(x_i, α)
 *   v_i = v_{i-1} · x_i          L_i = L_{i-1} · x_i³
 *   f(x, α) = (S + B) · x⁵   if x > 0
 *           = α · S · x⁵     if x < 0 and α = +1   (seller at fault)
 *           = α · B · x⁵     if x < 0 and α = −1   (buyer at fault)
 *
 * All values are fixed point with Q_SCALE = 10^6 (q represents q / 10^6). Products are exact in
 * BigInt; each term is rounded ONCE, toward −∞ (floor), so results are identical on every peer.
 * The paper leaves x = 0 undefined; here f(0, α) = 0 (and v, L become 0 as the formulas say).
 *
 * The paper's equation gives a transaction's total score, not how each party's own score moves,
 * and with α = −1 the f term is POSITIVE for a faulty buyer (−1 · B · x⁵ with x⁵ < 0). The spec
 * (§5) says the text wins: see `updatePartyScores` and docs/governance.md.
 */
import { clamp, floorDiv, Q_SCALE_N, toSafeNumber } from './fixedPoint';
import { fail } from '../../kernel/errors';

export type Alpha = 1 | -1;

export interface Eq2Input {
  /** v_{i-1}: previous score of the verifier/validator nodes (fixed point). */
  vPrev: number | bigint;
  /** L_{i-1}: previous score of the leader (fixed point). */
  lPrev: number | bigint;
  /** x_i: quality of this transaction (fixed point), see `xForOutcome`. */
  x: number | bigint;
  /** S, B: Q-scores of seller and buyer (fixed point). */
  S: number | bigint;
  B: number | bigint;
  /** α: +1 seller at fault, −1 buyer at fault; required when x < 0, ignored when x > 0. */
  alpha?: Alpha;
}

export interface Eq2Result {
  v: bigint;
  L: bigint;
  f: bigint;
  /** Q_i = v_i + L_i + f(x_i, α). */
  q: bigint;
}

const S2 = Q_SCALE_N * Q_SCALE_N;
const S3 = S2 * Q_SCALE_N;
const S5 = S3 * S2;

/** f(x, α) of Eq. (2), fixed point. */
export function fEq2(x: bigint, S: bigint, B: bigint, alpha?: Alpha): bigint {
  const x5 = x * x * x * x * x;
  if (x > 0n) return floorDiv((S + B) * x5, S5);
  if (x === 0n) return 0n;
  if (alpha === 1) return floorDiv(1n * S * x5, S5);
  if (alpha === -1) return floorDiv(-1n * B * x5, S5);
  fail('INVALID_ARGUMENT', 'BAD_ALPHA', 'Eq. (2): α must be +1 (seller at fault) or −1 (buyer at fault) when x < 0');
}

/** Eq. (2) verbatim on fixed-point integers. */
export function qScoreEq2(input: Eq2Input): Eq2Result {
  const x = BigInt(input.x);
  const v = floorDiv(BigInt(input.vPrev) * x, Q_SCALE_N);
  const L = floorDiv(BigInt(input.lPrev) * x * x * x, S3);
  const f = fEq2(x, BigInt(input.S), BigInt(input.B), input.alpha);
  return { v, L, f, q: v + L + f };
}

// ---------------------------------------------------------------------------------------------
// Outcome → x_i, and the per-party rule

export type TradeOutcome =
  | { kind: 'success' }
  | { kind: 'seller-fault'; contractedWh: number; deliveredWh: number }
  | { kind: 'buyer-fault' };

/**
 * The mapping from a trade's outcome to (x_i, α) (docs/governance.md):
 * - success (delivered in full and paid): x = +1;
 * - seller fault: x = −(shortfall / contracted) ∈ [−1, 0), α = +1 (non-delivery: x = −1);
 * - buyer fault (did not pay): x = −1, α = −1.
 */
export function xForOutcome(o: TradeOutcome): { x: bigint; alpha?: Alpha } {
  switch (o.kind) {
    case 'success':
      return { x: Q_SCALE_N };
    case 'buyer-fault':
      return { x: -Q_SCALE_N, alpha: -1 };
    case 'seller-fault': {
      const c = BigInt(o.contractedWh);
      const d = BigInt(o.deliveredWh);
      if (c <= 0n || d < 0n || d >= c) {
        fail('INVALID_ARGUMENT', 'BAD_OUTCOME', `seller fault needs 0 ≤ deliveredWh < contractedWh, got ${o.deliveredWh} of ${o.contractedWh}`);
      }
      // −ceil(shortfall/c) in fixed point: any shortfall yields a strictly negative x.
      const x = -((c - d) * Q_SCALE_N + c - 1n) / c;
      return { x, alpha: 1 };
    }
  }
}

export interface PartyScores {
  seller: number;
  buyer: number;
  leader?: number;
  /** Scores of the honest committee members (voted with the decided outcome), by participant id. */
  honest: Record<string, number>;
}

export interface ScoreBounds {
  qStep: number;
  qScoreMin: number;
  qScoreMax: number;
}

/**
 * Per-party update (each party's own Eq. (2) term, with its previous score replaced by the step Δ):
 *   success (x > 0): seller += Δ·x⁵, buyer += Δ·x⁵, leader += Δ·x³, each honest member += Δ·x
 *   seller fault (x < 0, α = +1): seller += Δ·x⁵ (< 0); nobody else changes
 *   buyer fault  (x < 0, α = −1): buyer  += Δ·x⁵ (< 0); nobody else changes  ← the text wins
 *                                 over the equation's sign, which would raise the buyer
 * and every result is clamped to [qScoreMin, qScoreMax].
 */
export function updatePartyScores(s: PartyScores, x: bigint, alpha: Alpha | undefined, b: ScoreBounds): PartyScores {
  const d = BigInt(b.qStep);
  const term = (power: number): number => {
    let xp = Q_SCALE_N;
    for (let i = 0; i < power; i++) xp = floorDiv(xp * x, Q_SCALE_N);
    return toSafeNumber(floorDiv(d * xp, Q_SCALE_N), 'Q-score step');
  };
  const bound = (q: number) => clamp(q, b.qScoreMin, b.qScoreMax);
  if (x > 0n) {
    const honest: Record<string, number> = {};
    for (const [id, q] of Object.entries(s.honest)) honest[id] = bound(q + term(1));
    return {
      seller: bound(s.seller + term(5)),
      buyer: bound(s.buyer + term(5)),
      leader: s.leader === undefined ? undefined : bound(s.leader + term(3)),
      honest,
    };
  }
  if (x === 0n) return { ...s, honest: { ...s.honest } };
  if (alpha === 1) return { ...s, honest: { ...s.honest }, seller: bound(s.seller + term(5)) };
  if (alpha === -1) return { ...s, honest: { ...s.honest }, buyer: bound(s.buyer + term(5)) };
  fail('INVALID_ARGUMENT', 'BAD_ALPHA', 'α must be +1 (seller at fault) or −1 (buyer at fault) when x < 0');
}
