import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, ApiError, LiveStream, session, type Interval, type LiveEvent, type LiveState } from './api';
import { drawEnergy, drawPrice } from './charts';
import { el, fmt, ids, shortId, table, type Column } from './dom';

type View = 'overview' | 'market' | 'governance' | 'operations';
const VIEWS: View[] = ['overview', 'market', 'governance', 'operations'];

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const state = {
  view: 'overview' as View,
  live: 'connecting' as LiveState,
  liveDetail: '',
  /** the newest block an event arrived from */
  eventBlock: 0,
  /** the block the analytics store had applied at the last refresh */
  asOfBlock: null as number | null,
  /** the last data request failed because the gateway could not be reached */
  unreachable: false,
  /** what the key sees (from the analytics answers): all (regulator), utility (operator), meters */
  scope: '' as string,
  refreshing: false,
  stream: undefined as LiveStream | undefined,
  feed: [] as LiveEvent[],
};

// ---------- live status ----------

function showLive(): void {
  const p = $('live');
  let s: string;
  let text: string;
  if (!session.key) [s, text] = ['signed-out', 'Signed out'];
  else if (state.unreachable || state.live === 'disconnected') [s, text] = ['disconnected', `Disconnected — ${state.unreachable ? 'the gateway cannot be reached' : state.liveDetail || 'no event stream'}; retrying`];
  else if (state.live === 'connecting') [s, text] = ['connecting', 'Connecting…'];
  else if (state.asOfBlock !== null && state.eventBlock > state.asOfBlock) [s, text] = ['behind', `Behind — ledger at block ${state.eventBlock}, shown up to block ${state.asOfBlock}; updating`];
  else [s, text] = ['live', `Live${state.asOfBlock !== null ? ` — up to block ${state.asOfBlock}` : ''}`];
  p.dataset.state = s;
  p.textContent = text;
}

// ---------- views ----------

async function renderOverview(): Promise<void> {
  const zone = $<HTMLSelectElement>('zone').value;
  const r = await api<{ scope: string; mspId: string; asOfBlock: number | null; intervals: Interval[] }>(`/api/v1/analytics/intervals${zone ? `?zone=${encodeURIComponent(zone)}` : ''}`);
  state.asOfBlock = r.asOfBlock;
  state.scope = r.scope;
  $('who').textContent = `${r.mspId} · ${r.scope === 'all' ? 'regulator' : r.scope === 'utility' ? 'operator' : 'meter'} view`;
  const zones = $<HTMLSelectElement>('zone');
  const known = new Set([...zones.options].map((o) => o.value));
  for (const z of new Set(r.intervals.map((i) => i.zone))) if (!known.has(z)) zones.append(el('option', { value: z }, z));
  const sum = (f: (i: Interval) => number) => r.intervals.reduce((a, i) => a + f(i), 0);
  const prod = sum((i) => i.productionWh);
  const cons = sum((i) => i.consumptionWh);
  const traded = sum((i) => i.tradedWh);
  const trades = sum((i) => Object.values(i.trades).reduce((a, n) => a + n, 0));
  const totals = $('overview-totals');
  totals.replaceChildren(
    ...[
      ['Metered production', `${fmt(prod)} Wh`, 'production'],
      ['Metered consumption', `${fmt(cons)} Wh`, 'consumption'],
      ['Energy traded', `${fmt(traded)} Wh`, 'traded'],
      ['Trades', fmt(trades), 'trades'],
      ['Self-sufficiency', cons > 0 ? `${(Math.round((Math.min(prod, cons) * 1000) / cons) / 10).toFixed(1)} %` : '—', 'self-sufficiency'],
    ].map(([k, v, id]) => el('div', { 'data-total': id! }, el('dt', {}, k!), el('dd', {}, v!))),
  );
  drawEnergy($('energy-chart'), r.intervals);
  drawPrice($('price-chart'), r.intervals);
  const cols: Column<Interval>[] = [
    { h: 'Interval (UTC)', v: (i) => new Date(i.intervalStart * 1000).toISOString().slice(0, 16).replace('T', ' ') },
    { h: 'Zone', v: (i) => i.zone },
    { h: 'Production (Wh)', v: (i) => i.productionWh, num: true, key: 'productionWh' },
    { h: 'Consumption (Wh)', v: (i) => i.consumptionWh, num: true, key: 'consumptionWh' },
    { h: 'Traded (Wh)', v: (i) => i.tradedWh, num: true, key: 'tradedWh' },
    { h: 'Trades by state', v: (i) => Object.entries(i.trades).map(([s, n]) => `${s} ${n}`).join(', ') || '—' },
    { h: 'Min price', v: (i) => i.price?.min ?? '—', num: true, key: 'priceMin' },
    { h: 'Avg price', v: (i) => i.price?.avg ?? '—', num: true, key: 'priceAvg' },
    { h: 'Max price', v: (i) => i.price?.max ?? '—', num: true, key: 'priceMax' },
    { h: 'Self-sufficiency', v: (i) => (i.selfSufficiencyPct === null ? '—' : `${i.selfSufficiencyPct} %`), num: true, key: 'selfSufficiencyPct' },
  ];
  const rows = [...r.intervals].reverse();
  $('overview-table').replaceChildren(
    table(`Per interval and zone (newest first; ${r.scope === 'meters' ? "your meters'" : `${r.mspId}'s meters'`} readings, the whole market's trades)`, cols, rows, (i) => ({ 'data-interval': String(i.intervalStart), 'data-zone': i.zone })),
  );
  renderFeed();
}

