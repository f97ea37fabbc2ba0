/**
 * The clock guard: the ONLY module of the chaincode that reads the endorsing peer's local clock.
 *
 * Why: Fabric's transaction timestamp (`stub.getTxTimestamp()`) is written by the submitting client
 * and nothing in Fabric checks it (devnet-protocol.md §8), yet leader slots (Eq. 1), deadlines,
 * expiries and bans are keyed on it. So every time-keyed rule takes its time from
 * `guardedTxTime`, which refuses a proposal whose timestamp is more than `toleranceSeconds`
 * (a regulator parameter, default 60 s) away from this peer's clock.
 *
 * The unit: integer Unix seconds, the one time unit of every stored field, event and API answer
 * (docs/architecture.md "Time and status values"). Fabric's Timestamp carries whole seconds; its
 * nanos are dropped, since every rule keyed on time (slots, intervals, TTLs, windows, the guard's
 * own tolerance) is a whole number of seconds.
 *
 * Why this is safe for determinism: the local clock is only ever compared, never written. A peer
 * whose clock disagrees fails its endorsement (the client sees an error and nothing is written);
 * every endorsement that succeeds writes exactly the same bytes, derived from the tx timestamp.
 * Commit-time validation does not re-run chaincode, so a transaction endorsed in time stays valid.
 *
 * The bound: a submitter can still pick any timestamp within ±tolerance of the endorsers' clocks
 * (plus their own skew). Rules keyed on time must be coarse compared with that (e.g. Eq. (1) slot
 * length α ≥ 2 × tolerance, enforced by the parameter validation) — see docs/governance.md.
 */
import type { Context } from 'fabric-contract-api';
import { fail } from './errors';

/** The transaction timestamp in integer Unix seconds, unchecked. */
export function rawTxTime(ctx: Context): number {
  const ts = ctx.stub.getTxTimestamp();
  // seconds is a protobuf Long in fabric-shim; go through its decimal string to stay exact.
  const seconds = Number(String(ts.seconds));
  if (!Number.isSafeInteger(seconds)) {
    fail('PRECONDITION_FAILED', 'BAD_TIMESTAMP', 'transaction timestamp is unreadable');
  }
  return seconds;
}

/** An instant (Unix seconds) as ISO 8601, for messages only. */
export function isoOf(at: number): string {
  return new Date(at * 1000).toISOString();
}

/** Pure check, exported for tests and for documentation of the exact rule (all in seconds). */
export function checkTxTime(txTime: number, peerNow: number, toleranceSeconds: number): void {
  const skew = txTime - peerNow;
  if (Math.abs(skew) > toleranceSeconds) {
    fail('PRECONDITION_FAILED', 'CLOCK_SKEW',
      `transaction timestamp ${isoOf(txTime)} is ${skew} s from the endorsing ` +
        `peer's clock; the clock guard accepts at most ±${toleranceSeconds} s — resubmit with a current timestamp`,
    );
  }
}

/** The guarded transaction time in Unix seconds. `toleranceSeconds` comes from the governance parameters. */
export function guardedTxTime(ctx: Context, toleranceSeconds: number): number {
  const txTime = rawTxTime(ctx);
  checkTxTime(txTime, Math.floor(Date.now() / 1000), toleranceSeconds);
  return txTime;
}
