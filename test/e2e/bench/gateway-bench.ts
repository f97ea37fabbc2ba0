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
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
 * Queued and committed instants (ms) of receipts, from the gateway's own SQLite (read-only; the REST
 * receipt says `createdAt`/`updatedAt` in whole seconds, too coarse for a burst that lasts a few seconds).
 * Undefined where the database is not readable (another machine's gateway): the seconds are used then.
 */
function receiptTimesMs(gw: GatewayDescriptor, ids: string[]): Map<string, { createdAt: number; updatedAt: number }> | undefined {
  try {
    // the gateway's own dependency (the bench reads its database as a tool would; nothing is written)
    const Database = createRequire(path.join(__dirname, '../../../gateway/package.json'))('better-sqlite3') as new (f: string, o: object) => {
      prepare(sql: string): { get(id: string): { created_at: number; updated_at: number } | undefined };
      close(): void;
    };
    const db = new Database(path.join(process.env.GRIDLEDGER_HOME ?? '', `gateway-${gw.org}`, 'gateway.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const q = db.prepare('SELECT created_at, updated_at FROM receipts WHERE id = ?');
      const out = new Map<string, { createdAt: number; updatedAt: number }>();
      for (const id of ids) {
        const r = q.get(id);
        if (r) out.set(id, { createdAt: r.created_at, updatedAt: r.updated_at });
      }
      return out;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/** The gateway's /metrics as text (a scrape also resets prom-client's event-loop delay histogram). */
async function scrape(gw: GatewayDescriptor): Promise<string> {
  return (await fetch(`${gw.url}/metrics`)).text();
}

/** A gauge's value (first sample of that name) in a /metrics text; NaN if absent. */
function gauge(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** A histogram's cumulative buckets (le → count), sum and count for the samples whose labels contain `labels`. */
function histogram(text: string, name: string, labels = ''): { buckets: Map<number, number>; sum: number; count: number } {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (labels && !line.includes(labels))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)![1]!;
      const k = le === '+Inf' ? Infinity : Number(le);
      buckets.set(k, (buckets.get(k) ?? 0) + value);
    } else if (line.startsWith(`${name}_sum`)) sum += value;
    else if (line.startsWith(`${name}_count`)) count += value;
  }
  return { buckets, sum, count };
}

/** Upper bucket bound below which p% of the samples between two scrapes fall (ms), and the mean (ms). */
function histogramDelta(a: ReturnType<typeof histogram>, b: ReturnType<typeof histogram>, ps: number[]): { quantiles: number[]; meanMs: number; count: number } {
  const count = b.count - a.count;
  const bounds = [...b.buckets.keys()].sort((x, y) => x - y);
  const quantiles = ps.map((p) => {
    const want = (count * p) / 100;
    for (const le of bounds) if ((b.buckets.get(le) ?? 0) - (a.buckets.get(le) ?? 0) >= want) return le * 1000;
    return Infinity;
  });
  return { quantiles, meanMs: count > 0 ? ((b.sum - a.sum) / count) * 1000 : NaN, count };
}

/** A thread's time on a CPU and waiting for one (ms), from /proc/<pid>/task/<tid>/schedstat; NaN where unreadable. */
function schedstat(pid: number, tid: number = pid): { runMs: number; waitMs: number } {
  try {
    const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { runMs: run! / 1e6, waitMs: wait! / 1e6 };
  } catch {
    return { runMs: NaN, waitMs: NaN };
  }
}

/** Where the acknowledgement time went while a phase's POSTs were answered (first POST → last 202). */
interface AckWindow {
  /** the gateway's own request time for postReading (express in → response finished): p50/p99 bucket bounds, mean */
  serverMs: { p50: number; p99: number; mean: number };
  /** event-loop delay of the gateway's HTTP thread over the window (prom-client monitorEventLoopDelay) */
  lagMs: { p50: number; p99: number; max: number };
  /** group commits: mean writes per commit and mean time until durable (ms) */
  groupCommit: { writes: number; ms: number };
  /** the gateway's HTTP thread: on a CPU / runnable but waiting for a CPU (ms) */
  httpThread: { runMs: number; waitMs: number };
  /** this benchmark client's own CPU (ms) */
  clientCpuMs: number;
  /** this client's own main thread: waiting for a CPU (ms), and its event-loop delay p99 / max (ms) — time in the ack figures that is not the gateway's */
  client: { waitMs: number; lagP99Ms: number; lagMaxMs: number };
  wallMs: number;
}

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
  ack: AckWindow;
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
  const m0 = await scrape(gw); // also starts a fresh event-loop delay histogram
  const sched0 = schedstat(pids.gateway);
  const client0 = process.cpuUsage();
  const clientSched0 = schedstat(process.pid);
  const clientLag = monitorEventLoopDelay({ resolution: 5 });
  clientLag.enable();
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
  const clientCpu = process.cpuUsage(client0);
  clientLag.disable();
  const clientSched1 = schedstat(process.pid);
  const sched1 = schedstat(pids.gateway);
  const m1 = await scrape(gw);
  const ackWallMs = Date.now() - t0;
  const server = histogramDelta(histogram(m0, 'gateway_http_request_duration_seconds', 'operation="postReading"'), histogram(m1, 'gateway_http_request_duration_seconds', 'operation="postReading"'), [50, 99]);
  const gc = histogramDelta(histogram(m0, 'gateway_store_group_commit_seconds'), histogram(m1, 'gateway_store_group_commit_seconds'), []);
  const gcWrites = histogramDelta(histogram(m0, 'gateway_store_group_commit_writes'), histogram(m1, 'gateway_store_group_commit_writes'), []);
  const ack: AckWindow = {
    serverMs: { p50: server.quantiles[0]!, p99: server.quantiles[1]!, mean: server.meanMs },
    lagMs: { p50: gauge(m1, 'nodejs_eventloop_lag_p50_seconds') * 1000, p99: gauge(m1, 'nodejs_eventloop_lag_p99_seconds') * 1000, max: gauge(m1, 'nodejs_eventloop_lag_max_seconds') * 1000 },
    groupCommit: { writes: gcWrites.meanMs / 1000, ms: gc.meanMs },
    httpThread: { runMs: sched1.runMs - sched0.runMs, waitMs: sched1.waitMs - sched0.waitMs },
    clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
    client: { waitMs: clientSched1.waitMs - clientSched0.waitMs, lagP99Ms: clientLag.percentile(99) / 1e6, lagMaxMs: clientLag.max / 1e6 },
    wallMs: ackWallMs,
  };
  const receipts = await settle(gw, posted);
  const gw1 = cpuOf([pids.gateway]);
  const ledger1 = cpuOf(pids.ledger);
  const cc1 = pids.chaincode.length ? cpuOf(pids.chaincode) : NaN;
  acks.sort((a, b) => a - b);
  const committed = receipts.filter((r) => r.state === 'COMMITTED');
  const exact = receiptTimesMs(gw, committed.map((r) => r.receiptId));
  const times = (r: Receipt) => {
    const t = exact?.get(r.receiptId);
    const v = r as Receipt & { createdAt: number; updatedAt: number };
    return t ?? { createdAt: v.createdAt * 1000, updatedAt: v.updatedAt * 1000 };
  };
  const lastCommit = Math.max(...committed.map((r) => times(r).updatedAt));
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
    commitLatencies: committed.map((r) => times(r).updatedAt - times(r).createdAt).sort((a, b) => a - b),
    ack,
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
      // A loaded CA may time out (503, the key is released), or time out at the gateway after it
      // enrolled the identity, so that the retry is refused (502 'Authentication failure': an enrolment
      // secret is good once). Enrolment is not what is measured: another meter id instead.
      for (let attempt = 1; ; attempt++) {
        try {
          meters[i] = await enrolMeter(gw, `bench-${run}-${i}${attempt > 1 ? `r${attempt}` : ''}`, 'feeder-bench');
          return;
        } catch (e) {
          if (attempt >= 5 || !/got 50[23]/.test(String(e))) throw e;
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
      // where the ack time went (first POST → last 202): the gateway's own handling, its event loop, its
      // HTTP thread's share of a CPU, the group commit, and this client's CPU on the same cores
      [`${name}: ack window: gateway postReading p50 / p99 / mean (ms)`, `≤${fmt(p.ack.serverMs.p50, 0)} / ≤${fmt(p.ack.serverMs.p99, 0)} / ${fmt(p.ack.serverMs.mean)}`],
      [`${name}: ack window: gateway event-loop delay p50 / p99 / max (ms)`, `${fmt(p.ack.lagMs.p50)} / ${fmt(p.ack.lagMs.p99)} / ${fmt(p.ack.lagMs.max)}`],
      [`${name}: ack window: group commit writes / ms until durable (mean)`, `${fmt(p.ack.groupCommit.writes)} / ${fmt(p.ack.groupCommit.ms)}`],
      [`${name}: ack window: gateway HTTP thread on CPU / waiting for a CPU (ms)`, `${fmt(p.ack.httpThread.runMs, 0)} / ${fmt(p.ack.httpThread.waitMs, 0)} of ${fmt(p.ack.wallMs, 0)} wall`],
      [`${name}: ack window: client CPU ms (per reading)`, `${fmt(p.ack.clientCpuMs, 0)} (${fmt(p.ack.clientCpuMs / Math.max(1, p.readings), 2)})`],
      [`${name}: ack window: client thread waiting for a CPU (ms), client event-loop delay p99 / max (ms)`, `${fmt(p.ack.client.waitMs, 0)}, ${fmt(p.ack.client.lagP99Ms)} / ${fmt(p.ack.client.lagMaxMs)}`],
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
