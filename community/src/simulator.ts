/**
 * The simulator: one process acting for N households through their utilities' REST gateways, exactly as
 * meter gateways and household apps would. It
 *   1. enrols each household's meter with its utility's operator key (`POST /api/v1/meters`), asks to join
 *      (`POST /participants/join`), has the regulator admit 3f+1 of them as founders while the community
 *      is smaller than one committee (`POST /participants/{id}/founding-admission`), and leaves every other
 *      admission to the committee — the meters' agents (gateway/src/agents) do those duties; until they
 *      run, the others stay `PENDING` and the simulator only posts their readings;
 *   2. posts one reading per meter per metering interval (`POST /meters/{id}/readings`, as the meter) from
 *      the seeded profiles (profiles.ts);
 *   3. trades with the strategy of strategy.ts: offers, acceptances, auction requests and sealed bids.
 * It performs NO protocol duty — entries, votes, decisions, mint, delivery, confirmation, reveals, claims,
 * timeouts are the agents' (issue 17 item 1). Every POST has an Idempotency-Key derived from its meaning.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { problemType, RestClient, type HttpResult } from './client';
import type { CommunityConfig } from './config';
import { forecastFlows, intervalFlows, makeHouseholds, profileTime, Weather, type Household, type Site } from './profiles';
import { StateStore, pruneBefore, type MeterState } from './state';
import { askPrice, assignBehaviours, AUCTION_BID_INTERVALS, auctionTiming, bidFor, chooseFounders, lotPrice, lots, lotSizeWh, matchOffers, offerAmountWh, offerLeadIntervals, purchaseNeedWh, runsAuction, type Buyer, type OpenAuction, type OpenOffer, type PriceBand } from './strategy';
import { mapLimit, type Reading } from '@gridledger/protocol';

export interface GatewayDescriptor {
  org: string;
  mspId: string;
  url: string;
  apiKeys: { operator: string; regulator: string };
}

export function loadGateways(home: string): GatewayDescriptor[] {
  const file = join(home, 'gateways.json');
  let parsed: { gateways?: GatewayDescriptor[] };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as { gateways?: GatewayDescriptor[] };
  } catch (err) {
    throw new Error(`cannot read ${file} (start the network first: npm start): ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed.gateways) || parsed.gateways.length === 0) throw new Error(`${file} lists no gateways`);
  return parsed.gateways;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
/** docs/market.md §6: H(U) binds the participant id; the price commitment binds the request id. */
export const identityCommitment = (participantId: string, secret: string) => sha256(`gridledger/auction/identity\n${participantId}\n${secret}`);
export const priceCommitment = (requestId: string, price: number, salt: string) => sha256(`gridledger/auction/price\n${requestId}\n${price}\n${salt}`);

/** Counters for the per-interval summary and status.json. */
export interface Counters {
  intervals: number;
  readings: number;
  readingErrors: number;
  offers: number;
  acceptances: number;
  auctions: number;
  bids: number;
  marketErrors: number;
}

interface Household2 extends Household {
  state: MeterState;
}

export class Community {
  private readonly gateways: GatewayDescriptor[];
  private readonly households: Household2[];
  private readonly store: StateStore;
  private readonly site: Site;
  private readonly weather: Weather;
  private readonly regulator: RestClient;
  private readonly counters: Counters = { intervals: 0, readings: 0, readingErrors: 0, offers: 0, acceptances: 0, auctions: 0, bids: 0, marketErrors: 0 };
  private governance: { f: number; minStake: number } = { f: 1, minStake: 0 };
  private agentRoute: 'unknown' | 'present' | 'absent' = 'unknown';
  private secretRoute: 'unknown' | 'present' | 'absent' = 'unknown';

