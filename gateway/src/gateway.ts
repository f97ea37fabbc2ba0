import type { AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import crypto from 'node:crypto';
import { relayedReadingMessage, type Reading } from '@gridledger/protocol';
import type express from 'express';
import pino, { type Logger } from 'pino';
import { ApiKeyStore, readBootstrapFile } from './auth/apiKeys';
import { ConfigError, type GatewayConfig } from './config';
import { applyDevnetDefaults } from './config/devnetDefaults';
import { DeliveryWorker, parseResult, type Relayer } from './delivery/worker';
import { FabricLedger, type ActingIdentity, type FabricLedgerOptions, type LedgerClient } from './fabric/ledger';
import { defaultThreadScript, ThreadedLedger } from './fabric/ledgerThread';
import { loadNetwork, selectOrg, selectUser } from './fabric/network';
import { regulatorHolder, userIdentity } from './fabric/networkIdentities';
import { Submitter } from './fabric/submitter';
import { FabricMeterCa, type MeterCa } from './identity/ca';
import { MeterIdentities } from './identity/meters';
import { Wallet } from './identity/wallet';
import { Metrics } from './ops/metrics';
import { runChecks } from './ops/readiness';
import { answerClientErrors, createHttpApp } from './rest/app';
import { createHandlers } from './rest/handlers';
import { ApiSpec } from './rest/openapi';
import { openDatabase, startCheckpointer, walSyncer, type Db } from './store/db';
import { migrateGatewayDb } from './store/migrations';
import { GroupCommit } from './store/groupCommit';
import { IdempotencyStore } from './store/idempotency';
import { DurableQueue } from './store/queue';
import { BeaconService, CHECKPOINT_NAME, loadOrCreateBeaconKey } from './events/beacon';
import { registerBeaconKey } from './events/registerBeaconKey';
import { registerMeterKeys } from './identity/registerKeys';
import { createEventsHandler } from './events/sse';
import { BeaconStore } from './events/store';
import { ordererCheck } from './ops/orderers';
import { AnalyticsListener } from './analytics/listener';
import { createAnalyticsHandlers } from './analytics/routes';
import { AnalyticsStore } from './analytics/store';
import { dashboardDir } from './analytics/static';
import { AgentService } from './agents/service';
import { AgentStore } from './agents/store';
import { agentHandlers } from './agents/rest';

/** How long an idle HTTP keep-alive connection stays open (see startGateway). */
export const KEEP_ALIVE_MS = 65_000;

/** Everything the HTTP app needs; tests may build it with a fake ledger and CA. */
export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  db: Db;
  ledger: LedgerClient;
  ca: MeterCa;
  operator: ActingIdentity;
  regulator?: ActingIdentity;
  /** the organisation whose gateway holds the regulator identity (network.json), when it is not this one */
  regulatorOrg?: string;
  /** validate responses against the OpenAPI document (on in tests) */
  validateResponses?: boolean;
  /** check chaincode answers only as any JSON (unit tests with a fake ledger; rest/openapi.ts) */
  opaqueLedgerAnswers?: boolean;
  /** channel name (the beacon signs it into each contribution's message) */
  channel?: string;
  /** readiness of the ordering service (network.json `orderer`); absent = not checked */
  ordererCheck?: () => Promise<string>;
}

export interface GatewayApp {
  app: express.Express;
  worker: DeliveryWorker;
  queue: DurableQueue;
  apiKeys: ApiKeyStore;
  metrics: Metrics;
  meters: MeterIdentities;
  /** submits and waits for the commit (the handlers' one; the background key registration uses it too) */
  submitter: Submitter;
  /** this utility's beacon contributor (undefined when beacon.enabled is false) */
  beacon: BeaconService | undefined;
  beaconStore: BeaconStore;
  idempotency: IdempotencyStore;
  /** registration state of the beacon key (for GET /api/v1/beacon) */
  beaconRegistration: { state: string };
  /** the meters' agents (undefined when agents.enabled is false; docs/agents.md) */
  agents: AgentService | undefined;
  /** ends every open SSE stream */
  closeEventStreams(): void;
  /** the off-chain analytics store (its own SQLite file) and its listener (started by startGateway) */
  analytics: { store: AnalyticsStore; listener: AnalyticsListener; db: Db };
}

