/**
 * Configuration: command-line flags, each with an environment variable behind it (flag wins), and
 * defaults that make `npm start` show a small, lively community. Parsed with node:util parseArgs; every
 * bad value is a message that says what to fix.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';

export interface CommunityConfig {
  /** the network's runtime directory ($GRIDLEDGER_HOME): gateways.json, network.json */
  home: string;
  /** where the community keeps its state (meter keys, registers, secrets) and status.json */
  stateDir: string;
  households: number;
  zones: number;
  /** use the first N utilities of gateways.json (0 = all) */
  utilities: number;
  seed: number;
  /**
   * metering interval, seconds; 0 = the network's: its market parameter `minIntervalSeconds` (60 on a
   * development network, 300 in production; docs/market.md "Metering intervals"), read at start
   */
  intervalSeconds: number;
  /** profile seconds per wall-clock second (12: one hour of sun and load per 5 real minutes) */
  speed: number;
  /** profile time of the community's first interval (Unix seconds) */
  profileStart: number;
  latitude: number;
  longitude: number;
  /** share of households with PV */
  pvShare: number;
  /** share of buyers that run a sealed-bid auction instead of taking offers */
  auctionShare: number;
  /** share of households whose agents get a faulty behaviour */
  faultyShare: number;
  /** retail price, minor units per kWh: the ceiling of every ask and bid */
  retailPricePerKwh: number;
  /** at most this many offers (lots) per seller and interval */
  maxLots: number;
  /** wallet credit each household gets once, minor units */
  fundsPerHousehold: number;
  meterPrefix: string;
  logLevel: string;
}

const FLAGS = {
  home: { env: 'GRIDLEDGER_HOME', help: 'network runtime directory (gateways.json); required' },
  'state-dir': { env: 'COMMUNITY_STATE_DIR', help: 'state directory (default <home>/community)' },
  households: { env: 'COMMUNITY_HOUSEHOLDS', help: 'number of households (default 12)' },
  zones: { env: 'COMMUNITY_ZONES', help: 'number of grid zones (default 2)' },
  utilities: { env: 'COMMUNITY_UTILITIES', help: 'use the first N utilities (default 0 = all)' },
  seed: { env: 'COMMUNITY_SEED', help: 'seed of every random draw (default 1)' },
  interval: { env: 'COMMUNITY_INTERVAL_SECONDS', help: "metering interval in seconds (default: the network's minIntervalSeconds)" },
  speed: { env: 'COMMUNITY_SPEED', help: 'profile seconds per real second (default 12)' },
  'profile-start': { env: 'COMMUNITY_PROFILE_START', help: 'profile time of the first interval, ISO 8601 (default 2026-06-21T07:00:00Z)' },
  latitude: { env: 'COMMUNITY_LATITUDE', help: 'site latitude, degrees (default 48.14)' },
  longitude: { env: 'COMMUNITY_LONGITUDE', help: 'site longitude, degrees east (default 11.58)' },
  'pv-share': { env: 'COMMUNITY_PV_SHARE', help: 'share of households with PV, 0..1 (default 0.6)' },
  'auction-share': { env: 'COMMUNITY_AUCTION_SHARE', help: 'share of buyers running auctions, 0..1 (default 0.25)' },
  'faulty-share': { env: 'COMMUNITY_FAULTY_SHARE', help: 'share of households with a faulty agent behaviour, 0..1 (default 0)' },
  'retail-price': { env: 'COMMUNITY_RETAIL_PRICE', help: 'retail price, minor units per kWh (default 300)' },
  lots: { env: 'COMMUNITY_LOTS', help: 'at most this many offers per seller and interval (default 2)' },
  funds: { env: 'COMMUNITY_FUNDS', help: 'wallet credit per household, minor units (default 1000000)' },
  'meter-prefix': { env: 'COMMUNITY_METER_PREFIX', help: 'meter id prefix (default hh-)' },
  'log-level': { env: 'COMMUNITY_LOG_LEVEL', help: 'pino level (default info)' },
} as const;

