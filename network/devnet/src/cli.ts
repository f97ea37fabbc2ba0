#!/usr/bin/env node
/**
 * devnet command line.
 *
 *   devnet start [--config test-network-config/network.yaml] [--home DIR] [--port-base N]
 *       Runs the devnet in the foreground (start scripts background it). Writes <home>/devnet.pid,
 *       then <home>/network.json once every endpoint listens, and logs "devnet ready".
 *       SIGTERM/SIGINT: stop accepting, finish the current block, close the ledger, exit 0.
 *       A bad config prints every problem and exits 2.
 *   devnet restart [--config FILE] [--home DIR] [--port-base N]
 *       Starts `devnet start` in the background (own session, output appended to <home>/logs/devnet.log,
 *       else <home>/devnet.log) and exits 0 only once it is ready (network.json written); exits 1 if it
 *       died or was not ready in 60 s. This is control.restartLedger in network.json: a caller that
 *       waits for its exit knows the ledger serves again, as with network.sh restart-ledger on Fabric.
 *       The relaunched devnet gets the CPU weight start.sh gave the first one (<home>/ledger.nice).
 *   devnet apply-crl --home DIR <mspId> <crlPemFile>
 *       Puts the CRL(s) in the file into the channel MSP of <mspId> (on Fabric: a channel config
 *       update) through the running devnet's operations endpoint.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { isAbsolute, join, resolve } from 'node:path';
import { NetworkConfigError, type NetworkJson } from '@gridledger/protocol';
import { Devnet } from './devnet';
import { createLogger } from './ops/logger';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Start-up failures with a clear cause (exit 1, no stack trace). */
class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartError';
  }
}

interface Parsed {
  command: string;
  flags: Map<string, string>;
  positional: string[];
}

function parseArgs(argv: string[]): Parsed {
  const [command = 'help', ...rest] = argv;
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === undefined) break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const v = rest[i + 1];
        if (v === undefined || v.startsWith('--')) throw new UsageError(`option ${a} needs a value`);
        flags.set(a.slice(2), v);
        i++;
      }
    } else positional.push(a);
  }
  return { command, flags, positional };
}

const abs = (p: string): string => (isAbsolute(p) ? p : resolve(process.cwd(), p));

function homeOf(flags: Map<string, string>): string {
  const h = flags.get('home') ?? process.env.GRIDLEDGER_HOME;
  return h ? abs(h) : join(REPO_ROOT, '.runtime', 'devnet');
}

function portBaseOf(flags: Map<string, string>): number | undefined {
  const raw = flags.get('port-base') ?? process.env.DEVNET_PORT_BASE ?? process.env.GRIDLEDGER_PORT_BASE;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024 || n > 65000) throw new UsageError(`--port-base must be an integer in 1024..65000, got ${raw}`);
  return n;
}

