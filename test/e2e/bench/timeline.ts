/**
 * Where a trade's time goes, from the ledger alone (bench:market; docs/benchmarks.md "Market"): for every
 * measured trade, the proposal time of each transaction on its path — the seller's and buyer's readings of
 * the delivery interval, the mint, the delivery (the task opens), the beacon contributions and the
 * committee's draw, then per stage (execution, final) the leader's entry, the vote that completed the
 * quorum and the decide, with the buyer's confirmation between them — found by the events each valid
 * transaction set (`LedgerTx.events`). Times are ms after the delivery interval's end. A stage's entry is
 * also placed in its Eq. (1) slot: the slot the stage became ready in, which member led it, and whether
 * that leader had made its one block of the slot (Condition 2) before the stage was ready.
 *
 * Pure: the benchmark reads the blocks (`scanTransactions`), the trades and their tasks, and prints what
 * `summarise` returns.
 */
import type { LedgerTx } from '../rest/support';

/** The fields of a trade (`GET /api/v1/trades/{id}`) the timeline needs. */
export interface TimelineTrade {
  tradeId: string;
  deliveryStart: number;
  deliveryLength: number;
  sellerMeterId: string;
  buyerMeterId: string;
  packets: Array<{ packetId: string }>;
  validation: { taskId: string };
}

/** The fields of a trade's task (`GET /api/v1/committees/tasks/{id}`) Eq. (1) needs. */
export interface TimelineTask {
  taskId: string;
  genesisAt: number;
  slotSeconds: number;
  n: number;
  f: number;
  leaderOffset: number;
  committee: string[];
}

export const STEPS = [
  'sellerReading', 'buyerReading', 'mint', 'delivered', 'drawn',
  'execEntry', 'execQuorum', 'execDecided', 'confirmed', 'finalEntry', 'finalQuorum', 'settled',
] as const;
export type Step = (typeof STEPS)[number];

/** How a stage's entry sat in the slots: `ready` = when the stage could first be entered. */
export interface StageSlot {
  readyMs: number;
  readySlot: number;
  /** the member leading `readySlot` in this task (Eq. (1)) */
  readyLeader: string;
  entrySlot: number;
  /** when `readyLeader` made its block of `readySlot` (any task), if it made one */
  leaderBlockMs?: number;
}

export interface Timeline {
  tradeId: string;
  endMs: number;
  /** ms after the delivery interval's end; absent: not seen in the scanned blocks */
  at: Partial<Record<Step, number>>;
  execution?: StageSlot;
  final?: StageSlot;
  /** MVCC-invalid transactions that named this trade or its task, by function */
  invalid: Record<string, number>;
}

const str = (p: Record<string, unknown>, k: string) => (typeof p[k] === 'string' ? p[k] : undefined);

/** floor((t − t₀)/α) and Eq. (1)'s leader, as chaincode/src/governance/domain/leader.ts. */
function leaderOf(task: TimelineTask, t: number): { slot: number; leader: string } {
  const slot = Math.floor((t - task.genesisAt) / task.slotSeconds);
  const n = task.n || task.committee.length;
  return { slot, leader: task.committee[(((slot + task.leaderOffset) % n) + n) % n] ?? '' };
}

