/**
 * Background registration of meter keys (docs/market.md "Relayed readings"): a meter enrolled before
 * relaying existed — or whose `meters:registerKey` failed at enrolment — has no key on the ledger, so
 * its readings never go in relayed batches. At start the gateway has each such meter register its own
 * certificate's key (`meters:registerKey`, signed by the meter, idempotent on the ledger), a few at a
 * time, and tries the failed ones again later with a growing delay until none is left or it stops.
 *
 * A refusal that the same transaction from the same certificate will never get past (a typed chaincode
 * error: the key revoked, the meter unknown or banned, a key already registered otherwise) is not
 * retried: it is recorded for that certificate in the wallet, logged once with its code, counted, and
 * shown on `GET /meters/{id}` (`ledgerKey`). A new certificate (re-enrolment) is tried afresh.
 */
import { mapLimit } from '@gridledger/protocol';
import type { Logger } from 'pino';
import { LedgerError, normalizeLedgerError } from '../fabric/errors';
import type { ActingIdentity } from '../fabric/ledger';

/** What became of one meter's key registration. */
export type KeyRegistrationOutcome = 'registered' | 'refused' | 'retry';

export interface KeyRefusal {
  code: string;
  subCode: string | null;
  reason: string;
}

export interface KeyRegistrationDeps {
  meters: {
    get(meterId: string): { certPem: string | null; status: string } | undefined;
    actingIdentity(meterId: string): ActingIdentity;
    recordLedgerKey(meterId: string, certPem: string, txId: string): void;
    /** the ledger refused this certificate's key for good: not tried again for it */
    recordLedgerKeyRefusal(meterId: string, certPem: string, refusal: KeyRefusal): void;
  };
  /** submits a transaction and waits for its commit (the gateway's Submitter, its own retries included) */
  submit(id: ActingIdentity, fn: string, args: string[]): Promise<{ txId: string }>;
  logger: Logger;
  /** counts each outcome (gateway_meter_key_registrations_total) */
  count?: (outcome: KeyRegistrationOutcome) => void;
}

export interface KeyRegistrationOptions extends KeyRegistrationDeps {
  meters: KeyRegistrationDeps['meters'] & {
    /** active meters whose current certificate's key the ledger neither holds nor refused for good */
    unregisteredKeys(): string[];
  };
  /** registrations in flight at once (they share the ledger with the readings) */
  concurrency: number;
  /** delay before the first retry pass; doubles per pass, at most 10 minutes */
  retryMs: number;
  stopped(): boolean;
  /** waits `ms` (tests pass their own) */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Chaincode codes after which `meters:registerKey` from the same certificate cannot succeed later
 * (chaincode/CONTRACTS.md "Errors"): the meter's key revoked (FORBIDDEN KEY_REVOKED), the caller not a
 * usable meter (UNAUTHENTICATED), unknown (NOT_FOUND), a malformed call (INVALID_ARGUMENT), or a state
 * it contradicts (CONFLICT, e.g. a key registered with another value). PRECONDITION_FAILED is left to
 * retry (e.g. the meter not yet recorded on the ledger), as is everything untyped (MVCC conflicts,
 * unavailable peers, timeouts), which the Submitter already retried and a later pass may get past.
 */
const FINAL_CODES: ReadonlySet<string> = new Set(['FORBIDDEN', 'UNAUTHENTICATED', 'NOT_FOUND', 'INVALID_ARGUMENT', 'CONFLICT']);

/** The refusal to record when `e` is final for this certificate, else undefined (try again later). */
export function finalKeyRefusal(e: unknown): KeyRefusal | undefined {
  const err = e instanceof LedgerError ? e : normalizeLedgerError(e, 'endorse');
  const cc = err.chaincode;
  if (!cc?.code || !FINAL_CODES.has(cc.code)) return undefined;
  return { code: cc.code, subCode: cc.subCode ?? null, reason: cc.text.slice(0, 500) };
}

/** Has the meter register its current certificate's key once; records the outcome in the wallet. */
export async function registerOneKey(d: KeyRegistrationDeps, meterId: string): Promise<KeyRegistrationOutcome | 'skipped'> {
  const rec = d.meters.get(meterId);
  if (!rec?.certPem || rec.status !== 'ACTIVE') return 'skipped'; // revoked or re-enrolled meanwhile
  let outcome: KeyRegistrationOutcome;
  try {
    const r = await d.submit(d.meters.actingIdentity(meterId), 'meters:registerKey', []);
    d.meters.recordLedgerKey(meterId, rec.certPem, r.txId);
    outcome = 'registered';
  } catch (e) {
    const refusal = finalKeyRefusal(e);
    if (refusal) {
      d.meters.recordLedgerKeyRefusal(meterId, rec.certPem, refusal);
      d.logger.error({ meterId, code: refusal.code, subCode: refusal.subCode, reason: refusal.reason }, 'meters:registerKey refused by the ledger; not retried for this certificate (its readings go as its own transactions)');
      outcome = 'refused';
    } else {
      d.logger.warn({ meterId, err: (e as Error)?.message ?? String(e) }, "meters:registerKey failed; retried later (until then the meter's readings go as its own transactions)");
      outcome = 'retry';
    }
  }
  d.count?.(outcome);
  return outcome;
}

/** One pass over the meters without a registered key; resolves with how many were registered, refused for good, and left to retry. */
export async function registerKeysOnce(o: KeyRegistrationOptions): Promise<{ registered: number; refused: number; failed: number }> {
  const counts = { registered: 0, refused: 0, failed: 0 };
  await mapLimit(
    o.meters.unregisteredKeys(),
    o.concurrency,
    async (meterId) => {
      const outcome = await registerOneKey(o, meterId);
      if (outcome === 'registered') counts.registered++;
      else if (outcome === 'refused') counts.refused++;
      else if (outcome === 'retry') counts.failed++;
    },
    () => o.stopped(),
  );
  return counts;
}

/** Passes until every active meter's key is registered or refused for good (or the gateway stops). */
export async function registerMeterKeys(o: KeyRegistrationOptions): Promise<void> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  for (let pass = 1; !o.stopped(); pass++) {
    const { registered, refused, failed } = await registerKeysOnce(o);
    if (registered || refused || failed) o.logger.info({ registered, refused, failed, pass }, 'meter keys registered on the ledger for relaying');
    if (failed === 0) return;
    await sleep(Math.min(600_000, o.retryMs * 2 ** (pass - 1)));
  }
}
