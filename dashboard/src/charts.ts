import uPlot from 'uplot';
import type { Interval } from './api';

/**
 * uPlot (docs/dashboard.md "Why uPlot"): canvas time series, ~50 kB, no dependencies. The charts sum
 * the zones shown per interval; the table under them has every figure for screen readers and tests.
 */
const charts = new Map<HTMLElement, uPlot>();

function byInterval(rows: Interval[]): Map<number, Interval[]> {
  const m = new Map<number, Interval[]>();
  for (const r of rows) m.set(r.intervalStart, [...(m.get(r.intervalStart) ?? []), r]);
  return new Map([...m.entries()].sort((a, b) => a[0] - b[0]));
}

/** One time axis for both charts: every interval shown, half an interval of margin (never a zero-width range). */
function xRange(rows: Interval[]): [number, number] {
  const xs = rows.map((r) => r.intervalStart);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const pad = Math.max(450, Math.round((max - min) / 40));
  return [min - pad, max + pad];
}

function draw(box: HTMLElement, series: uPlot.Series[], data: uPlot.AlignedData, empty: string, range: [number, number]): void {
  charts.get(box)?.destroy();
  charts.delete(box);
  box.replaceChildren();
  if (data[0].length === 0) {
    box.append(Object.assign(document.createElement('p'), { className: 'note', textContent: empty }));
    return;
  }
  const width = Math.max(320, box.clientWidth || 800);
  const opts: uPlot.Options = {
    width,
    height: 240,
    series: [{ label: 'Interval' }, ...series],
    axes: [{ stroke: '#111' }, { stroke: '#111', size: 70 }],
    scales: { x: { time: true, range: () => range } },
    legend: { live: true },
  };
  charts.set(box, new uPlot(opts, data, box));
}

export function drawEnergy(box: HTMLElement, rows: Interval[]): void {
  const g = byInterval(rows);
  const xs = [...g.keys()];
  const sum = (f: (i: Interval) => number) => xs.map((x) => g.get(x)!.reduce((a, i) => a + f(i), 0));
  draw(
    box,
    [
      { label: 'Production (Wh)', stroke: '#146c2e', width: 2 },
      { label: 'Consumption (Wh)', stroke: '#b3261e', width: 2, dash: [6, 4] },
      { label: 'Traded (Wh)', stroke: '#0b57d0', width: 2, dash: [2, 3] },
    ],
    [xs, sum((i) => i.productionWh), sum((i) => i.consumptionWh), sum((i) => i.tradedWh)],
    'No readings or trades in the intervals shown yet.',
    xRange(rows),
  );
}

export function drawPrice(box: HTMLElement, rows: Interval[]): void {
  const g = byInterval(rows.filter((r) => r.price)); // the axis still spans every interval shown (xRange(rows))
  const xs = [...g.keys()];
  const pick = (f: (p: { min: number; avg: number; max: number }) => number, agg: (a: number[]) => number) => xs.map((x) => agg(g.get(x)!.map((i) => f(i.price!))));
  draw(
    box,
    [
      { label: 'Min price', stroke: '#4a4a4a', width: 1 },
      { label: 'Avg price (energy-weighted, per zone mean)', stroke: '#0b57d0', width: 2 },
      { label: 'Max price', stroke: '#8a4b00', width: 1 },
    ],
    [xs, pick((p) => p.min, (a) => Math.min(...a)), pick((p) => p.avg, (a) => Math.round(a.reduce((s, v) => s + v, 0) / a.length)), pick((p) => p.max, (a) => Math.max(...a))],
    'No trades in the intervals shown yet: no clearing prices.',
    xRange(rows),
  );
}
