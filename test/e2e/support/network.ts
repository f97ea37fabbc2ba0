/**
 * The network descriptor every tier writes at start (`$GRIDLEDGER_HOME/network.json`, see
 * network/devnet/DESIGN.md). It is the ONLY source of endpoints, certificates and control commands
 * for the e2e suites, so the same suites run against the devnet and against real Fabric.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export interface UserFiles {
  certPath: string;
  keyPath: string;
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
  users: Record<string, UserFiles>;
}

export interface ChaincodeDescriptor {
  name: string;
  address: string;
}

export interface ControlDescriptor {
  /** pid files of every process that holds the ledger; SIGKILL them to simulate a crash. */
  ledgerPidFiles: string[];
  /** argv that brings the ledger back on the same home after a crash. */
  restartLedger?: string[];
  /** argv that puts an org's CRL into the channel MSP (a channel config update on Fabric). */
  applyCrl?: string[];
  /** Fabric only: argv that adds one SmartBFT orderer to the consenters (network.sh add-orderer). */
  addOrderer?: string[];
  /** Fabric only: argv that removes the orderer {name} from the consenters (network.sh remove-orderer). */
  removeOrderer?: string[];
}

export interface NetworkDescriptor {
  tier: string;
  channel: string;
  home: string;
  organizations: OrgDescriptor[];
  chaincodes: ChaincodeDescriptor[];
  control: ControlDescriptor;
  /** Optional extras a tier may add (e.g. orderer batch settings); printed by the benchmark. */
  [extra: string]: unknown;
}

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

/** Loads and sanity-checks network.json; throws NetworkNotStartedError when the file is absent. */
export function loadNetwork(home: string = networkHome()): NetworkDescriptor {
  const path = join(home, 'network.json');
  if (!existsSync(path)) throw new NetworkNotStartedError(path);
  const net = JSON.parse(readFileSync(path, 'utf8')) as NetworkDescriptor;
  const problems: string[] = [];
  if (typeof net.channel !== 'string' || net.channel === '') problems.push('channel missing');
  if (!Array.isArray(net.organizations) || net.organizations.length === 0) problems.push('organizations missing');
  if (!Array.isArray(net.chaincodes)) problems.push('chaincodes missing');
  if (!net.control || !Array.isArray(net.control.ledgerPidFiles)) problems.push('control.ledgerPidFiles missing');
  if (problems.length > 0) throw new Error(`invalid ${path}: ${problems.join('; ')}`);
  return net;
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
