/**
 * REST suite support — gateways.json (written by start.sh on every tier), the gateways' processes: their pids, SIGKILL and restart through start.sh.
 * Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { networkHome, repoRoot } from '../../support/network';
import { isAlive, sleep } from '../../support/control';
import { RestClient } from './http';

export interface GatewayDescriptor {
  org: string;
  mspId: string;
  url: string;
  /** `regulator` only at the gateway of the org that holds the regulator identity */
  apiKeys: { operator: string; regulator?: string };
}

/** A client with the regulator key, at the one gateway that has the regulator identity. */
export function regulatorClient(gateways: GatewayDescriptor[]): RestClient {
  const g = gateways.find((x) => x.apiKeys.regulator);
  if (!g) throw new Error('no gateway in gateways.json has a regulator key (no org in network.json lists a regulator* user)');
  return new RestClient(g.url, g.apiKeys.regulator);
}

export function loadGateways(home: string = networkHome()): GatewayDescriptor[] {
  const path = join(home, 'gateways.json');
  if (!existsSync(path)) throw new Error(`no ${path}: start the network with network/scripts/start.sh (it writes gateways.json)`);
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { gateways?: GatewayDescriptor[] };
  if (!Array.isArray(parsed.gateways) || parsed.gateways.length === 0) throw new Error(`${path} lists no gateways`);
  return parsed.gateways;
}

/** One id per test file run: every meter id, idempotency key and reference carries it (re-runs on a persistent network). */
export function gatewayPid(org: string, home: string = networkHome()): number {
  const file = join(home, 'pids', `gateway-${org}.pid`);
  if (!existsSync(file)) throw new Error(`gateway pid file ${file} does not exist`);
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`gateway pid file ${file} holds no pid`);
  return pid;
}

/** SIGKILLs a utility's gateway (a crash: nothing drains) and waits until the process is gone. */
export async function killGateway(org: string, timeoutMs = 15_000): Promise<number> {
  const pid = gatewayPid(org);
  process.kill(pid, 'SIGKILL');
  const until = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > until) throw new Error(`gateway ${org} (pid ${pid}) still alive after SIGKILL`);
    await sleep(100);
  }
  return pid;
}

/** Restarts the gateways if `org`'s is not running: what a crash test's afterAll does to leave the network as it found it. */
export async function restartGatewaysIfDown(org: string): Promise<void> {
  let alive = false;
  try {
    alive = isAlive(gatewayPid(org));
  } catch {
    alive = false;
  }
  if (!alive) await restartGateways();
}

/**
 * Brings the gateways back exactly as start.sh does: runs start.sh's own `start_gateways` (lib.sh) with
 * the same environment — it starts only the gateways whose pid is not alive, waits for /ready and rewrites
 * gateways.json. (start.sh itself returns early while the ledger is up, so the function is called directly.)
 * The port base is taken from the environment, else derived from the gateways' recorded URLs.
 */
export async function restartGateways(timeoutMs = 180_000): Promise<string> {
  const home = networkHome();
  const env: NodeJS.ProcessEnv = { ...process.env, GRIDLEDGER_HOME: home };
  if (!env.GRIDLEDGER_PORT_BASE) env.GRIDLEDGER_PORT_BASE = String(await derivePortBase(home));
  // lib.sh's pid_alive is `kill -0`, which succeeds on a zombie: a SIGKILLed gateway whose parent has not
  // reaped it yet would count as running and never be restarted. A dead or zombie pid's file is stale; drop it.
  for (const g of loadGateways(home)) {
    const file = join(home, 'pids', `gateway-${g.org}.pid`);
    if (!existsSync(file)) continue;
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) rmSync(file, { force: true });
  }
  const script = `source "${join(repoRoot, 'network', 'scripts', 'lib.sh')}" && start_gateways`;
  return run(['bash', '-c', script], env, timeoutMs);
}

async function derivePortBase(home: string): Promise<number> {
  const gws = loadGateways(home);
  const firstPort = Math.min(...gws.map((g) => Number(new URL(g.url).port)));
  const netinfo = join(repoRoot, 'network', 'scripts', 'netinfo.js');
  const config = process.env.GRIDLEDGER_NETWORK_CONFIG ?? join(repoRoot, 'test-network-config', 'network.yaml');
  const defaultBase = Number((await run(['node', netinfo, config, '', 'portBase'], process.env, 30_000)).trim());
  const defaultGatewayPort = Number((await run(['node', netinfo, config, '', 'gateway.port'], process.env, 30_000)).trim());
  return firstPort - (defaultGatewayPort - defaultBase);
}

function run(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`timed out after ${timeoutMs} ms: ${argv.join(' ')}\n${out}${err}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} failed (${code ?? signal})\n${out}${err}`));
    });
  });
}

/** Evaluates a chaincode function directly on an org's peer as that org's operator (reads the ledger behind the gateway). */