export function usage(): string {
  const lines = Object.entries(FLAGS).map(([flag, f]) => `  --${flag.padEnd(15)} ${f.env.padEnd(28)} ${f.help}`);
  return ['usage: gridledger-community [--flag value ...]   (flag, environment variable, meaning)', ...lines, '  --help'].join('\n');
}

export class ConfigError extends Error {}

function num(name: string, raw: string | undefined, def: number, min: number, max: number, integer: boolean): number {
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new ConfigError(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${raw}'`);
  }
  return v;
}

/** Parses argv (without node and script) and env into a configuration; throws ConfigError on bad input. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CommunityConfig | 'help' {
  const options = Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${usage()}`);
  }
  if (values.help) return 'help';
  const get = (flag: keyof typeof FLAGS): string | undefined => (values[flag] as string | undefined) ?? env[FLAGS[flag].env];

  const home = get('home');
  if (!home) throw new ConfigError(`the network home is required: --home DIR or GRIDLEDGER_HOME (the directory holding gateways.json)\n${usage()}`);
  const startRaw = get('profile-start') ?? '2026-06-21T07:00:00Z';
  const startMs = Date.parse(startRaw);
  if (!Number.isFinite(startMs)) throw new ConfigError(`profile-start must be an ISO 8601 time, got '${startRaw}'`);
  const intervalSeconds = num('interval', get('interval'), 0, 60, 3600, true);
  if (intervalSeconds !== 0 && 86_400 % intervalSeconds !== 0) throw new ConfigError(`interval must divide a day (60, 300, 900, 1800, 3600, ...), got ${intervalSeconds}`);
  const prefix = get('meter-prefix') ?? 'hh-';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,55}$/.test(prefix)) throw new ConfigError(`meter-prefix must be 1-56 of A-Z a-z 0-9 . _ - starting with a letter or digit, got '${prefix}'`);
  return {
    home,
    stateDir: get('state-dir') ?? join(home, 'community'),
    households: num('households', get('households'), 12, 1, 10_000, true),
    zones: num('zones', get('zones'), 2, 1, 100, true),
    utilities: num('utilities', get('utilities'), 0, 0, 100, true),
    seed: num('seed', get('seed'), 1, 0, 4_294_967_295, true),
    intervalSeconds,
    speed: num('speed', get('speed'), 12, 0.01, 10_000, false),
    profileStart: Math.floor(startMs / 1000),
    latitude: num('latitude', get('latitude'), 48.14, -90, 90, false),
    longitude: num('longitude', get('longitude'), 11.58, -180, 180, false),
    pvShare: num('pv-share', get('pv-share'), 0.6, 0, 1, false),
    auctionShare: num('auction-share', get('auction-share'), 0.25, 0, 1, false),
    faultyShare: num('faulty-share', get('faulty-share'), 0, 0, 1, false),
    retailPricePerKwh: num('retail-price', get('retail-price'), 300, 1, 1_000_000, true),
    maxLots: num('lots', get('lots'), 2, 0, 100, true),
    fundsPerHousehold: num('funds', get('funds'), 1_000_000, 0, 1_000_000_000, true),
    meterPrefix: prefix,
    logLevel: get('log-level') ?? 'info',
  };
}

/**
 * The configuration with its metering interval settled: the configured one, else the network's shortest
 * accepted interval (`GET /api/v1/market/parameters` → `minIntervalSeconds`), so the community follows the
 * network (60 s on a development devnet) instead of a constant of its own.
 */
export async function withNetworkInterval(cfg: CommunityConfig, marketParameters: () => Promise<{ minIntervalSeconds?: unknown }>): Promise<CommunityConfig> {
  if (cfg.intervalSeconds) return cfg;
  const m = (await marketParameters()).minIntervalSeconds;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 60 || 86_400 % m !== 0) {
    throw new ConfigError(`the network's market parameter minIntervalSeconds is ${JSON.stringify(m)}; set --interval / COMMUNITY_INTERVAL_SECONDS`);
  }
  return { ...cfg, intervalSeconds: m };
}
