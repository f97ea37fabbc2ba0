/* Unit tests of the orderer watchdog's decision (lib/watchdog.js judge) and its view of the consenter set. */
/* global describe, it, expect, beforeEach, afterEach */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { judge, consenters, running } = require('./watchdog');

const opts = { stallMs: 60_000, cooldownMs: 180_000, busy: false };
const S = 1000;

/**
 * Feeds rounds every 10 s — one object per round of heights (`undefined` = not running) or of samples
 * ({height, pool, leader}) — and returns each round's pick.
 */
function play(rounds, o = opts) {
  const memory = {};
  return rounds.map((heights, i) => {
    const samples = Object.fromEntries(Object.entries(heights).map(([n, h]) => [n, typeof h === 'object' ? h : { height: h }]));
    return judge(samples, memory, i * 10 * S, o)?.name;
  });
}

const grow = (base, i) => base + i;

describe('orderer watchdog: judge', () => {
  it('restarts an orderer whose height stays below the freshest for the stall time, then waits out the cooldown', () => {
    const rounds = Array.from({ length: 30 }, (_, i) => ({ orderer1: 100, orderer2: grow(100, i), orderer3: grow(100, i), orderer4: grow(100, i) }));
    const picks = play(rounds);
    // round 0 sees orderer1 at 100 (not behind yet); it is behind from round 1 and unchanged since round 0:
    // 60 s later (round 6) it is picked; the 180 s cooldown keeps it until round 24, when, still stuck, it is picked again
    const at = picks.flatMap((p, i) => (p ? [[i, p]] : []));
    expect(at).toEqual([[6, 'orderer1'], [24, 'orderer1']]);
  });

  it('leaves alone a follower that is behind but catching up, and a cluster that does not advance', () => {
    const catchingUp = Array.from({ length: 20 }, (_, i) => ({ orderer1: 50 + i, orderer2: 200, orderer3: 200, orderer4: 200 }));
    expect(play(catchingUp).every((p) => p === undefined)).toBe(true);
    const idle = Array.from({ length: 20 }, () => ({ orderer1: 200, orderer2: 200, orderer3: 200, orderer4: 200 }));
    expect(play(idle).every((p) => p === undefined)).toBe(true);
  });

  it('never picks an orderer that is not running, and starts its stall clock afresh when it is back', () => {
    const rounds = [
      ...Array.from({ length: 10 }, (_, i) => ({ orderer1: undefined, orderer2: grow(100, i), orderer3: grow(100, i), orderer4: grow(100, i) })),
      // back at 90, stuck there: 60 s from its return, not from before it was down
      ...Array.from({ length: 10 }, (_, i) => ({ orderer1: 90, orderer2: grow(110, i), orderer3: grow(110, i), orderer4: grow(110, i) })),
    ];
    const picks = play(rounds);
    expect(picks.slice(0, 16).every((p) => p === undefined)).toBe(true);
    expect(picks[16]).toBe('orderer1');
  });

  it('picks one orderer at a time (the one furthest behind) and nothing while a restart is in flight', () => {
    const rounds = Array.from({ length: 8 }, (_, i) => ({ orderer1: 100, orderer2: 95, orderer3: grow(100, i), orderer4: grow(100, i) }));
    expect(play(rounds)[6]).toBe('orderer2');
    expect(play(rounds, { ...opts, busy: true }).every((p) => p === undefined)).toBe(true);
  });

  it('needs another orderer to compare with', () => {
    expect(play(Array.from({ length: 10 }, () => ({ orderer1: 5 }))).every((p) => p === undefined)).toBe(true);
  });
});

