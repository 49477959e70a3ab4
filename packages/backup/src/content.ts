// What a backup holds: only what a restore needs to bring the channels back — the node store's LDK
// channel state (manager, monitors and their pending updates) and the on-chain sweeper's state.
// Never payment records, stream ledgers, the network graph or the scorer (rebuilt from gossip and
// experience), nor archived monitors of channels that are fully resolved.

/** The node store's key prefixes (packages/node persist/keys.ts and wallet/sweeper.ts). */
const LDK_PREFIX = 'ldk/';
const SWEEPER_PREFIX = 'sweeper/';
const NOT_BACKED_UP = ['ldk/network-graph', 'ldk/scorer'];
const ARCHIVE_PREFIX = 'ldk/archive/';
const MONITOR_PREFIX = 'ldk/monitor/';

export function isBackedUpKey(key: string): boolean {
  if (key.startsWith(SWEEPER_PREFIX)) return true;
  return key.startsWith(LDK_PREFIX) && !NOT_BACKED_UP.includes(key) && !key.startsWith(ARCHIVE_PREFIX);
}

/** The backed-up part of a store's contents. */
export function selectBackedUp(entries: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [key, value] of entries) if (isBackedUpKey(key)) out.set(key, value);
  return out;
}

/** Channels in a backup: one full monitor per channel (`ldk/monitor/<outpoint>`). */
export function countChannels(entries: ReadonlyMap<string, Uint8Array>): number {
  let n = 0;
  for (const key of entries.keys()) if (key.startsWith(MONITOR_PREFIX)) n++;
  return n;
}