  constructor(
    private readonly cfg: CommunityConfig,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {
    const all = loadGateways(cfg.home);
    this.gateways = cfg.utilities > 0 ? all.slice(0, cfg.utilities) : all;
    this.store = new StateStore(cfg.stateDir);
    this.site = { latitude: cfg.latitude, longitude: cfg.longitude };
    this.weather = new Weather(cfg.seed, cfg.profileStart);
    const zones = Array.from({ length: cfg.zones }, (_, i) => `zone-${i + 1}`);
    this.households = makeHouseholds({ seed: cfg.seed, households: cfg.households, orgs: this.gateways.map((g) => g.org), zones, pvShare: cfg.pvShare, meterPrefix: cfg.meterPrefix }).map((h) => ({
      ...h,
      state: this.store.meter(h.meterId, h.org, h.zone),
    }));
    // the regulator identity lives in the first utility (test-network-config/network.yaml identities)
    this.regulator = this.client(all[0]!, all[0]!.apiKeys.regulator);
  }

  private gw(org: string): GatewayDescriptor {
    const g = this.gateways.find((x) => x.org === org);
    if (!g) throw new Error(`no gateway for ${org}`);
    return g;
  }

  private client(gw: GatewayDescriptor, key: string): RestClient {
    return new RestClient(gw.url, key, { signal: this.signal });
  }

  private meterClient(h: Household2): RestClient {
    return this.client(this.gw(h.org), h.state.apiKey!);
  }

  private operator(h: Household2): RestClient {
    const g = this.gw(h.org);
    return this.client(g, g.apiKeys.operator);
  }

  private secretFor(...label: string[]): string {
    return createHmac('sha256', this.store.state.secret).update(label.join('|')).digest('hex');
  }

  /** Runs until the signal aborts: set-up, then two phases per metering interval. */
  async run(): Promise<void> {
    // cfg.intervalSeconds is settled before the simulator starts (config.ts withNetworkInterval, main.ts).
    if (!this.cfg.intervalSeconds) throw new Error('the community needs its metering interval: run it through main.ts, which reads the network\'s');
    this.log.info({ households: this.households.length, utilities: this.gateways.map((g) => g.org), zones: this.cfg.zones, seed: this.cfg.seed, intervalSeconds: this.cfg.intervalSeconds, speed: this.cfg.speed, stateDir: this.cfg.stateDir }, 'community starting');
    const g = await this.regulator.get<{ f: number; minStake: number }>('/api/v1/governance/parameters');
    if (g.status !== 200) throw new Error(`GET governance parameters: ${g.status} ${g.text}`);
    this.governance = g.body;
    await this.setUp();
    const L = this.cfg.intervalSeconds;
    if (this.store.state.epoch === undefined) {
      this.store.state.epoch = Math.floor(nowSeconds() / L) * L;
      this.store.save();
    }
    while (!this.signal.aborted) {
      const boundary = Math.ceil((nowSeconds() + 0.5) / L) * L; // the next interval start
      await this.until(boundary + 2);
      if (this.signal.aborted) break;
      await this.guard('phase A', () => this.phaseA(boundary - L, boundary));
      this.writeStatus();
      await this.until(boundary + Math.floor(L / 2));
      if (this.signal.aborted) break;
      await this.guard('phase B', () => this.phaseB(boundary));
      this.counters.intervals++;
      this.writeStatus();
      this.log.info({ interval: boundary - L, ...this.counters, active: this.households.filter((h) => h.state.status === 'ACTIVE').length }, 'interval done');
    }
    this.store.save();
    this.writeStatus();
    this.log.info(this.counters, 'community stopped');
  }

  private async until(t: number): Promise<void> {
    const ms = t * 1000 - Date.now();
    if (ms > 0) await sleep(ms, undefined, { signal: this.signal }).catch(() => undefined);
  }

  private async guard(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (this.signal.aborted) return;
      this.log.error({ err: (err as Error).message }, `${what} failed; continuing with the next interval`);
    } finally {
      this.store.save();
    }
  }

  // ---------------------------------------------------------------- set-up

