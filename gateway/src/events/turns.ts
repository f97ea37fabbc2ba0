import { createHash } from 'node:crypto';

/**
 * Turns of the utilities' beacon contributions (docs/governance.md §5 "Contributions in turns").
 *
 * A task round needs `beaconQuorum` contributions, and every contribution rewrites the task record, so
 * two contributions endorsed before either commits collide: one of them fails validation (MVCC) and is
 * retried. When every utility signed every round, 26–54 contributions per bench:market run were
 * MVCC-invalid and the utility beyond the quorum signed for nothing. Instead, the utilities of the
 * task's key snapshot take turns in an order derived from the task id and round (so the first turns
 * spread over the utilities), one after the other:
 *
 * - the utility at position p contributes as soon as every utility before it has contributed (the
 *   first at once), and stops when the quorum is reached — so normally exactly `beaconQuorum` sign, each
 *   after the previous one's contribution committed, and no two collide;
 * - a utility that does not contribute only delays: position q counts as silent `(q + 1) × stepIn` after
 *   the round opened, and the utility after it steps in then. Position p therefore waits at most
 *   `p × stepIn` (all before it silent).
 *
 * A convention between the gateways, not a ledger rule: the chaincode accepts any utility's contribution
 * at any time, so a gateway that does not follow it (an older one, an operator's manual call) only
 * brings back the collisions it avoids. Pure functions, so every gateway computes the same turns.
 */

/** The task round's contributors in turn order: the utilities sorted by SHA-256(domain ‖ task ‖ round ‖ MSP). */
export function beaconTurnOrder(taskId: string, round: number, utilities: readonly string[]): string[] {
  const rank = (msp: string) => createHash('sha256').update(`gridledger/beacon-turn/v1|${taskId}|${round}|${msp}`).digest('hex');
  return [...new Set(utilities)]
    .map((msp) => ({ msp, key: rank(msp) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.msp < b.msp ? -1 : a.msp > b.msp ? 1 : 0))
    .map((x) => x.msp);
}

export interface TurnState {
  /** the round's contributors in turn order (`beaconTurnOrder`) */
  order: readonly string[];
  /** this utility */
  me: string;
  /** utilities whose contribution to this round is on the ledger */
  contributed: ReadonlySet<string>;
  quorum: number;
  /** when this gateway learnt that the round opened (ms) */
  openedAt: number;
  stepInMs: number;
}

/**
 * When this utility should contribute (ms), or `undefined` when it should not: its own contribution is
 * on the ledger, or the quorum is reached. A utility outside the order contributes at once (it has a
 * key in the snapshot but no turn rule covers it — never the case when the order is the snapshot).
 */
export function turnDueAt(s: TurnState): number | undefined {
  if (s.contributed.has(s.me) || s.contributed.size >= s.quorum) return undefined;
  const p = s.order.indexOf(s.me);
  let due = s.openedAt;
  for (let q = 0; q < p; q++) {
    const before = s.order[q];
    if (before !== undefined && !s.contributed.has(before)) due = Math.max(due, s.openedAt + (q + 1) * s.stepInMs);
  }
  return due;
}
