/**
 * Household energy profiles: pure, deterministic (seeded) functions of time. No I/O, no clock.
 *
 * PV: clear-sky irradiance on a horizontal panel from the sun's elevation (declination from the day of
 * the year, hour angle from the solar time, latitude), Haurwitz's clear-sky model, a performance ratio,
 * and clouds: a per-zone cloud-cover process (AR(1) over hourly steps, neighbours share the sky) damps
 * it with the Kasten–Czeplak relation G = G_clear · (1 − 0.75 · c^3.4).
 * Load: a documented two-peak residential curve (morning and evening peaks on a night base and a midday
 * shoulder, the shape of standard residential profiles such as BDEW's H0), a seasonal factor (winter
 * higher), scaled so one year sums to the household's annual consumption, with ±10 % per-interval noise.
 *
 * Times are Unix seconds (UTC). "Profile time" is the instant the profile is evaluated at; the simulator
 * maps wall-clock metering intervals onto profile time (see `profileTime`), so a demo can run a summer
 * noon at any hour of the real day and compress a day into minutes (`speed`): a metering interval of L
 * seconds then stands for L · speed seconds of profile time, and its reading holds that span's energy.
 */
import { normal, stream, uniform, type Rng } from './prng';

const DEG = Math.PI / 180;
const DAY = 86_400;

export interface Site {
  /** degrees north */
  latitude: number;
  /** degrees east: solar time = UTC + longitude / 15 h */
  longitude: number;
}

/** Day of the year, 1..366, of a Unix time (UTC). */
export function dayOfYear(t: number): number {
  const d = new Date(t * 1000);
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return Math.floor((d.getTime() - start) / (DAY * 1000)) + 1;
}

/** Local mean solar time in hours [0, 24) at a longitude. */
export function solarHour(t: number, longitude: number): number {
  const utcHours = (((t % DAY) + DAY) % DAY) / 3600;
  return (((utcHours + longitude / 15) % 24) + 24) % 24;
}

/**
 * Sine of the sun's elevation: sin φ sin δ + cos φ cos δ cos ω, with Cooper's declination
 * δ = 23.44° · sin(2π (284 + n) / 365) and hour angle ω = 15° · (solar hour − 12). Negative at night.
 */
export function sinSolarElevation(t: number, site: Site): number {
  const decl = 23.44 * DEG * Math.sin((2 * Math.PI * (284 + dayOfYear(t))) / 365);
  const omega = 15 * DEG * (solarHour(t, site.longitude) - 12);
  const phi = site.latitude * DEG;
  return Math.sin(phi) * Math.sin(decl) + Math.cos(phi) * Math.cos(decl) * Math.cos(omega);
}

/** Haurwitz clear-sky global horizontal irradiance, W/m²: 1098 · cos z · exp(−0.059 / cos z); 0 at night. */
export function clearSkyGhi(t: number, site: Site): number {
  const cz = sinSolarElevation(t, site);
  if (cz <= 0.01) return 0; // below ~0.6° the model (and a real panel) gives nothing useful
  return 1098 * cz * Math.exp(-0.059 / cz);
}

/** Share of nameplate a real system delivers at 1000 W/m² (inverter, temperature, soiling, wiring). */
export const PERFORMANCE_RATIO = 0.85;

/** Kasten–Czeplak: irradiance share under cloud cover c ∈ [0, 1]. */
export function cloudFactor(c: number): number {
  const x = Math.min(1, Math.max(0, c));
  return 1 - 0.75 * Math.pow(x, 3.4);
}

/** PV output in W of a kWp system at time t under cloud cover c (horizontal panel). */
export function pvPowerW(kWp: number, t: number, site: Site, cloud: number): number {
  return kWp * 1000 * (clearSkyGhi(t, site) / 1000) * PERFORMANCE_RATIO * cloudFactor(cloud);
}

/**
 * Cloud cover per zone: an AR(1) process over hourly steps counted from `origin` (profile time),
 * x_{k+1} = μ + φ (x_k − μ) + σ ε_k, clipped to [0, 1], linearly interpolated between hours. μ = 0.45,
 * φ = 0.85 (weather persists for hours), σ = 0.18. The whole path is a function of (seed, zone, origin):
 * the k-th hour is computed by running the recursion from hour 0 (cached), so it does not depend on which
 * instants were asked before.
 */
