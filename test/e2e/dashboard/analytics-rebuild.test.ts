/**
 * The analytics store on a real gateway (docs/dashboard.md "The analytics store"): after a crash
 * (SIGKILL) it resumes from its checkpoint without counting anything twice, and deleted, it is rebuilt
 * from block 0 into exactly the same answers.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { networkHome } from '../support/network';
import { RestClient, eventually, expectStatus, killGateway, loadGateways, restartGateways } from '../rest/support';

const ROUTES = ['intervals', 'trades', 'tasks', 'sanctions', 'qscores', 'beacon', 'offers'];

describe('analytics store on a running gateway', () => {
  // the gateway holding the regulator identity: the one whose regulator key sees every row
  const gw = loadGateways().find((g) => g.apiKeys.regulator)!;
  const regulator = new RestClient(gw.url, gw.apiKeys.regulator);

  const status = async () => {
    const s = await regulator.get('/api/v1/analytics/status');
    expectStatus(s, 200);
    return s.body as { checkpoint: { block: number; txId: string } | null; eventsApplied: number };
  };
  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    for (const r of ROUTES) {
      const res = await regulator.get(`/api/v1/analytics/${r}`);
      expectStatus(res, 200);
      out[r] = res.body;
    }
    return out;
  };
  /** the store has applied the same transaction as `want` (the chain is quiet while this suite runs) */
  const caughtUp = (want: { checkpoint: { txId: string } | null; eventsApplied: number }) =>
    eventually('the analytics store to reach the checkpoint it had', async () => {
      const s = await status();
      return s.checkpoint?.txId === want.checkpoint?.txId ? s : undefined;
    }, 120_000);

  test('resumes after SIGKILL from its checkpoint and counts nothing twice; rebuilt from an empty file it answers identically', async () => {
    const before = await status();
    expect(before.checkpoint).not.toBeNull();
    expect(before.eventsApplied).toBeGreaterThan(0);
    const answers = await snapshot();

    await killGateway(gw.org);
    await restartGateways();
    const resumed = await caughtUp(before);
    expect(resumed.eventsApplied).toBe(before.eventsApplied); // nothing re-applied
    expect(await snapshot()).toEqual(answers);

    await killGateway(gw.org);
    const dir = join(networkHome(), `gateway-${gw.org}`);
    for (const f of ['analytics.sqlite', 'analytics.sqlite-wal', 'analytics.sqlite-shm']) rmSync(join(dir, f), { force: true });
    expect(existsSync(join(dir, 'analytics.sqlite'))).toBe(false);
    await restartGateways();
    const rebuilt = await caughtUp(before);
    expect(rebuilt.eventsApplied).toBe(before.eventsApplied);
    expect(await snapshot()).toEqual(answers);
  }, 400_000);
});
