/**
 * The network descriptor every tier writes at start (`$GRIDLEDGER_HOME/network.json`, see
 * network/devnet/DESIGN.md). It is the ONLY source of endpoints, certificates and control commands
 * for the e2e suites, so the same suites run against the devnet and against real Fabric.
 */
import { existsSync } from 'node:fs';
import { loadNetworkJson, type NetworkChaincode, type NetworkJson, type NetworkOrg, type NetworkUserFiles } from '@gridledger/protocol';
import { isAbsolute, join, resolve } from 'node:path';

/** network.json as the protocol defines it (packages/protocol/src/network.ts); the aliases keep the suites' names. */
export type NetworkDescriptor = NetworkJson;
export type OrgDescriptor = NetworkOrg;
export type UserFiles = NetworkUserFiles;
export type ChaincodeDescriptor = NetworkChaincode;

export class NetworkNotStartedError extends Error {
  constructor(path: string) {
    super(`no network descriptor at ${path}: start a network first: npm start (or set GRIDLEDGER_HOME to its home)`);
    this.name = 'NetworkNotStartedError';
  }
}

/** Repository root (test/e2e/support → ../../..). */
export const repoRoot = resolve(__dirname, '..', '..', '..');

/** `$GRIDLEDGER_HOME`, else the default devnet home `<repo>/.runtime/devnet` (DESIGN.md). */
export function networkHome(): string {
  const env = process.env.GRIDLEDGER_HOME;
  if (env && env.trim() !== '') return isAbsolute(env) ? env : resolve(process.cwd(), env);
  return join(repoRoot, '.runtime', 'devnet');
}

/** Loads network.json and validates it against the protocol's schema; throws NetworkNotStartedError when the file is absent. */
export function loadNetwork(home: string = networkHome()): NetworkDescriptor {
  const path = join(home, 'network.json');
  if (!existsSync(path)) throw new NetworkNotStartedError(path);
  return loadNetworkJson(path);
}

export function org(net: NetworkDescriptor, name: string): OrgDescriptor {
  const found = net.organizations.find((o) => o.name === name || o.mspId === name);
  if (!found) throw new Error(`organization ${name} not in network.json (have ${net.organizations.map((o) => o.name).join(', ')})`);
  return found;
}

export function chaincode(net: NetworkDescriptor, name: string): ChaincodeDescriptor {
  const found = net.chaincodes.find((c) => c.name === name);
  if (!found) throw new Error(`chaincode ${name} not in network.json (have ${net.chaincodes.map((c) => c.name).join(', ')})`);
  return found;
}

/**
 * The org's client identity used by the suites: its operator (a `client` NodeOU identity with the
 * `role` attribute, as configured in network.yaml), else its admin.
 */
export function clientUserName(o: OrgDescriptor): string {
  const names = Object.keys(o.users);
  const operator = names.find((n) => n.startsWith('operator'));
  if (operator) return operator;
  if (names.includes('admin')) return 'admin';
  throw new Error(`organization ${o.name} has no operator or admin user in network.json`);
}

export function userFiles(o: OrgDescriptor, user: string): UserFiles {
  const files = o.users[user];
  if (!files) throw new Error(`user ${user} not in organization ${o.name} (have ${Object.keys(o.users).join(', ')})`);
  return files;
}
