/**
 * The network's two descriptions that cross workspaces (docs/architecture.md "Wire contract"):
 *
 * - `network.yaml` (test-network-config/network.yaml): the single description of orgs, channel and
 *   chaincodes shared by the devnet, the Fabric tier (network/fabric/lib/fabric.js) and the start
 *   scripts (network/scripts/netinfo.js). `loadNetworkConfig` validates it with a JSON schema and
 *   resolves port offsets into absolute ports; bad config fails at start-up with every problem listed.
 * - `network.json` (`$GRIDLEDGER_HOME/network.json`): what a running tier writes (the devnet,
 *   network/devnet/src/devnet.ts; the Fabric tier, network/fabric/lib/fabric.js `network-json`) and the
 *   gateway, the community and the e2e suites read: endpoints, certificates and control commands.
 *   `parseNetworkJson` / `loadNetworkJson` validate it against `NETWORK_JSON_SCHEMA`.
 *
 * Both loaders read only the file they are given (no environment, no clock); the JSON-schema validators
 * are compiled on first use, so importing this package costs the chaincode nothing.
 */
import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';

export interface CollectionConfig {
  name: string;
  policy: string;
  memberOnlyRead: boolean;
  memberOnlyWrite: boolean;
  endorsementPolicy: string | null;
}

export interface ChaincodeConfig {
  name: string;
  /**
   * host:port of the chaincode-as-a-service server each org's peer dials (as Fabric's ccaas builder
   * does, from the package's connection.json), by org name; every org is listed. With network.yaml
   * `addressPortOffsets` each org has its own server, run with that org's `CORE_PEER_LOCALMSPID`
   * (so `stub.getMspID()` names the endorsing org, as on a Fabric network where each org runs its
   * chaincode); with `addressPortOffset` every org dials the same one.
   */
  addresses: Record<string, string>;
  /** true when each org has its own server (`addressPortOffsets`) */
  perOrg: boolean;
  endorsementPolicy: string;
  collections: CollectionConfig[];
}

export interface OrgConfig {
  name: string;
  mspId: string;
  domain: string;
  /** Address the org's nodes listen on and are reached at (one org per host); default 127.0.0.1. */
  host: string;
  peerPort: number;
  caPort: number;
  opsPort: number;
}

export interface IdentityConfig {
  org: string;
  name: string;
  type: 'client' | 'admin' | 'peer' | 'orderer';
  attrs: Record<string, string>;
}

export interface NetworkConfig {
  portBase: number;
  channel: string;
  orderer: {
    name: string;
    mspId: string;
    domain: string;
    /** Address of the orderer org's nodes (its CA; on Fabric also the orderers); default 127.0.0.1. */
    host: string;
    caPort: number;
    /** The orderer node's gRPC endpoint (Broadcast, Deliver): port base + 21, where the Fabric tier's orderer1 listens. */
    port: number;
    batch: { maxMessageCount: number; timeoutMs: number };
  };
  organizations: OrgConfig[];
  identities: IdentityConfig[];
  chaincodes: ChaincodeConfig[];
  gateway: { port: number };
  /**
   * Development settings the start scripts apply at bootstrap, as the regulator, on the devnet
   * (docs/operations.md "Short intervals on development networks"). Absent: production defaults.
   */
  development?: { intervalSeconds: 60 | 300 };
}

/**
 * An IPv4 address or a DNS name: what `host:port` endpoints, TLS certificate SANs and listen
 * addresses are built from. IPv6 literals would need brackets in every endpoint, so they are refused.
 */
const HOST_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$' } as const;
export const DEFAULT_HOST = '127.0.0.1';

