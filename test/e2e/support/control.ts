/**
 * Control commands named in network.json (`control.*`): crash the ledger with SIGKILL through its pid
 * files, bring it back with `control.restartLedger`, and put a CRL into the channel MSP with
 * `control.applyCrl`. The suites never know how a tier does these things — only the argv.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { NetworkDescriptor } from './network';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function readLedgerPids(net: NetworkDescriptor): number[] {
  return net.control.ledgerPidFiles.map((file) => {
    if (!existsSync(file)) throw new Error(`ledger pid file ${file} (control.ledgerPidFiles) does not exist`);
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`ledger pid file ${file} holds no pid`);
    return pid;
  });
}

/**
 * Each ledger process's CPU weight, as the kernel has it (`/proc/<pid>/autogroup`: "/autogroup-N nice K"),
 * beside the one start.sh recorded for it in `<home>/ledger.nice` ("<ledger> <orderer>", network/scripts/
 * lib.sh deprioritise_ledger; orderers take the second value). Without that file nothing was weighted, so
 * 0 is expected; on a machine without autogroups both are undefined.
 */
export function ledgerWeights(net: NetworkDescriptor): Array<{ pidFile: string; expected: number | undefined; actual: number | undefined }> {
  const autogroups = existsSync('/proc/self/autogroup');
  let ledger = 0;
  let orderer = 0;
  const kept = join(net.home, 'ledger.nice');
  if (existsSync(kept)) [ledger, orderer] = readFileSync(kept, 'utf8').trim().split(/\s+/).map(Number) as [number, number];
  const pids = readLedgerPids(net);
  return net.control.ledgerPidFiles.map((pidFile, i) => {
    let actual: number | undefined;
    try {
      actual = Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pids[i]}/autogroup`, 'utf8'))?.[1]);
    } catch {
      actual = undefined;
    }
    return { pidFile, expected: autogroups ? (basename(pidFile).startsWith('orderer') ? orderer : ledger) : undefined, actual };
  });
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** SIGKILLs every ledger process (a crash: no shutdown hooks run) and waits until all are gone. */
export async function killLedger(net: NetworkDescriptor, timeoutMs = 15_000): Promise<number[]> {
  const pids = readLedgerPids(net);
  for (const pid of pids) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  const until = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > until) throw new Error(`ledger processes ${pids.filter(isAlive).join(', ')} still alive after SIGKILL`);
    await sleep(100);
  }
  return pids;
}

function requireArgv(net: NetworkDescriptor, name: 'restartLedger' | 'applyCrl' | 'addOrderer' | 'removeOrderer' | 'addOrg' | 'removeOrg'): string[] {
  const argv = net.control[name];
  if (!Array.isArray(argv) || argv.length === 0) throw new Error(`network.json has no control.${name} argv`);
  return argv;
}

/** Substitutes `{name}` placeholders; when the argv has none, the values are appended in order. */
export function bindArgv(argv: string[], values: Array<[string, string]>): string[] {
  const hasPlaceholder = argv.some((a) => values.some(([k]) => a.includes(`{${k}}`)));
  if (!hasPlaceholder) return [...argv, ...values.map(([, v]) => v)];
  return argv.map((a) => values.reduce((acc, [k, v]) => acc.split(`{${k}}`).join(v), a));
}

/** Runs a control command to completion; rejects with its output when it fails or times out. */
export function runControl(argv: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`control command timed out after ${timeoutMs} ms: ${argv.join(' ')}\n${out}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`control command failed (${code ?? signal}): ${argv.join(' ')}\n${out}`));
    });
  });
}

/**
 * Runs `control.restartLedger` and waits for it to EXIT 0: both tiers' restart commands exit only once
 * the ledger is really ready (devnet: `devnet restart` returns when the relaunched devnet wrote
 * network.json; Fabric: `network.sh restart-ledger` returns when orderers, peers, gossip and the
 * endorsement probe are back). Output goes to a log file (the relaunched ledger may keep it open).
 * `ready` then confirms the network answers this client.
 */
export async function restartLedger(
  net: NetworkDescriptor,
  ready: () => Promise<void>,
  timeoutMs = 180_000,
): Promise<void> {
  const argv = requireArgv(net, 'restartLedger');
  const logPath = join(mkdtempSync(join(tmpdir(), 'gridledger-restart-')), 'restart.log');
  const fd = openSync(logPath, 'a');
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`control.restartLedger did not finish in ${timeoutMs} ms: ${argv.join(' ')}\n${safeRead(logPath)}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`control.restartLedger could not start: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`control.restartLedger exited with ${code ?? signal}; log ${logPath}\n${safeRead(logPath)}`));
    });
  });
  child.unref();
  await ready();
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/** Writes the CRL to a file and runs `control.applyCrl` with {mspId} and {crlFile}. */
export async function applyCrl(net: NetworkDescriptor, mspId: string, crlPem: string): Promise<string> {
  const crlFile = join(mkdtempSync(join(tmpdir(), 'gridledger-crl-')), 'crl.pem');
  writeFileSync(crlFile, crlPem);
  return runControl(bindArgv(requireArgv(net, 'applyCrl'), [['mspId', mspId], ['crlFile', crlFile]]));
}

/** Fabric only: `control.addOrderer` (one more SmartBFT consenter); resolves with its output once the node is active. */
export function addOrderer(net: NetworkDescriptor, timeoutMs = 300_000): Promise<string> {
  return runControl(requireArgv(net, 'addOrderer'), timeoutMs);
}

/** Fabric only: `control.removeOrderer` with {name}; rejects with the command's output when it refuses. */
export function removeOrderer(net: NetworkDescriptor, name: string, timeoutMs = 300_000): Promise<string> {
  return runControl(bindArgv(requireArgv(net, 'removeOrderer'), [['name', name]]), timeoutMs);
}

/** Fabric only: `control.addOrg` with {name} (a utility joins the channel); resolves with the command's output. */
export function addOrg(net: NetworkDescriptor, name: string, timeoutMs = 900_000): Promise<string> {
  return runControl(bindArgv(requireArgv(net, 'addOrg'), [['name', name]]), timeoutMs);
}

/** Fabric only: `control.removeOrg` with {name}; rejects with the command's output when it refuses. */
export function removeOrg(net: NetworkDescriptor, name: string, timeoutMs = 900_000): Promise<string> {
  return runControl(bindArgv(requireArgv(net, 'removeOrg'), [['name', name]]), timeoutMs);
}