function renderFeed(): void {
  if (state.feed.length === 0) {
    $('feed').replaceChildren(el('li', { class: 'note' }, 'No events since this page was opened; they appear here as they are committed.'));
    return;
  }
  $('feed').replaceChildren(
    ...state.feed.map((e) => {
      const p = e.payload;
      const ref = ['tradeId', 'offerId', 'requestId', 'taskId', 'participantId', 'meterId'].map((k) => (typeof p[k] === 'string' ? `${k}=${p[k]}` : '')).filter(Boolean).join(' ');
      return el('li', { 'data-event': e.name }, `block ${e.blockNumber} · ${e.name} ${ref}`);
    }),
  );
}

type Trade = { tradeId: string; origin: string; zone: string; amountWh: number; pricePerKwh: number; deliveryStart: number; state: string; sellerMspId: string | null; buyerMspId: string | null };

async function renderMarket(): Promise<void> {
  const [offers, auctions, trades] = await Promise.all([
    api<{ offers: Array<Record<string, number | string | null>> }>('/api/v1/analytics/offers?status=OPEN'),
    api<{ auctions: Array<Record<string, number | string | null>> }>('/api/v1/analytics/auctions'),
    api<{ scope: string; byState: Record<string, number>; trades: Trade[] }>('/api/v1/analytics/trades'),
  ]);
  const time = (s: unknown) => (typeof s === 'number' ? new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ') : '—');
  $('market-states').replaceChildren(
    table('Trades by state', [{ h: 'State', v: (r: [string, number]) => r[0] }, { h: 'Trades', v: (r) => r[1], num: true, key: 'count' }], Object.entries(trades.byState), (r) => ({ 'data-state': r[0] })),
  );
  $('market-offers').replaceChildren(
    table('Open offers', [
      { h: 'Offer', v: (o) => String(o.offerId) },
      { h: 'Energy (Wh)', v: (o) => o.amountWh as number, num: true },
      { h: 'Price per kWh', v: (o) => o.pricePerKwh as number, num: true },
      { h: 'Delivery (UTC)', v: (o) => time(o.deliveryStart) },
      { h: 'Expires (UTC)', v: (o) => time(o.expiresAt) },
    ], offers.offers, (o) => ({ 'data-offer': String(o.offerId) })),
  );
  $('market-auctions').replaceChildren(
    table('Auctions and their phase', [
      { h: 'Request', v: (a) => String(a.requestId) },
      { h: 'Energy (Wh)', v: (a) => a.amountWh as number, num: true },
      { h: 'Max price', v: (a) => a.maxPricePerKwh as number, num: true },
      { h: 'Phase', v: (a) => String(a.phase) },
      { h: 'Status', v: (a) => String(a.status) },
      { h: 'Bids', v: (a) => a.bids as number, num: true },
      { h: 'Revealed', v: (a) => a.revealed as number, num: true },
      { h: 'Winning price', v: (a) => (a.pricePerKwh ?? '—'), num: true },
    ], auctions.auctions),
  );
  const cols: Column<Trade>[] = [
    { h: 'Trade', v: (t) => el('button', { type: 'button', class: 'link', 'data-trade': t.tradeId, 'aria-label': `Show the timeline of trade ${t.tradeId}` }, t.tradeId) },
    { h: 'Origin', v: (t) => t.origin },
    { h: 'Zone', v: (t) => t.zone },
    { h: 'Energy (Wh)', v: (t) => t.amountWh, num: true },
    { h: 'Price per kWh', v: (t) => t.pricePerKwh, num: true },
    { h: 'Delivery (UTC)', v: (t) => time(t.deliveryStart) },
    { h: 'Utilities', v: (t) => `${t.sellerMspId ?? '?'} → ${t.buyerMspId ?? '?'}` },
    { h: 'State', v: (t) => t.state },
  ];
  $('market-trades').replaceChildren(table(`Trades (${trades.scope === 'all' ? 'all utilities' : trades.scope === 'utility' ? 'involving this utility' : 'of your meters'})`, cols, trades.trades));
}

async function showTimeline(tradeId: string): Promise<void> {
  const box = $('market-timeline');
  try {
    const r = await api<{ trade: Trade; timeline: Array<{ blockNumber: number; name: string; state: string | null; detail: Record<string, unknown> }> }>(`/api/v1/analytics/trades/${encodeURIComponent(tradeId)}`);
    box.replaceChildren(
      el('h3', { tabindex: '-1', id: 'timeline-h' }, `Timeline of trade ${tradeId} (now ${r.trade.state})`),
      el('ol', { class: 'timeline' }, ...r.timeline.map((e) => el('li', {}, `block ${e.blockNumber}: ${e.name}${e.state ? ` → ${e.state}` : ''}`))),
    );
    $('timeline-h').focus();
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error' }, (e as Error).message));
  }
}

type Task = { taskId: string; kind: string; subjectId: string; round: number; status: string; outcome: string | null; committee: string[]; leaders: Array<{ ballot: string; leader: string }>; votes: Array<{ ballot: string; voter: string; approve: boolean }>; decisions: Array<{ ballot: string; outcome: string; approvals: number; refusals: number }> };

async function renderGovernance(): Promise<void> {
  const [tasks, sanctions, q, beacon] = await Promise.all([
    api<{ scope: string; tasks: Task[] }>('/api/v1/analytics/tasks'),
    api<{ sanctions: Array<Record<string, string | number | null>> }>('/api/v1/analytics/sanctions'),
    api<{ leaderboard: Array<Record<string, string | number | null>> }>('/api/v1/analytics/qscores'),
    api<{ utilities: Array<{ mspId: string; contributions: number; lastBlock: number }> }>('/api/v1/analytics/beacon'),
  ]);
  $('gov-tasks').replaceChildren(
    table('Committee tasks', [
      { h: 'Task', v: (t) => shortId(t.taskId) },
      { h: 'Kind', v: (t) => t.kind },
      { h: 'Subject', v: (t) => shortId(t.subjectId) },
      { h: 'Round', v: (t) => t.round, num: true },
      { h: 'Status', v: (t) => t.status },
      { h: 'Committee', v: (t) => ids(t.committee) },
      { h: 'Leaders', v: (t) => (t.leaders.length ? el('span', {}, ...t.leaders.flatMap((l, i) => [i ? '; ' : '', `${l.ballot}: `, shortId(l.leader)])) : '—') },
      { h: 'Votes (yes/no)', v: (t) => `${t.votes.filter((v) => v.approve).length}/${t.votes.filter((v) => !v.approve).length}` },
      { h: 'Decisions', v: (t) => t.decisions.map((d) => `${d.ballot}: ${d.outcome} (${d.approvals}–${d.refusals})`).join('; ') || '—' },
    ], tasks.tasks),
  );
  $('gov-sanctions').replaceChildren(
    table('Penalties, suspensions and bans', [
      { h: 'Block', v: (s) => s.blockNumber as number, num: true },
      { h: 'Participant', v: (s) => shortId(String(s.participantId)) },
      { h: 'Kind', v: (s) => String(s.kind) },
      { h: 'Reason', v: (s) => String(s.reason) },
    ], sanctions.sanctions),
  );
  $('gov-leaderboard').replaceChildren(
    table('Q-score leaderboard (pseudonyms)', [
      { h: 'Rank', v: (_r, i) => i + 1, num: true },
      { h: 'Participant', v: (r) => shortId(String(r.participantId)) },
      { h: 'Zone', v: (r) => String(r.zone ?? '—') },
      { h: 'Q-score', v: (r) => ((r.qScore as number) / 1e6).toFixed(3), num: true },
      { h: 'Penalties', v: (r) => r.penaltyCount as number, num: true },
      { h: 'Status', v: (r) => String(r.status) },
    ], q.leaderboard),
  );
  $('gov-beacon').replaceChildren(
    table('Beacon contributions per utility', [
      { h: 'Utility', v: (b) => b.mspId },
      { h: 'Contributions', v: (b) => b.contributions, num: true },
      { h: 'Last block', v: (b) => b.lastBlock, num: true },
    ], beacon.utilities),
  );
}

async function renderOperations(): Promise<void> {
  const ready = await api<{ status: string; checks: Record<string, { ok: boolean; detail?: string; latencyMs?: number }> }>('/ready', { auth: false });
  $('ops-ready').replaceChildren(
    el('p', {}, 'Readiness: ', el('strong', { class: ready.status === 'ready' ? 'ok' : 'bad' }, ready.status)),
    table('Readiness checks (GET /ready)', [
      { h: 'Check', v: (c: [string, { ok: boolean; detail?: string; latencyMs?: number }]) => c[0] },
      { h: 'State', v: (c) => el('span', { class: c[1].ok ? 'ok' : 'bad' }, c[1].ok ? 'ok' : 'failing') },
      { h: 'Detail', v: (c) => c[1].detail ?? '' },
      { h: 'Latency (ms)', v: (c) => (c[1].latencyMs === undefined ? '—' : Math.round(c[1].latencyMs)), num: true },
    ], Object.entries(ready.checks), (c) => ({ 'data-check': c[0] })),
  );
  if (state.scope === 'meters') {
    $('ops-status').replaceChildren(el('p', { class: 'note' }, 'Queue depth and ingest rate are shown to operator and regulator keys.'));
    return;
  }
  try {
    const s = await api<{ checkpoint: { block: number } | null; eventsApplied: number; lastSeenBlock: number | null; ingestPerSecond: number; queue: Record<string, number>; sseClients: number }>('/api/v1/analytics/status');
    $('ops-status').replaceChildren(
      el('dl', { class: 'cards' },
        ...[
          ['Delivery queue (queued)', fmt(s.queue.QUEUED ?? 0), 'queued'],
          ['Delivery queue (submitted)', fmt(s.queue.SUBMITTED ?? 0), 'submitted'],
          ['Ingest rate (events/s, last minute)', String(s.ingestPerSecond), 'ingest'],
          ['Events applied', fmt(s.eventsApplied), 'applied'],
          ['Analytics checkpoint block', s.checkpoint ? String(s.checkpoint.block) : '—', 'checkpoint'],
          ['Open event streams', String(s.sseClients), 'sse'],
        ].map(([k, v, id]) => el('div', { 'data-status': id! }, el('dt', {}, k!), el('dd', {}, v!))),
      ),
    );
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) $('ops-status').replaceChildren(el('p', { class: 'note' }, 'Queue depth and ingest rate are shown to operator and regulator keys.'));
    else throw e;
  }
}

