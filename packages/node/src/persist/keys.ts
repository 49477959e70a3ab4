// Key layout of a node's Store. Monitor updates sort by a zero-padded update id so a prefix scan
// returns them in the order they must be applied.

export const MANAGER_KEY = 'ldk/manager';
/** The chunked manager's root: the top of its hash tree (manager-chunks.ts); replaces MANAGER_KEY. */
export const MANAGER_ROOT_KEY = 'ldk/manager-root';
/** A chunk of the chunked manager (data or index), keyed by the hex SHA-256 of its bytes. */
export const MANAGER_CHUNK_PREFIX = 'ldk/manager-chunk/';
export const GRAPH_KEY = 'ldk/network-graph';
export const SCORER_KEY = 'ldk/scorer';
export const MONITOR_PREFIX = 'ldk/monitor/';
export const MONITOR_UPDATE_PREFIX = 'ldk/monitor-update/';
/**
 * Per channel monitor, written with every manager snapshot while the manager holds monitor updates
 * in flight: the lowest update id in that in-flight list (decimal). Restore's fallback path needs it.
 */
export const MONITOR_INFLIGHT_PREFIX = 'ldk/monitor-inflight/';
/** An older full monitor kept while the current one contains updates still in flight. */
export const MONITOR_FALLBACK_PREFIX = 'ldk/monitor-fallback/';
export const ARCHIVE_PREFIX = 'ldk/archive/';
export const PAYMENT_PREFIX = 'payment/';
/** Height of the last completed chain sync (where a bitcoind block scan resumes). */
export const SYNCED_HEIGHT_KEY = 'chain/synced-height';
/** A block-scanning ChainSync's remembered blocks and confirmed spends (chain/sync.ts `saved()`). */
export const CHAIN_SYNC_KEY = 'chain/sync';
/** The checked header chain kept across starts (chain/kept.ts); not backed up (refetched at will). */
export const HEADERS_KEY = 'chain/headers';
/** When the last chain sync completed, ms since the epoch (decimal): how long the node was asleep. */
export const SYNCED_AT_KEY = 'chain/synced-at-ms';

export const managerChunkKey = (hashHex: string): string => `${MANAGER_CHUNK_PREFIX}${hashHex}`;
export const monitorKey = (outpoint: string): string => `${MONITOR_PREFIX}${outpoint}`;
export const monitorInflightKey = (outpoint: string): string => `${MONITOR_INFLIGHT_PREFIX}${outpoint}`;
export const monitorFallbackKey = (outpoint: string): string => `${MONITOR_FALLBACK_PREFIX}${outpoint}`;
export const monitorUpdatePrefix = (outpoint: string): string => `${MONITOR_UPDATE_PREFIX}${outpoint}/`;
export const monitorUpdateKey = (outpoint: string, updateId: bigint): string =>
  `${monitorUpdatePrefix(outpoint)}${updateId.toString().padStart(20, '0')}`;
/** `monitorUpdateKey` read back: the outpoint and update id, or undefined for any other key. */
export function parseMonitorUpdateKey(key: string): { outpoint: string; updateId: bigint } | undefined {
  if (!key.startsWith(MONITOR_UPDATE_PREFIX)) return undefined;
  const slash = key.lastIndexOf('/');
  return { outpoint: key.slice(MONITOR_UPDATE_PREFIX.length, slash), updateId: BigInt(key.slice(slash + 1)) };
}
