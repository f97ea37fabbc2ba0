/**
 * Benchmark (prints figures; not a test): what a settled trade costs on a running network with honest
 * agents (issue 17 item 5). In ONE run against whatever $GRIDLEDGER_HOME/network.json and gateways.json
 * describe (devnet or Fabric; `npm run bench:market` / `npm run bench:market:fabric`):
 *
 *   1. trivial puts: the `bench:devnet` workload (common.ts: BENCH_TXS one-key puts, BENCH_INFLIGHT in
 *      flight) on the same network, before the market starts, for the ratio below;
 *   2. market: a community (community/, the simulator `npm start` runs) of BENCH_HOUSEHOLDS households
 *      with its own meter prefix, every agent `honest`, a share BENCH_AUCTION_SHARE of buyers running
 *      sealed-bid auctions as the community does (their agents reveal, a keeper closes, the agents
 *      claim: docs/agents.md §4); once it is set up (every household admitted, or
 *      BENCH_SETUP_TIMEOUT_S), the trades whose delivery interval is one of the next BENCH_INTERVALS
 *      intervals — from accepted offers and from claimed auctions — are followed until each is closed
 *      (SETTLED, DECLINED, FAILED_LATE) or BENCH_SETTLE_TIMEOUT_S after the last interval's end.
 *      An auction is requested about seven intervals before its delivery (bids, reveals and claims come
 *      first), so part of the measured auctions' transactions precede the measured block range, and
 *      auctions for later intervals fall inside it: the per-trade figures mix the two.
 *
 * Printed: settled trades per interval, settled trades/s, ledger transactions per settled trade (every
 * valid transaction in the measured block range, by function, read from the blocks themselves), p50/p99
 * from the delivery interval's end to SETTLED (trade.outcome.closedAt, ledger seconds), the share decided
 * by committee votes (trade.validation.decidedByFacts false), CPU ms per settled trade of the ledger
 * processes, the gateways and the chaincode servers (/proc), and trade-path tx/s ÷ trivial puts/s —
 * measured, and the capacity ratio the CPU figures imply (CPU per put ÷ per market tx), twice: raw (all CPU
 * in the window ÷ its valid transactions, idle cost included) and marginal (each process group's idle CPU
 * rate, measured over BENCH_IDLE_S quiet seconds after the puts and before the community starts, times
 * the window's length, taken off first; the puts' CPU likewise).
 *
 * Knobs (environment): BENCH_HOUSEHOLDS (12), BENCH_INTERVALS (3), BENCH_INTERVAL_SECONDS (the market's
 * minIntervalSeconds: 60 on a development devnet, 300 otherwise; a value below it is applied as the
 * regulator first, with slots of half and a claim window of one interval, as the devnet's development
 * settings — `BENCH_INTERVAL_SECONDS=60 npm run bench:market:fabric`), BENCH_ZONES (2), BENCH_SEED (1),
 * BENCH_LOTS (community default 2: offers per seller and interval), BENCH_AUCTION_SHARE (0.25, the
 * community's default; 0 = fixed-price offers only), BENCH_TXS (2000), BENCH_INFLIGHT (50),
 * BENCH_SETUP_TIMEOUT_S (300), BENCH_SETTLE_TIMEOUT_S (600), BENCH_IDLE_S (25; 0 = no idle window, marginal =
 * raw), BENCH_TIER=devnet|fabric (refuse another
 * tier's network), BENCH_CONFLICTS=1 (also read the blocks' read-write sets and print, for each
 * MVCC-invalid transaction, the key that invalidated it and the function that wrote it: bench/conflicts.ts).
 * Start the network with GRIDLEDGER_COMMUNITY=0 so nothing else trades beside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StatusCode, type Contract } from '@hyperledger/fabric-gateway';
import { loadNetwork, newRunId, readLedgerPids, repoRoot, sleep, type NetworkDescriptor } from '../support';
import { gatewayPid, loadGateways, regulatorClient, scanTransactions, type LedgerTx } from '../rest/support';
import { batchSettings, benchPuts, checkTier, connectBench, cpuOf, fmt, intEnv, percentile, printRows } from './common';
import { findConflicts, summariseConflicts } from './conflicts';
import { summarise, tradeTimelines, type TimelineTask, type TimelineTrade } from './timeline';

const HOUSEHOLDS = intEnv('BENCH_HOUSEHOLDS', 12);
const INTERVALS = intEnv('BENCH_INTERVALS', 3);
const ZONES = intEnv('BENCH_ZONES', 2);
const SEED = intEnv('BENCH_SEED', 1);
const LOTS = process.env.BENCH_LOTS;
const AUCTION_SHARE = /^(0(\.\d+)?|1(\.0+)?)$/.test(process.env.BENCH_AUCTION_SHARE ?? '') ? Number(process.env.BENCH_AUCTION_SHARE) : 0.25;
const TXS = intEnv('BENCH_TXS', 2000);
const INFLIGHT = intEnv('BENCH_INFLIGHT', 50);
const SETUP_TIMEOUT_S = intEnv('BENCH_SETUP_TIMEOUT_S', 300);
const SETTLE_TIMEOUT_S = intEnv('BENCH_SETTLE_TIMEOUT_S', 600);
const CONFLICTS = process.env.BENCH_CONFLICTS === '1';
const IDLE_S = intEnv('BENCH_IDLE_S', 25);
const CLOSED = new Set(['SETTLED', 'DECLINED', 'FAILED_LATE']);

const now = (): number => Date.now() / 1000;

/** The fields of a trade this benchmark reads (GET /api/v1/trades/{id}; chaincode market/domain/trade.ts). */
interface TradeView extends TimelineTrade {
  state: string;
  validation: { taskId: string; decidedByFacts: boolean };
  outcome?: { closedAt: number; fault: string };
}

