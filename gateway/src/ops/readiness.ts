export interface CheckResult {
  ok: boolean;
  detail?: string;
  latencyMs?: number;
}

export type Check = () => Promise<string | undefined>;

/** Runs every check in parallel, each bounded by timeoutMs; a check passes if it resolves. */
export async function runChecks(checks: Record<string, Check>, timeoutMs: number): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const detail = await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { ok: true, ...(detail ? { detail } : {}), latencyMs: Date.now() - started }];
      } catch (e) {
        return [name, { ok: false, detail: (e as Error)?.message ?? String(e), latencyMs: Date.now() - started }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const results = Object.fromEntries(entries);
  return { ready: entries.every(([, r]) => r.ok), checks: results };
}