const NETWORK_YAML_SCHEMA = {
  type: 'object',
  required: ['portBase', 'channel', 'orderer', 'organizations', 'chaincodes'],
  additionalProperties: false,
  properties: {
    portBase: { type: 'integer', minimum: 1024, maximum: 65000 },
    channel: { type: 'string', pattern: '^[a-z][a-z0-9.-]{0,248}$' },
    orderer: {
      type: 'object',
      required: ['name', 'mspId', 'domain', 'batch', 'caPortOffset'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        mspId: { type: 'string', minLength: 1 },
        domain: { type: 'string', minLength: 1 },
        host: HOST_SCHEMA,
        caPortOffset: { type: 'integer', minimum: 0, maximum: 499 },
        batch: {
          type: 'object',
          required: ['maxMessageCount', 'timeoutMs'],
          additionalProperties: false,
          properties: {
            maxMessageCount: { type: 'integer', minimum: 1, maximum: 10000 },
            timeoutMs: { type: 'integer', minimum: 1, maximum: 60000 },
          },
        },
      },
    },
    organizations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'mspId', 'domain', 'peerPortOffset', 'caPortOffset', 'opsPortOffset'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
          mspId: { type: 'string', minLength: 1 },
          domain: { type: 'string', minLength: 1 },
          host: HOST_SCHEMA,
          peerPortOffset: { type: 'integer', minimum: 0, maximum: 499 },
          caPortOffset: { type: 'integer', minimum: 0, maximum: 499 },
          opsPortOffset: { type: 'integer', minimum: 0, maximum: 499 },
        },
      },
    },
    identities: {
      type: 'array',
      items: {
        type: 'object',
        required: ['org', 'name', 'type'],
        additionalProperties: false,
        properties: {
          org: { type: 'string' },
          name: { type: 'string', pattern: '^[A-Za-z0-9._@-]+$' },
          type: { enum: ['client', 'admin', 'peer', 'orderer'] },
          attrs: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
    chaincodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'endorsementPolicy'],
        // one server for every org, or one per org (org name → offset; every org must be named)
        oneOf: [{ required: ['addressPortOffset'] }, { required: ['addressPortOffsets'] }],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$' },
          addressPortOffset: { type: 'integer', minimum: 0, maximum: 499 },
          addressPortOffsets: {
            type: 'object',
            minProperties: 1,
            additionalProperties: { type: 'integer', minimum: 0, maximum: 499 },
          },
          endorsementPolicy: { type: 'string', minLength: 1 },
          collections: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'policy'],
              additionalProperties: false,
              properties: {
                // F core/chaincode/lifecycle/scc.go collectionNameRegExp: no leading '_', so no clash with _implicit_org_*
                name: { type: 'string', pattern: '^[A-Za-z0-9-]+([A-Za-z0-9_-]+)*$' },
                policy: { type: 'string', minLength: 1 },
                memberOnlyRead: { type: 'boolean' },
                memberOnlyWrite: { type: 'boolean' },
                endorsementPolicy: { type: ['string', 'null'] },
              },
            },
          },
        },
      },
    },
    gateway: {
      type: 'object',
      required: ['portOffset'],
      additionalProperties: false,
      properties: { portOffset: { type: 'integer', minimum: 0, maximum: 499 } },
    },
    development: {
      type: 'object',
      required: ['intervalSeconds'],
      additionalProperties: false,
      // 60: one-minute metering intervals with slots and windows scaled to match; 300: the production floor
      properties: { intervalSeconds: { enum: [60, 300] } },
    },
  },
} as const;