const RENDER: Record<View, () => Promise<void>> = { overview: renderOverview, market: renderMarket, governance: renderGovernance, operations: renderOperations };

let again = false;
async function refresh(): Promise<void> {
  if (!session.key) return;
  if (state.refreshing) {
    again = true;
    return;
  }
  state.refreshing = true;
  try {
    if (state.view !== 'overview') {
      // keeps asOfBlock (the "behind" indicator) current whatever the view
      const r = await api<{ asOfBlock: number | null; scope: string }>('/api/v1/analytics/intervals?from=4102444800');
      state.asOfBlock = r.asOfBlock;
      state.scope = r.scope;
    }
    await RENDER[state.view]();
    state.unreachable = false;
    $('view-error-' + state.view)?.remove();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signOut('The API key was refused (revoked or mistyped). Sign in again.');
    state.unreachable = e instanceof ApiError && e.status === 0;
    const section = $(`view-${state.view}`);
    $('view-error-' + state.view)?.remove();
    section.prepend(el('p', { class: 'error', role: 'alert', id: `view-error-${state.view}` }, `Could not update this view: ${(e as Error).message}`));
  } finally {
    state.refreshing = false;
    showLive();
  }
  if (again || (state.asOfBlock !== null && state.eventBlock > state.asOfBlock)) {
    again = false;
    window.setTimeout(() => void refresh(), 700); // the store is still applying what the stream showed
  }
}

