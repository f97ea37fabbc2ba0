/**
 * An indexed read the code's own invariants guarantee (`noUncheckedIndexedAccess` types `a[i]` and
 * `m[key]` as `T | undefined`; docs/architecture.md "Type checking"). `present(list[i], 'what')`
 * narrows it and says which invariant broke if it ever does.
 *
 * Where the index comes from a caller's input, refuse with `fail()` instead (a catalogued
 * `INVALID_ARGUMENT` / `NOT_FOUND`): a missing value there is the caller's mistake. Here it would be a
 * bug in this chaincode, so it is a plain Error — the transaction fails, Fabric discards its writes,
 * and every endorser fails the same way (deterministic).
 */
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`chaincode invariant broken: ${what} is missing`);
  return value;
}
