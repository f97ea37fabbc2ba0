/**
 * The dashboard in a real browser (docs/dashboard.md "Tests"): headless Chromium from Debian's
 * `chromium` package (installed by network/scripts/lib.sh ensure_chromium, never downloaded at run
 * time), driven by playwright-core, against the gateways of the running network. Screenshots of every
 * view go to $GRIDLEDGER_HOME/artifacts/dashboard/ (outside git).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { networkHome } from '../support/network';
import { RUN, RestClient, enrolMeter, ensureCommunity, eventually, expectStatus, loadGateways, memberClient, readingSeries, regulatorClient, type EnrolledMeter, type GatewayDescriptor, type Reading } from '../rest/support';
import { ensureMarketParameters, fundWallet, TEST_INTERVAL } from '../rest/market';

const CHROMIUM = process.env.GRIDLEDGER_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(networkHome(), 'artifacts', 'dashboard');

const gateways = loadGateways();
const gw1 = gateways[0]!;
const gw2 = gateways[1] ?? gateways[0]!;

interface ApiInterval {
  intervalStart: number;
  zone: string;
  productionWh: number;
  consumptionWh: number;
  tradedWh: number;
  price: { min: number; avg: number; max: number } | null;
  selfSufficiencyPct: number | null;
}

async function intervals(gw: GatewayDescriptor, key: string, zone?: string): Promise<{ asOfBlock: number | null; intervals: ApiInterval[] }> {
  const res = await new RestClient(gw.url, key).get(`/api/v1/analytics/intervals${zone ? `?zone=${zone}` : ''}`);
  expectStatus(res, 200);
  return res.body as { asOfBlock: number | null; intervals: ApiInterval[] };
}

async function postReading(m: EnrolledMeter, r: Reading): Promise<void> {
  const res = await m.client.post(`/api/v1/meters/${m.meterId}/readings?sync=true`, r, { idempotencyKey: `dash-${m.meterId}-${r.intervalStart}` });
  expectStatus(res, 200);
}

/** Waits until the gateway's analytics store holds the readings of `zone`'s meter for every interval. */
async function indexed(gw: GatewayDescriptor, key: string, zone: string, starts: number[]): Promise<ApiInterval[]> {
  return eventually(`analytics of ${gw.org} to hold ${zone} intervals ${starts.join(',')}`, async () => {
    const r = await intervals(gw, key, zone);
    return starts.every((s) => r.intervals.some((i) => i.intervalStart === s && i.productionWh > 0)) ? r.intervals : undefined;
  }, 60_000);
}

/** Numbers as the page shows them: "1,234" → 1234, "—" → null. */
const num = (s: string | null): number | null => (s === null || s.trim() === '—' ? null : Number(s.replace(/[,\s%]/g, '')));

async function signIn(page: Page, gw: GatewayDescriptor, key: string): Promise<void> {
  await page.goto(gw.url + '/');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#overview-table table').waitFor();
}

/** The row of the overview table for one interval and zone, as numbers. */
async function shownRow(page: Page, start: number, zone: string): Promise<Record<string, number | null> | undefined> {
  const row = page.locator(`#overview-table tr[data-interval="${start}"][data-zone="${zone}"]`);
  if ((await row.count()) === 0) return undefined;
  const out: Record<string, number | null> = {};
  for (const k of ['productionWh', 'consumptionWh', 'tradedWh', 'priceMin', 'priceAvg', 'priceMax', 'selfSufficiencyPct']) {
    out[k] = num(await row.locator(`td[data-k="${k}"]`).textContent());
  }
  return out;
}

const expected = (i: ApiInterval) => ({
  productionWh: i.productionWh,
  consumptionWh: i.consumptionWh,
  tradedWh: i.tradedWh,
  priceMin: i.price?.min ?? null,
  priceAvg: i.price?.avg ?? null,
  priceMax: i.price?.max ?? null,
  selfSufficiencyPct: i.selfSufficiencyPct,
});