  private async setUp(): Promise<void> {
    for (const h of this.households) {
      if (this.signal.aborted) return;
      await this.guard(`enrolment of ${h.meterId}`, () => this.enrol(h));
    }
    // founders while the community has no committee yet: 3f+1 households, utilities in turn, sellers and
    // buyers. They join and are admitted FIRST: a join opens an admission task whose committee is drawn from
    // the members eligible then, so the others join once there is a committee to draw.
    const n = 3 * this.governance.f + 1;
    const founders = chooseFounders(this.households.filter((h) => h.state.apiKey), n);
    for (const h of founders) {
      if (this.signal.aborted) return;
      await this.guard(`join of ${h.meterId}`, () => this.join(h));
      if (h.state.status === 'PENDING') await this.guard(`founding admission of ${h.meterId}`, () => this.found(h));
    }
    await mapLimit(this.households.filter((h) => h.state.apiKey && !founders.includes(h)), 4, (h) => this.guard(`join of ${h.meterId}`, () => this.join(h)));
    await mapLimit(this.households.filter((h) => h.state.status === 'PENDING'), 4, (h) => this.guard(`draw for ${h.meterId}`, () => this.drawIfStuck(h)));
    await mapLimit(this.households.filter((h) => h.state.participantId && !h.state.funded), 4, (h) => this.guard(`funding of ${h.meterId}`, () => this.fund(h)));
    await this.guard('agent settings', () => this.setAgents());
    this.writeStatus();
    const byStatus: Record<string, number> = {};
    for (const h of this.households) byStatus[h.state.status ?? 'not-joined'] = (byStatus[h.state.status ?? 'not-joined'] ?? 0) + 1;
    this.log.info({ byStatus }, 'community set up; pending members wait for a committee (the meters\' agents) to admit them');
  }

  private async enrol(h: Household2): Promise<void> {
    if (h.state.apiKey) return;
    const res = await this.operator(h).post<{ apiKey?: string }>('/api/v1/meters', { meterId: h.meterId, zone: h.zone }, `community-enrol-${h.meterId}`);
    if (res.status === 201 && typeof res.body.apiKey === 'string') {
      h.state.apiKey = res.body.apiKey;
      this.store.save();
      this.log.info({ meterId: h.meterId, org: h.org, zone: h.zone, kWp: h.kWp, annualKWh: h.annualKWh }, 'meter enrolled');
      return;
    }
    // enrolled earlier but the key is not in our state (state directory deleted, network kept): that
    // meter cannot be acted for any more; the others go on
    throw new Error(`POST /api/v1/meters ${h.meterId}: ${res.status} ${problemType(res)} ${res.text.slice(0, 300)}${res.status === 409 ? ' — enrolled before without its key in the state directory; delete the network home for a fresh community or use another --meter-prefix' : ''}`);
  }

  private async join(h: Household2): Promise<void> {
    const me = this.meterClient(h);
    if (!h.state.participantId) {
      const who = await me.get<{ participantId: string }>('/api/v1/participants/me');
      if (who.status !== 200) throw new Error(`GET participants/me: ${who.status} ${who.text.slice(0, 300)}`);
      h.state.participantId = who.body.participantId;
    }
    await this.refreshStatus(h);
    if (h.state.status === undefined || h.state.status === 'REJECTED') {
      h.state.joinAttempts++;
      const res = await me.post<{ result: { status: string; admissionTaskId?: string } }>('/api/v1/participants/join', { meterId: h.meterId, request: { stake: this.governance.minStake } }, `community-join-${h.meterId}-${h.state.joinAttempts}`);
      if (res.status !== 201) throw new Error(`POST participants/join: ${res.status} ${res.text.slice(0, 300)}`);
      h.state.status = res.body.result.status;
      h.state.admissionTaskId = res.body.result.admissionTaskId;
      this.log.info({ meterId: h.meterId, participantId: h.state.participantId, status: h.state.status, taskId: h.state.admissionTaskId }, 'asked to join');
    }
    this.store.save();
  }

  private async refreshStatus(h: Household2): Promise<void> {
    if (!h.state.participantId || !h.state.apiKey) return;
    const p = await this.meterClient(h).get<{ status: string; admissionTaskId?: string }>(`/api/v1/participants/${h.state.participantId}?meterId=${h.meterId}`);
    if (p.status === 404) return; // not joined yet
    if (p.status !== 200) throw new Error(`GET participant ${h.state.participantId}: ${p.status} ${p.text.slice(0, 200)}`);
    if (p.body.status !== h.state.status) {
      if (h.state.status !== undefined) this.log.info({ meterId: h.meterId, from: h.state.status, to: p.body.status }, 'participant status changed');
      h.state.status = p.body.status;
    }
    if (p.body.admissionTaskId) h.state.admissionTaskId = p.body.admissionTaskId;
  }

