// The admin page's charts: the history folded into the chosen range's step and laid out as uPlot
// wants (one x array, one y array per series), plus the client script that draws them. The page
// carries the data as a JSON block (not executed; the CSP allows no inline script).
import { readHistory } from '../history/read.ts';
import { channelSeries, DAY_MS, HOUR_MS } from '../history/series.ts';
import type { LspStore } from '../store/types.ts';

export const RANGES = {
  '6h': { spanMs: 6 * HOUR_MS, stepMs: 5 * 60_000, label: '6 hours, per 5 minutes' },
  '2d': { spanMs: 2 * DAY_MS, stepMs: HOUR_MS, label: '2 days, per hour' },
  '30d': { spanMs: 30 * DAY_MS, stepMs: DAY_MS, label: '30 days, per day' },
} as const;
export type RangeName = keyof typeof RANGES;
/** A channel's liquidity is kept per hour only (series.ts): no 5-minute range. */
export const CHANNEL_RANGES = { '2d': RANGES['2d'], '30d': RANGES['30d'] } as const;
export type ChannelRangeName = keyof typeof CHANNEL_RANGES;

interface ChartSeries {
  label: string;
  values: (number | null)[];
}
export interface Chart {
  id: string;
  title: string;
  unit: string;
  /** Counts per step are drawn as bars, levels as lines. */
  bars: boolean;
  series: ChartSeries[];
}
/** What charts.js draws: one time axis, and charts over it. */
export interface ChartSet {
  /** Step starts, seconds since the epoch (uPlot's time axis). */
  x: number[];
  charts: Chart[];
}
export interface ChartData extends ChartSet {
  range: RangeName;
  /** Sums over the range of the counted series (routing and opening fees in msat, as decimal text). */
  totals: {
    forwards: number;
    forwardsFailed: number;
    forwardFeesMsat: string;
    jitOpens: number;
    jitFeesMsat: string;
  };
}

/** The history of the range ending now, laid out on the range's steps. */
async function stepped(
  store: LspStore,
  range: { spanMs: number; stepMs: number },
  nowMs: number,
  prefixes: string[] = [''],
) {
  const { spanMs, stepMs } = range;
  const toMs = Math.floor(nowMs / stepMs) * stepMs + stepMs;
  const fromMs = toMs - spanMs;
  const points = (
    await Promise.all(
      prefixes.map((prefix) => readHistory(store, { fromMs, toMs, stepMs, ...(prefix ? { prefix } : {}) })),
    )
  ).flat();
  const x: number[] = [];
  for (let at = fromMs; at < toMs; at += stepMs) x.push(at / 1000);
  const bySeries = new Map<string, Map<number, bigint>>();
  for (const p of points) {
    const values = bySeries.get(p.series) ?? new Map<number, bigint>();
    values.set(p.atMs, p.value);
    bySeries.set(p.series, values);
  }
  const raw = (series: string) => x.map((s) => bySeries.get(series)?.get(s * 1000));
  // a count with no sample is 0; a level with no sample is unknown (a gap in the line)
  const count = (series: string, div = 1n) => raw(series).map((v) => Number((v ?? 0n) / div));
  const level = (series: string, div = 1n) =>
    raw(series).map((v) => (v === undefined ? null : Number(v / div)));
  const sum = (series: string) => [...(bySeries.get(series)?.values() ?? [])].reduce((a, v) => a + v, 0n);
  return { x, count, level, sum };
}

/** One channel's outbound and inbound liquidity over the range (its hourly points). */
export async function channelChartData(
  store: LspStore,
  channelId: string,
  range: ChannelRangeName,
  nowMs: number,
): Promise<ChartSet & { range: ChannelRangeName }> {
  const out = channelSeries('out', channelId);
  const inb = channelSeries('in', channelId);
  const { x, level } = await stepped(store, CHANNEL_RANGES[range], nowMs, [out, inb]);
  return {
    range,
    x,
    charts: [
      {
        id: 'channel-liquidity',
        title: 'Channel liquidity (sat)',
        unit: 'sat',
        bars: false,
        series: [
          { label: 'outbound', values: level(out, 1000n) },
          { label: 'inbound', values: level(inb, 1000n) },
        ],
      },
    ],
  };
}

