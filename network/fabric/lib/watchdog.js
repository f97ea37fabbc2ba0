#!/usr/bin/env node
/*
 * The orderer watchdog of network/fabric/network.sh: restarts a SmartBFT orderer that is running but
 * has stopped following the channel — its block height stays below the freshest orderer's and does not
 * move for GRIDLEDGER_ORDERER_WATCHDOG_STALL_S (default 45) seconds.
 *
 * Why: Fabric 3.1.5 vendors SmartBFT v1.0.1, whose controller, when a sync returns the height it already
 * has, resets the view's DecisionsInView to 0 (vendor/github.com/hyperledger-labs/SmartBFT/internal/bft/
 * controller.go, sync(): the update at "newDecisionsInView = latestDecisionDecisions + 1" is guarded by
 * latestDecisionSeq > controllerSequence). Every later proposal of the leader then fails its check, the
 * node syncs again, and it never catches up: hyperledger-labs/SmartBFT pull request 663 (merged 2026-02,
 * after v1.0.1) fixes it. We saw it twice in `npm run test:fabric` under load: an orderer restarted by
 * the fault test logged "Seen 2 votes … sequence 1615 but I am in view 2 and seq 1613" (view.go, the
 * path that stops the view and syncs) and wrote no block again (docs/operations.md §4). A restart
 * rebuilds the controller from the ledger's last block, with its correct DecisionsInView, and the node
 * catches up: what an operator did by hand before this watchdog.
 *
 * A second rule, for a stall of the whole cluster: every running consenter at the same height, none moving
 * for the stall time, while requests wait in their pools all that time (`consensus_smartbft_pool_count_of_
 * elements` > 0: transactions were submitted and nothing orders them). Seen once in `npm run test:fabric`
 * (2026-12-06, orderers starved of CPU under load after a consenter removal): the leader logged
 * "Changing role to follower without change current view and current leader" (SmartBFT controller.go
 * StopLeaderSendMsg, after a request-forward timeout), the followers complained about it, synced, found
 * themselves at the target height and started the same view with the same leader again, and no block
 * followed. The watchdog then restarts the leader the followers report (`consensus_smartbft_view_leader_
 * id`, SmartBFT pkg/api/metrics.go; consenter id N is ordererN here): its controller is rebuilt from the
 * ledger and leads again, or the others' complaints move the view. An idle cluster (empty pools) is never
 * touched.
 *
 * What it never does: start an orderer that is not running (tests and operators stop orderers on
 * purpose; `network.sh restart-ledger` brings them back), touch a stopped (SIGSTOP) or unanswering one,
 * act on an orderer outside the consenter set (<home>/orderers, written before a removal's config
 * update), or restart more than one at a time — a second restart could take the cluster below quorum.
 *
 *   watchdog.js <home> <network.sh>
 *
 * Heights come from each orderer's operations endpoint (`ledger_blockchain_height{channel}`, Fabric
 * common/ledger/blkstorage/metrics.go), the same one `network.sh status` and the fault tests read.
 * One JSON line per decision on stdout (<home>/logs/watchdog.log).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const seconds = (name, dflt) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of seconds ≥ 1, got "${raw}"`);
  return n;
};

/**
 * One observation round. `samples`: name → { height } (height undefined when the orderer is not running,
 * stopped or did not answer). `memory`: name → { height, sinceMs, restartedAtMs } carried between rounds
 * (updated in place). Returns the orderer to restart now, with why, or undefined.
 *
 * An orderer is stalled when its height is below the greatest height another orderer reports and has
 * not changed for `stallMs`: a follower that is merely behind (just restarted, onboarding) changes height
 * while it catches up. Nothing is judged while a restart is in flight or within `cooldownMs` of the
 * last restart of that orderer (it needs time to load and catch up); picking one starts its cooldown.
 */
function judge(samples, memory, nowMs, { stallMs, cooldownMs, busy }) {
  for (const [name, s] of Object.entries(samples)) {
    const m = memory[name];
    if (s.height === undefined) {
      // not running or not answering: forget it, so its stall clock starts afresh when it is back
      if (m) { m.height = undefined; m.sinceMs = nowMs; m.poolSinceMs = undefined; }
      continue;
    }
    if (!m) memory[name] = { height: s.height, sinceMs: nowMs, restartedAtMs: -Infinity };
    else if (m.height !== s.height) { m.height = s.height; m.sinceMs = nowMs; }
    // since when its pool has held requests without a break (undefined: empty now, or not reported)
    const mm = memory[name];
    if (!(s.pool > 0)) mm.poolSinceMs = undefined;
    else if (mm.poolSinceMs === undefined) mm.poolSinceMs = nowMs;
  }
  if (busy) return undefined;
  let pick;
  for (const [name, s] of Object.entries(samples)) {
    if (s.height === undefined) continue;
    const others = Object.entries(samples).filter(([n, o]) => n !== name && o.height !== undefined).map(([, o]) => o.height);
    if (!others.length) continue;
    const freshest = Math.max(...others);
    const m = memory[name];
    if (s.height >= freshest || nowMs - m.sinceMs < stallMs || nowMs - m.restartedAtMs < cooldownMs) continue;
    if (!pick || s.height < pick.height) {
      pick = { name, height: s.height, freshest, stalledForS: Math.round((nowMs - m.sinceMs) / 1000) };
    }
  }
  pick ??= clusterStall(samples, memory, nowMs, { stallMs, cooldownMs });
  if (pick) memory[pick.name].restartedAtMs = nowMs; // the cooldown starts now (and again when the restart ends)
  return pick;
}

/**
 * The whole-cluster stall (header): at least two running consenters, all at one height, none moved for
 * `stallMs`, some pool holding requests for all of that time, and no restart within `cooldownMs`. Picks
 * the leader most of them report, when it is one of the running consenters.
 */
