/**
 * Benchmark (prints figures; not a test): committed tx/s and p50/p99 commit latency of a one-key put
 * (a distinct key per transaction) with a fixed number of transactions in flight, then evaluate/s.
 * Talks to whatever network $GRIDLEDGER_HOME/network.json describes, so `bench:fabric` reuses it.
 *
 *   npm run bench -w test/e2e            (BENCH_TXS=2000 BENCH_INFLIGHT=50 BENCH_EVALS=2000 BENCH_CHAINCODE=conformance)
 *
 * BENCH_SIGNER=native (default) signs in the client with Node's crypto (OpenSSL, ~35 µs) through
 * fabric-gateway's `hash.none` + a custom Signer; BENCH_SIGNER=gateway uses
 * `signers.newPrivateKeySigner` (pure-JS @noble/curves, ~0.8 ms per signature, three signatures per
 * submitted transaction) — on a 2-core machine that client cost alone caps the figure, so the
 * default keeps the benchmark about the ledger. Both produce low-S DER ECDSA signatures.
 * BENCH_CHAINCODE_PID=<pid> adds the chaincode server's CPU per transaction to the figures.
 * BENCH_TIER=devnet|fabric refuses to run against another tier (`npm run bench:fabric` sets fabric).
 */
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { connect, hash, StatusCode, type Contract, type Signer } from '@hyperledger/fabric-gateway';
import { connectOrg, loadNetwork, loadUser, newGrpcClient, newRunId, readLedgerPids, repoRoot, toIdentity, type Connection, type NetworkDescriptor, type OrgDescriptor } from '../support';

const TXS = intEnv('BENCH_TXS', 2000);
const INFLIGHT = intEnv('BENCH_INFLIGHT', 50);
const EVALS = intEnv('BENCH_EVALS', 2000);
const WARMUP = intEnv('BENCH_WARMUP', 50);
const CHAINCODE = process.env.BENCH_CHAINCODE ?? 'conformance';
const SIGNER = process.env.BENCH_SIGNER === 'gateway' ? 'gateway' : 'native';
const CHAINCODE_PID = process.env.BENCH_CHAINCODE_PID;

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

function connectBench(org: OrgDescriptor): Connection {
  if (SIGNER === 'gateway') return connectOrg(org);
  const client = newGrpcClient(org);
  const creds = loadUser(org);
  const gateway = connect({ client, identity: toIdentity(creds), signer: nativeSigner(creds.privateKey), hash: hash.none });
  return { org, client, gateway, close: () => (gateway.close(), client.close()) };
}

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  return v && /^\d+$/.test(v) ? Number(v) : dflt;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `total` jobs with `concurrency` in flight; returns wall time in ms. */
async function pool(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await job(next++);
    }),
  );
  return performance.now() - started;
}

interface PutStats { valid: number; invalid: Map<number, number>; errors: Map<string, number>; latencies: number[]; endorseSubmit: number[]; wallMs: number }