export async function chartData(store: LspStore, range: RangeName, nowMs: number): Promise<ChartData> {
  const { x, count, level, sum } = await stepped(store, RANGES[range], nowMs);
  return {
    range,
    x,
    charts: [
      {
        id: 'forwards',
        title: 'Forwards',
        unit: 'per step',
        bars: true,
        series: [
          { label: 'forwarded', values: count('forwards') },
          { label: 'failed', values: count('forwards_failed') },
        ],
      },
      {
        id: 'fees',
        title: 'Fees earned (sat)',
        unit: 'sat',
        bars: true,
        series: [
          { label: 'routing', values: count('forward_fees_msat', 1000n) },
          { label: 'JIT opening', values: count('jit_fees_msat', 1000n) },
        ],
      },
      {
        id: 'liquidity',
        title: 'Liquidity (sat)',
        unit: 'sat',
        bars: false,
        series: [
          { label: 'outbound', values: level('outbound_msat', 1000n) },
          { label: 'inbound', values: level('inbound_msat', 1000n) },
          { label: 'on-chain', values: level('onchain_msat', 1000n) },
        ],
      },
      {
        id: 'jit',
        title: 'JIT channel opens',
        unit: 'per step',
        bars: true,
        series: [{ label: 'opens', values: count('jit_opens') }],
      },
      {
        id: 'wallets',
        title: 'Wallets',
        unit: 'wallets',
        bars: false,
        series: [
          { label: 'all', values: level('wallets') },
          { label: 'online', values: level('wallets_online') },
        ],
      },
      {
        id: 'memory',
        title: 'WASM memory (MiB)',
        unit: 'MiB',
        bars: false,
        series: [{ label: 'used', values: level('wasm_bytes', 1_048_576n) }],
      },
    ],
    totals: {
      forwards: Number(sum('forwards')),
      forwardsFailed: Number(sum('forwards_failed')),
      forwardFeesMsat: sum('forward_fees_msat').toString(),
      jitOpens: Number(sum('jit_opens')),
      jitFeesMsat: sum('jit_fees_msat').toString(),
    },
  };
}

/** Served as /admin/charts.js after uPlot: draws each chart into its figure, and follows its width. */
export const CHARTS_JS = `'use strict';
(() => {
  const block = document.getElementById('history-data');
  if (!block || typeof uPlot === 'undefined') return;
  const data = JSON.parse(block.textContent);
  const colors = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df'];
  const bars = uPlot.paths.bars({ size: [0.7, 40] });
  // 25,000,000 sat as 25M: the axis stays narrow on a phone
  const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  for (const chart of data.charts) {
    const el = document.getElementById('chart-' + chart.id);
    if (!el) continue;
    const width = () => Math.max(260, el.clientWidth);
    const opts = {
      width: width(),
      height: 180,
      scales: { x: { time: true } },
      axes: [{}, { size: 56, values: (u, ticks) => ticks.map((v) => compact.format(v)) }],
      series: [{}].concat(chart.series.map((s, i) => ({
        label: s.label,
        stroke: colors[i % colors.length],
        width: 2,
        fill: chart.bars ? colors[i % colors.length] + '99' : undefined,
        paths: chart.bars ? bars : undefined,
        // a level sampled once has no line yet: show its points
        points: { show: !chart.bars },
        spanGaps: false,
      }))),
    };
    const plot = new uPlot(opts, [data.x].concat(chart.series.map((s) => s.values)), el);
    new ResizeObserver(() => plot.setSize({ width: width(), height: 180 })).observe(el);
  }
})();
`;
