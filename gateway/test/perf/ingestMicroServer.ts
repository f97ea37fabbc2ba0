/**
 * Measurement tool (not a test): the REST gateway's own cost per accepted reading, without a ledger.
 * The real gateway (express, Ajv, API keys, idempotency, SQLite group commit with its fsync, pino to a
 * file) with a fake ledger that answers after MICRO_LEDGER_MS (150); MICRO_METERS meters (200) are
 * enrolled at a fake CA, then it writes $MICRO_DIR/meters.json for ingestMicroClient.ts and waits.
 * Profile it with `node --cpu-prof` (docs/benchmarks.md, "REST ingest"):
 *
 *   MICRO_DIR=/tmp/micro node -r ts-node/register/transpile-only gateway/test/perf/ingestMicroServer.ts &
 *   MICRO_DIR=/tmp/micro node -r ts-node/register/transpile-only gateway/test/perf/ingestMicroClient.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { generateApiKey, hashApiKey } from '../../src/auth/apiKeys';
import { loadConfig } from '../../src/config';
import { startGateway } from '../../src/gateway';
import { FakeCa } from '../helpers/fakeCa';
import { FakeLedger } from '../helpers/fakeLedger';

const dir = process.env.MICRO_DIR ?? '/tmp/gridledger-micro';

async function main(): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  for (const f of ['cert.pem', 'key.pem', 'tlsca.pem']) fs.writeFileSync(path.join(home, f), 'PEM');
  const users = { operator1: { certPath: path.join(home, 'cert.pem'), keyPath: path.join(home, 'key.pem') } };
  fs.writeFileSync(path.join(home, 'network.json'), JSON.stringify({
    tier: 'devnet', channel: 'energy', home,
    organizations: [{ name: 'utility1', mspId: 'Utility1MSP', peer: { endpoint: '127.0.0.1:1', hostAlias: 'p', tlsRootCertPath: path.join(home, 'tlsca.pem') },
      ca: { url: 'https://127.0.0.1:1', caName: 'ca', tlsRootCertPath: path.join(home, 'tlsca.pem'), registrar: { enrollmentId: 'admin', enrollmentSecret: 'adminpw' } }, users }],
    chaincodes: [{ name: 'gridledger', addresses: { utility1: '127.0.0.1:1' } }],
    orderer: { batch: { maxMessageCount: 10, timeoutMs: 100 }, consensus: 'solo', mspId: 'OrdererMSP', tlsRootCertPath: path.join(home, 'tlsca.pem'), nodes: [{ name: 'o', endpoint: '127.0.0.1:1', hostAlias: 'o' }] },
    control: { ledgerPidFiles: [] },
  }));
  const operatorKey = generateApiKey();
  const keysFile = path.join(home, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify({ apiKeys: [{ id: 'op', sha256: hashApiKey(operatorKey), roles: ['operator'] }] }));
  const config = loadConfig({ env: { ...process.env, GRIDLEDGER_HOME: home, GATEWAY_PORT: '0', GATEWAY_ORG: 'utility1', GATEWAY_WALLET_KEY: 'c'.repeat(64), GATEWAY_API_KEYS_FILE: keysFile } });
  const ledger = new FakeLedger();
  const delay = Number(process.env.MICRO_LEDGER_MS ?? 150);
  const endorse = ledger.endorse.bind(ledger);
  ledger.endorse = async (...a) => { await new Promise((r) => setTimeout(r, 5)); return endorse(...a); };
  const submit = ledger.submitPrepared.bind(ledger);
  ledger.submitPrepared = async (...a) => { await new Promise((r) => setTimeout(r, delay)); return submit(...a); };
  const logger = pino({ level: process.env.MICRO_LOG_LEVEL ?? 'info', base: { service: 'gridledger-gateway' } }, pino.destination({ dest: path.join(home, 'gateway.log'), sync: true }));
  const gw = await startGateway(config, { ledger, ca: new FakeCa(), logger });
  const meters: Array<{ meterId: string; apiKey: string }> = [];
  for (let i = 0; i < Number(process.env.MICRO_METERS ?? 200); i++) {
    const res = await fetch(`${gw.url}/api/v1/meters`, { method: 'POST', headers: { Authorization: `Bearer ${operatorKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ meterId: `m-${i}`, zone: 'z' }) });
    const { apiKey } = (await res.json()) as { apiKey: string };
    meters.push({ meterId: `m-${i}`, apiKey });
  }
  fs.writeFileSync(path.join(dir, 'meters.json'), JSON.stringify({ url: gw.url, meters, pid: process.pid }));
  console.log('READY');
  process.on('SIGTERM', () => void gw.close().then(() => process.exit(0)));
}
void main();