/** CPU ms so far of the processes behind the network: ledger (network.json), gateways and chaincode servers (pid files). */
interface CpuSample { ledger: number; gateways: number; chaincode: number }

/** The chaincode servers' pids: children of the supervisors in `<home>/pids/cc-*.pid` (devnet); none elsewhere. */
function chaincodePids(home: string): number[] {
  const dir = join(home, 'pids');
  if (!existsSync(dir)) return [];
  const out: number[] = [];
  for (const f of readdirSync(dir).filter((n) => /^cc-.*\.pid$/.test(n))) {
    const sup = readFileSync(join(dir, f), 'utf8').trim();
    try {
      out.push(...readFileSync(`/proc/${sup}/task/${sup}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* not Linux, or the supervisor is gone: left out of the figure */
    }
  }
  return out;
}

function cpuSample(net: NetworkDescriptor, orgs: string[]): CpuSample {
  let ledger = NaN;
  try {
    ledger = cpuOf(readLedgerPids(net));
  } catch {
    /* no pid files on this tier */
  }
  let gateways = NaN;
  try {
    gateways = cpuOf(orgs.map((o) => gatewayPid(o, net.home)));
  } catch {
    /* idem */
  }
  const cc = chaincodePids(net.home);
  return { ledger, gateways, chaincode: cc.length ? cpuOf(cc) : NaN };
}

const cpuDelta = (a: CpuSample, b: CpuSample): CpuSample => ({ ledger: b.ledger - a.ledger, gateways: b.gateways - a.gateways, chaincode: b.chaincode - a.chaincode });
const GROUPS = ['ledger', 'chaincode', 'gateways'] as const;
/** A sample's sum; a group without a figure (NaN: no pid files on this tier) counts 0. */
const cpuTotal = (c: CpuSample): number => GROUPS.reduce((sum, g) => sum + (Number.isNaN(c[g]) ? 0 : c[g]), 0);
/**
 * The CPU a window's work cost beyond the network's idle cost: per group, window CPU − idle rate (ms/s)
 * × window length (s). Idle timers, GC and the gateways' housekeeping run whatever the load; at the light
 * load a benchmark offers they are a large share of the raw figure, which then overstates what one more
 * transaction costs (issue 17: capacity measured honestly).
 */
const marginal = (c: CpuSample, idlePerS: CpuSample, seconds: number): CpuSample =>
  ({ ledger: c.ledger - idlePerS.ledger * seconds, gateways: c.gateways - idlePerS.gateways * seconds, chaincode: c.chaincode - idlePerS.chaincode * seconds });

/** One synchronous put through the conformance chaincode: its block number bounds everything committed before. */
async function markerBlock(contract: Contract, key: string): Promise<number> {
  const submitted = await contract.submitAsync('put', { arguments: [key, 'v'] });
  const status = await submitted.getStatus();
  if (status.code !== StatusCode.VALID) throw new Error(`marker put ${key}: validation code ${status.code}`);
  return Number(status.blockNumber);
}

/**
 * Sum over the gateways of their /metrics counters, by label set: the agents' acts (`act …`), the ledger
 * retries (`retry …`), the agents' ledger reads (`eval fn=…`, gateway_agent_evaluations_total) and the
 * wake-ups their events decided without a read (`skip rule=…`).
 */
async function agentCounters(urls: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const url of urls) {
    try {
      const text = await (await fetch(`${url}/metrics`)).text();
      const kinds: Record<string, string> = { agent_acts_total: 'act', fabric_retries_total: 'retry', agent_evaluations_total: 'eval', agent_wakeups_skipped_total: 'skip' };
      for (const m of text.matchAll(/^gateway_(agent_acts_total|fabric_retries_total|agent_evaluations_total|agent_wakeups_skipped_total)\{([^}]*)\} (\d+)/gm)) {
        const key = `${kinds[m[1]!]} ${m[2]!.replace(/"/g, '')}`;
        out.set(key, (out.get(key) ?? 0) + Number(m[3]));
      }
    } catch {
      /* a gateway without /metrics: left out */
    }
  }
  return out;
}

interface CommunityStatus { counters?: { intervals: number; acceptances: number; offers: number }; households?: Array<{ status: string | null }> }

function readStatus(stateDir: string): CommunityStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')) as CommunityStatus;
  } catch {
    return undefined;
  }
}

/**
 * From the community's log (pino JSON lines): tradeId → deliveryStart of every acceptance ("offer
 * accepted"), and requestId → deliveryStart of every auction request ("auction requested"; its trade is
 * created later by the agents' claims, so only the auction names it).
 */
async function loggedMarket(logFile: string): Promise<{ trades: Map<string, number>; auctions: Map<string, number> }> {
  const trades = new Map<string, number>();
  const auctions = new Map<string, number>();
  const lines = createInterface({ input: createReadStream(logFile), crlfDelay: Infinity });
  for await (const line of lines) {
    const accepted = line.includes('"offer accepted"');
    if (!accepted && !line.includes('"auction requested"')) continue;
    try {
      const o = JSON.parse(line) as { tradeId?: string; requestId?: string; deliveryStart?: number };
      if (typeof o.deliveryStart !== 'number') continue;
      if (accepted && o.tradeId) trades.set(o.tradeId, o.deliveryStart);
      if (!accepted && o.requestId) auctions.set(o.requestId, o.deliveryStart);
    } catch {
      /* a torn last line */
    }
  }
  return { trades, auctions };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

/** Transactions that are not the trade path: readings, the benchmark's own puts, enrolment and admission. */
const notTradePath = (fn: string): boolean => /^conformance\/|^gridledger\/(meters|participants|admissions|wallets):/.test(fn);

async function main(): Promise<void> {
  const net = loadNetwork();
  checkTier(net);
  const gateways = loadGateways(net.home);
  const regulator = regulatorClient(gateways);
  const orgs = gateways.map((g) => g.org);
  let market = await regulator.get<{ minIntervalSeconds?: number; auctionClaimSeconds?: number }>('/api/v1/market/parameters');
  let governance = await regulator.get<{ slotSeconds: number }>('/api/v1/governance/parameters');
  if (market.status !== 200 || governance.status !== 200) throw new Error(`parameters: market ${market.status}, governance ${governance.status}`);
  const L = intEnv('BENCH_INTERVAL_SECONDS', market.body.minIntervalSeconds ?? 300);
  if (L < (market.body.minIntervalSeconds ?? 300)) {
    // Asked for shorter intervals than the network allows (a Fabric network keeps 300 s, 300 s slots and
    // an hour's claim window): apply, as the regulator, what network.yaml `development.intervalSeconds`
    // applies on the devnet (network/scripts/lib.sh apply_development_settings, scaled to L) and what the
    // e2e suites ensure on Fabric (rest/market.ts TEST_MARKET, rest/support/community.ts TEST_GOVERNANCE).
    const settings: Array<[string, Record<string, number>]> = [
      ['/api/v1/governance/parameters', { slotSeconds: Math.floor(L / 2), clockToleranceSeconds: Math.floor(L / 4) }],
      ['/api/v1/market/parameters', { minIntervalSeconds: L, auctionClaimSeconds: L }],
    ];
    for (const [path, body] of settings) {
      const r = await regulator.post(path, body);
      if (r.status !== 201) throw new Error(`BENCH_INTERVAL_SECONDS=${L}: POST ${path} ${JSON.stringify(body)} answered ${r.status} ${r.text}`);
    }
    console.log(`settings: BENCH_INTERVAL_SECONDS=${L} is below the network's minIntervalSeconds ${market.body.minIntervalSeconds ?? 300}: applied as the regulator ${settings.map(([p, b]) => `${p} ${JSON.stringify(b)}`).join(', ')}`);
    market = await regulator.get('/api/v1/market/parameters');
    governance = await regulator.get('/api/v1/governance/parameters');
  }
  const slot = governance.body.slotSeconds;
  const claimSeconds = market.body.auctionClaimSeconds ?? 3600;
  const run = newRunId();
  const conn = connectBench(net.organizations[0]!);
  const contract = conn.gateway.getNetwork(net.channel).getContract('conformance');
  let community: ChildProcess | undefined;
  try {
    console.log(`network: tier=${net.tier} channel=${net.channel} utilities=${orgs.join(',')}; batch ${batchSettings(net)}`);
    console.log(`market:  ${HOUSEHOLDS} households, ${ZONES} zones, seed ${SEED}, ${INTERVALS} intervals of ${L} s, Eq. (1) slots of ${slot} s; honest agents, auction share ${AUCTION_SHARE}`);

    // 1. The trivial-put rate of this network, now (before the market loads it).
    await benchPuts(contract, `${run}w`, 50, 50);
    const putCpu0 = cpuSample(net, orgs);
    const puts = await benchPuts(contract, run, TXS, INFLIGHT);
    const putCpu = cpuDelta(putCpu0, cpuSample(net, orgs));
    const putRate = (puts.valid / puts.wallMs) * 1000;
    console.log(`puts:    ${puts.valid}/${TXS} valid, ${fmt(putRate)} tx/s, p50 ${fmt(percentile(puts.latencies, 50))} ms`);

    // 1b. The idle CPU rate of each process group: a quiet window with no transaction at all, after the
    // puts' tail (their blocks, events and the gateways' analytics writes) and before the community
    // starts. The agents sleep until an event or a ledger-derived time (docs/agents.md), so their idle
    // cost does not grow with the households enrolled later; what this window catches is timers, GC and
    // native threads, which the market window pays too, whatever its load.
    let idlePerS: CpuSample = { ledger: 0, gateways: 0, chaincode: 0 };
    let idleS = 0;
    if (IDLE_S > 0) {
      await sleep(5000);
      const idle0 = cpuSample(net, orgs);
      const idleT0 = now();
      await sleep(IDLE_S * 1000);
      idleS = now() - idleT0;
      const idleCpu = cpuDelta(idle0, cpuSample(net, orgs));
      idlePerS = { ledger: idleCpu.ledger / idleS, gateways: idleCpu.gateways / idleS, chaincode: idleCpu.chaincode / idleS };
    }
    console.log(`idle:    ${fmt(idleS, 1)} s with no transaction: CPU ${fmt(cpuTotal(idlePerS), 1)} ms/s (ledger ${fmt(idlePerS.ledger, 1)}, chaincode ${fmt(idlePerS.chaincode, 1)}, gateways ${fmt(idlePerS.gateways, 1)})`);

    // 2. The community, through the REST gateways like `npm start`'s, with its own prefix and state.
    const stateDir = join(net.home, `bench-market-${run}`);
    mkdirSync(stateDir, { recursive: true });
    const logFile = join(stateDir, 'community.log');
    const args = [join(repoRoot, 'community', 'dist', 'main.js'), '--home', net.home, '--state-dir', stateDir, '--households', String(HOUSEHOLDS),
      '--zones', String(ZONES), '--seed', String(SEED), '--interval', String(L), '--auction-share', String(AUCTION_SHARE), '--faulty-share', '0', '--meter-prefix', `${run}-`,
      ...(LOTS ? ['--lots', LOTS] : [])];
    if (!existsSync(args[0]!)) throw new Error(`${args[0]} is missing: npm run build --workspace community`);
    const fd = openSync(logFile, 'a');
    community = spawn(process.execPath, args, { stdio: ['ignore', fd, fd] });
    const communityPid = community.pid!;
    console.log(`community: pid ${communityPid}, log ${logFile}`);

    const setupStart = now();
    for (;;) {
      if (community.exitCode !== null) throw new Error(`the community exited (${community.exitCode}); see ${logFile}`);
      const s = readStatus(stateDir);
      const active = s?.households?.filter((h) => h.status === 'ACTIVE').length ?? 0;
      if ((s?.counters?.intervals ?? 0) >= 1 && (active === HOUSEHOLDS || now() - setupStart > SETUP_TIMEOUT_S)) {
        console.log(`set up:  ${active}/${HOUSEHOLDS} households admitted after ${fmt(now() - setupStart, 0)} s`);
        break;
      }
      await sleep(2000);
    }

    // The measured delivery intervals: offers for D0 are made at D0 - L, after this point. With auctions,
    // D0 is also the first interval an auction requested now can deliver in (the community's
    // auctionTiming: bids and reveals take AUCTION_BID_INTERVALS (2) intervals each, then the claim window
    // and one interval of slack), and the measurement starts when the offers for D0 are made.
    const auctionLead = AUCTION_SHARE > 0 ? Math.ceil((5 * L + claimSeconds) / L) + 1 : 1;
    const D0 = Math.ceil(now() / L) * L + auctionLead * L;
    const end = D0 + INTERVALS * L;
    while (now() < D0 - L - 5) await sleep(1000);
    const fromBlock = (await markerBlock(contract, `${run}:from`)) + 1;
    const cpu0 = cpuSample(net, orgs);
    const acts0 = await agentCounters(gateways.map((g) => g.url));
    const community0 = cpuOf([communityPid]);
    const t0 = now();
    console.log(`measure: delivery intervals ${new Date(D0 * 1000).toISOString()} .. ${new Date(end * 1000).toISOString()} (from block ${fromBlock})`);

    // The community stops once it has posted the readings of the last interval (phase A at `end` + 2 s).
    while (now() < end + L / 2) await sleep(1000);
    const community1 = cpuOf([communityPid]);
    await stopChild(community);

    const logged = await loggedMarket(logFile);
    const measured = (ds: number) => ds >= D0 && ds < end;
    const offerTradeIds = [...logged.trades].filter(([, ds]) => measured(ds)).map(([id]) => id);
    // The measured intervals' auctions were claimed (or not) before their delivery started, so by now.
    const auctionStatus = new Map<string, number>();
    const auctionTradeIds: string[] = [];
    for (const [requestId] of [...logged.auctions].filter(([, ds]) => measured(ds))) {
      const a = await regulator.get<{ status: string; tradeId?: string }>(`/api/v1/auctions/${requestId}`);
      const st = a.status === 200 ? a.body.status : `HTTP ${a.status}`;
      auctionStatus.set(st, (auctionStatus.get(st) ?? 0) + 1);
      if (a.status === 200 && a.body.tradeId) auctionTradeIds.push(a.body.tradeId);
    }
    const tradeIds = [...offerTradeIds, ...auctionTradeIds];
    const fromAuction = new Set(auctionTradeIds);
    const trades = new Map<string, TradeView>();
    const deadline = end + SETTLE_TIMEOUT_S;
    for (;;) {
      for (const id of tradeIds) {
        if (CLOSED.has(trades.get(id)?.state ?? '')) continue;
        const r = await regulator.get<TradeView>(`/api/v1/trades/${id}`);
        if (r.status === 200) trades.set(id, r.body);
      }
      const open = tradeIds.filter((id) => !CLOSED.has(trades.get(id)?.state ?? ''));
      if (open.length === 0 || now() > deadline) break;
      await sleep(3000);
    }
    const t1 = now();
    const cpu = cpuDelta(cpu0, cpuSample(net, orgs));
    const acts1 = await agentCounters(gateways.map((g) => g.url));
    const toBlock = await markerBlock(contract, `${run}:to`);
    const scanned: LedgerTx[] = (await scanTransactions(net.organizations[0]!.name, fromBlock, toBlock, 300_000, { rwsets: CONFLICTS })).filter((t) => !t.fn.endsWith('/put'));
    const txs = scanned.filter((t) => t.valid);
    const invalidByFn = new Map<string, number>();
    for (const t of scanned.filter((x) => !x.valid)) invalidByFn.set(`${t.fn}(${t.validationCode})`, (invalidByFn.get(`${t.fn}(${t.validationCode})`) ?? 0) + 1);
    const counterDelta = [...acts1].map(([k, v]) => [k, v - (acts0.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
    const actDelta = counterDelta.filter(([k]) => k.startsWith('act ') || k.startsWith('retry '));
    const evalDelta = counterDelta.filter(([k]) => k.startsWith('eval ')).map(([k, v]) => [k.slice('eval fn='.length), v] as const);
    const skipDelta = counterDelta.filter(([k]) => k.startsWith('skip ')).map(([k, v]) => [k.slice('skip rule='.length), v] as const);
    const evaluations = evalDelta.reduce((a, [, v]) => a + v, 0);

    // Figures.
    const all = [...trades.values()];
    const settled = all.filter((t) => t.state === 'SETTLED');
    const byVotes = settled.filter((t) => !t.validation.decidedByFacts);
    const lag = settled.map((t) => t.outcome!.closedAt - (t.deliveryStart + t.deliveryLength)).sort((a, b) => a - b);
    const withinTwoSlots = byVotes.filter((t) => t.outcome!.closedAt - (t.deliveryStart + t.deliveryLength) <= 2 * slot).length;
    const perInterval = Array.from({ length: INTERVALS }, (_, i) => `${settled.filter((t) => t.deliveryStart === D0 + i * L).length}/${all.filter((t) => t.deliveryStart === D0 + i * L).length}`);
    const byFn = new Map<string, number>();
    for (const t of txs) byFn.set(t.fn, (byFn.get(t.fn) ?? 0) + 1);
    const tradePath = txs.filter((t) => !notTradePath(t.fn));
    const windowS = t1 - t0;
    const tradeTxRate = tradePath.length / windowS;
    const n = Math.max(1, settled.length);
    const total = cpu.ledger + cpu.gateways + (Number.isNaN(cpu.chaincode) ? 0 : cpu.chaincode);
    const putTotal = putCpu.ledger + putCpu.gateways + (Number.isNaN(putCpu.chaincode) ? 0 : putCpu.chaincode);
    const cpuPerPut = putTotal / Math.max(1, puts.valid);
    const cpuPerTradeTx = total / Math.max(1, txs.length); // the window's CPU over every transaction in it
    const states = new Map<string, number>();
    for (const t of all) states.set(t.state, (states.get(t.state) ?? 0) + 1);
    // Marginal CPU (window − idle rate × length), per group and per valid market tx, and the put's the same way.
    const nTx = Math.max(1, txs.length);
    const nPut = Math.max(1, puts.valid);
    const marg = marginal(cpu, idlePerS, windowS);
    const margPut = marginal(putCpu, idlePerS, puts.wallMs / 1000);
    const margPerTx = cpuTotal(marg) / nTx;
    const margPerPut = cpuTotal(margPut) / nPut;
    const perTx = (c: CpuSample, k: number): string => GROUPS.map((g) => `${g} ${fmt(c[g] / k, 1)}`).join(', ');

    console.log('');
    printRows([
      ['trades in the measured intervals', `${tradeIds.length} (${offerTradeIds.length} offers accepted, ${auctionTradeIds.length} auctions claimed); by state ${[...states].map(([s, k]) => `${s}:${k}`).join(' ') || '-'}`],
      ['auctions for the measured intervals', `${[...auctionStatus.values()].reduce((a, b) => a + b, 0)}; by status ${[...auctionStatus].map(([s, k]) => `${s}:${k}`).join(' ') || '-'}`],
      ['…auction trades settled by committee', `${byVotes.filter((t) => fromAuction.has(t.tradeId)).length}/${auctionTradeIds.length}`],
      ['settled / trades per interval', perInterval.join('  ')],
      ['settled trades/s', `${fmt(settled.length / windowS, 3)} (${settled.length} in ${fmt(windowS, 0)} s, measure start → last close)`],
      ['settled by committee votes', `${byVotes.length}/${settled.length} (${fmt((byVotes.length / n) * 100, 0)}%)`],
      ['…of which within two slots', `${withinTwoSlots}/${settled.length} (${fmt((withinTwoSlots / n) * 100, 0)}%; 2 slots = ${2 * slot} s)`],
      ['interval end → SETTLED p50 / p99 (s)', `${fmt(percentile(lag, 50), 0)} / ${fmt(percentile(lag, 99), 0)} (min ${fmt(lag[0] ?? NaN, 0)}, max ${fmt(lag[lag.length - 1] ?? NaN, 0)})`],
      ['ledger txs in the window', `${txs.length} valid (blocks ${fromBlock}..${toBlock}); trade path ${tradePath.length}`],
      ['ledger txs / settled trade', `${fmt(txs.length / n)} all, ${fmt(tradePath.length / n)} trade path`],
      ['txs by function', [...byFn].sort((a, b) => b[1] - a[1]).map(([f, k]) => `${f.replace(/^gridledger\//, '')}:${k}`).join(' ')],
      ['invalid txs (fn(code):count)', [...invalidByFn].map(([f, k]) => `${f.replace(/^gridledger\//, '')}:${k}`).join(' ') || '0'],
      ['agents\' acts and retries (3 gateways)', actDelta.map(([k, v]) => `${k}:${v}`).join(' ') || '-'],
      ['agents\' evaluations / settled trade', `${fmt(evaluations / n)} (${evaluations} in the window; ${fmt(evaluations / Math.max(1, txs.length))} per valid ledger tx) by function: ${evalDelta.map(([k, v]) => `${k}:${v}`).join(' ') || '-'}`],
      ['agents\' wake-ups decided without a read', skipDelta.map(([k, v]) => `${k}:${v}`).join(' ') || '-'],
      ['CPU ms / settled trade', `${fmt(total / n, 0)} (ledger ${fmt(cpu.ledger / n, 0)}, gateways ${fmt(cpu.gateways / n, 0)}, chaincode ${fmt(cpu.chaincode / n, 0)})`],
      ['community (client) CPU ms / settled trade', fmt((community1 - community0) / n, 0)],
      ['CPU share of the network in the window', `${fmt((total / (windowS * 1000)) * 100, 0)}% of one core`],
      ['trivial puts/s (same run)', `${fmt(putRate)} (CPU ${fmt(cpuPerPut, 2)} ms/put: ledger ${fmt(putCpu.ledger / Math.max(1, puts.valid), 2)}, chaincode ${fmt(putCpu.chaincode / Math.max(1, puts.valid), 2)})`],
      ['trade-path tx/s, measured', `${fmt(tradeTxRate, 2)} → ratio ${fmt(tradeTxRate / putRate, 3)} of trivial puts/s (the offered load, not a ceiling)`],
      ['CPU ms / market tx (window)', `${fmt(cpuPerTradeTx, 2)} (${perTx(cpu, nTx)}) → capacity ratio ≈ ${fmt(cpuPerPut / cpuPerTradeTx, 3)} of trivial puts/s (raw: all CPU in the window ÷ valid txs; CPU per put ÷ per market tx)`],
      ['idle CPU in the window (idle rate × length)', `${fmt(cpuTotal(idlePerS) * windowS, 0)} ms of ${fmt(total, 0)} (${fmt(((cpuTotal(idlePerS) * windowS) / total) * 100, 0)}%; ${fmt(windowS, 0)} s × ${fmt(cpuTotal(idlePerS), 1)} ms/s)`],
      ['marginal CPU ms / put', `${fmt(margPerPut, 2)} (${perTx(margPut, nPut)}; the puts' ${fmt(puts.wallMs / 1000, 1)} s less idle)`],
      ['marginal CPU ms / market tx', `${fmt(margPerTx, 2)} (${perTx(marg, nTx)}) → capacity ratio ≈ ${fmt(margPerPut / margPerTx, 3)} of trivial puts/s (marginal CPU per put ÷ per market tx)`],
      ['machine', `${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`],
    ]);

    if (CONFLICTS) {
      // Which key made each invalid transaction invalid, and who wrote it (bench/conflicts.ts).
      const conflicts = findConflicts(scanned);
      writeFileSync(join(stateDir, 'conflicts.json'), JSON.stringify(conflicts, null, 1));
      console.log('');
      console.log(`MVCC conflicts: invalid fn(code): n — conflicting key type ← function of the valid tx that wrote it (${join(stateDir, 'conflicts.json')}):`);
      printRows(summariseConflicts(conflicts));
    }

    // Where the time goes (bench/timeline.ts): each step's wait over the measured trades, from the blocks.
    const tasks = new Map<string, TimelineTask>();
    for (const t of all) {
      const r = await regulator.get<TimelineTask>(`/api/v1/committees/tasks/${t.validation.taskId}`);
      if (r.status === 200) tasks.set(t.validation.taskId, r.body);
    }
    const { rows, misses } = summarise(tradeTimelines(scanned, all, tasks), 2 * slot * 1000);
    console.log('');
    console.log(`where the time goes (proposal times of each trade's transactions, s; ${misses.length} trades beyond two slots):`);
    printRows(rows);
    for (const m of misses) console.log(`  miss ${m}`);
  } finally {
    if (community) await stopChild(community);
    conn.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
