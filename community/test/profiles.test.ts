import { mulberry32, stream } from '../src/prng';
import {
  clearSkyGhi, dayOfYear, forecastFlows, intervalFlows, loadPowerW, loadShape, makeHouseholds, pvPowerW, sinSolarElevation, solarHour, Weather, type Household, type Site,
} from '../src/profiles';

const MUNICH: Site = { latitude: 48.14, longitude: 11.58 };
const JUNE21 = Date.UTC(2026, 5, 21) / 1000;
const DEC21 = Date.UTC(2026, 11, 21) / 1000;
const spec = { seed: 7, households: 12, orgs: ['utility1', 'utility2', 'utility3'], zones: ['zone-1', 'zone-2'], pvShare: 0.6, meterPrefix: 'hh-' };

/** Energy of one day in Wh, summed over 5-minute intervals at their midpoints. */
function dayEnergy(powerW: (t: number) => number, day: number): number {
  let wh = 0;
  for (let t = day; t < day + 86_400; t += 300) wh += (powerW(t + 150) * 300) / 3600;
  return wh;
}

describe('seeded generator', () => {
  test('mulberry32: same seed → same sequence, another seed → another', () => {
    const a = mulberry32(42), b = mulberry32(42), c = mulberry32(43);
    const sa = Array.from({ length: 5 }, a), sb = Array.from({ length: 5 }, b), sc = Array.from({ length: 5 }, c);
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const x of sa) expect(x >= 0 && x < 1).toBe(true);
  });
  test('streams are independent of each other and stable', () => {
    expect(stream(1, 'weather', 'zone-1')()).toBe(stream(1, 'weather', 'zone-1')());
    expect(stream(1, 'weather', 'zone-1')()).not.toBe(stream(1, 'weather', 'zone-2')());
  });
});

describe('households', () => {
  test('same seed ⇒ identical community; another seed differs', () => {
    expect(makeHouseholds(spec)).toEqual(makeHouseholds(spec));
    expect(makeHouseholds({ ...spec, seed: 8 })).not.toEqual(makeHouseholds(spec));
  });
  test('utilities round-robin, every utility in every zone, sizes in range', () => {
    const hs = makeHouseholds(spec);
    expect(hs.map((h) => h.org).slice(0, 6)).toEqual(['utility1', 'utility2', 'utility3', 'utility1', 'utility2', 'utility3']);
    for (const org of spec.orgs) for (const zone of spec.zones) expect(hs.some((h) => h.org === org && h.zone === zone)).toBe(true);
    for (const h of hs) {
      expect(h.kWp === 0 || (h.kWp >= 3 && h.kWp <= 10)).toBe(true);
      expect(h.annualKWh).toBeGreaterThanOrEqual(2000);
      expect(h.annualKWh).toBeLessThanOrEqual(6000);
    }
    expect(new Set(hs.map((h) => h.meterId)).size).toBe(12);
    expect(hs[0]!.meterId).toBe('hh-001');
  });
});

