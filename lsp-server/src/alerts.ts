// The operator's alerts: what costs money or users if nobody acts, each against a threshold from
// config.ts (ALERT_*). Evaluated on demand (the admin page, each /metrics scrape as lsp_alert{kind}).
import { blocksBehind } from './chain-lag.ts';
import type { Deps } from './deps.ts';

export const ALERT_KINDS = [
  'jit_liquidity',
  'onchain_low',
  'backup_failing',
  'wasm_memory',
  'channel_monitor',
  'peer_offline',
  'chain_lag',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  kind: AlertKind;
  firing: boolean;
  /** What is wrong (or what is watched), for the admin page. */
  detail: string;
}

const sat = (n: bigint) => `${n.toLocaleString('en-US')} sat`;
const kib = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString('en-US')} KiB`;

export async function evaluateAlerts(
  deps: Pick<Deps, 'node' | 'config' | 'metrics' | 'clock' | 'secondChain'>,
): Promise<Alert[]> {
  const { node, config, metrics } = deps;
  const { alerts, jit } = config;
  const nowMs = deps.clock();
  const onchainSat = node.balances().onchainConfirmedMsat / 1000n;
  const reserveSat = BigInt(jit.onchainReserveSat);
  const channelSat = BigInt(jit.minChannelSat);
  // JIT channels are funded on chain, less the reserve kept for fees
  const jitCapitalSat = onchainSat > reserveSat ? onchainSat - reserveSat : 0n;
  const jitNeedSat = BigInt(alerts.jitWallets) * channelSat;
  const onchainNeedSat = reserveSat + BigInt(alerts.onchainOpens) * channelSat;
  const failing = metrics.backupHealth.failingWallets();
  const wasm = node.wasmMemory();
  const wasmPercent = wasm ? (wasm.usedBytes / wasm.limitBytes) * 100 : 0;
  let largest: [string, number] | undefined;
  for (const entry of node.monitorBytes()) if (!largest || entry[1] > largest[1]) largest = entry;
  const connected = new Set(node.listPeers().map((p) => p.peerId));
  const offline = config.publicPeers.map((p) => p.split('@')[0]!).filter((id) => !connected.has(id));
  const syncedAtMs = node.chainWatch().lastSyncAtMs;
  const lagSec = syncedAtMs === undefined ? Number.POSITIVE_INFINITY : (nowMs - syncedAtMs) / 1000;
  const chainLag = await chainLagAlert(deps, lagSec);

  return [
    {
      kind: 'jit_liquidity',
      firing: jitCapitalSat < jitNeedSat,
      detail: `${sat(jitCapitalSat)} for JIT channels; ${alerts.jitWallets} new wallets need ${sat(jitNeedSat)}`,
    },
    {
      kind: 'onchain_low',
      firing: onchainSat < onchainNeedSat,
      detail: `on-chain ${sat(onchainSat)}; the reserve and the next ${alerts.onchainOpens} opens need ${sat(onchainNeedSat)}`,
    },
    {
      kind: 'backup_failing',
      firing: failing.length > 0,
      detail:
        failing.length === 0
          ? 'every wallet’s latest backup was stored'
          : `${failing.length} wallet(s) whose latest backup was refused: ${failing
              .slice(0, 3)
              .map((f) => `${f.nodeId.slice(0, 12)}… (${f.code})`)
              .join(', ')}`,
    },
    {
      kind: 'wasm_memory',
      firing: wasmPercent > alerts.wasmPercent,
      detail: wasm
        ? `WASM memory at ${wasmPercent.toFixed(1)}% of its limit (alert above ${alerts.wasmPercent}%): restart before the limit`
        : 'WASM memory not measured',
    },
    {
      kind: 'channel_monitor',
      firing: largest !== undefined && largest[1] > alerts.monitorKb * 1024,
      detail: largest
        ? `largest channel monitor ${kib(largest[1])} (funding ${largest[0].slice(0, 12)}…:${largest[0].split(':')[1]}; alert above ${kib(alerts.monitorKb * 1024)}): each payment over it copies the whole monitor; close the channel cooperatively and open a new one`
        : 'no open channel',
    },
    {
      kind: 'peer_offline',
      firing: offline.length > 0,
      detail:
        offline.length === 0
          ? `${config.publicPeers.length} public peer(s), all connected`
          : `offline: ${offline.map((id) => `${id.slice(0, 12)}…`).join(', ')}`,
    },
    chainLag,
  ];
}

/**
 * Lagging: the last sync is too old, or (with a second source) our synced height is too many blocks
 * below the second source's tip. A second source that cannot be read is shown, not alerted on: it
 * says nothing about our own chain view.
 */
async function chainLagAlert(
  deps: Pick<Deps, 'node' | 'config' | 'secondChain'>,
  lagSec: number,
): Promise<Alert> {
  const { chainLagSec, chainBehindBlocks } = deps.config.alerts;
  const synced =
    lagSec === Number.POSITIVE_INFINITY
      ? 'the chain was never synced'
      : `last chain sync ${Math.round(lagSec)} s ago (alert after ${chainLagSec} s)`;
  if (!deps.secondChain) return { kind: 'chain_lag', firing: lagSec > chainLagSec, detail: synced };
  const ourHeight = deps.node.chainWatch().lastSyncHeight;
  const second = await deps.secondChain.tip();
  const behind = blocksBehind(ourHeight, second);
  const compared =
    'error' in second
      ? `the second chain source cannot be read: ${second.error}`
      : `synced to block ${ourHeight ?? 'none'}, the second chain source's tip is ${second.height}: ${
          behind ?? '?'
        } block(s) behind (alert at ${chainBehindBlocks})`;
  return {
    kind: 'chain_lag',
    firing: lagSec > chainLagSec || (behind !== undefined && behind >= chainBehindBlocks),
    detail: `${synced}; ${compared}`,
  };
}

/** `lsp_chain_behind_blocks`: blocks below the second chain source's tip (-1: none, or unreadable). */
export async function renderChainBehind(deps: Pick<Deps, 'node' | 'secondChain'>): Promise<string> {
  const behind = deps.secondChain
    ? blocksBehind(deps.node.chainWatch().lastSyncHeight, await deps.secondChain.tip())
    : undefined;
  return [
    '# HELP lsp_chain_behind_blocks Blocks our synced height is below the second chain source (ESPLORA_URL_2) tip; -1 without one',
    '# TYPE lsp_chain_behind_blocks gauge',
    `lsp_chain_behind_blocks ${behind ?? -1}`,
  ].join('\n');
}

/** `lsp_alert{kind}` 0/1 for every kind, for Prometheus to alert on. */
export function renderAlerts(list: Alert[]): string {
  return [
    '# HELP lsp_alert An operator alert (ALERT_* thresholds): 1 while firing',
    '# TYPE lsp_alert gauge',
    ...list.map((a) => `lsp_alert{kind="${a.kind}"} ${a.firing ? 1 : 0}`),
  ].join('\n');
}
