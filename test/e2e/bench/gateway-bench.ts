/**
 * Benchmark (prints figures; not a test): REST ingest against the ledger's own speed, in ONE run against
 * the same running network (whatever $GRIDLEDGER_HOME/network.json and gateways.json describe — devnet
 * or Fabric):
 *
 *   1. direct: one-key puts through the unmodified fabric-gateway client (common.ts, as bench:devnet);
 *   2. REST 1 each: BENCH_METERS meters (default 200) each POST one reading at the same moment;
 *   3. REST steady: the same meters each POST BENCH_STEADY readings (default 5), one every
 *      BENCH_STEADY_INTERVAL_MS (default 1000; the meters' starts spread over the interval) — 200
 *      meters posting concurrently at 200 readings/s, the load a utility's meters put on it;
 *   4. REST backlog: the same meters each POST BENCH_BACKLOG more readings (default 20) as fast as
 *      they are acknowledged (one meter's readings in order, all meters at once) — a backlog after an outage.
 *
 * For each REST phase: acknowledgement (202) latency p50/p99, committed readings/s (readings ÷ time from
 * the first POST to the last receipt's commit, by the receipts' own `updatedAt`) and the ratio to the
 * direct puts/s, and queued→committed latency from the receipts' createdAt/updatedAt. Ack latency is
 * what this client sees (it runs on the same machine: its own HTTP cost is in the figure). Meters are enrolled through `POST /api/v1/meters` first (not measured).
 *
 *   npm run bench:gateway     (BENCH_TXS=2000 BENCH_INFLIGHT=50 BENCH_METERS=200 BENCH_BACKLOG=20 BENCH_ORG=<org>)
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cpus, loadavg } from 'node:os';
import { loadNetwork, newRunId, readLedgerPids, sleep } from '../support';
import { enrolMeter, gatewayPid, loadGateways, readingSeries, RestClient, type EnrolledMeter, type GatewayDescriptor, type Receipt } from '../rest/support';
import { batchSettings, benchPuts, benchSigner, checkTier, connectBench, cpuOf, fmt, intEnv, percentile, pool, printRows } from './common';

const TXS = intEnv('BENCH_TXS', 2000);
const INFLIGHT = intEnv('BENCH_INFLIGHT', 50);
const WARMUP = intEnv('BENCH_WARMUP', 50);
const METERS = intEnv('BENCH_METERS', 200);
const BACKLOG = intEnv('BENCH_BACKLOG', 20);
const STEADY = intEnv('BENCH_STEADY', 5);
const STEADY_INTERVAL_MS = intEnv('BENCH_STEADY_INTERVAL_MS', 1000);
const ENROL_INFLIGHT = intEnv('BENCH_ENROL_INFLIGHT', 4);
const SETTLE_TIMEOUT_MS = intEnv('BENCH_SETTLE_TIMEOUT_MS', 600_000);

interface Posted { meter: EnrolledMeter; receiptId: string }

/**
 * The devnet's chaincode servers (children of the supervisors whose pids start.sh keeps in
 * $GRIDLEDGER_HOME/pids/cc-<name>[-<org>].pid), by chaincode name; empty where there are none (Fabric's are not ours to read).
 */
