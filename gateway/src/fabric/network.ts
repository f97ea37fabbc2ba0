import fs from 'node:fs';
import Ajv from 'ajv';
import { ConfigError } from '../config';

/** The `network.json` descriptor written by the devnet and by the Fabric scripts (network/devnet/DESIGN.md). */
export interface NetworkDescriptor {
  tier: string;
  channel: string;
  home?: string;
  organizations: OrgDescriptor[];
  chaincodes: Array<{ name: string; address?: string }>;
  /** the ordering service, when the network scripts list it (Fabric tier) */
  orderer?: { mspId?: string; consensus?: string; tlsRootCertPath: string; nodes: Array<{ name: string; endpoint: string; hostAlias: string }> };
}
export interface OrgDescriptor {
  name: string;
  mspId: string;
  peer: { endpoint: string; hostAlias: string; tlsRootCertPath: string };
  ca: {
    url: string;
    caName: string;
    tlsRootCertPath: string;
    registrar: { enrollmentId: string; enrollmentSecret: string };
  };
  users: Record<string, { certPath: string; keyPath: string }>;
}

const schema = {
  type: 'object',
  required: ['channel', 'organizations'],
  properties: {
    tier: { type: 'string' },
    channel: { type: 'string', minLength: 1 },
    organizations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'mspId', 'peer', 'ca', 'users'],
        properties: {
          name: { type: 'string' },
          mspId: { type: 'string' },
          peer: {
            type: 'object',
            required: ['endpoint', 'hostAlias', 'tlsRootCertPath'],
            properties: { endpoint: { type: 'string' }, hostAlias: { type: 'string' }, tlsRootCertPath: { type: 'string' } },
          },
          ca: {
            type: 'object',
            required: ['url', 'caName', 'tlsRootCertPath', 'registrar'],
            properties: {
              url: { type: 'string' },
              caName: { type: 'string' },
              tlsRootCertPath: { type: 'string' },
              registrar: {
                type: 'object',
                required: ['enrollmentId', 'enrollmentSecret'],
                properties: { enrollmentId: { type: 'string' }, enrollmentSecret: { type: 'string' } },
              },
            },
          },
          users: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              required: ['certPath', 'keyPath'],
              properties: { certPath: { type: 'string' }, keyPath: { type: 'string' } },
            },
          },
        },
      },
    },
    chaincodes: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
  },
};
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

export function loadNetwork(file: string): NetworkDescriptor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError([
      `network descriptor ${file}: ${(e as Error).message} (start the devnet or the Fabric network first; it writes network.json)`,
    ]);
  }
  if (!validate(parsed)) {
    throw new ConfigError(
      (validate.errors ?? []).map((e) => `network descriptor ${file}: ${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`),
    );
  }
  return parsed as unknown as NetworkDescriptor;
}

/** Finds the org by name or MSP ID. */
export function selectOrg(net: NetworkDescriptor, org: string, file = 'network.json'): OrgDescriptor {
  const found = net.organizations.find((o) => o.name === org || o.mspId === org);
  if (!found) {
    throw new ConfigError([
      `network.org "${org}" is not an organisation in ${file}; choose one of: ${net.organizations.map((o) => o.name).join(', ')}`,
    ]);
  }
  return found;
}

/** The operator user of an org: explicit name, else the first user whose name starts with "operator". */
export function selectUser(org: OrgDescriptor, wanted: string | undefined, prefix: string): string | undefined {
  if (wanted) {
    if (!org.users[wanted]) {
      throw new ConfigError([`user "${wanted}" is not listed for org ${org.name}; known users: ${Object.keys(org.users).join(', ')}`]);
    }
    return wanted;
  }
  return Object.keys(org.users).sort().find((u) => u.startsWith(prefix));
}