describe('dashboard in headless Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  let meterA: EnrolledMeter; // gw1, zone A
  let meterA2: EnrolledMeter; // gw1, another household of the same utility
  let meterB: EnrolledMeter; // gw2: another utility
  const zoneA = `dash-a-${RUN}`;
  const zoneA2 = `dash-a2-${RUN}`;
  const zoneB = `dash-b-${RUN}`;
  const series = readingSeries(4, { importWh: 300, exportWh: 500 });
  // the neighbour: same intervals, a smaller roof (registers grow by its own flow)
  const seriesA2 = series.map((r, i) => ({ ...r, exportWh: 50, exportRegisterWh: 20_000 + 50 * (i + 1) }));

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set GRIDLEDGER_CHROMIUM`);
    mkdirSync(ARTIFACTS, { recursive: true });
    [meterA, meterA2, meterB] = await Promise.all([enrolMeter(gw1, `dash-a-${RUN}`, zoneA), enrolMeter(gw1, `dash-a2-${RUN}`, zoneA2), enrolMeter(gw2, `dash-b-${RUN}`, zoneB)]);
    for (const [i, r] of series.slice(0, 3).entries()) {
      await Promise.all([postReading(meterA, r), postReading(meterA2, seriesA2[i]!), postReading(meterB, r)]);
    }
    await indexed(gw1, gw1.apiKeys.operator, zoneA, series.slice(0, 3).map((r) => r.intervalStart));
    await indexed(gw1, gw1.apiKeys.operator, zoneA2, series.slice(0, 3).map((r) => r.intervalStart));
    await indexed(gw2, gw2.apiKeys.operator, zoneB, series.slice(0, 3).map((r) => r.intervalStart));
    // the whole sandbox: no network but the gateway's own origin (--no-sandbox: the suite may run as root in CI containers)
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 240_000);

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    page = await context.newPage();
    problems.length = 0;
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });

  afterEach(async () => {
    await context?.close();
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('the page loads from the gateway at / (bundled assets only), signs in with an API key, and logs no console errors', async () => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const res = await page.goto(gw1.url + '/');
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
    await expect(page.locator('#live').getAttribute('data-state')).resolves.toBe('signed-out');
    // a wrong key is refused on the sign-in form
    await page.getByLabel('API key').fill('glk_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error', { hasText: 'not valid' }).waitFor();
    problems.length = 0; // the refused key's 401 is logged by Chromium as a failed resource: expected
    await page.getByLabel('API key').fill(gw1.apiKeys.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#overview-table table').waitFor();
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 15_000 });
    // in the page (not Node): the key is kept in this tab's sessionStorage
    expect(await page.evaluate('sessionStorage.getItem("gridledger.apiKey")')).toBe(gw1.apiKeys.operator);
    expect(requests.every((u) => u.startsWith(gw1.url))).toBe(true); // no CDN, nothing from elsewhere
    expect(problems).toEqual([]);
  });

  test('the numbers shown equal what the analytics API returns for the same intervals', async () => {
    await signIn(page, gw1, gw1.apiKeys.operator);
    const api = await intervals(gw1, gw1.apiKeys.operator);
    const mine = api.intervals.filter((i) => i.zone === zoneA || i.zone === zoneA2);
    expect(mine.length).toBe(6);
    for (const i of mine) expect(await shownRow(page, i.intervalStart, i.zone)).toEqual(expected(i));
    // and the API's figures are the readings that were posted
    const a0 = mine.find((i) => i.zone === zoneA && i.intervalStart === series[0]!.intervalStart)!;
    expect(a0).toMatchObject({ productionWh: 500, consumptionWh: 300, selfSufficiencyPct: 100 });
    expect(problems).toEqual([]);
  });

  test('a reading posted through REST appears live within a few seconds (event feed and figures)', async () => {
    await signIn(page, gw1, gw1.apiKeys.operator);
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 15_000 });
    const r = series[3]!;
    const posted = Date.now();
    await postReading(meterA, r);
    await page.locator('#feed li[data-event="ReadingRecorded"]', { hasText: meterA.meterId }).waitFor({ timeout: 10_000 });
    await page.locator(`#overview-table tr[data-interval="${r.intervalStart}"][data-zone="${zoneA}"]`).waitFor({ timeout: 10_000 });
    const seconds = (Date.now() - posted) / 1000;
    console.log(`dashboard: reading committed and shown ${seconds.toFixed(1)} s after the POST`);
    expect(seconds).toBeLessThan(10);
    const api = (await intervals(gw1, gw1.apiKeys.operator, zoneA)).intervals.find((i) => i.intervalStart === r.intervalStart)!;
    expect(await shownRow(page, r.intervalStart, zoneA)).toEqual(expected(api));
    expect(problems).toEqual([]);
  });

  test('a new trade appears live in the market view from the event stream (the 30 s refresh is switched off)', async () => {
    // Seller at this gateway's utility (its operator sees trades involving it), buyer at another where there is one.
    const { members } = await ensureCommunity('silent');
    const seller = members.find((m) => m.org === gw1.org)!;
    const buyer = members.find((m) => m !== seller && m.org !== gw1.org) ?? members.find((m) => m !== seller)!;
    const gwOf = (org: string) => gateways.find((g) => g.org === org)!;
    await fundWallet(seller, gwOf(seller.org), 10_000);
    await fundWallet(buyer, gwOf(buyer.org), 10_000);
    await ensureMarketParameters(regulatorClient(gateways));
    // Only the live path may update the page: the dashboard's 30 s timer (clock-driven figures and a
    // reachability probe, dashboard/src/main.ts) would otherwise show the trade late even with the stream broken.
    await page.addInitScript({ content: 'const original = window.setInterval; window.setInterval = (fn, ms, ...rest) => ((ms ?? 0) >= 30000 ? 0 : original(fn, ms, ...rest));' });
    await signIn(page, gw1, gw1.apiKeys.operator);
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 15_000 });
    await page.locator('nav a[data-view="market"]').click();
    await page.locator('#market-trades table').waitFor();

    const len = TEST_INTERVAL;
    const deliveryStart = Math.ceil((Date.now() / 1000 + 90) / len) * len;
    const offer = await memberClient(seller).post('/api/v1/offers', { meterId: seller.meterId, amountWh: 100, pricePerKwh: 250, deliveryStart, deliveryLength: len, ttlSeconds: 60 });
    expectStatus(offer, 201);
    const accepted = await memberClient(buyer).post(`/api/v1/offers/${offer.body.result.offerId}/acceptances`, { meterId: buyer.meterId, amountWh: 100, pricePerKwh: 250 });
    expectStatus(accepted, 201); // answered once committed
    const committed = Date.now();
    const tradeId = accepted.body.result.tradeId as string;
    const row = page.locator('#market-trades tr', { has: page.locator(`button[data-trade="${tradeId}"]`) });
    await row.waitFor({ timeout: 10_000 });
    const seconds = (Date.now() - committed) / 1000;
    console.log(`dashboard: trade ${tradeId} shown in the market view ${seconds.toFixed(1)} s after its commit`);
    expect(seconds).toBeLessThan(10);
    expect(await row.locator('td').last().textContent()).toBe('AWAITING_ENERGY');
    await page.screenshot({ path: join(ARTIFACTS, 'market-live-trade.png'), fullPage: true });
    // the same trade came in on the stream: the overview's event feed (filled only by the stream) lists it
    await page.locator('nav a[data-view="overview"]').click();
    await page.locator('#feed li[data-event="TradeCreated"]', { hasText: tradeId }).waitFor({ timeout: 5_000 });
    expect(problems).toEqual([]);
  }, 600_000);

  test("a meter key sees only its own meter's readings: not its neighbour's, not another utility's", async () => {
    // positive controls: each utility's operator sees its meters
    expect((await intervals(gw1, gw1.apiKeys.operator, zoneA2)).intervals.some((i) => i.productionWh > 0)).toBe(true);
    expect((await intervals(gw2, gw2.apiKeys.operator, zoneB)).intervals.some((i) => i.productionWh > 0)).toBe(true);
    await signIn(page, gw1, meterA.apiKey);
    const zones = await page.locator('#overview-table tr[data-zone]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-zone')));
    expect(zones).toContain(zoneA);
    expect(zones).not.toContain(zoneA2);
    expect(zones).not.toContain(zoneB);
    const viaApi = await intervals(gw1, meterA.apiKey);
    expect(viaApi.intervals.filter((i) => i.zone === zoneA2 || i.zone === zoneB)).toEqual([]);
    expect(await page.locator('#overview-table caption').textContent()).toContain('your meters');
    // the operations figures are for operator and regulator keys; the meter key is told so
    await page.goto(gw1.url + '/#operations');
    await page.locator('#ops-status', { hasText: 'operator and regulator' }).waitFor();
    expect(problems).toEqual([]);
    // another utility's gateway does not know this key at all
    await page.evaluate('sessionStorage.clear()');
    await page.goto(gw2.url + '/');
    await page.getByLabel('API key').fill(meterA.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error', { hasText: 'not valid' }).waitFor();
  });

  test('every view renders; screenshots are written as artifacts; an unreachable gateway shows "Disconnected"', async () => {
    // the regulator key exists only at the gateway of the org holding the regulator identity (utility1)
    const regulatorKey = gw1.apiKeys.regulator;
    if (!regulatorKey) throw new Error(`${gw1.url} issued no regulator key: its org holds no regulator identity`);
    await signIn(page, gw1, regulatorKey);
    const views: Array<[string, string]> = [
      ['overview', '#overview-table table'],
      ['market', '#market-trades table'],
      ['governance', '#gov-leaderboard table'],
      ['operations', '#ops-status [data-status="ingest"]'],
    ];
    for (const [view, ready] of views) {
      await page.getByRole('link', { name: new RegExp(view === 'overview' ? 'Community overview' : view, 'i') }).click();
      await page.locator(ready).waitFor();
      await expect(page.locator(`nav a[data-view="${view}"]`).getAttribute('aria-current')).resolves.toBe('page');
      const file = join(ARTIFACTS, `${view}.png`);
      await page.screenshot({ path: file, fullPage: true });
      expect(existsSync(file)).toBe(true);
    }
    // operations: every readiness check of /ready is listed
    const checks = await page.locator('#ops-ready tr[data-check]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-check')));
    expect(checks).toEqual(expect.arrayContaining(['peerGateway', 'chaincode', 'ca']));
    // keyboard: the navigation is reachable with Tab and follows Enter
    await page.keyboard.press('Home');
    await page.locator('nav a[data-view="market"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('#market-trades table').waitFor();
    expect(page.url()).toContain('#market');
    // the gateway goes away (the browser is cut off): the page says so instead of showing stale figures as live
    await context.setOffline(true);
    await page.locator('nav a[data-view="overview"]').click();
    await page.locator('#live[data-state="disconnected"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'disconnected.png'), fullPage: false });
    await context.setOffline(false);
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 30_000 });
    expect(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::/.test(p))).toEqual([]);
  });
});