export function tradeTimelines(txs: readonly LedgerTx[], trades: readonly TimelineTrade[], tasks: ReadonlyMap<string, TimelineTask>): Timeline[] {
  // leader|slot → the first valid block's time (Condition 2: one per leader and slot)
  const blocks = new Map<string, number>();
  for (const tx of txs) {
    if (!tx.valid) continue;
    for (const e of tx.events) {
      if (e.name !== 'LeaderEntryRecorded') continue;
      const k = `${String(e.payload.leader)}|${String(e.payload.slot)}`;
      if (!blocks.has(k)) blocks.set(k, tx.timestampMs);
    }
  }
  return trades.map((t) => {
    const endMs = (t.deliveryStart + t.deliveryLength) * 1000;
    const taskId = t.validation.taskId;
    const packets = new Set(t.packets.map((p) => p.packetId));
    const task = tasks.get(taskId);
    const f = task?.f ?? 1;
    const abs: Partial<Record<Step, number>> = {};
    const first = (s: Step, ms: number) => {
      if (abs[s] === undefined || ms < abs[s]) abs[s] = ms;
    };
    const approvals: Record<'execution' | 'final', number[]> = { execution: [], final: [] };
    const entrySlot: Record<string, number> = {};
    const invalid: Record<string, number> = {};
    for (const tx of txs) {
      const mine = tx.events.some((e) => str(e.payload, 'tradeId') === t.tradeId || str(e.payload, 'taskId') === taskId);
      if (!tx.valid) {
        if (mine) invalid[tx.fn.replace(/^gridledger\//, '')] = (invalid[tx.fn.replace(/^gridledger\//, '')] ?? 0) + 1;
        continue;
      }
      for (const { name, payload: p } of tx.events) {
        const ms = tx.timestampMs;
        switch (name) {
          case 'ReadingRecorded': {
            const intervals = Array.isArray(p.intervals) ? (p.intervals as number[]) : [];
            if (!intervals.includes(t.deliveryStart)) break;
            if (p.meterId === t.sellerMeterId) first('sellerReading', ms);
            if (p.meterId === t.buyerMeterId) first('buyerReading', ms);
            break;
          }
          case 'EnergyMinted':
            if (packets.has(str(p, 'packetId') ?? '')) first('mint', ms);
            break;
          case 'TradeEnergyEscrowed':
            if (p.tradeId === t.tradeId) first('delivered', ms);
            break;
          case 'CommitteeDrawn':
            if (p.taskId === taskId) first('drawn', ms);
            break;
          case 'LeaderEntryRecorded':
            if (p.taskId !== taskId) break;
            if (p.ballot === 'execution' || p.ballot === 'final') {
              first(p.ballot === 'execution' ? 'execEntry' : 'finalEntry', ms);
              entrySlot[p.ballot] = Number(p.slot);
              approvals[p.ballot].push(ms); // the entry is the leader's vote (an approval from an honest leader)
            }
            break;
          case 'VoteRecorded':
            if (p.taskId === taskId && p.approve === true && (p.ballot === 'execution' || p.ballot === 'final')) approvals[p.ballot].push(ms);
            break;
          case 'BallotDecided':
            if (p.taskId === taskId && p.ballot === 'execution') first('execDecided', ms); // the final one closes the trade (TradeClosed)
            break;
          case 'TradeDeliveryEvidenced':
            if (p.tradeId === t.tradeId) first('confirmed', ms);
            break;
          case 'TradeClosed':
            if (p.tradeId === t.tradeId) first('settled', ms);
            break;
          default:
            break;
        }
      }
    }
    for (const b of ['execution', 'final'] as const) {
      const sorted = approvals[b].sort((x, y) => x - y);
      const q = sorted[2 * f]; // the (2f+1)-th approval completes the quorum
      if (q !== undefined) abs[b === 'execution' ? 'execQuorum' : 'finalQuorum'] = q;
    }
    const stage = (readyMs: number | undefined, ballot: 'execution' | 'final'): StageSlot | undefined => {
      if (!task || readyMs === undefined || entrySlot[ballot] === undefined) return undefined;
      const { slot, leader } = leaderOf(task, Math.floor(readyMs / 1000));
      const blockMs = blocks.get(`${leader}|${slot}`);
      return { readyMs: readyMs - endMs, readySlot: slot, readyLeader: leader, entrySlot: entrySlot[ballot], ...(blockMs !== undefined ? { leaderBlockMs: blockMs - endMs } : {}) };
    };
    const at: Partial<Record<Step, number>> = {};
    for (const s of STEPS) if (abs[s] !== undefined) at[s] = abs[s] - endMs;
    // the final stage is ready when the execution ballot is decided and the buyer confirmed
    const finalReady = abs.confirmed !== undefined && abs.execDecided !== undefined ? Math.max(abs.confirmed, abs.execDecided) : undefined;
    const execution = stage(abs.drawn, 'execution');
    const final = stage(finalReady, 'final');
    return { tradeId: t.tradeId, endMs, at, ...(execution ? { execution } : {}), ...(final ? { final } : {}), invalid };
  });
}

/** The waits between consecutive steps, named by the step they end in (what each step took). */
export const WAITS: Array<[string, Step | 'end', Step]> = [
  ['end → seller reading', 'end', 'sellerReading'],
  ['seller reading → mint', 'sellerReading', 'mint'],
  ['mint → delivery', 'mint', 'delivered'],
  ['delivery → committee drawn (beacon)', 'delivered', 'drawn'],
  ['drawn → execution entry (slot)', 'drawn', 'execEntry'],
  ['execution entry → quorum (votes)', 'execEntry', 'execQuorum'],
  ['execution quorum → decided', 'execQuorum', 'execDecided'],
  ['execution decided → buyer confirmed', 'execDecided', 'confirmed'],
  ['confirmed → final entry (slot)', 'confirmed', 'finalEntry'],
  ['final entry → quorum (votes)', 'finalEntry', 'finalQuorum'],
  ['final quorum → settled (decide)', 'finalQuorum', 'settled'],
];

export function waitOf(tl: Timeline, from: Step | 'end', to: Step): number | undefined {
  const a = from === 'end' ? 0 : tl.at[from];
  const b = tl.at[to];
  return a === undefined || b === undefined ? undefined : b - a;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const s1 = (ms: number | undefined): string => (ms === undefined ? '-' : (ms / 1000).toFixed(1));

/** How a stage's entry sat in the slots, in words: same slot, or the next one and why. */
export function slotNote(st: StageSlot | undefined): string {
  if (!st) return '?';
  const later = st.entrySlot - st.readySlot;
  if (later <= 0) return 'same slot';
  const why = st.leaderBlockMs === undefined ? "its leader made no block in it" : st.leaderBlockMs <= st.readyMs ? `its leader's block was made ${s1(st.readyMs - st.leaderBlockMs)} s before` : `its leader's block came ${s1(st.leaderBlockMs - st.readyMs)} s after, without it`;
  return `+${later} slot${later > 1 ? 's' : ''} (${why})`;
}

/** Printable rows: p50/p99/max of each wait over all timelines, and one line per trade beyond `limitMs`. */
export function summarise(timelines: readonly Timeline[], limitMs: number): { rows: Array<[string, string]>; misses: string[] } {
  const rows: Array<[string, string]> = [];
  for (const [name, from, to] of WAITS) {
    const xs = timelines.map((tl) => waitOf(tl, from, to)).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    const missXs = timelines.filter((tl) => (tl.at.settled ?? Infinity) > limitMs).map((tl) => waitOf(tl, from, to)).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    rows.push([`  ${name} (s)`, xs.length ? `p50 ${s1(pct(xs, 50))}  p99 ${s1(pct(xs, 99))}  max ${s1(xs[xs.length - 1])}  (n ${xs.length}; misses p50 ${missXs.length ? s1(pct(missXs, 50)) : '-'})` : '-']);
  }
  for (const stage of ['execution', 'final'] as const) {
    const notes = new Map<string, number>();
    for (const tl of timelines) {
      const n = slotNote(tl[stage]).replace(/ \d+\.\d s/, ' n s');
      notes.set(n, (notes.get(n) ?? 0) + 1);
    }
    rows.push([`  ${stage} entry vs the slot it was ready in`, [...notes].map(([n, k]) => `${n}: ${k}`).join('; ')]);
  }
  const misses = timelines
    .filter((tl) => (tl.at.settled ?? Infinity) > limitMs)
    .map((tl) => {
      const a = tl.at;
      const inv = Object.entries(tl.invalid).map(([f, k]) => `${f}×${k}`).join(' ');
      return `${tl.tradeId}: settled ${s1(a.settled)} | readings ${s1(a.sellerReading)}/${s1(a.buyerReading)} mint ${s1(a.mint)} delivered ${s1(a.delivered)} drawn ${s1(a.drawn)}` +
        ` | exec entry ${s1(a.execEntry)} [${slotNote(tl.execution)}] quorum ${s1(a.execQuorum)} decided ${s1(a.execDecided)}` +
        ` | confirmed ${s1(a.confirmed)} | final entry ${s1(a.finalEntry)} [${slotNote(tl.final)}] quorum ${s1(a.finalQuorum)}${inv ? ` | invalid ${inv}` : ''}`;
    });
  return { rows, misses };
}
