// Small statistics for benchmark samples.
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface WindowedResult {
  /** Successful completions per second of wall time (failures are not counted). */
  perSecond: number;
  succeeded: number;
  failed: number;
  /** Calls started (fewer than asked when the deadline passed). */
  started: number;
  seconds: number;
  /** performance.now() of every success, in completion order. */
  successTimes: number[];
  /** First few failure messages, for the report. */
  failures: string[];
}

/**
 * Runs `count` calls of `task` with at most `window` in flight. A call fails when it resolves false
 * or throws. With `deadlineMs`, no new call starts after that much wall time.
 */
export async function windowed(
  count: number,
  window: number,
  task: () => Promise<boolean>,
  options: { deadlineMs?: number } = {},
): Promise<WindowedResult> {
  let started = 0;
  let failed = 0;
  const successTimes: number[] = [];
  const failures: string[] = [];
  const t0 = performance.now();
  const deadline = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : t0 + options.deadlineMs;
  const lane = async () => {
    while (started < count && performance.now() < deadline) {
      started++;
      let ok = false;
      try {
        ok = await task();
        if (!ok && failures.length < 5) failures.push('task returned false');
      } catch (error) {
        if (failures.length < 5) failures.push(error instanceof Error ? error.message : String(error));
      }
      if (ok) successTimes.push(performance.now());
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  const seconds = (performance.now() - t0) / 1000;
  return {
    perSecond: successTimes.length / seconds,
    succeeded: successTimes.length,
    failed,
    started,
    seconds,
    successTimes,
    failures,
  };
}

/** Completions per second of the `n` successes from index `from`; `start` is when index 0's clock began. */
export function rateOver(times: number[], from: number, n: number, start: number): number {
  const begin = from === 0 ? start : times[from - 1];
  const end = times[from + n - 1];
  if (begin === undefined || end === undefined || end <= begin) return Number.NaN;
  return n / ((end - begin) / 1000);
}

/** CPU milliseconds (user + system) this process used since `since` (a process.cpuUsage() value). */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}
