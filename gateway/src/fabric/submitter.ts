import { setTimeout as sleep } from 'node:timers/promises';
import { classifyFailure, LedgerError, normalizeLedgerError, type FailureClass } from './errors';
import type { ActingIdentity, CommittedTx, LedgerClient, PreparedTx } from './ledger';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff with full jitter: attempt 1 → [0, base], attempt n → [0, min(max, base·2^(n-1))]. */
export function backoffMs(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * random());
}

export interface SubmitHooks {
  /** called after each endorsement, before anything is sent to the orderer */
  onEndorsed?(tx: PreparedTx): void;
  /** called before each retry */
  onRetry?(cls: FailureClass, attempt: number, err: LedgerError): void;
}

export interface SubmitOutcome extends CommittedTx {
  attempts: number;
}

/**
 * Synchronous submit with retries: endorse → send → commit status (with deadline).
 * MVCC/phantom conflicts, endorsement mismatches (peers at different heights) and transient endorsement
 * failures get a NEW proposal (new tx id) after a backoff, at most maxAttempts in all; a transient
 * failure sending to the orderer re-sends the SAME transaction; an unknown outcome (commit status
 * deadline) and permanent failures are thrown as LedgerError (never re-endorsed: that could commit twice).
 */
export class Submitter {
  constructor(
    private readonly ledger: LedgerClient,
    private readonly policy: RetryPolicy,
    private readonly delay: (ms: number) => Promise<unknown> = (ms) => sleep(ms),
  ) {}

  /**
   * Finishes an already endorsed transaction: re-sends the same bytes (same tx id) until its commit
   * status is known. A conflict is final for that tx id and is reported, not re-endorsed (the caller's
   * request is not known here).
   */
  async resend(id: ActingIdentity, bytes: Uint8Array): Promise<SubmitOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { ...(await this.ledger.submitPrepared(id, bytes)), attempts: attempt };
      } catch (e) {
        const err = normalizeLedgerError(e, 'submit');
        const cls = classifyFailure(err);
        if (cls !== 'resend' || attempt >= this.policy.maxAttempts) throw Object.assign(err, { attempts: attempt });
        await this.delay(backoffMs(attempt, this.policy));
      }
    }
  }

  async submit(id: ActingIdentity, fn: string, args: string[], hooks: SubmitHooks = {}, transient?: Record<string, string>): Promise<SubmitOutcome> {
    let prepared: PreparedTx | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!prepared) {
          prepared = await this.ledger.endorse(id, fn, args, transient);
          hooks.onEndorsed?.(prepared);
        }
        const committed = await this.ledger.submitPrepared(id, prepared.bytes);
        return { ...committed, attempts: attempt };
      } catch (e) {
        const err = normalizeLedgerError(e, prepared ? 'submit' : 'endorse');
        const cls = classifyFailure(err);
        if (cls === 'permanent' || cls === 'unknown-outcome' || attempt >= this.policy.maxAttempts) {
          throw Object.assign(err, { attempts: attempt, txId: err.txId ?? prepared?.txId });
        }
        if (cls === 'conflict' || cls === 'endorsement-mismatch' || cls === 'retry-endorse') prepared = undefined;
        hooks.onRetry?.(cls, attempt, err);
        await this.delay(backoffMs(attempt, this.policy));
      }
    }
  }
}
