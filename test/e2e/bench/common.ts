/**
 * What the benchmarks share (`devnet-bench.ts`, `gateway-bench.ts`): the direct fabric-gateway client
 * and its one-key-put workload, a bounded-concurrency pool, percentiles, CPU accounting via /proc and
 * the batch settings in force. Benchmarks print figures; they are not tests.
 */
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, hash, StatusCode, type Contract, type Signer } from '@hyperledger/fabric-gateway';
import { connectOrg, loadUser, newGrpcClient, readLedgerPids, toIdentity, type Connection, type NetworkDescriptor, type OrgDescriptor } from '../support';

export function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  return v && /^\d+$/.test(v) ? Number(v) : dflt;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** Runs `total` jobs with `concurrency` in flight; returns wall time in ms. */
export async function pool(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await job(next++);
    }),
  );
  return performance.now() - started;
}

/** P-256 group order: a signature (r, s) with s > n/2 is re-expressed as (r, n - s) (Fabric refuses high S). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function derInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

/** Signer over the whole message (used with hash.none): ECDSA-SHA256 by OpenSSL, low-S, DER. */
function nativeSigner(key: KeyObject): Signer {
  return (message) => {
    const raw = nodeSign('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
    const r = BigInt(`0x${raw.subarray(0, 32).toString('hex')}`);
    let s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
    if (s > P256_N >> 1n) s = P256_N - s;
    const body = Buffer.concat([derInt(r), derInt(s)]);
    return Promise.resolve(Buffer.concat([Buffer.from([0x30, body.length]), body]));
  };
}

export type BenchSigner = 'native' | 'gateway';

/** BENCH_SIGNER=gateway → fabric-gateway's `signers.newPrivateKeySigner`; otherwise the native signer. */
export const benchSigner = (): BenchSigner => (process.env.BENCH_SIGNER === 'gateway' ? 'gateway' : 'native');

/** The org's client user through the unmodified fabric-gateway client, signing with `signer`. */
export function connectBench(org: OrgDescriptor, signer: BenchSigner = benchSigner()): Connection {
  if (signer === 'gateway') return connectOrg(org);
  const client = newGrpcClient(org);
  const creds = loadUser(org);
  const gateway = connect({ client, identity: toIdentity(creds), signer: nativeSigner(creds.privateKey), hash: hash.none });
  return { org, client, gateway, close: () => (gateway.close(), client.close()) };
}

export interface PutStats { valid: number; invalid: Map<number, number>; errors: Map<string, number>; latencies: number[]; endorseSubmit: number[]; wallMs: number }

/** `total` one-key puts (a distinct key each, `put` of the conformance chaincode), `inflight` at a time, each awaited until its commit status. */
export async function benchPuts(contract: Contract, run: string, total: number, inflight: number): Promise<PutStats> {
  const s: PutStats = { valid: 0, invalid: new Map(), errors: new Map(), latencies: [], endorseSubmit: [], wallMs: 0 };
  s.wallMs = await pool(total, inflight, async (i) => {
    const t0 = performance.now();
    try {
      const submitted = await contract.submitAsync('put', { arguments: [`${run}:bench:${i}`, 'v'] });
      const t1 = performance.now();
      const status = await submitted.getStatus();
      const t2 = performance.now();
      if (status.code === StatusCode.VALID) {
        s.valid++;
        s.latencies.push(t2 - t0);
        s.endorseSubmit.push(t1 - t0);
      } else {
        s.invalid.set(status.code, (s.invalid.get(status.code) ?? 0) + 1);
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message.slice(0, 120) : String(err);
      s.errors.set(msg, (s.errors.get(msg) ?? 0) + 1);
    }
  });
  s.latencies.sort((a, b) => a - b);
  s.endorseSubmit.sort((a, b) => a - b);
  return s;
}

/** Batch settings, as network.json reports them (every tier writes them: the protocol's schema requires them). */
export function batchSettings(net: NetworkDescriptor): string {
  return `${JSON.stringify(net.orderer.batch)} (network.json)`;
}

/** CPU time (ms) a process has used so far (utime + stime from /proc). Throws where /proc is unavailable. */
export function procCpuMs(pid: number | string): number {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
}

/** CPU ms of the processes, summed; NaN if any cannot be read. */
export function cpuOf(pids: Array<number | string>): number {
  try {
    return pids.reduce<number>((sum, pid) => sum + procCpuMs(pid), 0);
  } catch {
    return NaN;
  }
}

/** CPU ms so far of the ledger processes (control.ledgerPidFiles), of this client and (optional pid) of the chaincode. */
export function cpuSnapshot(net: NetworkDescriptor, chaincodePid?: string): { ledgerMs: number; clientMs: number; chaincodeMs: number } {
  let pids: number[] = [];
  try {
    pids = readLedgerPids(net);
  } catch {
    pids = [];
  }
  const ledgerMs = pids.length ? cpuOf(pids) : NaN;
  const chaincodeMs = chaincodePid ? cpuOf([chaincodePid]) : NaN;
  const c = process.cpuUsage();
  return { ledgerMs, clientMs: (c.user + c.system) / 1000, chaincodeMs };
}

/** Refuses another tier's network.json when BENCH_TIER is set. */
export function checkTier(net: NetworkDescriptor): void {
  const wantTier = process.env.BENCH_TIER;
  if (wantTier && net.tier !== wantTier) {
    throw new Error(`${net.home}/network.json describes a ${net.tier} network, not ${wantTier}: set GRIDLEDGER_HOME to a running ${wantTier} network's home`);
  }
}

export function printRows(rows: Array<[string, string]>): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}
