// The history sampler: every HISTORY_SAMPLE_SEC it writes one raw point per series — counts of what
// happened since the previous sample (read from the LSP's own records, so a restart neither loses
// nor doubles any) and levels now — then folds raw points older than HISTORY_RAW_HOURS into hours
// and drops hours older than HISTORY_KEEP_DAYS.
import type { Deps } from '../deps.ts';
import type { HistoryPoint } from '../store/types.ts';
import { channelSeries, fold, HOUR_MS, type SeriesName } from './series.ts';

type SamplerDeps = Pick<Deps, 'store' | 'node' | 'config' | 'metrics' | 'clock' | 'log'>;

/** Peers that are not one of the configured public peers: wallets online now. */
export function walletsOnline(deps: Pick<Deps, 'node' | 'config'>): number {
  const publicIds = new Set(deps.config.publicPeers.map((p) => p.split('@')[0]));
  return deps.node.listPeers().filter((p) => !publicIds.has(p.peerId)).length;
}

export class HistorySampler {
  private lastAtMs: number | undefined;
  private lastBackupFailures = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: SamplerDeps) {}

  /** One sample at `nowMs` and the folding it makes due; returns the raw points written. */
  async sample(nowMs = this.deps.clock()): Promise<HistoryPoint[]> {
    const { store, node, metrics } = this.deps;
    const fromMs =
      this.lastAtMs ??
      (await store.lastHistoryAt(0)) ??
      nowMs - this.deps.config.history.sampleEverySec * 1000;
    if (nowMs <= fromMs) return [];
    const [forwards, jitChannels, wallets, backups] = await Promise.all([
      store.listForwardsBetween(fromMs, nowMs),
      store.listJitChannelsBetween(fromMs, nowMs),
      store.listWallets(1_000_000),
      store.backupTotals(),
    ]);
    const channels = node.listChannels();
    const sum = <T>(items: T[], f: (x: T) => bigint) => items.reduce((a, x) => a + f(x), 0n);
    const ok = forwards.filter((f) => f.outcome === 'forwarded');
    const backupFailures = metrics.backupHealth.failures;
    const syncedAtMs = node.chainWatch().lastSyncAtMs;
    const values: Record<SeriesName, bigint> = {
      forwards: BigInt(ok.length),
      forwards_failed: BigInt(forwards.length - ok.length),
      forward_fees_msat: sum(ok, (f) => f.feeMsat),
      jit_opens: BigInt(jitChannels.length),
      jit_fees_msat: sum(jitChannels, (c) => c.openingFeeMsat),
      // the tracker counts from process start; after a restart it starts below the last value seen
      backup_errors: BigInt(Math.max(0, backupFailures - this.lastBackupFailures)),
      outbound_msat: sum(channels, (c) => c.outboundMsat),
      inbound_msat: sum(channels, (c) => c.inboundMsat),
      onchain_msat: node.balances().onchainConfirmedMsat,
      wallets: BigInt(wallets.length),
      wallets_online: BigInt(walletsOnline(this.deps)),
      backup_bytes: BigInt(backups.bytes),
      wasm_bytes: BigInt(node.wasmMemory()?.usedBytes ?? 0),
      chain_sync_age_s: BigInt(
        syncedAtMs === undefined ? 0 : Math.max(0, Math.round((nowMs - syncedAtMs) / 1000)),
      ),
    };
    const raw = Object.entries(values).map(([series, value]) => ({ series, atMs: nowMs, value }));
    await store.putHistory(0, raw);
    // per channel: the hour's latest level, overwritten by each sample within the hour
    const hourMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
    await store.putHistory(
      HOUR_MS,
      channels.flatMap((c) => [
        { series: channelSeries('out', c.channelId), atMs: hourMs, value: c.outboundMsat },
        { series: channelSeries('in', c.channelId), atMs: hourMs, value: c.inboundMsat },
      ]),
    );
    this.lastAtMs = nowMs;
    this.lastBackupFailures = backupFailures;
    await this.compact(nowMs);
    return raw;
  }

  /**
   * Raw points of whole hours older than the raw window become hourly points, then go. Each hour is
   * folded from all its raw points at once, so a crash between the two steps only repeats the fold.
   */
  async compact(nowMs: number): Promise<void> {
    const { store, config } = this.deps;
    const cutoffMs = Math.floor((nowMs - config.history.rawKeepHours * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const old = await store.listHistory({ resolutionMs: 0, fromMs: 0, toMs: cutoffMs });
    if (old.length > 0) {
      await store.putHistory(HOUR_MS, fold(old, HOUR_MS));
      await store.deleteHistory(0, cutoffMs);
    }
    await store.deleteHistory(HOUR_MS, nowMs - config.history.keepDays * 24 * HOUR_MS);
  }

  start(): void {
    const everyMs = this.deps.config.history.sampleEverySec * 1000;
    this.timer = setInterval(() => {
      // one sample at a time: a slow database must not stack them up
      this.running ??= this.sample()
        .then(() => {})
        .catch((err: unknown) => this.deps.log.error({ err }, 'history sample failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, everyMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sample under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
