import type { Principal } from '../auth/apiKeys';
import type { Handler } from '../rest/app';
import { HttpProblem } from '../rest/problem';
import type { AnalyticsListener } from './listener';
import type { AnalyticsStore } from './store';

/**
 * Who sees what in /api/v1/analytics (docs/dashboard.md "Who sees what"), like the rest of the API:
 * - regulator: everything the store holds;
 * - operator: its utility — trades, tasks, sanctions and Q-score histories that involve one of its
 *   participants (MSP of the seller/buyer, committee member or subject);
 * - meter key: its meters and the participant(s) they are.
 * Public market information, the same for every key: open offers, auctions, the per-interval market
 * figures (energy traded, trade count by state, clearing price band — aggregates, like an exchange's
 * ticker) and the Q-score leaderboard by pseudonym (as `participants:leaderboard`). Metered production
 * and consumption are this utility's own meters only (other utilities' readings never reach this store);
 * a meter key sees its own meters' readings in them.
 */
export type Scope = { kind: 'all' } | { kind: 'utility'; mspId: string } | { kind: 'meters'; meterIds: string[]; participantIds: string[] };

export interface AnalyticsRouteDeps {
  store: AnalyticsStore;
  listener: AnalyticsListener | undefined;
  mspId: string;
  participantOf(meterId: string): Promise<string | undefined>;
  queueCounts(): Record<string, number>;
  sseClients(): Promise<number>;
}

const MAX_ROWS = 500;