describe('solar geometry and PV', () => {
  test('calendar helpers', () => {
    expect(dayOfYear(Date.UTC(2026, 0, 1) / 1000)).toBe(1);
    expect(dayOfYear(JUNE21)).toBe(172);
    expect(solarHour(JUNE21 + 12 * 3600, 15)).toBeCloseTo(13, 6);
  });
  test('the sun is highest near solar noon; elevation at noon on June 21 ≈ 90 − φ + 23.44', () => {
    const noonUtc = JUNE21 + (12 - MUNICH.longitude / 15) * 3600;
    const elev = (Math.asin(sinSolarElevation(noonUtc, MUNICH)) * 180) / Math.PI;
    expect(elev).toBeGreaterThan(90 - 48.14 + 23.44 - 0.5);
    expect(elev).toBeLessThan(90 - 48.14 + 23.44 + 0.5);
    expect(sinSolarElevation(noonUtc - 3 * 3600, MUNICH)).toBeLessThan(sinSolarElevation(noonUtc, MUNICH));
  });
  test('PV is zero at night (every 5 minutes between 22:00 and 03:00 solar time, summer and winter)', () => {
    for (const day of [JUNE21, DEC21]) {
      for (let h = 22; h < 27; h += 1 / 12) {
        const t = day + (h - MUNICH.longitude / 15) * 3600;
        expect(clearSkyGhi(t, MUNICH)).toBe(0);
        expect(pvPowerW(8, t, MUNICH, 0)).toBe(0);
      }
    }
  });
  test('clear-sky daily energy per kWp is in the expected range: summer 5–8 kWh, winter 0.5–2.5 kWh', () => {
    const summer = dayEnergy((t) => pvPowerW(1, t, MUNICH, 0), JUNE21) / 1000;
    const winter = dayEnergy((t) => pvPowerW(1, t, MUNICH, 0), DEC21) / 1000;
    expect(summer).toBeGreaterThan(5);
    expect(summer).toBeLessThan(8);
    expect(winter).toBeGreaterThan(0.5);
    expect(winter).toBeLessThan(2.5);
    // a 5 kWp system produces five times as much
    expect(dayEnergy((t) => pvPowerW(5, t, MUNICH, 0), JUNE21) / 1000).toBeCloseTo(summer * 5, 6);
  });
  test('clouds only ever reduce PV, down to a quarter of clear sky under full overcast', () => {
    const t = JUNE21 + 11 * 3600;
    const clear = pvPowerW(4, t, MUNICH, 0);
    expect(pvPowerW(4, t, MUNICH, 0.5)).toBeLessThan(clear);
    expect(pvPowerW(4, t, MUNICH, 1)).toBeCloseTo(clear * 0.25, 6);
  });
});

describe('weather (AR(1) cloud cover)', () => {
  test('same seed ⇒ identical path, whatever was asked before; bounded to [0, 1]', () => {
    const a = new Weather(3, JUNE21), b = new Weather(3, JUNE21);
    b.at('zone-1', JUNE21 + 50 * 3600); // b computes far ahead first
    const pa = Array.from({ length: 48 }, (_, i) => a.hourly('zone-1', i));
    const pb = Array.from({ length: 48 }, (_, i) => b.hourly('zone-1', i));
    expect(pa).toEqual(pb);
    for (const x of pa) expect(x >= 0 && x <= 1).toBe(true);
    expect(new Set(pa).size).toBeGreaterThan(10); // it does vary
  });
  test('zones have their own skies; consecutive hours are correlated (persistence)', () => {
    const w = new Weather(3, JUNE21);
    const z1 = Array.from({ length: 2000 }, (_, i) => w.hourly('zone-1', i));
    const z2 = Array.from({ length: 48 }, (_, i) => w.hourly('zone-2', i));
    expect(z2).not.toEqual(z1.slice(0, 48));
    const mean = z1.reduce((s, x) => s + x, 0) / z1.length;
    let num = 0, den = 0;
    for (let i = 1; i < z1.length; i++) num += (z1[i]! - mean) * (z1[i - 1]! - mean);
    for (const x of z1) den += (x - mean) ** 2;
    expect(num / den).toBeGreaterThan(0.6); // φ = 0.85, less a little for the clipping
    expect(mean).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(0.6);
  });
});

describe('load', () => {
  test('the shape has a morning peak and a higher evening peak over a lower night and midday', () => {
    const at = (h: number) => loadShape(h);
    const maxIn = (a: number, b: number) => Math.max(...Array.from({ length: (b - a) * 12 }, (_, i) => at(a + i / 12)));
    const argMaxIn = (a: number, b: number) => {
      let best = a;
      for (let h = a; h < b; h += 1 / 12) if (at(h) > at(best)) best = h;
      return best;
    };
    const morning = argMaxIn(5, 10), evening = argMaxIn(16, 23);
    expect(morning).toBeGreaterThanOrEqual(7);
    expect(morning).toBeLessThanOrEqual(8);
    expect(evening).toBeGreaterThanOrEqual(18.5);
    expect(evening).toBeLessThanOrEqual(19.5);
    expect(maxIn(16, 23)).toBeGreaterThan(maxIn(5, 10));
    expect(at(3)).toBeLessThan(at(morning) * 0.6);
    expect(at(10)).toBeLessThan(at(morning)); // a trough between the peaks
    expect(at(15)).toBeLessThan(at(evening));
  });
  test('a year of load sums to the annual consumption (±1 %)', () => {
    const start = Date.UTC(2026, 0, 1) / 1000;
    let wh = 0;
    for (let t = start; t < start + 365 * 86_400; t += 3600) wh += loadPowerW(4000, t + 1800, MUNICH);
    expect(wh / 1000).toBeGreaterThan(3960);
    expect(wh / 1000).toBeLessThan(4040);
  });
});