/** A network.yaml or network.json that cannot be used; the message lists every problem. */
export class NetworkConfigError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`invalid network config ${file}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'NetworkConfigError';
    this.problems = problems;
  }
}

/** A network.yaml document as NETWORK_YAML_SCHEMA accepts it (ports as offsets from `portBase`). */
interface NetworkYaml {
  portBase: number;
  channel: string;
  orderer: { name: string; mspId: string; domain: string; host?: string; caPortOffset: number; batch: { maxMessageCount: number; timeoutMs: number } };
  organizations: Array<{ name: string; mspId: string; domain: string; host?: string; peerPortOffset: number; caPortOffset: number; opsPortOffset: number }>;
  identities?: Array<Omit<IdentityConfig, 'attrs'> & { attrs?: Record<string, string> }>;
  chaincodes: Array<{ name: string; addressPortOffset?: number; addressPortOffsets?: Record<string, number>; endorsementPolicy: string; collections?: Array<Pick<CollectionConfig, 'name' | 'policy'> & Partial<CollectionConfig>> }>;
  gateway?: { portOffset: number };
  development?: { intervalSeconds: 60 | 300 };
}

let yamlValidator: ValidateFunction<NetworkYaml> | undefined;

/** Parses and validates a network.yaml document; `portBase` overrides the file's value. */
export function parseNetworkConfig(text: string, file = 'network.yaml', portBaseOverride?: number): NetworkConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new NetworkConfigError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  yamlValidator ??= new Ajv({ allErrors: true }).compile<NetworkYaml>(NETWORK_YAML_SCHEMA);
  const validate = yamlValidator;
  if (!validate(raw)) {
    throw new NetworkConfigError(file, (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
  }
  const r = raw;
  const base: number = portBaseOverride ?? r.portBase;
  const problems: string[] = [];
  const orgNames = new Set<string>();
  for (const o of r.organizations) {
    if (orgNames.has(o.name)) problems.push(`organization ${o.name} is defined twice`);
    orgNames.add(o.name);
  }
  for (const id of r.identities ?? []) {
    if (!orgNames.has(id.org)) problems.push(`identity ${id.name} names unknown org ${id.org}`);
  }
  for (const c of r.chaincodes) {
    if (!c.addressPortOffsets) continue;
    for (const o of Object.keys(c.addressPortOffsets)) {
      if (!orgNames.has(o)) problems.push(`chaincode ${c.name}: addressPortOffsets names unknown org ${o}`);
    }
    for (const o of orgNames) {
      if (c.addressPortOffsets[o] === undefined) problems.push(`chaincode ${c.name}: addressPortOffsets has no server for org ${o}`);
    }
  }
  const cfg: NetworkConfig = {
    portBase: base,
    channel: r.channel,
    orderer: {
      name: r.orderer.name,
      mspId: r.orderer.mspId,
      domain: r.orderer.domain,
      host: r.orderer.host ?? DEFAULT_HOST,
      caPort: base + r.orderer.caPortOffset,
      port: base + ORDERER_PORT_OFFSET,
      batch: { ...r.orderer.batch },
    },
    organizations: r.organizations.map((o) => ({
      name: o.name,
      mspId: o.mspId,
      domain: o.domain,
      host: o.host ?? DEFAULT_HOST,
      peerPort: base + o.peerPortOffset,
      caPort: base + o.caPortOffset,
      opsPort: base + o.opsPortOffset,
    })),
    identities: (r.identities ?? []).map((i) => ({ ...i, attrs: i.attrs ?? {} })),
    chaincodes: r.chaincodes.map((c) => ({
      name: c.name,
      addresses: Object.fromEntries(
        r.organizations.map((o) => {
          const perOrg = c.addressPortOffsets;
          return [o.name, `127.0.0.1:${base + (perOrg ? (perOrg[o.name] ?? 0) : (c.addressPortOffset ?? 0))}`];
        }),
      ),
      perOrg: c.addressPortOffsets !== undefined,
      endorsementPolicy: c.endorsementPolicy,
      collections: (c.collections ?? []).map((col) => ({
        name: col.name,
        policy: col.policy,
        memberOnlyRead: col.memberOnlyRead ?? false,
        memberOnlyWrite: col.memberOnlyWrite ?? false,
        endorsementPolicy: col.endorsementPolicy ?? null,
      })),
    })),
    gateway: { port: base + (r.gateway?.portOffset ?? 80) },
    ...(r.development ? { development: { intervalSeconds: r.development.intervalSeconds } } : {}),
  };
  const ports = new Map<number, string>();
  const claim = (port: number, what: string) => {
    const prev = ports.get(port);
    if (prev) problems.push(`port ${port} is used by both ${prev} and ${what}`);
    ports.set(port, what);
  };
  claim(cfg.orderer.caPort, 'orderer CA');
  claim(cfg.orderer.port, 'orderer');
  for (const o of cfg.organizations) {
    claim(o.peerPort, `${o.name} peer`);
    claim(o.caPort, `${o.name} CA`);
    claim(o.opsPort, `${o.name} operations`);
  }
  for (const c of cfg.chaincodes) {
    if (!c.perOrg) claim(Number(Object.values(c.addresses)[0]?.split(':')[1]), `chaincode ${c.name}`);
    else for (const [o, a] of Object.entries(c.addresses)) claim(Number(a.split(':')[1]), `chaincode ${c.name} of ${o}`);
  }
  claim(cfg.gateway.port, 'gateway');
  if (problems.length > 0) throw new NetworkConfigError(file, problems);
  return cfg;
}

/** network/fabric/lib/fabric.js OFFSETS.ordererListen + 1: the devnet's one orderer sits where the Fabric tier's orderer1 does. */
export const ORDERER_PORT_OFFSET = 21;

export function loadNetworkConfig(file: string, portBaseOverride?: number): NetworkConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NetworkConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  return parseNetworkConfig(text, file, portBaseOverride);
}

// ---------------------------------------------------------------------------------------------
// network.json: what a running tier writes and every client reads

export interface NetworkUserFiles {
  certPath: string;
  keyPath: string;
}

export interface NetworkOrg {
  name: string;
  mspId: string;
  peer: { endpoint: string; hostAlias: string; tlsRootCertPath: string };
  ca: {
    url: string;
    caName: string;
    tlsRootCertPath: string;
    registrar: { enrollmentId: string; enrollmentSecret: string };
  };
  /** the org's enrolled identities by name (admin, operator1, …) */
  users: Record<string, NetworkUserFiles>;
  /** the peer's operations endpoint (`http://host:port`: /healthz, /metrics) */
  operations?: string;
}

