import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import type express from 'express';
import pino, { type Logger } from 'pino';
import crypto from 'node:crypto';
import { ApiKeyStore, generateApiKey, hashApiKey, readBootstrapFile } from './auth/apiKeys';
import { ConfigError, type GatewayConfig } from './config';
import { DeliveryWorker, parseResult } from './delivery/worker';
import { FabricLedger, type ActingIdentity, type LedgerClient } from './fabric/ledger';
import { loadNetwork, selectOrg, selectUser, type NetworkDescriptor, type OrgDescriptor } from './fabric/network';
import { Submitter } from './fabric/submitter';
import { FabricMeterCa, type MeterCa } from './identity/ca';
import { MeterIdentities } from './identity/meters';
import { Wallet } from './identity/wallet';
import { Metrics } from './ops/metrics';
import { runChecks } from './ops/readiness';
import { createHttpApp } from './rest/app';
import { createHandlers, createResume } from './rest/handlers';
import { ApiSpec } from './rest/openapi';
import { openDatabase, type Db } from './store/db';
import { IdempotencyStore } from './store/idempotency';
import { DurableQueue } from './store/queue';

/** Everything the HTTP app needs; tests may build it with a fake ledger and CA. */
export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  db: Db;
  ledger: LedgerClient;
  ca: MeterCa;
  operator: ActingIdentity;
  regulator?: ActingIdentity;
  /** validate responses against the OpenAPI document (on in tests) */
  validateResponses?: boolean;
}

export interface GatewayApp {
  app: express.Express;
  worker: DeliveryWorker;
  queue: DurableQueue;
  apiKeys: ApiKeyStore;
  metrics: Metrics;
  meters: MeterIdentities;
}

/** Wires stores, worker, handlers and the express app. Does not listen and does not start the worker. */
export function createApp(deps: GatewayDeps): GatewayApp {
  const { config, logger, db, ledger } = deps;
  const spec = new ApiSpec();
  const apiKeys = new ApiKeyStore(db);
  if (config.apiKeysFile) apiKeys.loadBootstrap(readBootstrapFile(config.apiKeysFile));
  const idempotency = new IdempotencyStore(db);
  idempotency.purgeOlderThan(config.idempotency.retentionHours * 3600_000);
  const queue = new DurableQueue(db);
  const purged = queue.purgeFinished(Date.now() - config.queue.retentionDays * 86_400_000);
  if (purged) logger.info({ purged }, 'deleted final receipts past the retention period');
  const metrics = new Metrics(() => queue.counts());
  if (!config.walletKey) throw new ConfigError(['walletKey is required (GATEWAY_WALLET_KEY)']);
  const wallet = new Wallet(db, config.walletKey);
  const meters = new MeterIdentities(wallet, deps.ca, {
    maxEnrollments: config.ca.maxEnrollments,
    affiliation: config.ca.affiliation,
    crlDir: path.join(config.dataDir, 'crls'),
  });
  const worker = new DeliveryWorker({
    queue,
    ledger,
    identityFor: (m) => meters.actingIdentity(m),
    retry: config.retry,
    pollIntervalMs: config.queue.pollIntervalMs,
    concurrency: config.queue.concurrency,
    logger: logger.child({ component: 'delivery' }),
    metrics: metrics.workerHooks(),
  });
  const submitter = new Submitter(ledger, config.retry);
  const checkTimeout = Math.min(config.timeouts.evaluateMs, 5000);
  const readiness = () =>
    runChecks(
      {
        peerGateway: async () => {
          if (!(await ledger.reachable(checkTimeout))) throw new Error('the peer gateway endpoint does not accept connections');
          return undefined;
        },
        chaincode: async () => {
          const r = parseResult(await ledger.evaluate(deps.operator, 'health:ping', [])) as { version?: string; status?: string } | null;
          return `health:ping answered ${JSON.stringify(r)}`;
        },
        ca: async () => {
          const i = await deps.ca.info(checkTimeout);
          return `${i.caName} ${i.version}`.trim();
        },
      },
      checkTimeout + 1000,
    );
  const handlerDeps = {
    spec,
    metrics,
    apiKeys,
    idempotency,
    queue,
    worker,
    ledger,
    submitter,
    meters,
    operator: deps.operator,
    regulator: deps.regulator,
    readiness,
    syncWaitMs: config.timeouts.syncWaitMs,
    startedAt: Date.now(),
  };
  const handlers = createHandlers(handlerDeps);
  const app = createHttpApp({
    spec,
    logger,
    metrics,
    apiKeys,
    idempotency,
    handlers,
    resumeSubmission: createResume(handlerDeps),
    requireIdempotencyKey: config.idempotency.required,
    validateResponses: deps.validateResponses ?? false,
  });
  return { app, worker, queue, apiKeys, metrics, meters };
}

function userIdentity(org: OrgDescriptor, user: string, key: string): ActingIdentity {
  const u = org.users[user]!;
  return { key, mspId: org.mspId, certPem: fs.readFileSync(u.certPath, 'utf8'), privateKeyPem: fs.readFileSync(u.keyPath, 'utf8') };
}

