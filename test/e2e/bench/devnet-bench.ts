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
import { cpus, loadavg } from 'node:os';
import type { Contract } from '@hyperledger/fabric-gateway';
import { loadNetwork, newRunId } from '../support';
import { batchSettings, benchPuts, benchSigner, checkTier, connectBench, cpuSnapshot, fmt, intEnv, percentile, pool, printRows } from './common';

const TXS = intEnv('BENCH_TXS', 2000);
const INFLIGHT = intEnv('BENCH_INFLIGHT', 50);
const EVALS = intEnv('BENCH_EVALS', 2000);
const WARMUP = intEnv('BENCH_WARMUP', 50);
const CHAINCODE = process.env.BENCH_CHAINCODE ?? 'conformance';
const SIGNER = benchSigner();
const CHAINCODE_PID = process.env.BENCH_CHAINCODE_PID;

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

async function main(): Promise<void> {
  const net = loadNetwork();
  checkTier(net);
  const org = net.organizations[0]!;
  const conn = connectBench(org, SIGNER);
  const contract = conn.gateway.getNetwork(net.channel).getContract(CHAINCODE);
  const run = newRunId();
  try {
    console.log(`network: tier=${net.tier} channel=${net.channel} org=${org.name} chaincode=${CHAINCODE}`);
    console.log(`batch:   ${batchSettings(net)}`);
    console.log(`client:  ${SIGNER === 'native' ? 'native signer (OpenSSL ECDSA, hash.none)' : 'fabric-gateway signers.newPrivateKeySigner'}`);
    console.log(`load:    ${TXS} puts (distinct keys), ${INFLIGHT} in flight; ${EVALS} evaluates; warm-up ${WARMUP}`);
    await benchPuts(contract, `${run}w`, WARMUP, Math.min(INFLIGHT, WARMUP));

    const cpu0 = cpuSnapshot(net, CHAINCODE_PID);
    const puts = await benchPuts(contract, run, TXS, INFLIGHT);
    const cpu1 = cpuSnapshot(net, CHAINCODE_PID);
    const evals = await benchEvaluate(contract, `${run}:bench:0`, EVALS, INFLIGHT);
    const cpu2 = cpuSnapshot(net, CHAINCODE_PID);
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
    console.log('');
    printRows(rows);
  } finally {
    conn.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