describe('orderer watchdog: a stall of the whole cluster', () => {
  /** Every orderer at `h`, pools holding `pool` requests, all following `leader`. */
  const all = (h, pool, leader = 3, names = ['orderer1', 'orderer2', 'orderer3', 'orderer4']) => Object.fromEntries(names.map((n) => [n, { height: h, pool, leader }]));

  it('restarts the leader the orderers report once none moved and requests waited for the stall time, then waits out the cooldown', () => {
    const picks = play(Array.from({ length: 30 }, () => all(2277, 2)));
    // from round 0 every height is unmoved and the pools hold requests: 60 s later (round 6) the leader; cooldown 180 s → round 24
    expect(picks.flatMap((p, i) => (p ? [[i, p]] : []))).toEqual([[6, 'orderer3'], [24, 'orderer3']]);
  });

  it('never touches an idle cluster, one that orders, or one whose pools emptied in between', () => {
    expect(play(Array.from({ length: 20 }, () => all(2277, 0))).every((p) => p === undefined)).toBe(true); // idle
    expect(play(Array.from({ length: 20 }, (_, i) => all(2277 + i, 5))).every((p) => p === undefined)).toBe(true); // busy and ordering
    // requests came and went: the pools were empty at round 4, so the 60 s count from round 5 (round 11)
    const blips = Array.from({ length: 12 }, (_, i) => all(2277, i === 4 ? 0 : 1));
    expect(play(blips).flatMap((p, i) => (p ? [i] : []))).toEqual([11]);
  });

  it('needs the leader among the running consenters, and every running one at the same height', () => {
    const leaderDown = Array.from({ length: 10 }, () => ({ ...all(2277, 2, 3, ['orderer1', 'orderer2', 'orderer4']), orderer3: undefined }));
    expect(play(leaderDown).every((p) => p === undefined)).toBe(true);
    const unknownLeader = Array.from({ length: 10 }, () => all(2277, 2, null)); // not reported
    expect(play(unknownLeader).every((p) => p === undefined)).toBe(true);
    // one orderer behind the others is the first rule's case: the one behind is restarted, not the leader
    const behind = Array.from({ length: 10 }, () => ({ ...all(2277, 2), orderer2: { height: 2270, pool: 2, leader: 3 } }));
    expect(play(behind)[6]).toBe('orderer2');
  });

  it('follows the leader most orderers report', () => {
    const split = Array.from({ length: 8 }, () => ({ ...all(500, 1, 2), orderer4: { height: 500, pool: 1, leader: 4 } }));
    expect(play(split)[6]).toBe('orderer2');
  });
});

describe('orderer watchdog: what it watches', () => {
  let home;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'watchdog-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const node = (id) => ({ name: `orderer${id}`, operations: `http://127.0.0.1:${9440 + id}`, pidFile: path.join(home, `orderer${id}.pid`) });

  it('watches network.json\'s orderers that <home>/orderers still names (a removal writes it before its config update)', () => {
    fs.writeFileSync(path.join(home, 'network.json'), JSON.stringify({ channel: 'energy', orderer: { nodes: [1, 2, 3, 4, 5].map(node) } }));
    expect(consenters(home).nodes.map((n) => n.name)).toEqual(['orderer1', 'orderer2', 'orderer3', 'orderer4', 'orderer5']);
    fs.writeFileSync(path.join(home, 'orderers'), '1 2 3 5\n');
    const c = consenters(home);
    expect(c.channel).toBe('energy');
    expect(c.nodes.map((n) => n.name)).toEqual(['orderer1', 'orderer2', 'orderer3', 'orderer5']);
  });

  it('watches nothing before `up` wrote network.json', () => {
    expect(consenters(home)).toEqual({ channel: undefined, nodes: [] });
  });

  it('treats a missing pid file or a dead pid as not running, and this process as running', () => {
    const f = path.join(home, 'x.pid');
    expect(running(f)).toBe(false);
    fs.writeFileSync(f, '999999999');
    expect(running(f)).toBe(false);
    fs.writeFileSync(f, String(process.pid));
    expect(running(f)).toBe(true);
  });
});

