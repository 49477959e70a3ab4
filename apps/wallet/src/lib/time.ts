// Times in words for the screens: when something happened, how long an invoice has left, how old
// a rate is.

/** A rate read less than this long ago is shown without its age. */
export const RATE_FRESH_MS = 3_600_000;

/**
 * "4:05" under an hour (a countdown), "2 h 05 min" under two days, "3 days" beyond; undefined once
 * nothing is left (expired).
 */
export function timeLeft(ms: number): string | undefined {
  if (ms <= 0) return undefined;
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (minutes < 60) return `${minutes}:${pad(seconds % 60)}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${pad(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} days`;
}

/** "3 h ago" for a rate older than RATE_FRESH_MS, else undefined (fresh: no age shown). */
export function rateAge(atMs: number, nowMs: number): string | undefined {
  const ms = nowMs - atMs;
  if (ms < RATE_FRESH_MS) return undefined;
  const hours = Math.floor(ms / 3_600_000);
  return hours < 48 ? `${hours} h ago` : `${Math.floor(hours / 24)} days ago`;
}

/** "Dec 6, 14:05" in the person's locale: when a payment was made, a close started, an invoice expires. */
export function dateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}
