import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import type { AgentsConfig } from '../agents/service';
import { DEFAULT_KEEPER_BACKUP_MS } from '../agents/duties/keeper';
import { configSchema } from './schema';

export interface GatewayConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** 32 bytes, decoded; absent = devnet only: a key file in dataDir is created/used (see startGateway) */
  walletKey?: Buffer;
  apiKeysFile?: string;
  /** check every answer against openapi.yaml; a mismatch becomes a 500 `response-invalid` (test networks) */
  validateResponses?: boolean;
  network: {
    path: string;
    org?: string;
    operatorUser?: string;
    regulatorUser?: string;
    chaincode: string;
    channel?: string;
    transientEndorsers?: string[];
  };
  timeouts: {
    evaluateMs: number;
    endorseMs: number;
    submitMs: number;
    commitStatusMs: number;
    /** how long `?sync=true` waits for a queued reading to commit before answering 202 */
    syncWaitMs: number;
    shutdownMs: number;
  };
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  queue: { pollIntervalMs: number; concurrency: number; maxCoalesce: number; relayBatch: number; relayConcurrency: number; relayLingerMs: number; groupCommitMaxDelayMs: number; groupCommitMaxBatch: number; retentionDays: number; ledgerThread: boolean };
  ca: { maxEnrollments: number; affiliation: string };
  idempotency: { required: boolean; retentionHours: number; purgeIntervalMinutes: number };
  beacon: { enabled: boolean; startBlock: number; retryBaseMs: number; retryMaxMs: number; reconnectMs: number; stepInMs: number };
  events: { heartbeatMs: number; maxClients: number };
  agents: AgentsConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid gateway configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Environment variables and the config path each one sets. */
