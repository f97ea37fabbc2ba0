import fs from 'node:fs';
import path from 'node:path';
import { generateApiKey, hashApiKey } from '../src/auth/apiKeys';
import { loadConfig } from '../src/config';
import { KEEP_ALIVE_MS, startGateway } from '../src/gateway';
import { openDatabase } from '../src/store/db';
import { DurableQueue } from '../src/store/queue';
import { FakeCa } from './helpers/fakeCa';
import { FakeLedger } from './helpers/fakeLedger';
import { silentLogger, tmpDir } from './helpers/tmp';

function fixture(opts: { tier?: string; secrets?: boolean } = {}) {
  const home = tmpDir('gw-home-');
  for (const f of ['cert.pem', 'key.pem', 'tlsca.pem']) fs.writeFileSync(path.join(home, f), 'PEM');
  const users = { operator1: { certPath: path.join(home, 'cert.pem'), keyPath: path.join(home, 'key.pem') } };
  fs.writeFileSync(
    path.join(home, 'network.json'),
    JSON.stringify({
      tier: opts.tier ?? 'devnet',
      channel: 'energy',
      home,
      organizations: [
        {
          name: 'utility1',
          mspId: 'Utility1MSP',
          peer: { endpoint: '127.0.0.1:1', hostAlias: 'peer0.utility1.gridledger.local', tlsRootCertPath: path.join(home, 'tlsca.pem') },
          ca: { url: 'https://127.0.0.1:1', caName: 'ca-utility1', tlsRootCertPath: path.join(home, 'tlsca.pem'), registrar: { enrollmentId: 'admin', enrollmentSecret: 'adminpw' } },
          users,
        },
      ],
      chaincodes: [{ name: 'gridledger', addresses: { utility1: '127.0.0.1:1' } }],
      orderer: {
        batch: { maxMessageCount: 10, timeoutMs: 100 },
        consensus: 'solo',
        mspId: 'OrdererMSP',
        tlsRootCertPath: path.join(home, 'tlsca.pem'),
        nodes: [{ name: 'orderer', endpoint: '127.0.0.1:1', hostAlias: 'orderer.gridledger.local' }],
      },
      control: { ledgerPidFiles: [] },
    }),
  );
  const operatorKey = generateApiKey();
  const keysFile = path.join(home, 'keys.json');
  fs.writeFileSync(keysFile, JSON.stringify({ apiKeys: [{ id: 'op', sha256: hashApiKey(operatorKey), roles: ['operator'] }] }));
  const secrets = opts.secrets ?? true;
  const config = loadConfig({
    env: {
      GRIDLEDGER_HOME: home,
      GATEWAY_PORT: '0',
      ...(secrets ? { GATEWAY_ORG: 'utility1', GATEWAY_WALLET_KEY: 'c'.repeat(64), GATEWAY_API_KEYS_FILE: keysFile } : {}),
    },
  });
  return { home, config, operatorKey };
}

describe('startGateway', () => {
  it('listens on 127.0.0.1:<port 0>, serves the API, and drains an in-flight delivery on close', async () => {
    const { config, operatorKey } = fixture();
    expect(config.dataDir).toMatch(/gateway-utility1$/);
    const ledger = new FakeLedger();
    // the chaincode's answer to a relayed batch (the enrolment registered the meter's key, so its reading is relayed)
    ledger.result = (tx) =>
      tx.fn === 'meters:relayReadings'
        ? { results: (JSON.parse(tx.transient!.relay!) as { entries: Array<{ meterId: string; reading: { intervalStart: number } }> }).entries.map((e) => ({ meterId: e.meterId, intervalStart: e.reading.intervalStart, status: 'RECORDED' })) }
        : { fn: tx.fn, ok: true };
    const gw = await startGateway(config, { ledger, ca: new FakeCa(), logger: silentLogger, validateResponses: true });
    expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.port).toBeGreaterThan(0);

    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    // idle keep-alive connections are kept a minute and the client is told so (not Node's 5 s)
    expect(health.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_MS / 1000}`);
    const enrol = await fetch(`${gw.url}/api/v1/meters`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${operatorKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ meterId: 'm-1', zone: 'z' }),
    });
    expect(enrol.status).toBe(201);
    const { apiKey } = (await enrol.json()) as { apiKey: string };
    let release!: () => void;
    ledger.gate = new Promise<void>((r) => (release = r));
    const callsBefore = ledger.submitCalls;
    const post = await fetch(`${gw.url}/api/v1/meters/m-1/readings`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ intervalStart: 1_700_000_100 - (1_700_000_100 % 900), intervalLength: 900, importWh: 1, exportWh: 2, importRegisterWh: 10, exportRegisterWh: 20 }),
    });
    expect(post.status).toBe(202);
    const { receiptId } = (await post.json()) as { receiptId: string };

    // the worker has the reading in flight (held at the ledger); shut down meanwhile
    while (ledger.submitCalls === callsBefore) await new Promise((r) => setImmediate(r));
    let closed = false;
    const closing = gw.close().then(() => (closed = true));
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    release();
    await closing;

    const db = openDatabase(config.dataDir);
    // the beacon registers the utility's key in the background (its own transaction), so find the reading's
    const readingTx = ledger.applied.find((t) => t.fn === 'meters:relayReadings')!;
    expect(readingTx.signer).toBe('operator'); // relayed by the utility, the reading signed by the meter's key
    expect(ledger.applied.find((t) => t.fn === 'meters:registerKey')!.signer).toBe('meter:m-1');
    expect(new DurableQueue(db).get(receiptId)).toMatchObject({ state: 'COMMITTED', txId: readingTx.txId });
    db.close();
  });

  it('devnet with no secrets configured: first org, wallet key file and generated operator key', async () => {
    const { config } = fixture({ secrets: false });
    expect(config.walletKey).toBeUndefined();
    expect(config.dataDir).toMatch(/\/gateway$/);
    const gw = await startGateway(config, { ledger: new FakeLedger(), ca: new FakeCa(), logger: silentLogger });
    expect(gw.org).toBe('utility1');
    const creds = JSON.parse(fs.readFileSync(path.join(config.dataDir, 'devnet-credentials.json'), 'utf8')) as { operator: string };
    expect((fs.statSync(path.join(config.dataDir, 'wallet.key')).mode & 0o777).toString(8)).toBe('600');
    const me = await fetch(`${gw.url}/api/v1/meters/nobody`, { headers: { Authorization: `Bearer ${creds.operator}` } });
    expect(me.status).toBe(404);
    await gw.close();
  });

  it('other tiers require an explicit wallet key', async () => {
    const { config } = fixture({ tier: 'fabric', secrets: false });
    await expect(startGateway(config, { ledger: new FakeLedger(), ca: new FakeCa(), logger: silentLogger })).rejects.toThrow(/walletKey is required on tier fabric/);
  });

  it('refuses an unknown org with the list of known ones', async () => {
    const { config } = fixture();
    await expect(startGateway({ ...config, network: { ...config.network, org: 'utility9' } }, { ledger: new FakeLedger(), ca: new FakeCa(), logger: silentLogger })).rejects.toThrow(
      /network.org "utility9" is not an organisation in .*network.json; choose one of: utility1/,
    );
  });
});
