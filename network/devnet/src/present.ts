/**
 * An indexed read the devnet's own invariants guarantee (`noUncheckedIndexedAccess` types `a[i]` and
 * `m[key]` as `T | undefined`; docs/architecture.md "Type checking"): parallel arrays built from the
 * same list, a regular expression's groups after a match, a block's metadata slots. `present(v, what)`
 * narrows it and names the broken invariant if it ever is. Where the value comes from the wire, the
 * caller rejects it with its own Fabric-shaped error instead.
 */
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`devnet invariant broken: ${what} is missing`);
  return value;
}