  private async found(h: Household2): Promise<void> {
    const taskId = h.state.admissionTaskId;
    // the join opened an admission task the utilities' beacon contributors seed at once; founding it
    // while those contributions commit races them (see test/e2e/rest/support.ts ensureCommunity)
    if (taskId) {
      for (let i = 0; i < 120 && !this.signal.aborted; i++) {
        const t = await this.regulator.get<{ status: string }>(`/api/v1/committees/tasks/${taskId}`);
        if (t.status === 200 && t.body.status !== 'AWAITING_ENTROPY') break;
        await sleep(1000, undefined, { signal: this.signal }).catch(() => undefined);
      }
    }
    const res = await this.regulator.post<{ result: { status: string } }>(`/api/v1/participants/${h.state.participantId}/founding-admission`, {}, `community-found-${h.meterId}`);
    if (res.status === 201) {
      h.state.status = res.body.result.status;
      h.state.founder = true;
      this.log.info({ meterId: h.meterId, participantId: h.state.participantId, status: h.state.status }, 'admitted as a founding member by the regulator');
    } else if (res.status === 412) {
      // the community already has a committee (3f+1 members): this one waits for a committee admission
      this.log.info({ meterId: h.meterId, detail: (res.body as { detail?: string }).detail }, 'not a founder: the community already has a committee');
    } else {
      throw new Error(`founding admission: ${res.status} ${res.text.slice(0, 300)}`);
    }
    this.store.save();
  }

  /**
   * An admission task opened while too few members were eligible stays `seeded` with a `drawError`
   * ("retry with committees:draw when more participants are eligible") — e.g. a community whose members
   * joined before its founders were admitted. Once there is a committee to draw, the household asks for
   * the draw of its own task (anyone may); everything after the draw is the committee's.
   */
  private async drawIfStuck(h: Household2): Promise<void> {
    const taskId = h.state.admissionTaskId;
    if (!taskId) return;
    const t = await this.regulator.get<{ status: string; drawError?: string; round: number }>(`/api/v1/committees/tasks/${taskId}`);
    if (t.status !== 200 || t.body.status !== 'SEEDED' || !t.body.drawError) return;
    const res = await this.meterClient(h).post<{ result: { status: string } }>(`/api/v1/committees/tasks/${taskId}/draw`, { meterId: h.meterId }, `community-draw-${taskId}-${t.body.round}-${Math.floor(Date.now() / 60_000)}`);
    if (res.status === 201) this.log.info({ meterId: h.meterId, taskId, status: res.body.result.status }, 'admission committee drawn');
    else this.log.warn({ meterId: h.meterId, taskId, status: res.status, problem: problemType(res), detail: (res.body as { detail?: string }).detail }, 'admission committee not drawn yet');
  }

  private async fund(h: Household2): Promise<void> {
    const open = await this.meterClient(h).post('/api/v1/wallets', { meterId: h.meterId }, `community-wallet-${h.meterId}`);
    if (open.status !== 201 && open.status !== 409) throw new Error(`POST wallets: ${open.status} ${open.text.slice(0, 300)}`);
    if (this.cfg.fundsPerHousehold > 0) {
      const reference = `community-${h.meterId}-initial`;
      const credit = await this.operator(h).post(`/api/v1/wallets/${h.state.participantId}/credits`, { amount: this.cfg.fundsPerHousehold, reference }, reference);
      if (credit.status !== 201) throw new Error(`POST credits: ${credit.status} ${credit.text.slice(0, 300)}`);
    }
    h.state.funded = true;
    this.store.save();
    this.log.info({ meterId: h.meterId, amount: this.cfg.fundsPerHousehold }, 'wallet funded by its utility');
  }