export const ENV_SETTINGS: ReadonlyArray<{ env: string; path: string; kind: 'string' | 'int' | 'bool' }> = [
  { env: 'GATEWAY_HOST', path: 'host', kind: 'string' },
  { env: 'GATEWAY_PORT', path: 'port', kind: 'int' },
  { env: 'GATEWAY_DATA_DIR', path: 'dataDir', kind: 'string' },
  { env: 'GATEWAY_LOG_LEVEL', path: 'logLevel', kind: 'string' },
  { env: 'GATEWAY_WALLET_KEY', path: 'walletKey', kind: 'string' },
  { env: 'GATEWAY_API_KEYS_FILE', path: 'apiKeysFile', kind: 'string' },
  { env: 'GATEWAY_NETWORK_FILE', path: 'network.path', kind: 'string' },
  { env: 'GATEWAY_ORG', path: 'network.org', kind: 'string' },
  { env: 'GATEWAY_OPERATOR_USER', path: 'network.operatorUser', kind: 'string' },
  { env: 'GATEWAY_REGULATOR_USER', path: 'network.regulatorUser', kind: 'string' },
  { env: 'GATEWAY_CHAINCODE', path: 'network.chaincode', kind: 'string' },
  { env: 'GATEWAY_CHANNEL', path: 'network.channel', kind: 'string' },
  { env: 'GATEWAY_COMMIT_TIMEOUT_MS', path: 'timeouts.commitStatusMs', kind: 'int' },
  { env: 'GATEWAY_SYNC_WAIT_MS', path: 'timeouts.syncWaitMs', kind: 'int' },
  { env: 'GATEWAY_RETRY_MAX_ATTEMPTS', path: 'retry.maxAttempts', kind: 'int' },
  { env: 'GATEWAY_QUEUE_CONCURRENCY', path: 'queue.concurrency', kind: 'int' },
  { env: 'GATEWAY_QUEUE_MAX_COALESCE', path: 'queue.maxCoalesce', kind: 'int' },
  { env: 'GATEWAY_QUEUE_RELAY_BATCH', path: 'queue.relayBatch', kind: 'int' },
  { env: 'GATEWAY_QUEUE_RELAY_CONCURRENCY', path: 'queue.relayConcurrency', kind: 'int' },
  { env: 'GATEWAY_QUEUE_RELAY_LINGER_MS', path: 'queue.relayLingerMs', kind: 'int' },
  { env: 'GATEWAY_LEDGER_THREAD', path: 'queue.ledgerThread', kind: 'bool' },
  { env: 'GATEWAY_IDEMPOTENCY_REQUIRED', path: 'idempotency.required', kind: 'bool' },
  { env: 'GATEWAY_CA_MAX_ENROLLMENTS', path: 'ca.maxEnrollments', kind: 'int' },
  { env: 'GATEWAY_BEACON_ENABLED', path: 'beacon.enabled', kind: 'bool' },
  { env: 'GATEWAY_VALIDATE_RESPONSES', path: 'validateResponses', kind: 'bool' },
  { env: 'GATEWAY_AGENTS_ENABLED', path: 'agents.enabled', kind: 'bool' },
];

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  logLevel: 'info',
  network: { chaincode: 'gridledger' },
  timeouts: { evaluateMs: 5000, endorseMs: 15000, submitMs: 5000, commitStatusMs: 60000, syncWaitMs: 30000, shutdownMs: 15000 },
  retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5000 },
  // concurrency: docs/benchmarks.md ("REST ingest") — 64 transactions in flight keep the devnet's
  // blocks full (maxMessageCount 10) without queueing at the orderer; maxCoalesce: chaincode MAX_BATCH
  queue: { pollIntervalMs: 1000, concurrency: 64, maxCoalesce: 96, relayBatch: 96, relayConcurrency: 4, relayLingerMs: 100, groupCommitMaxDelayMs: 0, groupCommitMaxBatch: 512, retentionDays: 30, ledgerThread: true },
  ca: { maxEnrollments: 1, affiliation: '' },
  idempotency: { required: false, retentionHours: 24 * 7, purgeIntervalMinutes: 60 },
  beacon: { enabled: true, startBlock: 0, retryBaseMs: 1000, retryMaxMs: 60_000, reconnectMs: 2000, stepInMs: 10_000 },
  events: { heartbeatMs: 15_000, maxClients: 100 },
  agents: {
    enabled: true,
    startBlock: 0,
    reconnectMs: 2000,
    retryBaseMs: 500,
    retryMaxMs: 30_000,
    maxAttempts: 40,
    concurrency: 8,
    keeper: { enabled: true, marginMs: 2000, staggerMs: 3000, backupMs: DEFAULT_KEEPER_BACKUP_MS, fold: {} }, // fold: derived from the slot length where unset (foldPolicyFor)
    defaults: { behaviour: 'honest', autopilot: false },
    meters: {},
  },
};

type Json = Record<string, unknown>;

function setPath(obj: Json, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Json;
  }
  cur[parts[parts.length - 1]!] = value;
}

function getPath(obj: Json, dotted: string): unknown {
  let cur: unknown = obj;
  for (const p of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Json)[p];
  }
  return cur;
}

function mergeDefaults(target: Json, defaults: Json): Json {
  for (const [k, v] of Object.entries(defaults)) {
    if (target[k] === undefined) target[k] = structuredClone(v);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) {
      mergeDefaults(target[k] as Json, v as Json);
    }
  }
  return target;
}

