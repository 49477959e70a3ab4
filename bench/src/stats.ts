// Small statistics for benchmark samples.
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs `count` calls of `task` with at most `window` in flight; returns completions per second. */
export async function windowed(
  count: number,
  window: number,
  task: () => Promise<boolean>,
): Promise<{
  perSecond: number;
  failed: number;
}> {
  let started = 0;
  let failed = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < count) {
      started++;
      if (!(await task())) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  return { perSecond: count / ((performance.now() - t0) / 1000), failed };
}