export interface NetworkChaincode {
  name: string;
  /** host:port of the chaincode-as-a-service server each org's peer dials, by org name (network.yaml; the same for every org when one server serves them all) */
  addresses: Record<string, string>;
  /** the package id installed on each org's peer, by org name (Fabric tier: one ccaas package per org, since the address is in the package) */
  packageIds?: Record<string, string>;
}

export interface NetworkOrdererNode {
  name: string;
  endpoint: string;
  hostAlias: string;
  /** osnadmin endpoint (Fabric tier) */
  admin?: string;
  operations?: string;
  pidFile?: string;
}

export interface NetworkOrderer {
  batch: { maxMessageCount: number; timeoutMs: number };
  /** `solo` (the devnet's in-process orderer) or `BFT` (the Fabric tier's four orderers) */
  consensus: string;
  mspId: string;
  tlsRootCertPath: string;
  nodes: NetworkOrdererNode[];
}

export interface NetworkControl {
  /** pid files of every process that holds the ledger; SIGKILL them to simulate a crash. */
  ledgerPidFiles: string[];
  /** argv that brings the ledger back on the same home after a crash. */
  restartLedger?: string[];
  /** argv that puts an org's CRL into the channel MSP (`{mspId}`, `{crlFile}` are placeholders). */
  applyCrl?: string[];
  /** Fabric only: argv that adds one SmartBFT orderer to the consenters (network.sh add-orderer). */
  addOrderer?: string[];
  /** Fabric only: argv that removes the orderer `{name}` from the consenters (network.sh remove-orderer). */
  removeOrderer?: string[];
  /** Fabric only: argv that adds the utility `{name}` to the consortium (network.sh add-org). */
  addOrg?: string[];
  /** Fabric only: argv that removes the utility `{name}` from the consortium (network.sh remove-org). */
  removeOrg?: string[];
  /**
   * org name → pid file of the process that serves its Fabric CA (on the devnet the devnet itself, on
   * Fabric `pids/ca-<org>.pid`): SIGSTOP/SIGCONT it to hold the CA's answers (test/e2e/rest/15-lost-enrolment).
   */
  caPidFiles?: Record<string, string>;
}

