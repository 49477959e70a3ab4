// Reading the history for charts: hourly points (older) and raw points (recent) folded into one
// step, so a chart spans the downsampling boundary without a seam.
import type { HistoryPoint, LspStore } from '../store/types.ts';
import { fold, HOUR_MS } from './series.ts';

export async function readHistory(
  store: LspStore,
  query: { fromMs: number; toMs: number; stepMs: number; prefix?: string },
): Promise<HistoryPoint[]> {
  const window = {
    fromMs: query.fromMs,
    toMs: query.toMs,
    ...(query.prefix ? { prefix: query.prefix } : {}),
  };
  const [hourly, raw] = await Promise.all([
    store.listHistory({ resolutionMs: HOUR_MS, ...window }),
    store.listHistory({ resolutionMs: 0, ...window }),
  ]);
  return fold([...hourly, ...raw], query.stepMs);
}