export class Weather {
  static readonly MEAN = 0.45;
  static readonly PHI = 0.85;
  static readonly SIGMA = 0.18;
  private readonly paths = new Map<string, { rng: Rng; x: number[] }>();

  constructor(
    readonly seed: number,
    readonly origin: number,
  ) {}

  /** Cloud cover of the zone at the k-th hour after the origin (k ≥ 0). */
  hourly(zone: string, k: number): number {
    let p = this.paths.get(zone);
    if (!p) {
      const rng = stream(this.seed, 'weather', zone);
      p = { rng, x: [clip01(Weather.MEAN + Weather.SIGMA * normal(rng))] };
      this.paths.set(zone, p);
    }
    while (p.x.length <= k) {
      const prev = p.x[p.x.length - 1]!;
      p.x.push(clip01(Weather.MEAN + Weather.PHI * (prev - Weather.MEAN) + Weather.SIGMA * normal(p.rng)));
    }
    return p.x[k]!;
  }

  /** Cloud cover at profile time t (interpolated between the hourly values). */
  at(zone: string, t: number): number {
    const h = Math.max(0, (t - this.origin) / 3600);
    const k = Math.floor(h);
    const a = this.hourly(zone, k);
    const b = this.hourly(zone, k + 1);
    return a + (b - a) * (h - k);
  }
}

function clip01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * The residential load shape (relative power over the local hour): a night base of 0.45, a morning peak
 * at 07:30 (height 0.6, σ 1.2 h), a midday shoulder at 12:30 (0.3, σ 1.5 h) and the evening peak at 19:00
 * (1.0, σ 2.0 h) — the two-peak form of standard residential load profiles (BDEW H0 weekdays).
 */
export function loadShape(hour: number): number {
  const g = (mu: number, sigma: number) => {
    // circular distance on the clock, so the evening peak wraps past midnight smoothly
    const d = Math.min(Math.abs(hour - mu), 24 - Math.abs(hour - mu));
    return Math.exp(-0.5 * (d / sigma) ** 2);
  };
  return 0.45 + 0.6 * g(7.5, 1.2) + 0.3 * g(12.5, 1.5) + 1.0 * g(19, 2.0);
}

/** ∫ loadShape over one day (hours), computed once: scales a daily energy onto the shape. */
export const LOAD_SHAPE_DAILY_INTEGRAL = (() => {
  let s = 0;
  const steps = 24 * 60;
  for (let i = 0; i < steps; i++) s += loadShape((i + 0.5) / 60) / 60;
  return s;
})();

/** Winter higher, summer lower: 1 + 0.2 · cos(2π (n − 15) / 365); averages 1 over a year. */
export function seasonalFactor(doy: number): number {
  return 1 + 0.2 * Math.cos((2 * Math.PI * (doy - 15)) / 365);
}

/** Expected household load in W at time t for an annual consumption (kWh), without noise. */
export function loadPowerW(annualKWh: number, t: number, site: Site): number {
  const dailyWh = ((annualKWh * 1000) / 365) * seasonalFactor(dayOfYear(t));
  return (dailyWh * loadShape(solarHour(t, site.longitude))) / LOAD_SHAPE_DAILY_INTEGRAL;
}

export interface Household {
  /** index 0..N-1; the meter id derives from it */
  index: number;
  meterId: string;
  org: string;
  zone: string;
  /** PV nameplate, kWp (0 = no panels) */
  kWp: number;
  /** annual consumption, kWh */
  annualKWh: number;
}

export interface CommunitySpec {
  seed: number;
  households: number;
  orgs: string[];
  zones: string[];
  /** share of households with PV panels, 0..1 */
  pvShare: number;
  /** prefix of meter ids (lets two communities share one network) */
  meterPrefix: string;
}

/**
 * The households: utilities and zones round-robin (so each utility has meters in every zone and every
 * zone in every utility where N allows), PV on a seeded `pvShare` of them (3–10 kWp, one decimal), annual
 * consumption 2 000–6 000 kWh (whole kWh).
 */
