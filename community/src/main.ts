#!/usr/bin/env node
/**
 * Entry point: `node community/dist/main.js [flags]` (see config.ts or --help). Logs JSON lines with pino,
 * as the gateway does. SIGTERM / SIGINT stop it gracefully: requests in flight are aborted (each POST
 * carries an Idempotency-Key, so the next start finishes or repeats it harmlessly), the state is saved,
 * and the process exits 0.
 */
import pino from 'pino';
import { RestClient } from './client';
import { ConfigError, parseConfig, usage, withNetworkInterval } from './config';
import { loadGateways } from './simulator';
import { Community } from './simulator';

async function main(): Promise<number> {
  let cfg;
  try {
    cfg = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gridledger-community: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (cfg === 'help') {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  const log = pino({ name: 'community', level: cfg.logLevel });
  const ac = new AbortController();
  try {
    // the regulator identity lives in the first utility (test-network-config/network.yaml identities)
    const gw = loadGateways(cfg.home)[0]!;
    cfg = await withNetworkInterval(cfg, async () => {
      const r = await new RestClient(gw.url, gw.apiKeys.regulator, { signal: ac.signal }).get<{ minIntervalSeconds?: unknown }>('/api/v1/market/parameters');
      if (r.status !== 200) throw new Error(`GET /api/v1/market/parameters answered ${r.status} ${r.text}`);
      return r.body;
    });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, "could not learn the network's metering interval");
    return 1;
  }
  const stop = (sig: string) => {
    if (ac.signal.aborted) return;
    log.info({ signal: sig }, 'stopping');
    ac.abort();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await new Community(cfg, log, ac.signal).run();
    return 0;
  } catch (err) {
    if (ac.signal.aborted) return 0;
    log.fatal({ err: (err as Error).message }, 'community failed');
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`gridledger-community: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
