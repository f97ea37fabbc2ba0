/**
 * Indexed reads in tests under `noUncheckedIndexedAccess` (docs/architecture.md "Type checking"):
 * a fixture that returns fewer elements than a test needs fails the test with a message that says so,
 * instead of a `TypeError` on `undefined` further down.
 */

/** A tuple of `N` elements of `T` (`T[]` when `N` is not a literal). */
export type Tuple<T, N extends number, A extends T[] = []> = number extends N ? T[] : A['length'] extends N ? A : Tuple<T, N, [...A, T]>;

/** The first `n` elements of `list` as a tuple, so `const [a, b] = take(list, 2)` types `a` and `b` as `T`. */
export function take<T, N extends number>(list: readonly T[], n: N): Tuple<T, N> {
  if (list.length < n) throw new Error(`test fixture: expected at least ${n} elements, got ${list.length}`);
  return list.slice(0, n) as Tuple<T, N>;
}

/** Element `i` of `list` (negative counts from the end, as `Array.prototype.at`), which must exist. */
export function nth<T>(list: readonly T[], i: number): T {
  const v = list.at(i);
  if (v === undefined) throw new Error(`test fixture: no element ${i} in a list of ${list.length}`);
  return v;
}