async function benchPuts(contract: Contract, run: string, total: number, inflight: number): Promise<PutStats> {
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

async function benchEvaluate(contract: Contract, key: string, total: number, inflight: number): Promise<{ ok: number; wallMs: number; latencies: number[] }> {
  let ok = 0;
  const latencies: number[] = [];
  const wallMs = await pool(total, inflight, async () => {
    const t0 = performance.now();
    await contract.evaluateTransaction('get', key);
    latencies.push(performance.now() - t0);
    ok++;
  });
  latencies.sort((a, b) => a - b);
  return { ok, wallMs, latencies };
}

/** Batch settings: from network.json when the tier writes them, else the shared network.yaml. */
function batchSettings(net: NetworkDescriptor): string {
  const fromJson = (net.orderer as { batch?: unknown } | undefined)?.batch ?? net.batch;
  if (fromJson) return `${JSON.stringify(fromJson)} (network.json)`;
  try {
    const yaml = readFileSync(join(repoRoot, 'test-network-config', 'network.yaml'), 'utf8');
    const count = /maxMessageCount:\s*(\d+)/.exec(yaml)?.[1];
    const timeout = /timeoutMs:\s*(\d+)/.exec(yaml)?.[1];
    return `maxMessageCount=${count} timeoutMs=${timeout} (test-network-config/network.yaml)`;
  } catch {
    return 'unknown';
  }
}

/**
 * CPU time (ms) used so far by the ledger processes (control.ledgerPidFiles, via /proc) and by this
 * client — to say what limits throughput on a shared machine. NaN where /proc is unavailable.
 */
function procCpuMs(pid: number | string): number {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
}

function cpuSnapshot(net: NetworkDescriptor): { ledgerMs: number; clientMs: number; chaincodeMs: number } {
  let ledgerMs = 0;
  try {
    for (const pid of readLedgerPids(net)) ledgerMs += procCpuMs(pid);
  } catch {
    ledgerMs = NaN;
  }
  let chaincodeMs = NaN;
  try {
    if (CHAINCODE_PID) chaincodeMs = procCpuMs(CHAINCODE_PID);
  } catch {
    chaincodeMs = NaN;
  }
  const c = process.cpuUsage();
  return { ledgerMs, clientMs: (c.user + c.system) / 1000, chaincodeMs };
}

const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

async function main(): Promise<void> {
  const net = loadNetwork();
  const wantTier = process.env.BENCH_TIER;
  if (wantTier && net.tier !== wantTier) {
    throw new Error(`${net.home}/network.json describes a ${net.tier} network, not ${wantTier}: set GRIDLEDGER_HOME to a running ${wantTier} network's home`);
  }
  const org = net.organizations[0]!;
  const conn = connectBench(org);
  const contract = conn.gateway.getNetwork(net.channel).getContract(CHAINCODE);
  const run = newRunId();
  try {
    console.log(`network: tier=${net.tier} channel=${net.channel} org=${org.name} chaincode=${CHAINCODE}`);
    console.log(`batch:   ${batchSettings(net)}`);
    console.log(`client:  ${SIGNER === 'native' ? 'native signer (OpenSSL ECDSA, hash.none)' : 'fabric-gateway signers.newPrivateKeySigner'}`);
    console.log(`load:    ${TXS} puts (distinct keys), ${INFLIGHT} in flight; ${EVALS} evaluates; warm-up ${WARMUP}`);
    await benchPuts(contract, `${run}w`, WARMUP, Math.min(INFLIGHT, WARMUP));

    const cpu0 = cpuSnapshot(net);
    const puts = await benchPuts(contract, run, TXS, INFLIGHT);
    const cpu1 = cpuSnapshot(net);
    const evals = await benchEvaluate(contract, `${run}:bench:0`, EVALS, INFLIGHT);
    const cpu2 = cpuSnapshot(net);
    const load = loadavg().map((l) => l.toFixed(2)).join(' ');

    const rows: Array<[string, string]> = [
      ['committed tx/s', fmt((puts.valid / puts.wallMs) * 1000)],
      ['commit latency p50 (ms)', fmt(percentile(puts.latencies, 50))],
      ['commit latency p99 (ms)', fmt(percentile(puts.latencies, 99))],
      ['endorse+submit p50 (ms)', fmt(percentile(puts.endorseSubmit, 50))],
      ['valid / total', `${puts.valid} / ${TXS}`],
      ['invalid (code:count)', [...puts.invalid].map(([c, n]) => `${c}:${n}`).join(' ') || '0'],
      ['errors', [...puts.errors].map(([m, n]) => `${n}x ${m}`).join('; ') || '0'],
      ['evaluate/s', fmt((evals.ok / evals.wallMs) * 1000)],
      ['evaluate latency p50 (ms)', fmt(percentile(evals.latencies, 50))],
      ['evaluate latency p99 (ms)', fmt(percentile(evals.latencies, 99))],
      ['ledger CPU ms / committed tx', fmt((cpu1.ledgerMs - cpu0.ledgerMs) / Math.max(1, puts.valid), 2)],
      ['client CPU ms / committed tx', fmt((cpu1.clientMs - cpu0.clientMs) / Math.max(1, puts.valid), 2)],
      ['chaincode CPU ms / committed tx', fmt((cpu1.chaincodeMs - cpu0.chaincodeMs) / Math.max(1, puts.valid), 2)],
      ['ledger CPU ms / evaluate', fmt((cpu2.ledgerMs - cpu1.ledgerMs) / Math.max(1, evals.ok), 2)],
      ['ledger CPU share during puts', `${fmt(((cpu1.ledgerMs - cpu0.ledgerMs) / puts.wallMs) * 100, 0)}% of one core`],
      ['machine', `${cpus().length} cores, load average ${load}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log('');
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  } finally {
    conn.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
