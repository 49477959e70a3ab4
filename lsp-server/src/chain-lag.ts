// How far behind the chain the LSP is. Without a second source, the age of the last completed sync
// (a sync that stops is what we can see alone). With ESPLORA_URL_2, also how many blocks our synced
// height is below that source's tip: a primary source that serves a stale tip still syncs "fine",
// and only another source shows it. The second source is read at most every CACHE_MS, so a page load
// or a scrape costs no request most of the time, and a slow one costs at most its timeout.
import { esploraSource } from '@lpw/node';

const CACHE_MS = 10_000;
const TIMEOUT_MS = 5_000;

export type SecondTip = { height: number; atMs: number } | { error: string; atMs: number };

export class SecondChainSource {
  private readonly source;
  private last: SecondTip | undefined;
  private reading: Promise<SecondTip> | undefined;

  constructor(
    readonly url: string,
    private readonly clock: () => number,
  ) {
    this.source = esploraSource({ url, timeoutMs: TIMEOUT_MS });
  }

  /** The second source's tip height (or why it could not be read), at most CACHE_MS old. */
  async tip(): Promise<SecondTip> {
    const nowMs = this.clock();
    if (this.last && nowMs - this.last.atMs < CACHE_MS) return this.last;
    this.reading ??= this.source
      .tip()
      .then(
        (tip): SecondTip => ({ height: tip.height, atMs: nowMs }),
        (e: unknown): SecondTip => ({ error: e instanceof Error ? e.message : String(e), atMs: nowMs }),
      )
      .then((tip) => {
        this.last = tip;
        this.reading = undefined;
        return tip;
      });
    return this.reading;
  }
}

/** Blocks our synced height is below the second source's tip (0 when level or ahead). */
export function blocksBehind(ourHeight: number | undefined, second: SecondTip): number | undefined {
  if (!('height' in second) || ourHeight === undefined) return undefined;
  return Math.max(0, second.height - ourHeight);
}
