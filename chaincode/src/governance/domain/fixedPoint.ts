/**
 * Fixed-point numbers for Q-scores and Eq. (2): an integer q represents q / Q_SCALE.
 * Q_SCALE = 10^6 (six decimals). Values on the ledger are safe integers; products that grow
 * (x^5 needs five factors of 10^6 = 10^30) are computed in BigInt and rescaled.
 */
export const Q_SCALE = 1_000_000;
export const Q_SCALE_N = 1_000_000n;

/** Floor division for BigInt (BigInt `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** Non-negative modulo for BigInt. */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

export function toSafeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error(`${what} = ${v} exceeds the safe integer range`);
  }
  return Number(v);
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