/** `--config <file>` or `--config=<file>` from argv. */
export function configPathFromArgv(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

export function decodeWalletKey(text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateRaw = ajv.compile(configSchema);

/**
 * Builds the configuration from (lowest to highest precedence) defaults, `GRIDLEDGER_HOME`, the config
 * file, and the GATEWAY_* environment variables; validates it and throws a ConfigError that lists every
 * problem with the setting to change.
 */
export function loadConfig(opts: { argv?: string[]; env?: NodeJS.ProcessEnv; file?: string; overrides?: Json } = {}): GatewayConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? configPathFromArgv(opts.argv ?? []) ?? env.GATEWAY_CONFIG;
  const problems: string[] = [];
  const source = new Map<string, string>();
  let raw: Json = {};

  if (file) {
    const abs = path.resolve(file);
    try {
      const text = fs.readFileSync(abs, 'utf8');
      const parsed: unknown = YAML.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`config file ${abs}: must contain a JSON/YAML object`);
      } else {
        raw = parsed as Json;
        // relative paths in the file are relative to the file
        for (const p of ['dataDir', 'apiKeysFile', 'network.path']) {
          const v = getPath(raw, p);
          if (typeof v === 'string' && v !== '' && !path.isAbsolute(v)) setPath(raw, p, path.resolve(path.dirname(abs), v));
          if (v !== undefined) source.set(p, `config file ${abs}`);
        }
        for (const k of Object.keys(raw)) if (!source.has(k)) source.set(k, `config file ${abs}`);
      }
    } catch (e) {
      problems.push(`config file ${abs}: ${(e as Error).message}`);
    }
  }

  for (const s of ENV_SETTINGS) {
    const v = env[s.env];
    if (v === undefined || v === '') continue;
    let value: unknown = v;
    if (s.kind === 'int' && /^-?\d+$/.test(v.trim())) value = Number(v.trim());
    if (s.kind === 'bool' && /^(true|false|1|0)$/i.test(v.trim())) value = /^(true|1)$/i.test(v.trim());
    setPath(raw, s.path, value);
    source.set(s.path, `environment variable ${s.env}`);
  }

  const home = env.GRIDLEDGER_HOME;
  if (home) {
    if (getPath(raw, 'network.path') === undefined) {
      setPath(raw, 'network.path', path.join(home, 'network.json'));
      source.set('network.path', 'GRIDLEDGER_HOME');
    }
    const org = getPath(raw, 'network.org');
    if (getPath(raw, 'dataDir') === undefined) {
      setPath(raw, 'dataDir', path.join(home, typeof org === 'string' ? `gateway-${org}` : 'gateway'));
      source.set('dataDir', 'GRIDLEDGER_HOME');
    }
  }
  if (opts.overrides) for (const [k, v] of Object.entries(opts.overrides)) setPath(raw, k, v);

  mergeDefaults(raw, DEFAULTS as unknown as Json);

  if (!validateRaw(raw)) {
    for (const err of validateRaw.errors ?? []) {
      const where = err.instancePath.replace(/^\//, '').replace(/\//g, '.');
      let msg: string;
      if (err.keyword === 'required') {
        const missing = where ? `${where}.${String(err.params.missingProperty)}` : String(err.params.missingProperty);
        const envs = ENV_SETTINGS.filter((s) => s.path === missing).map((s) => s.env);
        msg = `${missing} is required` + (envs.length ? ` (set it in the config file or with ${envs.join('/')})` : '');
        if (missing === 'network.path') msg += ' or set GRIDLEDGER_HOME';
        if (missing === 'dataDir') msg += ' or set GRIDLEDGER_HOME';
      } else if (err.keyword === 'additionalProperties') {
        msg = `${where ? where + '.' : ''}${String(err.params.additionalProperty)} is not a known setting`;
      } else if (where === 'walletKey' && err.keyword === 'pattern') {
        msg = 'walletKey must be 32 random bytes as 64 hex characters or 44 base64 characters (e.g. `openssl rand -hex 32`)';
      } else {
        msg = `${where || '(root)'} ${err.message ?? 'is invalid'}`;
        if (err.keyword === 'enum') msg += `: ${JSON.stringify(err.params.allowedValues)}`;
      }
      const src = source.get(where);
      problems.push(src && err.keyword !== 'required' ? `${msg} (from ${src})` : msg);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const cfg = raw as unknown as Omit<GatewayConfig, 'walletKey'> & { walletKey?: string };
  const { walletKey, ...rest } = cfg;
  const resolved: GatewayConfig = { ...rest, dataDir: path.resolve(cfg.dataDir), ...(walletKey ? { walletKey: decodeWalletKey(walletKey) } : {}) };
  resolved.network = { ...cfg.network, path: path.resolve(cfg.network.path) };
  if (cfg.apiKeysFile) resolved.apiKeysFile = path.resolve(cfg.apiKeysFile);
  return resolved;
}