/** `$GRIDLEDGER_HOME/network.json` (network/devnet/DESIGN.md, docs/operations.md). */
export interface NetworkJson {
  tier: 'devnet' | 'fabric';
  channel: string;
  home: string;
  organizations: NetworkOrg[];
  chaincodes: NetworkChaincode[];
  orderer: NetworkOrderer;
  control: NetworkControl;
}

const STR = { type: 'string', minLength: 1 } as const;
const STRS = { type: 'array', items: { type: 'string' } } as const;

/** JSON schema of network.json. Extra properties are allowed (a tier may add facts); every listed one is checked. */
export const NETWORK_JSON_SCHEMA = {
  $id: 'urn:gridledger:network.json',
  type: 'object',
  required: ['tier', 'channel', 'home', 'organizations', 'chaincodes', 'orderer', 'control'],
  properties: {
    tier: { enum: ['devnet', 'fabric'] },
    channel: STR,
    home: STR,
    organizations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'mspId', 'peer', 'ca', 'users'],
        properties: {
          name: STR,
          mspId: STR,
          peer: {
            type: 'object',
            required: ['endpoint', 'hostAlias', 'tlsRootCertPath'],
            properties: { endpoint: STR, hostAlias: STR, tlsRootCertPath: STR },
          },
          ca: {
            type: 'object',
            required: ['url', 'caName', 'tlsRootCertPath', 'registrar'],
            properties: {
              url: STR,
              caName: STR,
              tlsRootCertPath: STR,
              registrar: {
                type: 'object',
                required: ['enrollmentId', 'enrollmentSecret'],
                properties: { enrollmentId: STR, enrollmentSecret: { type: 'string' } },
              },
            },
          },
          users: {
            type: 'object',
            additionalProperties: { type: 'object', required: ['certPath', 'keyPath'], properties: { certPath: STR, keyPath: STR } },
          },
          operations: STR,
        },
      },
    },
    chaincodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'addresses'],
        properties: {
          name: STR,
          addresses: { type: 'object', minProperties: 1, additionalProperties: STR },
          packageIds: { type: 'object', additionalProperties: STR },
        },
      },
    },
    orderer: {
      type: 'object',
      required: ['batch', 'consensus', 'mspId', 'tlsRootCertPath', 'nodes'],
      properties: {
        batch: {
          type: 'object',
          required: ['maxMessageCount', 'timeoutMs'],
          properties: { maxMessageCount: { type: 'integer', minimum: 1 }, timeoutMs: { type: 'integer', minimum: 1 } },
        },
        consensus: STR,
        mspId: STR,
        tlsRootCertPath: STR,
        nodes: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['name', 'endpoint', 'hostAlias'],
            properties: { name: STR, endpoint: STR, hostAlias: STR, admin: STR, operations: STR, pidFile: STR },
          },
        },
      },
    },
    control: {
      type: 'object',
      required: ['ledgerPidFiles'],
      properties: {
        ledgerPidFiles: STRS, restartLedger: STRS, applyCrl: STRS, addOrderer: STRS, removeOrderer: STRS, addOrg: STRS, removeOrg: STRS,
        caPidFiles: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
  },
} as const;

let jsonValidator: ValidateFunction | undefined;

/** Validates a parsed network.json; throws NetworkConfigError listing every problem. */
export function parseNetworkJson(value: unknown, file = 'network.json'): NetworkJson {
  jsonValidator ??= new Ajv({ allErrors: true, strict: false }).compile(NETWORK_JSON_SCHEMA);
  if (!jsonValidator(value)) {
    throw new NetworkConfigError(file, (jsonValidator.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`));
  }
  return value as NetworkJson;
}

/** Reads and validates `file` (a tier's network.json). */
export function loadNetworkJson(file: string): NetworkJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NetworkConfigError(file, [`cannot read: ${(err as Error).message} (start the devnet or the Fabric network first; it writes network.json)`]);
  }
  return parseNetworkJson(parsed, file);
}
