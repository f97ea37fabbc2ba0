/**
 * Indexed reads in tests under `noUncheckedIndexedAccess` (docs/architecture.md "Type checking"):
 * a fixture that returns fewer elements than a test needs fails the test with a message that says so,
 * instead of a `TypeError` on `undefined` further down.
 */

/** Element `i` of `list` (negative counts from the end, as `Array.prototype.at`), which must exist. */
export function nth<T>(list: readonly T[], i: number): T {
  const v = list.at(i);
  if (v === undefined) throw new Error(`test fixture: no element ${i} in a list of ${list.length}`);
  return v;
}
