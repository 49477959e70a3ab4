// Chain-source questions asked a batch at a time: a sync's round trips grow with the number of
// batches, not of questions, and a public Esplora is never sent more than a handful at once.

/** Questions to one chain source in flight at once (browsers open 6 connections per host on HTTP/1.1). */
export const LOOKUPS_AT_ONCE = 8;

/** `fn` over `items`, `size` at a time, in order of batches; rejects with the first failure. */
export async function inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
