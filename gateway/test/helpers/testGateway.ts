import fs from 'node:fs';
import path from 'node:path';
import { generateApiKey, hashApiKey } from '../../src/auth/apiKeys';
import { loadConfig, type GatewayConfig } from '../../src/config';
import { createApp, type GatewayApp } from '../../src/gateway';
import { openDatabase, type Db } from '../../src/store/db';
import { FakeCa } from './fakeCa';
import { FakeLedger, identity } from './fakeLedger';
import { silentLogger, tmpDir } from './tmp';

export interface TestGateway extends GatewayApp {
  config: GatewayConfig;
  db: Db;
  ledger: FakeLedger;
  ca: FakeCa;
  keys: { operator: string; regulator: string; twoMeters: string };
  close(): Promise<void>;
  /** a crash: the database is closed first (nothing more reaches it), then the worker's loop and timers stop */
  crash(): Promise<void>;
}

export const WALLET_KEY = 'a'.repeat(64);

export function makeTestGateway(
  opts: {
    dataDir?: string;
    ledger?: FakeLedger;
    ca?: FakeCa;
    keys?: TestGateway['keys'];
    overrides?: Record<string, unknown>;
    /** a gateway without a regulator identity; the string names the org that holds it */
    regulatorElsewhere?: string;
  } = {},
): TestGateway {
  const dataDir = opts.dataDir ?? tmpDir();
  const keys = opts.keys ?? { operator: generateApiKey(), regulator: generateApiKey(), twoMeters: generateApiKey() };
  const keysFile = path.join(dataDir, 'api-keys.json');
  fs.writeFileSync(
    keysFile,
    JSON.stringify({
      apiKeys: [
        { id: 'op1', name: 'operator console', sha256: hashApiKey(keys.operator), roles: ['operator'] },
        { id: 'reg1', sha256: hashApiKey(keys.regulator), roles: ['regulator'] },
        { id: 'multi', sha256: hashApiKey(keys.twoMeters), roles: ['meter'], meters: ['m-a', 'm-b'] },
      ],
    }),
  );
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      walletKey: WALLET_KEY,
      apiKeysFile: keysFile,
      network: { path: path.join(dataDir, 'network.json'), org: 'utility1' },
      retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
      // readings go as the meters' own transactions unless a test turns the relay on (relay.test.ts)
      'queue.relayBatch': 0,
      ...(opts.overrides ?? {}),
    },
  });
  const db = openDatabase(dataDir);
  const ledger = opts.ledger ?? new FakeLedger();
  const ca = opts.ca ?? new FakeCa();
  const gw = createApp({
    config,
    logger: silentLogger,
    db,
    ledger,
    ca,
    operator: identity('operator'),
    ...(opts.regulatorElsewhere === undefined ? { regulator: identity('regulator') } : { regulatorOrg: opts.regulatorElsewhere }),
    validateResponses: true,
    // the FakeLedger answers canned values, not the chaincode's: the envelopes are checked, the answers
    // inside only for their JSON type (the chaincode's tests check every real answer against its output schema)
    opaqueLedgerAnswers: true,
  });
  return {
    ...gw,
    config,
    db,
    ledger,
    ca,
    keys,
    close: async () => {
      await gw.worker.stop();
      db.close();
    },
    crash: async () => {
      db.close();
      await gw.worker.stop();
    },
  };
}

/** Runs worker passes until nothing is due. */
export async function drain(gw: GatewayApp): Promise<void> {
  for (let i = 0; i < 100; i++) if ((await gw.worker.runOnce()) === 0) return;
  throw new Error('queue did not drain');
}