async function start(p: Parsed): Promise<void> {
  const log = createLogger();
  const configFile = abs(p.flags.get('config') ?? join(REPO_ROOT, 'test-network-config', 'network.yaml'));
  const home = homeOf(p.flags);
  const portBase = portBaseOf(p.flags);
  const pidFile = join(home, 'devnet.pid');
  rmSync(join(home, 'network.json'), { force: true }); // its presence is the readiness signal
  let devnet: Devnet;
  try {
    devnet = await Devnet.start({ configFile, home, portBase, logger: log, cliArgv: { node: process.execPath, execArgv: process.execArgv, script: __filename } });
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string }; message?: string };
    if (e.code === 'EADDRINUSE') throw new StartError(`${e.message}: another process uses this port; pick another --port-base`);
    if (e.code === 'LEVEL_DATABASE_NOT_OPEN' && e.cause?.code === 'LEVEL_LOCKED') {
      throw new StartError(`the ledger in ${join(home, 'ledger')} is locked: another devnet runs on this home (pid file ${pidFile})`);
    }
    throw err;
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  // The start/stop scripts keep their pid files in <home>/pids; after a crash-restart through
  // control.restartLedger theirs would name the dead process, so keep it current too.
  const scriptPidFile = join(home, 'pids', 'devnet.pid');
  if (existsSync(join(home, 'pids'))) writeFileSync(scriptPidFile, `${process.pid}\n`);
  const networkJson = devnet.writeNetworkJson(pidFile);
  log.info({ endpoints: devnet.endpoints(), networkJson, home }, 'devnet ready');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    devnet.stop().then(
      () => {
        rmSync(pidFile, { force: true });
        if (existsSync(scriptPidFile) && readFileSync(scriptPidFile, 'utf8').trim() === String(process.pid)) rmSync(scriptPidFile, { force: true });
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // A stray rejection in one request must not take every org's peer down with it; it is logged.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Launches `start` detached with the same options and returns once it reports ready. */
async function restart(p: Parsed, argv: string[]): Promise<void> {
  const home = homeOf(p.flags);
  const networkJson = join(home, 'network.json');
  const logFile = existsSync(join(home, 'logs')) ? join(home, 'logs', 'devnet.log') : join(home, 'devnet.log');
  rmSync(networkJson, { force: true }); // start rewrites it once every endpoint listens
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...process.execArgv, __filename, 'start', ...argv.slice(1)], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `devnet start exited with ${code ?? signal}`));
  child.on('error', (err) => (exited = `devnet start could not run: ${err.message}`));
  const until = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new StartError(`${exited}; see ${logFile}`);
    if (existsSync(networkJson) && statSync(networkJson).size > 0) break;
    if (Date.now() > until) {
      child.kill('SIGTERM');
      throw new StartError(`the devnet was not ready 60 s after restart; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.unref();
  const weight = await reapplyLedgerNice(home, child.pid!);
  process.stdout.write(`devnet ready (pid ${child.pid}, home ${home}${weight})\n`);
}

/**
 * The relaunched devnet runs in a session of its own (detached), so in an autogroup of its own at nice 0:
 * without this it would outweigh the gateways until the next start (docs/operations.md "CPU priority").
 * start.sh keeps the weight it applied in <home>/ledger.nice ("<ledger> <orderer>", network/scripts/lib.sh
 * deprioritise_ledger); as network.sh restart-ledger does on Fabric, the restart applies it again. No
 * file (a devnet started without start.sh) or 0: nothing to apply. The kernel refuses an unprivileged
 * change within 100 ms of the last one anywhere (EAGAIN, kernel/sched/autogroup.c), hence the retries, as
 * lib.sh's set_autogroup_nice. Returns what to print.
 */
async function reapplyLedgerNice(home: string, pid: number): Promise<string> {
  let nice: number;
  try {
    nice = Number.parseInt(readFileSync(join(home, 'ledger.nice'), 'utf8').trim().split(/\s+/)[0] ?? '', 10);
  } catch {
    return '';
  }
  if (!Number.isInteger(nice) || nice <= 0 || nice > 19) return '';
  for (let attempt = 1; ; attempt++) {
    try {
      writeFileSync(`/proc/${pid}/autogroup`, String(nice));
      return `, autogroup nice ${nice}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN' && attempt < 10) {
        await new Promise((r) => setTimeout(r, 110));
        continue;
      }
      // no autogroups (not Linux, or CONFIG_SCHED_AUTOGROUP off): the weight is a tuning, not a condition
      return `; autogroup nice ${nice} not applied: ${(e as Error).message}`;
    }
  }
}

function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/x-pem-file', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePost({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function applyCrl(p: Parsed): Promise<void> {
  const [mspId, crlFile] = p.positional;
  if (!mspId || !crlFile) throw new UsageError('usage: devnet apply-crl --home DIR <mspId> <crlPemFile>');
  const home = homeOf(p.flags);
  const nj = join(home, 'network.json');
  if (!existsSync(nj)) throw new UsageError(`no running devnet: ${nj} does not exist`);
  const net = JSON.parse(readFileSync(nj, 'utf8')) as NetworkJson;
  const ops = net.organizations[0]?.operations;
  if (!ops) throw new UsageError(`${nj} names no operations endpoint`);
  const pem = readFileSync(abs(crlFile), 'utf8');
  const url = `${ops}/admin/channels/${encodeURIComponent(net.channel)}/msps/${encodeURIComponent(mspId)}/crls`;
  const res = await post(url, pem);
  if (res.status !== 200) throw new Error(`CRL update rejected (HTTP ${res.status}): ${res.text}`);
  process.stdout.write(`${res.text}\n`);
}

const HELP = `usage:
  devnet start [--config FILE] [--home DIR] [--port-base N]
  devnet restart [--config FILE] [--home DIR] [--port-base N]
  devnet apply-crl --home DIR <mspId> <crlPemFile>
`;

async function main(argv: string[]): Promise<void> {
  const p = parseArgs(argv);
  switch (p.command) {
    case 'start':
      return start(p);
    case 'restart':
      return restart(p, argv);
    case 'apply-crl':
      return applyCrl(p);
    case 'help':
    case '--help':
      process.stdout.write(HELP);
      return;
    default:
      throw new UsageError(`unknown command ${p.command}\n${HELP}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof NetworkConfigError || err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof StartError) {
    process.stderr.write(`devnet: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`devnet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