let debounce: number | undefined;
function onEvent(e: LiveEvent): void {
  state.eventBlock = Math.max(state.eventBlock, e.blockNumber);
  state.feed = [e, ...state.feed].slice(0, 30);
  if (state.view === 'overview') renderFeed();
  showLive();
  window.clearTimeout(debounce);
  debounce = window.setTimeout(() => void refresh(), 250);
}

function route(): void {
  const v = location.hash.slice(1) as View;
  state.view = VIEWS.includes(v) ? v : 'overview';
  for (const name of VIEWS) $(`view-${name}`).hidden = !session.key || name !== state.view;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (a.dataset.view === state.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  void refresh();
}

function signedIn(): void {
  $('signin').hidden = true;
  $('nav').hidden = false;
  $('signout').hidden = false;
  state.stream = new LiveStream(
    onEvent,
    (s, detail) => {
      state.live = s;
      state.liveDetail = detail ?? '';
      showLive();
      if (s === 'live') void refresh(); // catch up on what happened while disconnected
    },
    () => signOut('The API key was refused (revoked or mistyped). Sign in again.'),
  );
  state.stream.start();
  route();
}

function signOut(message = ''): void {
  session.clear();
  state.stream?.stop();
  state.stream = undefined;
  $('signin').hidden = false;
  $('nav').hidden = true;
  $('signout').hidden = true;
  for (const name of VIEWS) $(`view-${name}`).hidden = true;
  $('signin-error').textContent = message;
  $('who').textContent = '';
  showLive();
  $<HTMLInputElement>('apikey').focus();
}

$('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('apikey');
  const key = input.value.trim();
  session.set(key);
  // check the key before showing anything: a wrong key is said so here, not as empty tables
  api<{ asOfBlock: number | null }>('/api/v1/analytics/intervals?from=4102444800')
    .then(() => {
      input.value = '';
      $('signin-error').textContent = '';
      signedIn();
    })
    .catch((e: unknown) => {
      session.clear();
      $('signin-error').textContent = e instanceof ApiError && e.status === 401 ? 'This key is not valid for this gateway.' : `Could not sign in: ${(e as Error).message}`;
    });
});
$('signout').addEventListener('click', () => signOut());
$('zone').addEventListener('change', () => void refresh());
$('market-trades').addEventListener('click', (ev) => {
  const b = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-trade]');
  if (b) void showTimeline(b.dataset.trade!);
});
window.addEventListener('hashchange', route);
window.setInterval(() => void refresh(), 30_000); // clock-driven figures (auction phases) and a reachability probe

if (session.key) signedIn();
else signOut();