function chaincodePids(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const dir = path.join(process.env.GRIDLEDGER_HOME ?? '', 'pids');
  try {
    for (const f of fs.readdirSync(dir)) {
      // cc-<name>.pid (one server for every org) or cc-<name>-<org>.pid (one per org): summed by chaincode
      const m = /^cc-(.+?)(-utility\d+)?\.pid$/.exec(f);
      if (!m) continue;
      const sup = fs.readFileSync(path.join(dir, f), 'utf8').trim();
      const children = fs.readFileSync(`/proc/${sup}/task/${sup}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      out.set(m[1]!, [...(out.get(m[1]!) ?? []), ...children]);
    }
  } catch {
    // not a devnet started by start.sh: no chaincode figures
  }
  return out;
}

/**
 * The meters' POSTs go through node:http with a keep-alive agent, not the global fetch: on this machine
 * fetch (undici, Node 20) costs ~5 ms of client CPU per request and opens connections slowly — 200
 * concurrent fetches to a server that answers in 50 ms take ~1 s — so it, not the gateway, would set the
 * acknowledgement latency. node:http does the same 200 in ~150 ms.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function postJson(url: string, apiKey: string, body: unknown, idempotencyKey: string): Promise<{ status: number; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${apiKey}`, 'idempotency-key': idempotencyKey },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface RestPhase {
  readings: number;
  acks: number[];
  refused: Map<string, number>;
  committed: number;
  rejected: number;
  /** ms from the first POST to the last commit (receipts' updatedAt) */
  commitWallMs: number;
  /** ms from the first POST to the last 202 */
  ackWallMs: number;
  gatewayCpuMs: number;
  ledgerCpuMs: number;
  /** the gridledger chaincode server's CPU (devnet), NaN where unknown */
  chaincodeCpuMs: number;
  transactions: number;
  /** queued → committed per receipt (ms, sorted) */
  commitLatencies: number[];
}

/** `gateway_queue_depth` (queued + submitted) from the gateway's /metrics. */
async function queueDepth(gw: GatewayDescriptor): Promise<number> {
  const res = await fetch(`${gw.url}/metrics`);
  const text = await res.text();
  let n = 0;
  for (const m of text.matchAll(/^gateway_queue_depth\{state="(?:queued|submitted)"\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

/** Waits until the gateway's queue is empty, then reads every receipt once (the figures come from the receipts). */
async function settle(gw: GatewayDescriptor, posted: Posted[]): Promise<Receipt[]> {
  const until = Date.now() + SETTLE_TIMEOUT_MS;
  while ((await queueDepth(gw)) > 0) {
    if (Date.now() > until) throw new Error(`the gateway's queue did not drain within ${SETTLE_TIMEOUT_MS} ms`);
    await sleep(500);
  }
  const operator = new RestClient(gw.url, gw.apiKeys.operator);
  const out: Receipt[] = new Array(posted.length);
  await pool(posted.length, 16, async (i) => {
    const res = await operator.get<Receipt>(`/api/v1/receipts/${posted[i]!.receiptId}`);
    if (res.status !== 200) throw new Error(`GET receipt ${posted[i]!.receiptId}: ${res.status} ${res.text}`);
    out[i] = res.body;
  });
  return out;
}

/**
 * Posts `perMeter` readings for every meter (each meter's in order, all meters concurrently) and waits for
 * their commits. With `intervalMs` a meter posts one reading per interval (meter i starting at i/n of it);
 * without, each next reading as soon as the previous one was acknowledged.
 */
async function restPhase(
  gw: GatewayDescriptor,
  meters: EnrolledMeter[],
  series: Map<string, ReturnType<typeof readingSeries>>,
  from: number,
  perMeter: number,
  pids: { gateway: number; ledger: number[]; chaincode: number[] },
  intervalMs = 0,
): Promise<RestPhase> {
  const acks: number[] = [];
  const refused = new Map<string, number>();
  const posted: Posted[] = [];
  const gw0 = cpuOf([pids.gateway]);
  const ledger0 = cpuOf(pids.ledger);
  const cc0 = pids.chaincode.length ? cpuOf(pids.chaincode) : NaN;
  const t0 = Date.now();
  let lastAck = t0;
  await Promise.all(
    meters.map(async (meter, m) => {
      const readings = series.get(meter.meterId)!;
      for (let k = from; k < from + perMeter; k++) {
        if (intervalMs > 0) {
          const at = t0 + (k - from) * intervalMs + Math.floor((m * intervalMs) / meters.length);
          if (at > Date.now()) await sleep(at - Date.now());
        }
        const r = readings[k]!;
        const s = performance.now();
        let res: { status: number; text: string };
        for (let attempt = 1; ; attempt++) {
          try {
            res = await postJson(`${gw.url}/api/v1/meters/${meter.meterId}/readings`, meter.apiKey, r, `bench-${meter.meterId}-${r.intervalStart}`);
            break;
          } catch (e) {
            // a connection reset: the same request again with its Idempotency-Key, as a meter would (counted)
            const key = `network error: ${String((e as Error).message ?? e)}`;
            refused.set(key, (refused.get(key) ?? 0) + 1);
            if (attempt >= 5) throw e;
          }
        }
        const ms = performance.now() - s;
        if (process.env.BENCH_TRACE && ms > 1000) console.log(`slow ack: meter ${m} reading ${k - from} started at +${Date.now() - ms - t0} ms took ${ms.toFixed(0)} ms`);
        if (res.status === 202) {
          acks.push(ms);
          posted.push({ meter, receiptId: (JSON.parse(res.text) as { receiptId: string }).receiptId });
          lastAck = Math.max(lastAck, Date.now());
        } else {
          const key = `${res.status} ${res.text.slice(0, 100)}`;
          refused.set(key, (refused.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  const receipts = await settle(gw, posted);
  const gw1 = cpuOf([pids.gateway]);
  const ledger1 = cpuOf(pids.ledger);
  const cc1 = pids.chaincode.length ? cpuOf(pids.chaincode) : NaN;
  acks.sort((a, b) => a - b);
  const committed = receipts.filter((r) => r.state === 'COMMITTED');
  const lastCommit = Math.max(...committed.map((r) => Date.parse((r as Receipt & { updatedAt: string }).updatedAt)));
  return {
    readings: meters.length * perMeter,
    acks,
    refused,
    committed: committed.length,
    rejected: receipts.filter((r) => r.state === 'REJECTED').length,
    commitWallMs: lastCommit - t0,
    ackWallMs: lastAck - t0,
    gatewayCpuMs: gw1 - gw0,
    ledgerCpuMs: ledger1 - ledger0,
    chaincodeCpuMs: cc1 - cc0,
    transactions: new Set(committed.map((r) => r.txId)).size,
    commitLatencies: committed.map((r) => Date.parse((r as Receipt & { updatedAt: string }).updatedAt) - Date.parse((r as Receipt & { createdAt: string }).createdAt)).sort((a, b) => a - b),
  };
}

async function main(): Promise<void> {
  const net = loadNetwork();
  checkTier(net);
  const gateways = loadGateways();
  const gw = gateways.find((g) => g.org === process.env.BENCH_ORG) ?? gateways[0]!;
  const org = net.organizations.find((o) => o.name === gw.org || o.mspId === gw.mspId) ?? net.organizations[0]!;
  const signer = benchSigner();
  const conn = connectBench(org, signer);
  const contract = conn.gateway.getNetwork(net.channel).getContract(process.env.BENCH_CHAINCODE ?? 'conformance');
  const run = newRunId();
  let ledgerPids: number[] = [];
  try {
    ledgerPids = readLedgerPids(net);
  } catch {
    ledgerPids = [];
  }
  const cc = chaincodePids();
  const pids = { gateway: gatewayPid(gw.org), ledger: ledgerPids, chaincode: cc.get('gridledger') ?? [] };
  const conformancePids = cc.get('conformance') ?? [];
  try {
    console.log(`network: tier=${net.tier} channel=${net.channel} org=${org.name} gateway=${gw.url}`);
    console.log(`batch:   ${batchSettings(net)}`);
    console.log(`direct:  ${TXS} one-key puts (conformance chaincode), ${INFLIGHT} in flight, ${signer} signer`);
    console.log(`REST:    ${METERS} meters × 1 reading at once; ${METERS} meters × ${STEADY} readings, one per ${STEADY_INTERVAL_MS} ms each; ${METERS} meters × ${BACKLOG} readings as fast as acknowledged`);

    // enrolment (not measured): the operator route, as an installer would
    const meters: EnrolledMeter[] = new Array(METERS);
    const enrolMs = await pool(METERS, ENROL_INFLIGHT, async (i) => {
      // a loaded CA may time out (503, the key is released): the same enrolment again
      for (let attempt = 1; ; attempt++) {
        try {
          meters[i] = await enrolMeter(gw, `bench-${run}-${i}`, 'feeder-bench');
          return;
        } catch (e) {
          if (attempt >= 5 || !/got 503/.test(String(e))) throw e;
          await sleep(1000 * attempt);
        }
      }
    });
    console.log(`enrolled ${METERS} meters through REST in ${fmt(enrolMs / 1000)} s`);
    const series = new Map(meters.map((m) => [m.meterId, readingSeries(1 + STEADY + BACKLOG)]));

    await benchPuts(contract, `${run}w`, WARMUP, Math.min(INFLIGHT, WARMUP));
    const putCpu0 = { ledger: cpuOf(ledgerPids), chaincode: conformancePids.length ? cpuOf(conformancePids) : NaN };
    const puts = await benchPuts(contract, run, TXS, INFLIGHT);
    const putCpu = { ledger: (cpuOf(ledgerPids) - putCpu0.ledger) / Math.max(1, puts.valid), chaincode: ((conformancePids.length ? cpuOf(conformancePids) : NaN) - putCpu0.chaincode) / Math.max(1, puts.valid) };
    const direct = (puts.valid / puts.wallMs) * 1000;
    const one = await restPhase(gw, meters, series, 0, 1, pids);
    const steady = STEADY > 0 ? await restPhase(gw, meters, series, 1, STEADY, pids, STEADY_INTERVAL_MS) : undefined;
    const backlog = BACKLOG > 0 ? await restPhase(gw, meters, series, 1 + STEADY, BACKLOG, pids) : undefined;
    const load = loadavg().map((l) => l.toFixed(2)).join(' ');

    const rate = (p: RestPhase) => (p.committed / p.commitWallMs) * 1000;
    const restRows = (name: string, p: RestPhase, offered?: number): Array<[string, string]> => [
      [`${name}: committed readings/s`, fmt(rate(p))],
      // a paced phase cannot commit faster than it posts: its ratio says nothing about capacity
      offered === undefined ? [`${name}: REST ÷ direct`, fmt(rate(p) / direct, 2)] : [`${name}: offered readings/s`, fmt(offered)],
      [`${name}: ack p50 / p99 (ms)`, `${fmt(percentile(p.acks, 50))} / ${fmt(percentile(p.acks, 99))}`],
      [`${name}: queued→committed p50 / p99 (ms)`, `${fmt(percentile(p.commitLatencies, 50), 0)} / ${fmt(percentile(p.commitLatencies, 99), 0)}`],
      [`${name}: acknowledged/s`, fmt((p.acks.length / Math.max(1, p.ackWallMs)) * 1000)],
      [`${name}: committed / rejected / posted`, `${p.committed} / ${p.rejected} / ${p.readings}`],
      [`${name}: refused POSTs`, [...p.refused].map(([m, n]) => `${n}x ${m}`).join('; ') || '0'],
      [`${name}: transactions (readings per tx)`, `${p.transactions} (${fmt(p.committed / Math.max(1, p.transactions), 2)})`],
      [`${name}: gateway / ledger / chaincode CPU ms per reading`, `${fmt(p.gatewayCpuMs / Math.max(1, p.committed), 2)} / ${fmt(p.ledgerCpuMs / Math.max(1, p.committed), 2)} / ${fmt(p.chaincodeCpuMs / Math.max(1, p.committed), 2)}`],
      [`${name}: ledger + chaincode CPU ms per transaction`, fmt((p.ledgerCpuMs + p.chaincodeCpuMs) / Math.max(1, p.transactions), 2)],
    ];
    console.log('');
    printRows([
      ['direct: committed puts/s', fmt(direct)],
      ['direct: commit p50 / p99 (ms)', `${fmt(percentile(puts.latencies, 50))} / ${fmt(percentile(puts.latencies, 99))}`],
      ['direct: ledger / chaincode CPU ms per put', `${fmt(putCpu.ledger, 2)} / ${fmt(putCpu.chaincode, 2)}`],
      ['direct: valid / total', `${puts.valid} / ${TXS}${puts.errors.size ? ` (errors: ${[...puts.errors].map(([m, n]) => `${n}x ${m}`).join('; ')})` : ''}`],
      ...restRows(`REST ${METERS}×1 burst`, one),
      ...(steady ? restRows(`REST ${METERS}×${STEADY} steady`, steady, (METERS * 1000) / STEADY_INTERVAL_MS) : []),
      ...(backlog ? restRows(`REST ${METERS}×${BACKLOG} backlog`, backlog) : []),
      ['machine', `${cpus().length} cores, load average ${load}`],
    ]);
  } finally {
    conn.close();
    agent.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