  /**
   * Each household's agent (gateway/src/agents, issue 17 item 1) gets the household autopilot — mint and
   * deliver what it sold, confirm what it bought — and its behaviour (`honest`, or a faulty one for
   * `--faulty-share`), through `PUT /api/v1/meters/{meterId}/agent` with the utility's operator key. A
   * gateway without agents answers 404 no-such-route: the settings are logged as not applied, and the
   * household's trades wait for someone to settle them.
   */
  private async setAgents(): Promise<void> {
    const founders = new Set(this.households.filter((h) => h.state.founder).map((h) => h.meterId));
    const wanted = assignBehaviours(this.cfg.seed, this.households.map((h) => h.meterId), founders, this.cfg.faultyShare);
    for (const h of this.households) {
      if (!h.state.apiKey || this.agentRoute === 'absent') continue;
      const behaviour = wanted.get(h.meterId) ?? 'honest';
      if (h.state.behaviour === behaviour) continue;
      const res = await this.operator(h).put<{ enabled?: boolean }>(`/api/v1/meters/${h.meterId}/agent`, { behaviour, autopilot: true });
      if (res.status === 404 && problemType(res) === 'no-such-route') {
        this.agentRoute = 'absent';
        this.log.warn({ faulty: [...wanted.values()].filter((b) => b !== 'honest').length }, 'agent settings not applied: this gateway has no agents (PUT /api/v1/meters/{meterId}/agent); no autopilot delivers or confirms, no faulty behaviour is set');
        return;
      }
      if (res.status !== 200) throw new Error(`PUT meters/${h.meterId}/agent: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.body.enabled === false) this.log.warn({ meterId: h.meterId }, 'agents are disabled in this gateway (agents.enabled): the settings are stored but nothing acts on them');
      this.agentRoute = 'present';
      h.state.behaviour = behaviour;
      this.log.info({ meterId: h.meterId, behaviour, autopilot: true }, 'agent set');
    }
  }

  /** Auction secrets (identity secret, price salt) go to the meter's agent, which reveals and claims. */
  private async handOverSecrets(): Promise<void> {
    for (const s of this.store.state.auctions) {
      if (s.handedOver || this.secretRoute === 'absent') continue;
      const h = this.households.find((x) => x.meterId === s.meterId);
      if (!h?.state.apiKey) continue;
      const body = { requestId: s.requestId, role: s.role, secret: s.secret, ...(s.offerId ? { offerId: s.offerId, pricePerKwh: s.pricePerKwh, salt: s.salt } : {}) };
      const res = await this.meterClient(h).post(`/api/v1/agents/${h.meterId}/auction-secrets`, { meterId: h.meterId, ...body }, `community-secret-${h.meterId}-${s.requestId}-${s.role}`);
      if (res.status === 404 && problemType(res) === 'no-such-route') {
        this.secretRoute = 'absent';
        this.log.warn('auction secrets not handed over: this gateway has no agent route for them (POST /api/v1/agents/{meterId}/auction-secrets); reveals and claims will not happen');
        return;
      }
      if (res.status !== 200 && res.status !== 201) {
        this.log.warn({ meterId: h.meterId, requestId: s.requestId, status: res.status, problem: problemType(res) }, 'auction secret hand-over refused');
        continue;
      }
      this.secretRoute = 'present';
      s.handedOver = true;
    }
  }

  // ---------------------------------------------------------------- each interval

  private profileAt(wall: number): number {
    return profileTime(wall, this.store.state.epoch!, this.cfg.profileStart, this.cfg.speed);
  }

  /** Profile seconds one metering interval stands for (its reading holds that span's energy). */
  private get span(): number {
    return this.cfg.intervalSeconds * this.cfg.speed;
  }

  private forecast(h: Household2, deliveryStart: number, now: number): { exportWh: number; importWh: number } {
    const L = this.cfg.intervalSeconds;
    const cloudNow = this.weather.at(h.zone, this.profileAt(now));
    return forecastFlows(h, this.profileAt(deliveryStart + L / 2), cloudNow, this.span, this.site);
  }

  /** A seller's PV capacity over one interval's span, Wh. */
  private capacity(h: Household2): number {
    return Math.round((h.kWp * 1000 * this.span) / 3600);
  }

  private async band(): Promise<PriceBand & { auctionClaimSeconds: number; minOfferTtlSeconds: number }> {
    const p = await this.regulator.get<{ minPricePerKwh: number; maxPricePerKwh: number; auctionClaimSeconds: number; minOfferTtlSeconds: number }>('/api/v1/market/parameters');
    if (p.status !== 200) throw new Error(`GET market parameters: ${p.status} ${p.text.slice(0, 200)}`);
    const cap = p.body.maxPricePerKwh > 0 ? p.body.maxPricePerKwh : Number.MAX_SAFE_INTEGER;
    const retail = Math.max(p.body.minPricePerKwh, Math.min(cap, this.cfg.retailPricePerKwh));
    return { floor: p.body.minPricePerKwh, retail, auctionClaimSeconds: p.body.auctionClaimSeconds, minOfferTtlSeconds: p.body.minOfferTtlSeconds };
  }

  /** Right after interval [start, start+L) ended: readings, statuses, offers for the next interval, auction requests. */
  private async phaseA(start: number, boundary: number): Promise<void> {
    const L = this.cfg.intervalSeconds;
    await mapLimit(this.households.filter((h) => h.state.apiKey), 4, (h) => this.postReading(h, start));
    await mapLimit(this.households.filter((h) => h.state.participantId && h.state.status !== 'ACTIVE'), 4, (h) => this.refreshStatus(h).catch(() => undefined));
    await mapLimit(this.households.filter((h) => h.state.status === 'PENDING'), 4, (h) => this.drawIfStuck(h).catch(() => undefined));
    await mapLimit(this.households.filter((h) => h.state.status === 'ACTIVE' && !h.state.funded), 4, (h) => this.guard(`funding of ${h.meterId}`, () => this.fund(h)));
    const band = await this.band();
    const active = this.households.filter((h) => h.state.status === 'ACTIVE' && h.state.funded);
    const now = nowSeconds();
    const deliveryStart = boundary + offerLeadIntervals(L, band.minOfferTtlSeconds) * L; // the interval after the running one, or later (strategy.ts)
    const lotWh = lotSizeWh(this.households.reduce((a, h) => a + h.annualKWh, 0) / this.households.length, this.span);
    await mapLimit(active, 4, (h) => this.safe(h, 'offer', async () => {
      const { exportWh } = this.forecast(h, deliveryStart, now);
      const offerable = offerAmountWh(exportWh) - (h.state.soldWh[deliveryStart] ?? 0);
      const ask = askPrice(band, exportWh, this.capacity(h), this.cfg.seed, h.meterId, deliveryStart);
      for (const [i, amountWh] of lots(offerable, lotWh, this.cfg.maxLots).entries()) {
        const ttlSeconds = deliveryStart - nowSeconds() - 15;
        if (ttlSeconds < band.minOfferTtlSeconds) return;
        const pricePerKwh = lotPrice(band, ask, i);
        const res = await this.meterClient(h).post<{ result: { offerId: string } }>('/api/v1/offers', { meterId: h.meterId, amountWh, pricePerKwh, deliveryStart, deliveryLength: L, ttlSeconds }, `community-offer-${h.meterId}-${deliveryStart}-${i}`);
        if (res.status !== 201) return this.marketError(h, 'offer', res);
        h.state.soldWh[deliveryStart] = (h.state.soldWh[deliveryStart] ?? 0) + amountWh;
        this.counters.offers++;
        this.log.info({ meterId: h.meterId, offerId: res.body.result.offerId, amountWh, pricePerKwh, deliveryStart, forecastExportWh: exportWh }, 'offer created');
      }
    }));
    // a share of buyers asks for sealed bids on an interval far enough ahead for bids, reveals and claims
    const timing = auctionTiming(now, AUCTION_BID_INTERVALS * L, band.auctionClaimSeconds, L);
    await mapLimit(active, 4, (h) => this.safe(h, 'auction request', async () => {
      if (!runsAuction(this.cfg.seed, h.meterId, timing.deliveryStart, this.cfg.auctionShare)) return;
      const amountWh = purchaseNeedWh(this.forecast(h, timing.deliveryStart, now).importWh) - (h.state.boughtWh[timing.deliveryStart] ?? 0);
      if (amountWh < 20) return;
      const secret = this.secretFor('buyer', h.meterId, String(timing.deliveryStart));
      const res = await this.meterClient(h).post<{ result: { requestId: string } }>('/api/v1/auctions', {
        meterId: h.meterId, amountWh, maxPricePerKwh: band.retail, t1: timing.t1, t2: timing.t2,
        buyerCommitment: identityCommitment(h.state.participantId!, secret), deliveryStart: timing.deliveryStart, deliveryLength: L,
      }, `community-auction-${h.meterId}-${timing.deliveryStart}`);
      if (res.status !== 201) return this.marketError(h, 'auction request', res);
      h.state.boughtWh[timing.deliveryStart] = (h.state.boughtWh[timing.deliveryStart] ?? 0) + amountWh;
      this.store.state.auctions.push({ role: 'buyer', meterId: h.meterId, requestId: res.body.result.requestId, secret, handedOver: false });
      this.counters.auctions++;
      this.log.info({ meterId: h.meterId, requestId: res.body.result.requestId, amountWh, maxPricePerKwh: band.retail, ...timing }, 'auction requested');
    }));
    for (const h of this.households) pruneBefore(h.state, start - 4 * 3600);
  }

  /** Mid-interval: sellers bid on open auctions; buyers take the cheapest offers for the next interval. */
  private async phaseB(boundary: number): Promise<void> {
    const L = this.cfg.intervalSeconds;
    const deliveryStart = boundary + L;
    const band = await this.band();
    const active = this.households.filter((h) => h.state.status === 'ACTIVE' && h.state.funded);
    const now = nowSeconds();
    // Bids first: they must land 30 s before t1 (`bidFor`), and the acceptances below each wait for a commit.
    const auctions = (await this.list<OpenAuction & { status: string }>('/api/v1/auctions')).filter((a) => a.status === 'OPEN');
    for (const auction of auctions) {
      for (const h of active) {
        if (h.state.bidOn.includes(auction.requestId) || h.kWp === 0) continue;
        const { exportWh } = this.forecast(h, auction.deliveryStart, nowSeconds());
        const offerable = offerAmountWh(exportWh) - (h.state.soldWh[auction.deliveryStart] ?? 0);
        const ask = askPrice(band, exportWh, this.capacity(h), this.cfg.seed, h.meterId, auction.deliveryStart);
        const bid = bidFor(auction, offerable, ask, band, nowSeconds(), 30);
        if (!bid) continue;
        await this.safe(h, 'bid', () => this.placeBid(h, auction, bid));
      }
    }
    const buyers: Buyer[] = [];
    for (const h of active) {
      const need = purchaseNeedWh(this.forecast(h, deliveryStart, now).importWh) - (h.state.boughtWh[deliveryStart] ?? 0);
      if (need >= 20) buyers.push({ meterId: h.meterId, participantId: h.state.participantId!, needWh: need, maxPricePerKwh: band.retail });
    }
    if (buyers.length > 0) {
      const offers = await this.list<OpenOffer>(`/api/v1/offers?deliveryStart=${deliveryStart}`);
      for (const a of matchOffers(buyers, offers, nowSeconds())) {
        const h = this.households.find((x) => x.meterId === a.meterId)!;
        await this.safe(h, 'acceptance', async () => {
          const res = await this.meterClient(h).post<{ result: { tradeId: string } }>(`/api/v1/offers/${a.offerId}/acceptances`, { meterId: h.meterId, amountWh: a.amountWh, pricePerKwh: a.pricePerKwh }, `community-accept-${h.meterId}-${a.offerId}`);
          if (res.status !== 201) return this.marketError(h, 'acceptance', res);
          h.state.boughtWh[deliveryStart] = (h.state.boughtWh[deliveryStart] ?? 0) + a.amountWh;
          this.counters.acceptances++;
          this.log.info({ meterId: h.meterId, offerId: a.offerId, tradeId: res.body.result.tradeId, amountWh: a.amountWh, pricePerKwh: a.pricePerKwh, deliveryStart }, 'offer accepted');
        });
      }
    }
    if (this.store.state.auctions.length > 500) this.store.state.auctions = this.store.state.auctions.slice(-500);
    await this.handOverSecrets();
  }

  private async placeBid(h: Household2, auction: OpenAuction, bid: { energyWh: number; pricePerKwh: number }): Promise<void> {
    const salt = this.secretFor('salt', h.meterId, auction.requestId);
    const secret = this.secretFor('seller', h.meterId, auction.requestId);
    const res = await this.meterClient(h).post<{ result: { offerId: string } }>(`/api/v1/auctions/${auction.requestId}/bids`, {
      meterId: h.meterId, energyWh: bid.energyWh, priceCommitment: priceCommitment(auction.requestId, bid.pricePerKwh, salt), sellerCommitment: identityCommitment(h.state.participantId!, secret),
    }, `community-bid-${h.meterId}-${auction.requestId}`);
    h.state.bidOn.push(auction.requestId);
    if (res.status !== 201) return this.marketError(h, 'bid', res);
    h.state.soldWh[auction.deliveryStart] = (h.state.soldWh[auction.deliveryStart] ?? 0) + bid.energyWh;
    this.store.state.auctions.push({ role: 'seller', meterId: h.meterId, requestId: auction.requestId, secret, offerId: res.body.result.offerId, pricePerKwh: bid.pricePerKwh, salt, handedOver: false });
    this.counters.bids++;
    this.log.info({ meterId: h.meterId, requestId: auction.requestId, offerId: res.body.result.offerId, energyWh: bid.energyWh, deliveryStart: auction.deliveryStart }, 'sealed bid placed');
  }

  private async postReading(h: Household2, start: number): Promise<void> {
    const L = this.cfg.intervalSeconds;
    if (h.state.lastIntervalStart !== undefined && h.state.lastIntervalStart >= start) return;
    const flows = intervalFlows(h, this.profileAt(start + L / 2), this.span, this.site, this.weather);
    const importRegisterWh = h.state.importRegisterWh + flows.importWh;
    const exportRegisterWh = h.state.exportRegisterWh + flows.exportWh;
    const reading: Omit<Reading, 'meterId'> = { intervalStart: start, intervalLength: L, importWh: flows.importWh, exportWh: flows.exportWh, importRegisterWh, exportRegisterWh };
    try {
      const res = await this.meterClient(h).post<{ receiptId: string }>(`/api/v1/meters/${h.meterId}/readings`, reading, `community-reading-${h.meterId}-${start}`);
      if (res.status !== 202 && res.status !== 200) {
        this.counters.readingErrors++;
        this.log.warn({ meterId: h.meterId, intervalStart: start, status: res.status, problem: problemType(res), detail: (res.body as { detail?: string }).detail }, 'reading refused');
        return;
      }
      h.state.lastIntervalStart = start;
      h.state.importRegisterWh = importRegisterWh;
      h.state.exportRegisterWh = exportRegisterWh;
      h.state.lastReceiptId = res.body.receiptId;
      this.counters.readings++;
      this.log.debug({ meterId: h.meterId, ...reading, pvWh: flows.pvWh, loadWh: flows.loadWh, receiptId: res.body.receiptId }, 'reading posted');
    } catch (err) {
      if (this.signal.aborted) return;
      this.counters.readingErrors++;
      this.log.warn({ meterId: h.meterId, intervalStart: start, err: (err as Error).message }, 'reading not posted');
    }
  }

  /** One household's market action: a failure is logged and counted, the others go on. */
  private async safe(h: Household2, what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (this.signal.aborted) return;
      this.counters.marketErrors++;
      this.log.warn({ meterId: h.meterId, err: (err as Error).message }, `${what} failed`);
    }
  }

  private marketError(h: Household2, what: string, res: HttpResult): void {
    this.counters.marketErrors++;
    this.log.warn({ meterId: h.meterId, status: res.status, problem: problemType(res), detail: (res.body as { detail?: string }).detail }, `${what} refused`);
  }

  /** Every page of a list route (`{items, bookmark}`), as the regulator. */
  private async list<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    let bookmark = '';
    for (let page = 0; page < 50; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const res = await this.regulator.get<{ items: T[]; bookmark: string }>(`${path}${sep}pageSize=100${bookmark ? `&bookmark=${encodeURIComponent(bookmark)}` : ''}`);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text.slice(0, 200)}`);
      out.push(...res.body.items);
      bookmark = res.body.bookmark;
      if (!bookmark || res.body.items.length === 0) break;
    }
    return out;
  }

  private writeStatus(): void {
    this.store.writeStatus({
      updatedAt: new Date().toISOString(),
      config: { households: this.cfg.households, zones: this.cfg.zones, seed: this.cfg.seed, intervalSeconds: this.cfg.intervalSeconds, speed: this.cfg.speed, utilities: this.gateways.map((g) => g.org) },
      epoch: this.store.state.epoch ?? null,
      counters: this.counters,
      households: this.households.map((h) => ({
        meterId: h.meterId, org: h.org, zone: h.zone, kWp: h.kWp, annualKWh: h.annualKWh,
        participantId: h.state.participantId ?? null, status: h.state.status ?? null, founder: h.state.founder ?? false,
        agentBehaviour: h.state.behaviour ?? null, lastIntervalStart: h.state.lastIntervalStart ?? null, lastReceiptId: h.state.lastReceiptId ?? null,
      })),
    });
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

