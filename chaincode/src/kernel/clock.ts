/**
 * The clock guard: the ONLY module of the chaincode that reads the endorsing peer's local clock.
 *
 * Why: Fabric's transaction timestamp (`stub.getTxTimestamp()`) is written by the submitting client
 * and nothing in Fabric checks it (devnet-protocol.md §8), yet leader slots (Eq. 1), deadlines,
 * expiries and bans are keyed on it. So every time-keyed rule takes its time from
 * `guardedTxTimeMs`, which refuses a proposal whose timestamp is more than `toleranceSeconds`
 * (a regulator parameter, default 60 s) away from this peer's clock.
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

/** The transaction timestamp in integer milliseconds since the Unix epoch, unchecked. */
export function rawTxTimeMs(ctx: Context): number {
  const ts = ctx.stub.getTxTimestamp();
  // seconds is a protobuf Long in fabric-shim; go through its decimal string to stay exact.
  const seconds = Number(String(ts.seconds));
  const nanos = Number(ts.nanos ?? 0);
  if (!Number.isSafeInteger(seconds) || !Number.isSafeInteger(nanos)) {
    fail('PRECONDITION_FAILED', 'BAD_TIMESTAMP', 'transaction timestamp is unreadable');
  }
  return seconds * 1000 + Math.floor(nanos / 1_000_000);
}

/** Pure check, exported for tests and for documentation of the exact rule. */
export function checkTxTime(txMs: number, peerNowMs: number, toleranceSeconds: number): void {
  const skewMs = txMs - peerNowMs;
  if (Math.abs(skewMs) > toleranceSeconds * 1000) {
    fail('PRECONDITION_FAILED', 'CLOCK_SKEW', 
      `transaction timestamp ${new Date(txMs).toISOString()} is ${Math.round(skewMs / 1000)} s from the endorsing ` +
        `peer's clock; the clock guard accepts at most ±${toleranceSeconds} s — resubmit with a current timestamp`,
    );
  }
}

/** The guarded transaction time in ms. `toleranceSeconds` comes from the governance parameters. */
export function guardedTxTimeMs(ctx: Context, toleranceSeconds: number): number {
  const txMs = rawTxTimeMs(ctx);
  checkTxTime(txMs, Date.now(), toleranceSeconds);
  return txMs;
}