/** Wires stores, worker, handlers and the express app. Does not listen and does not start the worker. */
export function createApp(deps: GatewayDeps): GatewayApp {
  const { config, logger, db, ledger } = deps;
  const spec = new ApiSpec(undefined, { opaqueLedgerAnswers: deps.opaqueLedgerAnswers ?? false });
  if (!config.walletKey) throw new ConfigError(['walletKey is required (GATEWAY_WALLET_KEY)']);
  const walletKey = config.walletKey; // seals the meters' keys and the agents' auction secrets
  migrateGatewayDb(db, walletKey); // before the stores: old rows get their current form (states, sealed auction secrets)
  const apiKeys = new ApiKeyStore(db);
  if (config.apiKeysFile) apiKeys.loadBootstrap(readBootstrapFile(config.apiKeysFile));
  const idempotency = new IdempotencyStore(db);
  idempotency.purgeOlderThan(config.idempotency.retentionHours * 3600_000);
  const queue = new DurableQueue(db);
  const purged = queue.purgeFinished(Date.now() - config.queue.retentionDays * 86_400_000);
  if (purged) logger.info({ purged }, 'deleted final receipts past the retention period');
  const metrics = new Metrics(() => queue.pendingCounts());
  const writes = new GroupCommit(db, { maxBatch: config.queue.groupCommitMaxBatch, maxDelayMs: config.queue.groupCommitMaxDelayMs, onCommit: metrics.groupCommitHook(), sync: walSyncer(db) });
  const wallet = new Wallet(db, walletKey);
  const meters = new MeterIdentities(wallet, deps.ca, {
    maxEnrollments: config.ca.maxEnrollments,
    affiliation: config.ca.affiliation,
    crlDir: path.join(config.dataDir, 'crls'),
    onEnrolAgain: (meterId, outcome) => {
      metrics.meterEnrolmentsAgain.inc({ outcome });
      logger.warn({ meterId, outcome }, 'the CA refused to enrol a meter this gateway registered (an earlier enrolment answer was lost); enrolled it again with a new secret');
    },
  });
  metrics.meterKeysRefusedSource = () => meters.refusedKeysCount();
  const worker = new DeliveryWorker({
    queue,
    ledger,
    identityFor: (m) => meters.actingIdentity(m),
    retry: config.retry,
    pollIntervalMs: config.queue.pollIntervalMs,
    concurrency: config.queue.concurrency,
    maxCoalesce: config.queue.maxCoalesce,
    // always given, so batches stored before a restart with relayBatch 0 are still re-sent as what they are
    relay: meterRelay(meters, deps.operator, deps.channel ?? config.network.channel ?? '', config.queue.relayBatch, config.queue.relayConcurrency, config.queue.relayLingerMs),
    writes,
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
        orderers: deps.ordererCheck ?? (async () => 'not checked: network.json lists no orderers'),
      },
      checkTimeout + 1000,
    );
  const handlerDeps = {
    spec,
    metrics,
    apiKeys,
    idempotency,
    queue,
    writes,
    worker,
    ledger,
    submitter,
    meters,
    operator: deps.operator,
    regulator: deps.regulator,
    regulatorOrg: deps.regulatorOrg,
    readiness,
    syncWaitMs: config.timeouts.syncWaitMs,
    startedAt: Date.now(),
  };
  const beaconStore = new BeaconStore(db);
  const beaconRegistration = { state: 'pending' };
  let beacon: BeaconService | undefined;
  if (config.beacon.enabled) {
    const key = loadOrCreateBeaconKey(config.dataDir, config.walletKey, deps.operator.mspId);
    if (key.created) logger.info({ publicKeyHex: key.publicKeyHex }, 'beacon key created (encrypted with the wallet key)');
    beacon = new BeaconService({
      ledger,
      submitter,
      store: beaconStore,
      operator: deps.operator,
      channel: deps.channel ?? config.network.channel ?? '',
      secretKey: key.secretKey,
      publicKeyHex: key.publicKeyHex,
      logger: logger.child({ component: 'beacon' }),
      metrics,
      startBlock: config.beacon.startBlock,
      retryBaseMs: config.beacon.retryBaseMs,
      retryMaxMs: config.beacon.retryMaxMs,
      reconnectMs: config.beacon.reconnectMs,
      stepInMs: config.beacon.stepInMs,
    });
  }
  const participantOf = async (meterId: string): Promise<string | undefined> => {
    let id: ActingIdentity;
    try {
      id = meters.actingIdentity(meterId);
    } catch {
      return undefined; // not enrolled here / revoked: only events naming the meter id reach its key
    }
    const me = parseResult(await ledger.evaluate(id, 'participants:whoAmI', [])) as { participantId?: unknown } | null;
    return typeof me?.participantId === 'string' ? me.participantId : undefined;
  };
  const streamEvents = createEventsHandler({
    ledger,
    operator: deps.operator,
    metrics,
    logger: logger.child({ component: 'sse' }),
    heartbeatMs: config.events.heartbeatMs,
    maxClients: config.events.maxClients,
    participantOf,
  });
  // The analytics store lives in its own file: it can be deleted and rebuilt from the chain at any time.
  const analyticsDb = openDatabase(config.dataDir, 'analytics.sqlite');
  const analyticsStore = new AnalyticsStore(analyticsDb, deps.operator.mspId);
  const analyticsListener = new AnalyticsListener({ ledger, store: analyticsStore, operator: deps.operator, logger: logger.child({ component: 'analytics' }), reconnectMs: config.beacon.reconnectMs, metrics });
  const analyticsHandlers = createAnalyticsHandlers({
    store: analyticsStore,
    listener: analyticsListener,
    mspId: deps.operator.mspId,
    participantOf,
    queueCounts: () => queue.counts(),
    sseClients: async () => (await metrics.sseClients.get()).values[0]?.value ?? 0,
  });
  const agentStore = new AgentStore(db, walletKey);
  const agents = config.agents.enabled
    ? new AgentService({ ledger, submitter, store: agentStore, operator: deps.operator, meters, logger: logger.child({ component: 'agents' }), metrics, config: config.agents })
    : undefined;
  const handlers = {
    ...createHandlers(handlerDeps),
    ...analyticsHandlers,
    ...agentHandlers({ agents, store: agentStore, meters }),
    streamEvents,
    getBeaconStatus: async () => {
      const all = beaconStore.all();
      return {
        status: 200,
        body: beacon
          ? {
              enabled: true,
              mspId: deps.operator.mspId,
              publicKeyHex: beacon.publicKeyHex,
              registration: beaconRegistration.state,
              checkpoint: beaconStore.checkpoint(CHECKPOINT_NAME) ?? null,
              pending: all.filter((j) => j.state === 'PENDING').length,
              contributions: all.slice(-50).map((j) => ({ taskId: j.taskId, round: j.round, state: j.state, attempts: j.attempts, txId: j.txId, lastError: j.lastError })),
            }
          : { enabled: false },
      };
    },
  };
  const app = createHttpApp({
    spec,
    logger,
    metrics,
    apiKeys,
    idempotency,
    handlers,
    requireIdempotencyKey: config.idempotency.required,
    validateResponses: deps.validateResponses ?? false,
    staticDir: dashboardDir(),
    durable: () => writes.run(() => undefined),
  });
  return { app, worker, queue, apiKeys, metrics, meters, submitter, beacon, beaconStore, idempotency, beaconRegistration, agents, closeEventStreams: () => streamEvents.closeAll(), analytics: { store: analyticsStore, listener: analyticsListener, db: analyticsDb } };
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
  const regulatorOrg = regulator ? org.name : regulatorHolder(net);
  const db = openDatabase(config.dataDir);
  const stopCheckpointer = startCheckpointer(db);
  const ledgerOptions: FabricLedgerOptions = {
    org,
    channel: config.network.channel ?? net.channel,
    chaincode: config.network.chaincode,
    timeouts: config.timeouts,
    // Default: let Fabric plan endorsers from the proposal's chaincode interest. Reading txs write only
    // the meter utility's collection (collection endorsement policy), so only that utility endorses and
    // no other org's peer sees the raw reading; mint/confirm carry one flow proof and plan on MAJORITY.
    transientEndorsers: config.network.transientEndorsers ?? [],
  };
  const threadScript = config.queue.ledgerThread ? defaultThreadScript() : undefined;
  const ledger = overrides.ledger ?? (threadScript ? new ThreadedLedger(ledgerOptions, threadScript) : new FabricLedger(ledgerOptions));
  const ca = overrides.ca ?? new FabricMeterCa(org);
  const channel = config.network.channel ?? net.channel;
  const gw = createApp({
    config,
    logger,
    db,
    ledger,
    ca,
    operator,
    ...(regulator ? { regulator } : {}),
    ...(regulatorOrg ? { regulatorOrg } : {}),
    validateResponses: overrides.validateResponses ?? config.validateResponses ?? false,
    channel,
    ordererCheck: ordererCheck(net, Math.min(config.timeouts.evaluateMs, 5000)),
  });
  gw.worker.start();
  gw.analytics.listener.start();
  let stopping = false;
  if (gw.beacon) {
    gw.beacon.start();
    void registerBeaconKey(gw, logger.child({ component: 'beacon' }), config.beacon.retryBaseMs, () => stopping);
  }
  gw.agents?.start();
  // meters enrolled before relaying existed (or whose registration failed) register their keys now
  if (config.queue.relayBatch > 0) {
    void registerMeterKeys({
      meters: gw.meters,
      submit: (id, fn, args) => gw.submitter.submit(id, fn, args),
      logger: logger.child({ component: 'delivery' }),
      count: (outcome) => gw.metrics.meterKeyRegistrations.inc({ outcome }),
      concurrency: 4,
      retryMs: 30_000,
      stopped: () => stopping,
    }).catch((e: unknown) => logger.error({ err: e }, 'meter key registration stopped'));
  }
  const housekeeping = setInterval(() => {
    gw.queue.purgeFinished(Date.now() - config.queue.retentionDays * 86_400_000);
  }, 86_400_000);
  housekeeping.unref();
  const idempotencyPurge = setInterval(() => {
    const n = gw.idempotency.purgeOlderThan(config.idempotency.retentionHours * 3600_000);
    if (n) logger.info({ purged: n }, 'purged completed idempotency keys past their retention');
  }, config.idempotency.purgeIntervalMinutes * 60_000);
  idempotencyPurge.unref();

  const server = http.createServer(gw.app);
  answerClientErrors(server, logger);
  // Node closes an idle keep-alive connection after 5 s, and advertises it. A client whose event loop was
  // busy for a few seconds (seen: the e2e runner compiling the next test file) still holds that socket
  // as alive, writes its next request into it and gets "other side closed" before any response. Keep
  // idle connections a minute instead (what load balancers in front of such services commonly expect);
  // headers must be allowed to take longer than that.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 5_000;
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
      clearInterval(idempotencyPurge);
      stopping = true;
      const timer = setTimeout(() => server.closeAllConnections(), config.timeouts.shutdownMs);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      gw.closeEventStreams();
      await Promise.all([serverClosed, gw.worker.stop(), gw.beacon?.stop(), gw.agents?.stop(), gw.analytics.listener.stop()]);
      clearTimeout(timer);
      ledger.close();
      gw.analytics.db.close();
      await stopCheckpointer?.();
      db.close();
      logger.info('gateway stopped');
    })());
  return { url, port, org: org.name, gateway: gw, close };
}

/**
 * The delivery worker's relay (docs/market.md "Relayed readings"): batches go out signed by the
 * utility's operator; each reading is signed with its meter's key over the protocol's
 * relayedReadingMessage, for meters whose current certificate key the ledger holds.
 */
function meterRelay(meters: MeterIdentities, operator: ActingIdentity, channel: string, maxReadings: number, concurrency: number, lingerMs: number): Relayer {
  const keys = new Map<string, crypto.KeyObject>(); // PEM → parsed key (bounded; the wallet caches the PEM)
  return {
    identity: operator,
    maxReadings,
    concurrency,
    lingerMs,
    eligible: (meterId) => meters.relayKey(meterId) !== undefined,
    sign: (meterId, reading) => {
      const k = meters.relayKey(meterId);
      if (!k) return undefined;
      let key = keys.get(k.privateKeyPem);
      if (!key) {
        if (keys.size >= 10_000) keys.clear();
        keys.set(k.privateKeyPem, (key = crypto.createPrivateKey(k.privateKeyPem)));
      }
      return crypto.sign('sha256', relayedReadingMessage(channel, k.mspId, reading as unknown as Reading), { key, dsaEncoding: 'der' }).toString('base64');
    },
  };
}
