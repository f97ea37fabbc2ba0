/**
 * Loads test-network-config/network.yaml — the single description of orgs, channel and
 * chaincodes shared by the devnet and the Fabric scripts — validates it with a JSON schema and
 * resolves port offsets into absolute ports. Bad config fails at start-up with every problem listed.
 */
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
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
  /** host:port of the chaincode-as-a-service server the devnet dials (as Fabric's ccaas builder does). */
  address: string;
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

const schema = {
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
        required: ['name', 'addressPortOffset', 'endorsementPolicy'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$' },
          addressPortOffset: { type: 'integer', minimum: 0, maximum: 499 },
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

export class ConfigError extends Error {
  constructor(file: string, problems: string[]) {
    super(`invalid network config ${file}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates a network.yaml document; `portBase` overrides the file's value. */
export function parseNetworkConfig(text: string, file = 'network.yaml', portBaseOverride?: number): NetworkConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(schema);
  if (!validate(raw)) {
    throw new ConfigError(file, (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = raw as any;
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
    organizations: r.organizations.map((o: Record<string, unknown>) => ({
      name: o.name,
      mspId: o.mspId,
      domain: o.domain,
      host: (o.host as string | undefined) ?? DEFAULT_HOST,
      peerPort: base + (o.peerPortOffset as number),
      caPort: base + (o.caPortOffset as number),
      opsPort: base + (o.opsPortOffset as number),
    })),
    identities: (r.identities ?? []).map((i: IdentityConfig) => ({ ...i, attrs: i.attrs ?? {} })),
    chaincodes: r.chaincodes.map((c: Record<string, unknown>) => ({
      name: c.name,
      address: `127.0.0.1:${base + (c.addressPortOffset as number)}`,
      endorsementPolicy: c.endorsementPolicy,
      collections: ((c.collections as CollectionConfig[] | undefined) ?? []).map((col) => ({
        name: col.name,
        policy: col.policy,
        memberOnlyRead: col.memberOnlyRead ?? false,
        memberOnlyWrite: col.memberOnlyWrite ?? false,
        endorsementPolicy: col.endorsementPolicy ?? null,
      })),
    })),
    gateway: { port: base + (r.gateway?.portOffset ?? 80) },
    ...(r.development ? { development: { intervalSeconds: r.development.intervalSeconds as 60 | 300 } } : {}),
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
  for (const c of cfg.chaincodes) claim(Number(c.address.split(':')[1]), `chaincode ${c.name}`);
  claim(cfg.gateway.port, 'gateway');
  if (problems.length > 0) throw new ConfigError(file, problems);
  return cfg;
}

/** network/fabric/lib/fabric.js OFFSETS.ordererListen + 1: the devnet's one orderer sits where the Fabric tier's orderer1 does. */
export const ORDERER_PORT_OFFSET = 21;

/** Fabric's name of an org's implicit collection (F core/common/privdata/implicitcollection: `_implicit_org_` + MSP id). */
export const IMPLICIT_COLLECTION_PREFIX = '_implicit_org_';

/**
 * The implicit private collection Fabric gives every chaincode for every application org of the
 * channel (F core/chaincode/lifecycle/deployedcc_infoprovider.go GenerateImplicitCollectionForOrg):
 * members = SignedByMspMember(org), neither memberOnlyRead nor memberOnlyWrite, so only that org's
 * peers store the values and every peer keeps the hashes. Its endorsement policy at validation is
 * the org's channel policy /Channel/Application/<org>/Endorsement (ImplicitCollectionEndorsementPolicyAsBytes),
 * which the Fabric tier defines as OR('<msp>.peer') (network/fabric/lib/fabric.js orgPolicies) and the
 * devnet uses directly; discovery plans with SignedByMspMember(org) (metadata_provider.go Metadata),
 * which the same org's peers satisfy.
 */
export function implicitCollectionForOrg(mspId: string): CollectionConfig {
  return {
    name: `${IMPLICIT_COLLECTION_PREFIX}${mspId}`,
    policy: `OR('${mspId}.member')`,
    memberOnlyRead: false,
    memberOnlyWrite: false,
    endorsementPolicy: `OR('${mspId}.peer')`,
  };
}

/**
 * The collection `name` of a chaincode whose explicit collections are `collections`: an explicit one,
 * else the implicit collection of the org it names. Like Fabric's CollectionInfo
 * (deployedcc_infoprovider.go), any `_implicit_org_<MSPID>` resolves, also for an MSP outside the
 * channel: reads find nothing and a write fails validation, its endorsement policy naming an org that
 * has no peer (Fabric: "no org found in channel with MSPID").
 */
export function findCollection(collections: readonly CollectionConfig[], name: string): CollectionConfig | undefined {
  const explicit = collections.find((c) => c.name === name);
  if (explicit) return explicit;
  if (name.startsWith(IMPLICIT_COLLECTION_PREFIX) && name.length > IMPLICIT_COLLECTION_PREFIX.length) {
    return implicitCollectionForOrg(name.slice(IMPLICIT_COLLECTION_PREFIX.length));
  }
  return undefined;
}

export function loadNetworkConfig(file: string, portBaseOverride?: number): NetworkConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  return parseNetworkConfig(text, file, portBaseOverride);
}