/** `IN (?, ?, …)` for a list (an empty list matches nothing). */
const inList = (xs: readonly string[]) => (xs.length ? `(${xs.map(() => '?').join(', ')})` : '(NULL)');
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export function createAnalyticsHandlers(d: AnalyticsRouteDeps): Record<string, Handler> {
  const db = d.store.db;
  const scopeOf = async (p: Principal): Promise<Scope> => {
    if (p.roles.includes('regulator')) return { kind: 'all' };
    if (p.roles.includes('operator')) return { kind: 'utility', mspId: d.mspId };
    const participantIds: string[] = [];
    for (const m of p.meters) {
      const pid = await d.participantOf(m).catch(() => undefined);
      if (pid) participantIds.push(pid);
    }
    return { kind: 'meters', meterIds: [...p.meters], participantIds };
  };
  /** SQL condition + args: the rows of `table` whose participant column(s) are in scope. */
  const participantsIn = (s: Scope, cols: string[]): [string, unknown[]] => {
    if (s.kind === 'all') return ['1 = 1', []];
    if (s.kind === 'utility') {
      return [`(${cols.map((c) => `${c} IN (SELECT participant_id FROM an_participants WHERE msp_id = ?)`).join(' OR ')})`, cols.map(() => s.mspId)];
    }
    return [`(${cols.map((c) => `${c} IN ${inList(s.participantIds)}`).join(' OR ')})`, cols.flatMap(() => s.participantIds)];
  };
  const tradesIn = (s: Scope): [string, unknown[]] => {
    if (s.kind === 'all') return ['1 = 1', []];
    if (s.kind === 'utility') return ['(seller_msp_id = ? OR buyer_msp_id = ?)', [s.mspId, s.mspId]];
    return [
      `(seller_meter_id IN ${inList(s.meterIds)} OR buyer_meter_id IN ${inList(s.meterIds)} OR seller IN ${inList(s.participantIds)} OR buyer IN ${inList(s.participantIds)})`,
      [...s.meterIds, ...s.meterIds, ...s.participantIds, ...s.participantIds],
    ];
  };
  const mspOf = (pid: string): string | null => (db.prepare('SELECT msp_id FROM an_participants WHERE participant_id = ?').get(pid) as { msp_id: string | null } | undefined)?.msp_id ?? null;
  const taskVisible = (s: Scope, t: { subject_id: string; kind: string; committee: string | null }): boolean => {
    if (s.kind === 'all') return true;
    const committee = t.committee ? (JSON.parse(t.committee) as string[]) : [];
    let subjects = [t.subject_id.replace(/#.*$/, '')];
    if (t.kind === 'trade') {
      const tr = db.prepare('SELECT seller, buyer, seller_meter_id, buyer_meter_id, seller_msp_id, buyer_msp_id FROM an_trades WHERE trade_id = ?').get(t.subject_id) as Record<string, string | null> | undefined;
      subjects = tr ? [tr.seller, tr.buyer].filter((x): x is string => !!x) : [];
      if (tr && s.kind === 'utility' && (tr.seller_msp_id === s.mspId || tr.buyer_msp_id === s.mspId)) return true;
      if (tr && s.kind === 'meters' && (s.meterIds.includes(tr.seller_meter_id ?? '') || s.meterIds.includes(tr.buyer_meter_id ?? ''))) return true;
    }
    const people = [...committee, ...subjects];
    return s.kind === 'utility' ? people.some((p) => mspOf(p) === s.mspId) : people.some((p) => s.participantIds.includes(p));
  };

  return {
    getAnalyticsIntervals: async (ctx) => {
      const s = await scopeOf(ctx.principal!);
      const q = ctx.query;
      const from = num(q.from) ?? 0;
      const to = num(q.to) ?? 4_102_444_800;
      if (to < from) throw new HttpProblem(400, 'validation-failed', 'The request is invalid', `to (${to}) is before from (${from}); give an interval range with from <= to`, { errors: [{ in: 'query', pointer: 'to', message: 'must be >= from' }] });
      const zone = typeof q.zone === 'string' ? q.zone : undefined;
      const zoneSql = zone === undefined ? '' : ' AND zone = ?';
      const zoneArg = zone === undefined ? [] : [zone];
      const meterSql = s.kind === 'meters' ? ` AND meter_id IN ${inList(s.meterIds)}` : '';
      const meterArgs = s.kind === 'meters' ? s.meterIds : [];
      const metered = db
        .prepare(
          `SELECT interval_start, zone, SUM(export_wh) AS production_wh, SUM(import_wh) AS consumption_wh, COUNT(*) AS readings
           FROM an_readings WHERE interval_start >= ? AND interval_start <= ?${zoneSql}${meterSql} GROUP BY interval_start, zone`,
        )
        .all(from, to, ...zoneArg, ...meterArgs) as Array<{ interval_start: number; zone: string; production_wh: number | null; consumption_wh: number | null; readings: number }>;
      // Energy traded and the price band count trades that were agreed and not undone (declined / failed late).
      const market = db
        .prepare(
          `SELECT delivery_start, zone, state, COUNT(*) AS n, SUM(amount_wh) AS wh, MIN(price_per_kwh) AS pmin, MAX(price_per_kwh) AS pmax,
                  SUM(price_per_kwh * amount_wh) AS pw
           FROM an_trades WHERE delivery_start >= ? AND delivery_start <= ?${zoneSql} GROUP BY delivery_start, zone, state`,
        )
        .all(from, to, ...zoneArg) as Array<{ delivery_start: number; zone: string; state: string; n: number; wh: number; pmin: number; pmax: number; pw: number }>;
      type Row = {
        intervalStart: number; zone: string; productionWh: number; consumptionWh: number; readings: number; tradedWh: number;
        trades: Record<string, number>; price: { min: number; avg: number; max: number } | null; selfSufficiencyPct: number | null; _pw: number; _pwh: number;
      };
      const rows = new Map<string, Row>();
      const row = (start: number, z: string): Row => {
        const k = `${start}|${z}`;
        let r = rows.get(k);
        if (!r) {
          r = { intervalStart: start, zone: z, productionWh: 0, consumptionWh: 0, readings: 0, tradedWh: 0, trades: {}, price: null, selfSufficiencyPct: null, _pw: 0, _pwh: 0 };
          rows.set(k, r);
        }
        return r;
      };
      for (const m of metered) {
        const r = row(m.interval_start, m.zone);
        r.productionWh += m.production_wh ?? 0;
        r.consumptionWh += m.consumption_wh ?? 0;
        r.readings += m.readings;
      }
      for (const m of market) {
        const r = row(m.delivery_start, m.zone);
        r.trades[m.state] = m.n;
        if (m.state === 'DECLINED' || m.state === 'FAILED_LATE') continue;
        r.tradedWh += m.wh;
        r._pw += m.pw;
        r._pwh += m.wh;
        r.price = { min: Math.min(r.price?.min ?? m.pmin, m.pmin), max: Math.max(r.price?.max ?? m.pmax, m.pmax), avg: 0 };
      }
      const out = [...rows.values()]
        .sort((a, b) => a.intervalStart - b.intervalStart || a.zone.localeCompare(b.zone))
        .slice(-MAX_ROWS)
        .map(({ _pw, _pwh, ...r }) => ({
          ...r,
          price: r.price ? { ...r.price, avg: _pwh ? Math.round(_pw / _pwh) : r.price.min } : null,
          selfSufficiencyPct: r.consumptionWh > 0 ? Math.round((Math.min(r.productionWh, r.consumptionWh) * 1000) / r.consumptionWh) / 10 : null,
        }));
      return { status: 200, body: { scope: s.kind, mspId: d.mspId, asOfBlock: d.store.checkpoint()?.block ?? null, intervals: out } };
    },

    getAnalyticsOffers: async (ctx) => {
      const status = typeof ctx.query.status === 'string' ? ctx.query.status : undefined;
      const rows = db
        .prepare(
          `SELECT offer_id AS "offerId", amount_wh AS "amountWh", price_per_kwh AS "pricePerKwh", delivery_start AS "deliveryStart", expires_at AS "expiresAt", status,
                  trade_id AS "tradeId", created_block AS "createdBlock" FROM an_offers ${status ? 'WHERE status = ?' : ''} ORDER BY created_block DESC, offer_id LIMIT ${MAX_ROWS}`,
        )
        .all(...(status ? [status] : []));
      return { status: 200, body: { offers: rows } };
    },

    getAnalyticsAuctions: async () => {
      const now = Math.floor(Date.now() / 1000);
      const rows = (
        db
          .prepare(
            `SELECT request_id AS "requestId", amount_wh AS "amountWh", max_price_per_kwh AS "maxPricePerKwh", t1, t2, delivery_start AS "deliveryStart", status, phase,
                    bids, revealed, winner_offer_id AS "winnerOfferId", price_per_kwh AS "pricePerKwh", trade_id AS "tradeId", created_block AS "createdBlock"
             FROM an_auctions ORDER BY created_block DESC, request_id LIMIT ${MAX_ROWS}`,
          )
          .all() as Array<Record<string, unknown> & { status: string; phase: string; t1: number; t2: number }>
      ).map((a) =>
        // the phase by the clock (docs/market.md: bids until t1, reveals until t2, then close and claims)
        ({ ...a, phase: a.status !== 'OPEN' ? a.phase : now < a.t1 ? 'commit' : now < a.t2 ? 'reveal' : 'closing' }),
      );
      return { status: 200, body: { auctions: rows } };
    },

    getAnalyticsTrades: async (ctx) => {
      const s = await scopeOf(ctx.principal!);
      const [w, args] = tradesIn(s);
      const state = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
      const rows = db
        .prepare(
          `SELECT trade_id AS "tradeId", origin, origin_id AS "originId", seller, buyer, seller_msp_id AS "sellerMspId", buyer_msp_id AS "buyerMspId", zone,
                  amount_wh AS "amountWh", price_per_kwh AS "pricePerKwh", delivery_start AS "deliveryStart", state, fault, created_block AS "createdBlock", updated_block AS "updatedBlock"
           FROM an_trades WHERE ${w}${state ? ' AND state = ?' : ''} ORDER BY created_block DESC, trade_id LIMIT ${MAX_ROWS}`,
        )
        .all(...args, ...(state ? [state] : []));
      const byState = db.prepare(`SELECT state, COUNT(*) AS n FROM an_trades WHERE ${w} GROUP BY state ORDER BY state`).all(...args) as Array<{ state: string; n: number }>;
      return { status: 200, body: { scope: s.kind, byState: Object.fromEntries(byState.map((r) => [r.state, r.n])), trades: rows } };
    },

    getAnalyticsTrade: async (ctx) => {
      const s = await scopeOf(ctx.principal!);
      const [w, args] = tradesIn(s);
      const t = db
        .prepare(
          `SELECT trade_id AS "tradeId", origin, origin_id AS "originId", seller, buyer, seller_msp_id AS "sellerMspId", buyer_msp_id AS "buyerMspId", zone,
                  amount_wh AS "amountWh", price_per_kwh AS "pricePerKwh", delivery_start AS "deliveryStart", delivery_deadline AS "deliveryDeadline", state, fault,
                  energy_to_buyer_wh AS "energyToBuyerWh", created_block AS "createdBlock", updated_block AS "updatedBlock"
           FROM an_trades WHERE trade_id = ? AND ${w}`,
        )
        .get(ctx.params.tradeId, ...args);
      if (!t) throw new HttpProblem(404, 'not-found', 'Not found', `no trade ${ctx.params.tradeId} in this gateway's analytics that this API key may see (it may not be indexed yet)`);
      const timeline = (
        db.prepare('SELECT block_number AS "blockNumber", tx_id AS "txId", idx AS "index", name, state, detail FROM an_trade_events WHERE trade_id = ? ORDER BY block_number, tx_id, idx').all(ctx.params.tradeId) as Array<Record<string, unknown> & { detail: string }>
      ).map((e) => ({ ...e, detail: JSON.parse(e.detail) as unknown }));
      return { status: 200, body: { trade: t, timeline } };
    },

    getAnalyticsTasks: async (ctx) => {
      const s = await scopeOf(ctx.principal!);
      const tasks = (
        db
          .prepare(`SELECT task_id, kind, subject_id, round, status, committee, zones, outcome, reason, opened_block, updated_block FROM an_tasks ORDER BY updated_block DESC, task_id LIMIT ${MAX_ROWS}`)
          .all() as Array<{ task_id: string; kind: string; subject_id: string; round: number; status: string; committee: string | null; zones: string | null; outcome: string | null; reason: string | null; opened_block: number; updated_block: number }>
      ).filter((t) => taskVisible(s, t));
      const votes = db.prepare('SELECT ballot, round, voter, approve FROM an_votes WHERE task_id = ? ORDER BY round, ballot, voter');
      const leaders = db.prepare('SELECT ballot, round, leader FROM an_leaders WHERE task_id = ? ORDER BY round, ballot');
      const decisions = db.prepare('SELECT ballot, round, outcome, approvals, refusals FROM an_decisions WHERE task_id = ? ORDER BY round, ballot');
      const beacon = db.prepare('SELECT round, msp_id FROM an_beacon WHERE task_id = ? ORDER BY round, msp_id');
      return {
        status: 200,
        body: {
          scope: s.kind,
          tasks: tasks.map((t) => ({
            taskId: t.task_id, kind: t.kind, subjectId: t.subject_id, round: t.round, status: t.status, outcome: t.outcome, reason: t.reason,
            committee: t.committee ? (JSON.parse(t.committee) as string[]) : [], zones: t.zones ? (JSON.parse(t.zones) as string[]) : [],
            openedBlock: t.opened_block, updatedBlock: t.updated_block,
            leaders: leaders.all(t.task_id),
            votes: (votes.all(t.task_id) as Array<{ approve: number }>).map((v) => ({ ...v, approve: v.approve === 1 })),
            decisions: decisions.all(t.task_id),
            beacon: (beacon.all(t.task_id) as Array<{ round: number; msp_id: string }>).map((b) => ({ round: b.round, mspId: b.msp_id })),
          })),
        },
      };
    },

    getAnalyticsSanctions: async (ctx) => {
      const s = await scopeOf(ctx.principal!);
      const [w, args] = participantsIn(s, ['participant_id']);
      const rows = db
        .prepare(
          `SELECT block_number AS "blockNumber", tx_id AS "txId", participant_id AS "participantId", kind, reason, penalty_count AS "penaltyCount", banned_until AS "bannedUntil"
           FROM an_sanctions WHERE ${w} ORDER BY block_number DESC, tx_id, idx LIMIT ${MAX_ROWS}`,
        )
        .all(...args);
      return { status: 200, body: { scope: s.kind, sanctions: rows } };
    },

    getAnalyticsQScores: async (ctx) => {
      const s = await scopeOf(ctx.principal!);
      const leaderboard = db
        .prepare(
          `SELECT participant_id AS "participantId", zone, status, q_score AS "qScore", penalty_count AS "penaltyCount" FROM an_participants
           WHERE q_score IS NOT NULL ORDER BY q_score DESC, participant_id LIMIT 100`,
        )
        .all();
      const pid = typeof ctx.query.participantId === 'string' ? ctx.query.participantId : undefined;
      let history: unknown[] = [];
      if (pid) {
        const [w, args] = participantsIn(s, ['participant_id']);
        history = db
          .prepare(`SELECT block_number AS "blockNumber", q_score AS "qScore", delta, reason FROM an_qscores WHERE participant_id = ? AND ${w} ORDER BY block_number, tx_id, idx LIMIT ${MAX_ROWS}`)
          .all(pid, ...args);
      }
      return { status: 200, body: { scope: s.kind, leaderboard, history } };
    },

    getAnalyticsBeacon: async () => {
      const rows = db.prepare('SELECT msp_id AS "mspId", COUNT(*) AS contributions, MAX(block_number) AS "lastBlock" FROM an_beacon GROUP BY msp_id ORDER BY msp_id').all();
      return { status: 200, body: { utilities: rows } };
    },

    getAnalyticsStatus: async () => {
      const cp = d.store.checkpoint();
      return {
        status: 200,
        body: {
          mspId: d.mspId,
          listening: d.listener !== undefined,
          checkpoint: cp ? { block: cp.block, txId: cp.txId } : null,
          eventsApplied: cp?.events ?? 0,
          lastSeenBlock: d.listener?.lastSeenBlock ?? null,
          ingestPerSecond: Math.round((d.listener?.ingestRate() ?? 0) * 1000) / 1000,
          queue: d.queueCounts(),
          sseClients: await d.sseClients(),
        },
      };
    },
  };
}