function clusterStall(samples, memory, nowMs, { stallMs, cooldownMs }) {
  const live = Object.entries(samples).filter(([, s]) => s.height !== undefined);
  if (live.length < 2 || new Set(live.map(([, s]) => s.height)).size !== 1) return undefined;
  if (live.some(([n]) => nowMs - memory[n].sinceMs < stallMs || nowMs - memory[n].restartedAtMs < cooldownMs)) return undefined;
  if (!live.some(([n]) => memory[n].poolSinceMs !== undefined && nowMs - memory[n].poolSinceMs >= stallMs)) return undefined;
  const votes = new Map();
  for (const [, s] of live) if (Number.isInteger(s.leader)) votes.set(s.leader, (votes.get(s.leader) ?? 0) + 1);
  const [leader] = [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [];
  const name = leader === undefined ? undefined : `orderer${leader}`;
  if (!name || !live.some(([n]) => n === name)) return undefined;
  const pooled = Math.max(...live.map(([n]) => (memory[n].poolSinceMs === undefined ? 0 : nowMs - memory[n].poolSinceMs)));
  return { name, height: samples[name].height, freshest: samples[name].height, stalledForS: Math.round((nowMs - memory[name].sinceMs) / 1000), cluster: true, pooledForS: Math.round(pooled / 1000) };
}

/** Whether the pid in `file` runs and is neither stopped (SIGSTOP, state T) nor a zombie. */
function running(file) {
  let pid;
  try {
    pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
    return state !== 'T' && state !== 't' && state !== 'Z';
  } catch {
    return true; // no procfs: trust kill -0
  }
}

/**
 * One orderer's sample from its operations endpoint: its block height (undefined when it does not answer),
 * the requests waiting in its SmartBFT pool and the leader it follows (undefined where not reported).
 */
async function observe(operationsUrl, channel) {
  let text;
  try {
    const res = await fetch(`${operationsUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return { height: undefined };
    text = await res.text();
  } catch {
    return { height: undefined };
  }
  const gauge = (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`channel="${channel}"`));
    const v = line ? Number(line.trim().split(/\s+/).pop()) : NaN;
    return Number.isFinite(v) ? v : undefined;
  };
  return { height: gauge('ledger_blockchain_height'), pool: gauge('consensus_smartbft_pool_count_of_elements'), leader: gauge('consensus_smartbft_view_leader_id') };
}

/** The consenters to watch: network.json's orderer nodes that <home>/orderers still names (read each round). */
function consenters(home) {
  let net;
  try {
    net = JSON.parse(fs.readFileSync(path.join(home, 'network.json'), 'utf8'));
  } catch {
    return { channel: undefined, nodes: [] }; // `up` has not written it yet
  }
  let ids;
  try {
    ids = new Set(fs.readFileSync(path.join(home, 'orderers'), 'utf8').trim().split(/\s+/).filter(Boolean).map((id) => `orderer${id}`));
  } catch {
    ids = undefined; // the initial set: every node network.json lists
  }
  const nodes = (net.orderer?.nodes ?? []).filter((n) => n.operations && n.pidFile && (!ids || ids.has(n.name)));
  return { channel: net.channel, nodes };
}

function main() {
  const [home, networkSh] = process.argv.slice(2);
  if (!home || !networkSh) {
    console.error('usage: watchdog.js <home> <network.sh>');
    process.exit(2);
  }
  const opts = {
    stallMs: seconds('GRIDLEDGER_ORDERER_WATCHDOG_STALL_S', 45) * 1000,
    cooldownMs: seconds('GRIDLEDGER_ORDERER_WATCHDOG_COOLDOWN_S', 180) * 1000,
  };
  const intervalMs = seconds('GRIDLEDGER_ORDERER_WATCHDOG_INTERVAL_S', 10) * 1000;
  const memory = {};
  let busy = false;
  const log = (fields) => console.log(JSON.stringify({ time: new Date().toISOString(), component: 'orderer-watchdog', ...fields }));
  log({ msg: 'watching the orderers', stallS: opts.stallMs / 1000, cooldownS: opts.cooldownMs / 1000, intervalS: intervalMs / 1000 });

  const round = async () => {
    const { channel, nodes } = consenters(home);
    const samples = {};
    await Promise.all(nodes.map(async (n) => {
      samples[n.name] = running(n.pidFile) ? await observe(n.operations, channel) : { height: undefined };
    }));
    const pick = judge(samples, memory, Date.now(), { ...opts, busy });
    if (!pick) return;
    busy = true;
    if (pick.cluster) log({ msg: 'restarting the leader of a stalled cluster (every orderer at one height, requests waiting)', orderer: pick.name, height: pick.height, stalledForS: pick.stalledForS, pooledForS: pick.pooledForS });
    else log({ msg: 'restarting an orderer that stopped following the channel', orderer: pick.name, height: pick.height, freshest: pick.freshest, stalledForS: pick.stalledForS });
    const child = spawn('bash', [networkSh, 'restart-orderer', pick.name], { env: { ...process.env, GRIDLEDGER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (code) => {
      busy = false;
      memory[pick.name].restartedAtMs = Date.now();
      log({ msg: code === 0 ? 'orderer restarted' : 'orderer restart failed', orderer: pick.name, code, output: out.trim().split('\n').slice(-5) });
    });
  };
  const timer = setInterval(() => { round().catch((e) => log({ msg: 'round failed', error: String(e) })); }, intervalMs);
  const stop = () => { clearInterval(timer); log({ msg: 'stopped' }); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

module.exports = { judge, running, consenters };
if (require.main === module) main();