/**
 * Devnet conveniences, so `npm start` works with no secrets configured. Never on another tier:
 * - no walletKey: a random key is kept in <dataDir>/wallet.key (0600) — beside the wallet, so it only
 *   protects against copies of the database alone; production passes GATEWAY_WALLET_KEY.
 * - no apiKeysFile: operator and regulator keys are generated once; hashes in <dataDir>/api-keys.json,
 *   the plaintext keys for local use in <dataDir>/devnet-credentials.json (0600).
 */
export function applyDevnetDefaults(config: GatewayConfig, net: NetworkDescriptor, logger: Logger): GatewayConfig {
  const devnet = net.tier === 'devnet';
  const out: GatewayConfig = { ...config };
  if (!out.walletKey) {
    if (!devnet) throw new ConfigError([`walletKey is required on tier ${net.tier} (set GATEWAY_WALLET_KEY to 32 random bytes, e.g. \`openssl rand -hex 32\`)`]);
    fs.mkdirSync(out.dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(out.dataDir, 'wallet.key');
    if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    out.walletKey = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
    logger.warn({ file }, 'devnet: no GATEWAY_WALLET_KEY given; using the wallet key file in the data directory');
  }
  if (!out.apiKeysFile && devnet) {
    const file = path.join(out.dataDir, 'api-keys.json');
    const creds = path.join(out.dataDir, 'devnet-credentials.json');
    if (!fs.existsSync(file)) {
      const operator = generateApiKey();
      const regulator = generateApiKey();
      fs.writeFileSync(creds, JSON.stringify({ operator, regulator }, null, 2) + '\n', { mode: 0o600 });
      fs.writeFileSync(
        file,
        JSON.stringify({ apiKeys: [{ id: 'devnet-operator', sha256: hashApiKey(operator), roles: ['operator'] }, { id: 'devnet-regulator', sha256: hashApiKey(regulator), roles: ['regulator'] }] }, null, 2) + '\n',
        { mode: 0o600 },
      );
    }
    out.apiKeysFile = file;
    logger.warn({ credentials: creds }, 'devnet: no GATEWAY_API_KEYS_FILE given; operator and regulator API keys are in the devnet credentials file');
  }
  return out;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** organisation name the gateway acts for */
  org: string;
  gateway: GatewayApp;
  /** graceful: stop accepting, finish in-flight HTTP requests and deliveries, close Fabric and the database */
  close(): Promise<void>;
}

/**
 * Starts a gateway from its configuration: network.json → Fabric connection, CA client, wallet, queue
 * worker, HTTP server. `overrides` lets tests replace the Fabric client and the CA.
 */
export async function startGateway(
  config: GatewayConfig,
  overrides: { logger?: Logger; ledger?: LedgerClient; ca?: MeterCa; validateResponses?: boolean } = {},
): Promise<RunningGateway> {
  const logger = overrides.logger ?? pino({ level: config.logLevel, base: { service: 'gridledger-gateway' } });
  const net = loadNetwork(config.network.path);
  const org = selectOrg(net, config.network.org ?? net.organizations[0]!.name, config.network.path);
  config = applyDevnetDefaults({ ...config, network: { ...config.network, org: org.name } }, net, logger);
  const operatorUser = selectUser(org, config.network.operatorUser, 'operator');
  if (!operatorUser) throw new Error(`org ${org.name} lists no operator user in ${config.network.path}; set network.operatorUser`);
  const regulatorUser = selectUser(org, config.network.regulatorUser, 'regulator');
  const operator = userIdentity(org, operatorUser, 'operator');
  const regulator = regulatorUser ? userIdentity(org, regulatorUser, 'regulator') : undefined;
  const db = openDatabase(config.dataDir);
  const ledger =
    overrides.ledger ??
    new FabricLedger({
      org,
      channel: config.network.channel ?? net.channel,
      chaincode: config.network.chaincode,
      timeouts: config.timeouts,
      transientEndorsers: config.network.transientEndorsers ?? net.organizations.map((o) => o.mspId),
    });
  const ca = overrides.ca ?? new FabricMeterCa(org);
  const gw = createApp({ config, logger, db, ledger, ca, operator, ...(regulator ? { regulator } : {}), validateResponses: overrides.validateResponses ?? false });
  gw.worker.start();
  const housekeeping = setInterval(() => {
    gw.queue.purgeFinished(Date.now() - config.queue.retentionDays * 86_400_000);
  }, 86_400_000);
  housekeeping.unref();

  const server = http.createServer(gw.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, org: org.name, mspId: org.mspId, peer: org.peer.endpoint, dataDir: config.dataDir }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down: draining in-flight requests and deliveries');
      clearInterval(housekeeping);
      const timer = setTimeout(() => server.closeAllConnections(), config.timeouts.shutdownMs);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all([serverClosed, gw.worker.stop()]);
      clearTimeout(timer);
      ledger.close();
      db.close();
      logger.info('gateway stopped');
    })());
  return { url, port, org: org.name, gateway: gw, close };
}