describe('orderer watchdog: the process', () => {
  const http = require('node:http');
  const { spawn } = require('node:child_process');
  let home;
  let servers = [];
  let child;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    servers = [];
    fs.rmSync(home, { recursive: true, force: true });
  });

  /** An operations endpoint answering `ledger_blockchain_height` from `heightOf()` at each scrape (and, with `smartbft`, the pool and leader gauges). */
  const opsServer = (heightOf, smartbft) => new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      const bft = smartbft ? `consensus_smartbft_pool_count_of_elements{channel="energy"} ${smartbft.pool}\nconsensus_smartbft_pool_count_of_elements_all{channel="energy"} 999\nconsensus_smartbft_view_leader_id{channel="energy"} ${smartbft.leader}\n` : '';
      res.end(req.url === '/metrics' ? `# TYPE ledger_blockchain_height gauge\nledger_blockchain_height{channel="energy"} ${heightOf()}\n${bft}` : '');
    });
    servers.push(s);
    s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${s.address().port}`));
  });

  /**
   * Four orderers (operations endpoints from `endpoint(id)`, pid files naming this running process), a
   * network.sh that records its arguments and the home it was given, and the watchdog on 1-s rounds with a
   * 2-s stall time; resolves once it logged a finished restart (or after 15 s).
   */
  async function runWatchdog(endpoint) {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'watchdog-'));
    const nodes = [];
    for (const id of [1, 2, 3, 4]) {
      const operations = await endpoint(id);
      const pidFile = path.join(home, `orderer${id}.pid`);
      fs.writeFileSync(pidFile, String(process.pid)); // a running process
      nodes.push({ name: `orderer${id}`, operations, pidFile });
    }
    fs.writeFileSync(path.join(home, 'network.json'), JSON.stringify({ channel: 'energy', orderer: { nodes } }));
    const calls = path.join(home, 'calls');
    const script = path.join(home, 'network.sh');
    fs.writeFileSync(script, `echo "$GRIDLEDGER_HOME $*" >> '${calls}'\n`);
    const log = [];
    child = spawn(process.execPath, [path.join(__dirname, 'watchdog.js'), home, script], {
      env: { ...process.env, GRIDLEDGER_ORDERER_WATCHDOG_STALL_S: '2', GRIDLEDGER_ORDERER_WATCHDOG_INTERVAL_S: '1', GRIDLEDGER_ORDERER_WATCHDOG_COOLDOWN_S: '60' },
    });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      log.push(...lines.filter(Boolean).map((l) => JSON.parse(l)));
    });
    const until = Date.now() + 15_000;
    while (!log.some((l) => l.msg === 'orderer restarted') && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    return { log, calls: () => fs.readFileSync(calls, 'utf8') };
  }

  it('restarts (through network.sh restart-orderer) the orderer that stays behind, logs it, and stops on SIGTERM', async () => {
    let tick = 0;
    const { log, calls } = await runWatchdog((id) => opsServer(() => (id === 1 ? 7 : 7 + ++tick)));
    expect(calls()).toBe(`${home} restart-orderer orderer1\n`);
    const restart = log.find((l) => l.msg === 'restarting an orderer that stopped following the channel');
    expect(restart).toMatchObject({ orderer: 'orderer1', height: 7 });
    expect(restart.freshest).toBeGreaterThan(7);
    expect(log.find((l) => l.msg === 'orderer restarted')).toMatchObject({ orderer: 'orderer1', code: 0 });
    const exit = new Promise((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    // the cooldown: one restart only
    expect(calls().trim().split('\n')).toHaveLength(1);
  }, 30_000);

  it('restarts the leader of a cluster where no orderer moves while requests wait (read from the SmartBFT gauges)', async () => {
    const { log, calls } = await runWatchdog(() => opsServer(() => 2277, { pool: 2, leader: 3 }));
    expect(calls()).toBe(`${home} restart-orderer orderer3\n`);
    expect(log.find((l) => l.orderer === 'orderer3' && /stalled cluster/.test(l.msg))).toMatchObject({ height: 2277, pooledForS: expect.any(Number) });
  }, 30_000);
});
