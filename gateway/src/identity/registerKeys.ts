/**
 * Background registration of meter keys (docs/market.md "Relayed readings"): a meter enrolled before
 * relaying existed — or whose `meters:registerKey` failed at enrolment — has no key on the ledger, so
 * its readings never go in relayed batches. At start the gateway has each such meter register its own
 * certificate's key (`meters:registerKey`, signed by the meter, idempotent on the ledger), a few at a
 * time, and tries the failed ones again later with a growing delay until none is left or it stops.
 */
import type { Logger } from 'pino';
import type { ActingIdentity } from '../fabric/ledger';

export interface KeyRegistrationOptions {
  meters: {
    /** active meters whose current certificate's key the ledger is not known to hold */
    unregisteredKeys(): string[];
    get(meterId: string): { certPem: string | null; status: string } | undefined;
    actingIdentity(meterId: string): ActingIdentity;
    recordLedgerKey(meterId: string, certPem: string, txId: string): void;
  };
  /** submits a transaction and waits for its commit (the gateway's Submitter, retries included) */
  submit(id: ActingIdentity, fn: string, args: string[]): Promise<{ txId: string }>;
  logger: Logger;
  /** registrations in flight at once (they share the ledger with the readings) */
  concurrency: number;
  /** delay before the first retry pass; doubles per pass, at most 10 minutes */
  retryMs: number;
  stopped(): boolean;
  /** waits `ms` (tests pass their own) */
  sleep?: (ms: number) => Promise<void>;
}

/** One pass over the meters without a registered key; resolves with how many were registered and how many failed. */
export async function registerKeysOnce(o: KeyRegistrationOptions): Promise<{ registered: number; failed: number }> {
  const todo = o.meters.unregisteredKeys();
  let next = 0;
  let registered = 0;
  let failed = 0;
  const one = async (meterId: string): Promise<void> => {
    const rec = o.meters.get(meterId);
    if (!rec?.certPem || rec.status !== 'ACTIVE') return; // revoked or re-enrolled meanwhile
    try {
      const r = await o.submit(o.meters.actingIdentity(meterId), 'meters:registerKey', []);
      o.meters.recordLedgerKey(meterId, rec.certPem, r.txId);
      registered++;
    } catch (e) {
      failed++;
      o.logger.warn({ meterId, err: (e as Error)?.message ?? String(e) }, 'meters:registerKey failed; retried later (until then the meter\'s readings go as its own transactions)');
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(o.concurrency, todo.length)) }, async () => {
    while (next < todo.length && !o.stopped()) await one(todo[next++]!);
  });
  await Promise.all(lanes);
  return { registered, failed };
}

/** Passes until every active meter's key is registered (or the gateway stops). */
export async function registerMeterKeys(o: KeyRegistrationOptions): Promise<void> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  for (let pass = 1; !o.stopped(); pass++) {
    const { registered, failed } = await registerKeysOnce(o);
    if (registered || failed) o.logger.info({ registered, failed, pass }, 'meter keys registered on the ledger for relaying');
    if (failed === 0) return;
    await sleep(Math.min(600_000, o.retryMs * 2 ** (pass - 1)));
  }
}