describe('interval readings', () => {
  const h: Household = { index: 0, meterId: 'hh-001', org: 'utility1', zone: 'zone-1', kWp: 6, annualKWh: 3500 };
  test('same seed ⇒ identical series of integer flows; another seed differs', () => {
    const series = (seed: number) => {
      const w = new Weather(seed, JUNE21);
      return Array.from({ length: 288 }, (_, i) => intervalFlows(h, JUNE21 + i * 300 + 150, 300, MUNICH, w));
    };
    const a = series(11);
    expect(series(11)).toEqual(a);
    expect(series(12)).not.toEqual(a);
    for (const f of a) {
      for (const v of [f.pvWh, f.loadWh, f.importWh, f.exportWh]) expect(Number.isInteger(v) && v >= 0).toBe(true);
      expect(f.exportWh - f.importWh).toBe(f.pvWh - f.loadWh); // the meter nets PV and load
      expect(f.importWh === 0 || f.exportWh === 0).toBe(true);
    }
    // a 6 kWp house exports around noon and imports at night
    expect(a.slice(120, 150).some((f) => f.exportWh > 0)).toBe(true);
    expect(a.slice(0, 24).every((f) => f.exportWh === 0 && f.importWh > 0)).toBe(true);
  });
  test('an interval standing for an hour of profile time holds about twelve 5-minute intervals of energy', () => {
    const w = new Weather(11, JUNE21);
    const noon = JUNE21 + 11 * 3600;
    const hour = intervalFlows(h, noon, 3600, MUNICH, w);
    let pv = 0;
    for (let i = 0; i < 12; i++) pv += intervalFlows(h, noon - 1800 + i * 300 + 150, 300, MUNICH, w).pvWh;
    expect(Math.abs(hour.pvWh - pv) / pv).toBeLessThan(0.03);
    expect(hour.exportWh - hour.importWh).toBe(hour.pvWh - hour.loadWh);
  });
  test('around sunrise a long interval advances both registers, as a bidirectional meter does', () => {
    const w = new Weather(11, JUNE21);
    const big: Household = { ...h, kWp: 10 };
    const found = Array.from({ length: 12 }, (_, i) => intervalFlows(big, JUNE21 + (3 + i * 0.5) * 3600, 4 * 3600, MUNICH, w)).some((f) => f.importWh > 0 && f.exportWh > 0);
    expect(found).toBe(true);
  });
  test('a persistence forecast expects export at noon for a PV house and import at night', () => {
    const noon = JUNE21 + 11 * 3600;
    expect(forecastFlows(h, noon, 0.3, 3600, MUNICH)).toMatchObject({ importWh: 0 });
    expect(forecastFlows(h, noon, 0.3, 3600, MUNICH).exportWh).toBeGreaterThan(1000);
    expect(forecastFlows(h, JUNE21 + 23 * 3600, 0.3, 3600, MUNICH)).toMatchObject({ exportWh: 0 });
    expect(forecastFlows(h, JUNE21 + 23 * 3600, 0.3, 3600, MUNICH).importWh).toBeGreaterThan(100);
    expect(forecastFlows({ ...h, kWp: 0 }, noon, 0, 3600, MUNICH).exportWh).toBe(0);
    // clouds now lower the expected export
    expect(forecastFlows(h, noon, 0.9, 3600, MUNICH).exportWh).toBeLessThan(forecastFlows(h, noon, 0.1, 3600, MUNICH).exportWh);
  });
});