export function makeHouseholds(spec: CommunitySpec): Household[] {
  if (spec.orgs.length === 0) throw new Error('makeHouseholds: no utilities');
  if (spec.zones.length === 0) throw new Error('makeHouseholds: no zones');
  const rng = stream(spec.seed, 'households');
  const out: Household[] = [];
  for (let i = 0; i < spec.households; i++) {
    const hasPv = rng() < spec.pvShare;
    const kWp = Math.round(uniform(rng, 3, 10) * 10) / 10;
    const annualKWh = Math.round(uniform(rng, 2000, 6000));
    out.push({
      index: i,
      meterId: `${spec.meterPrefix}${String(i + 1).padStart(3, '0')}`,
      org: spec.orgs[i % spec.orgs.length]!,
      zone: spec.zones[Math.floor(i / spec.orgs.length) % spec.zones.length]!,
      kWp: hasPv ? kWp : 0,
      annualKWh,
    });
  }
  return out;
}

/** One interval's metered flows (Wh, integers) and the profile's components behind them. */
export interface IntervalFlows {
  pvWh: number;
  /** consumption: pvWh − exportWh + importWh exactly */
  loadWh: number;
  importWh: number;
  exportWh: number;
}

/** Sub-step of the integration over an interval's profile span, seconds (15 profile minutes at most). */
export const SUB_STEP_SECONDS = 900;

/**
 * What a household's meter measures over one metering interval standing for `spanSeconds` of profile
 * time centred on `t`: PV from the zone's weather and load with ±10 % noise drawn from (seed, meter,
 * sub-step), integrated in sub-steps of at most 15 profile minutes. As a real bidirectional meter does,
 * each sub-step's surplus advances the export register and its deficit the import register, so a long
 * interval around sunrise can show both. The same interval always gives the same reading.
 */
export function intervalFlows(h: Household, t: number, spanSeconds: number, site: Site, weather: Weather): IntervalFlows {
  const n = Math.max(1, Math.ceil(spanSeconds / SUB_STEP_SECONDS));
  const dtHours = spanSeconds / n / 3600;
  let pv = 0, exp = 0, imp = 0;
  for (let i = 0; i < n; i++) {
    const ti = t - spanSeconds / 2 + (i + 0.5) * (spanSeconds / n);
    const pvWh = pvPowerW(h.kWp, ti, site, weather.at(h.zone, ti)) * dtHours;
    const noise = 1 + 0.1 * Math.max(-2, Math.min(2, normal(stream(weather.seed, 'load', h.meterId, Math.floor(ti)))));
    const loadWh = Math.max(0, loadPowerW(h.annualKWh, ti, site) * noise * dtHours);
    pv += pvWh;
    if (pvWh >= loadWh) exp += pvWh - loadWh;
    else imp += loadWh - pvWh;
  }
  const pvWh = Math.round(pv);
  const exportWh = Math.round(exp);
  const importWh = Math.round(imp);
  return { pvWh, exportWh, importWh, loadWh: Math.max(0, pvWh - exportWh + importWh) };
}

/**
 * What a household expects to export and import over a future interval (`spanSeconds` of profile time
 * centred on `tFuture`): clear-sky PV damped by the cloud cover NOW (a persistence forecast — clouds
 * persist for hours, φ = 0.85) against the noiseless load, in the same sub-steps as the meter.
 */
export function forecastFlows(h: Household, tFuture: number, cloudNow: number, spanSeconds: number, site: Site): { exportWh: number; importWh: number } {
  const n = Math.max(1, Math.ceil(spanSeconds / SUB_STEP_SECONDS));
  const dtHours = spanSeconds / n / 3600;
  let exp = 0, imp = 0;
  for (let i = 0; i < n; i++) {
    const ti = tFuture - spanSeconds / 2 + (i + 0.5) * (spanSeconds / n);
    const net = (pvPowerW(h.kWp, ti, site, cloudNow) - loadPowerW(h.annualKWh, ti, site)) * dtHours;
    if (net >= 0) exp += net;
    else imp -= net;
  }
  return { exportWh: Math.round(exp), importWh: Math.round(imp) };
}

/**
 * Profile clock: wall-clock second `wall` → profile time. The community's epoch (its first interval's
 * start) maps to `profileStart`; after it, profile time runs `speed` times faster than the wall clock.
 */
export function profileTime(wall: number, epoch: number, profileStart: number, speed: number): number {
  return profileStart + (wall - epoch) * speed;
}
