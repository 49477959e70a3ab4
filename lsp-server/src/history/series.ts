// The operator's time series: their names, and how points of one series add up into a longer step
// (a count adds, a level keeps its latest value). Names are [a-z0-9_:] so the store can match prefixes.
import type { HistoryPoint } from '../store/types.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Happenings within the sample's window: they add up. */
export const COUNTS = [
  'forwards',
  'forwards_failed',
  'forward_fees_msat',
  'jit_opens',
  'jit_fees_msat',
  'backup_errors',
] as const;

/** Levels at the sample's time: a longer step keeps the latest. */
export const LEVELS = [
  'outbound_msat',
  'inbound_msat',
  'onchain_msat',
  'wallets',
  'wallets_online',
  'backup_bytes',
  'wasm_bytes',
  'chain_sync_age_s',
] as const;

export type SeriesName = (typeof COUNTS)[number] | (typeof LEVELS)[number];

/** Per-channel liquidity, kept at hourly resolution only (a raw point per channel per minute would dwarf the rest). */
export const channelSeries = (side: 'out' | 'in', channelId: string) => `ch_${side}:${channelId}`;

const isCount = (series: string) => (COUNTS as readonly string[]).includes(series);

/**
 * Points folded into steps of `stepMs` (aligned to the epoch): counts summed, levels the latest.
 * Returns one point per series and step that had any.
 */
export function fold(points: HistoryPoint[], stepMs: number): HistoryPoint[] {
  const out = new Map<string, HistoryPoint & { lastAtMs: number }>();
  for (const p of points) {
    const atMs = Math.floor(p.atMs / stepMs) * stepMs;
    const key = `${p.series}@${atMs}`;
    const cur = out.get(key);
    if (!cur) out.set(key, { series: p.series, atMs, value: p.value, lastAtMs: p.atMs });
    else if (isCount(p.series)) cur.value += p.value;
    else if (p.atMs >= cur.lastAtMs) {
      cur.value = p.value;
      cur.lastAtMs = p.atMs;
    }
  }
  return [...out.values()]
    .map(({ series, atMs, value }) => ({ series, atMs, value }))
    .sort((a, b) => a.atMs - b.atMs || a.series.localeCompare(b.series));
}
