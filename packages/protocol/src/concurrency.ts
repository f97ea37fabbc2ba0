/**
 * The one bounded-concurrency helper of the workspaces that run many requests at once (the community
 * simulator, the gateway's background key registrations and agent duties). Pure control flow: no clock,
 * no environment, no randomness, so exporting it from the protocol package costs the chaincode nothing.
 */

/**
 * Runs `fn` over `items` in order with at most `limit` calls in flight (at least one) and resolves when
 * all have finished. One item's rejection does not stop the others: the run rejects with the first
 * rejection once every item has been tried. `stop` (checked before each item is taken) ends the run
 * early, leaving the remaining items untouched.
 */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>, stop?: () => boolean): Promise<void> {
  let next = 0;
  let first: { error: unknown } | undefined;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length && !stop?.()) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (error) {
        first ??= { error };
      }
    }
  });
  await Promise.all(lanes);
  if (first) throw first.error;
}
