// LDK's FeeEstimator over the chain source's estimates. LDK asks synchronously (inside its own
// calls), so answers come from a cache that `refresh()` fills asynchronously on every sync.
// Every answer is clamped: never below 253 sat/kW (LDK's and the relay minimum), never above a
// ceiling (a lying or broken source must not make us burn the channel balance in fees).
import * as ldk from 'lightningdevkit';
import type { ChainLog, ChainSource, FeeRates } from './source.ts';
import { silentLog } from './source.ts';

const CT = ldk.ConfirmationTarget;

/** 253 sat/kW: 1 sat/vB rounded up so that the weight rounding never lands below the relay minimum. */
export const FEERATE_FLOOR_SAT_PER_KW = 253;

export type FeeTargetName =
  | 'MaximumFeeEstimate'
  | 'UrgentOnChainSweep'
  | 'MinAllowedAnchorChannelRemoteFee'
  | 'MinAllowedNonAnchorChannelRemoteFee'
  | 'AnchorChannelFee'
  | 'NonAnchorChannelFee'
  | 'ChannelCloseMinimum'
  | 'OutputSpendingFee';

interface TargetPolicy {
  /** Confirmation target in blocks asked of the source. */
  blocks: number;
  /** Used until the source has an estimate (fresh regtest, source down at start). */
  fallback: number;
  /** Lowest value returned, above the global floor. */
  floor: number;
  /** Prices a transaction of its own that must pass the mempool minimum: add VBYTE_ROUNDING_MARGIN. */
  standalone?: boolean;
}

/**
 * LDK prices a transaction by weight (sat/kW × WU), nodes by whole vbytes: a 439 WU sweep at
 * exactly 260 sat/vB pays 28,535 sat where Core asks 110 vB × 260 = 28,600 ("mempool min fee not
 * met", measured on the devnet under load). 1% covers every transaction above 300 WU.
 */
const VBYTE_ROUNDING_MARGIN = 0.01;

/**
 * Per target: which estimate backs it and why.
 * - MaximumFeeEstimate: the highest we know (next block). It also sets LDK's default dust-exposure
 *   cap (10,000 × this value in msat): 253 would cap dust HTLCs in flight at ~2.5k sat and small
 *   payments would fail, so it never goes below 2,500 sat/kW (cap ≥ 25k sat).
 * - UrgentOnChainSweep: claims racing a timelock (HTLC timeouts, justice txs): 6 blocks, and at
 *   least 1,000 sat/kW so a claim is never left at the relay minimum.
 * - MinAllowed*RemoteFee: the lowest commitment feerate we accept from a peer. Too high force-closes
 *   channels (config.ts, FEE POLICY). Anchor channels: the 1008-block estimate. Non-anchor: a
 *   wallet takes anything at the relay floor from its LSP (`trustFunderFeerate`); others take half
 *   the lowest 1008-block estimate of the last 24 h, minus 250 sat/kW (a peer rounding up to whole
 *   sat/vB, a funder whose source crashed back before ours, or reads 2× lower, is no reason to close).
 * - AnchorChannelFee: anchors can be bumped later, so the long-horizon (1008-block) estimate.
 * - NonAnchorChannelFee: our commitment must confirm later without bumping: 12 blocks. Also caps
 *   cooperative-close feerates.
 * - ChannelCloseMinimum: cooperative close, a day is fine: 144 blocks.
 * - OutputSpendingFee: sweeping our outputs after a close; not urgent: 12 blocks.
 */
const POLICY: Readonly<Record<FeeTargetName, TargetPolicy>> = {
  MaximumFeeEstimate: { blocks: 1, fallback: 5_000, floor: 2_500 },
  UrgentOnChainSweep: { blocks: 6, fallback: 5_000, floor: 1_000, standalone: true },
  MinAllowedAnchorChannelRemoteFee: {
    blocks: 1008,
    fallback: FEERATE_FLOOR_SAT_PER_KW,
    floor: FEERATE_FLOOR_SAT_PER_KW,
  },
  MinAllowedNonAnchorChannelRemoteFee: {
    blocks: 1008,
    fallback: FEERATE_FLOOR_SAT_PER_KW,
    floor: FEERATE_FLOOR_SAT_PER_KW,
  },
  AnchorChannelFee: { blocks: 1008, fallback: 500, floor: FEERATE_FLOOR_SAT_PER_KW },
  NonAnchorChannelFee: { blocks: 12, fallback: 2_000, floor: FEERATE_FLOOR_SAT_PER_KW },
  ChannelCloseMinimum: { blocks: 144, fallback: 1_000, floor: FEERATE_FLOOR_SAT_PER_KW },
  OutputSpendingFee: { blocks: 12, fallback: 1_000, floor: FEERATE_FLOOR_SAT_PER_KW, standalone: true },
};

const NAMES: Readonly<Record<number, FeeTargetName>> = {
  [CT.LDKConfirmationTarget_MaximumFeeEstimate]: 'MaximumFeeEstimate',
  [CT.LDKConfirmationTarget_UrgentOnChainSweep]: 'UrgentOnChainSweep',
  [CT.LDKConfirmationTarget_MinAllowedAnchorChannelRemoteFee]: 'MinAllowedAnchorChannelRemoteFee',
  [CT.LDKConfirmationTarget_MinAllowedNonAnchorChannelRemoteFee]: 'MinAllowedNonAnchorChannelRemoteFee',
  [CT.LDKConfirmationTarget_AnchorChannelFee]: 'AnchorChannelFee',
  [CT.LDKConfirmationTarget_NonAnchorChannelFee]: 'NonAnchorChannelFee',
  [CT.LDKConfirmationTarget_ChannelCloseMinimum]: 'ChannelCloseMinimum',
  [CT.LDKConfirmationTarget_OutputSpendingFee]: 'OutputSpendingFee',
};

export interface FeeEstimatorOptions {
  source: ChainSource;
  log?: ChainLog;
  /** Fixed answers in sat/kW for some targets (tests, regtest policy); still floored and capped. */
  overrides?: Partial<Record<FeeTargetName, number>>;
  /** Highest answer ever given, sat/kW; default 250,000 (1,000 sat/vB). */
  ceilingSatPerKw?: number;
  /** Take any non-anchor commitment feerate at the relay floor from the funder (a wallet's LSP). */
  trustFunderFeerate?: boolean;
  /** Milliseconds since the epoch (the 24 h window of slow estimates). */
  now?: () => number;
}

/** How long the lowest slow estimate is remembered for MinAllowedNonAnchorChannelRemoteFee. */
const REMOTE_FEE_MEMORY_MS = 24 * 3600_000;

/**
 * Fee estimator for LDK and the on-chain wallet.
 * @example
 * const fees = new ChainFeeEstimator({ source });
 * await fees.refresh();
 * ChainMonitor.constructor_new(filter, broadcaster.ldk, logger, fees.ldk, persist);
 */
export class ChainFeeEstimator {
  /** Pass this to ChainMonitor, ChannelManager and OutputSweeper. Held here for the node's life. */
  readonly ldk: ldk.FeeEstimator;
  private rates: FeeRates = new Map();
  /** The slow (1008-block) estimate at each refresh of the last 24 h that lowered it. */
  private slowSeen: Array<{ atMs: number; satPerKw: number }> = [];
  private readonly log: ChainLog;
  private readonly ceiling: number;

  constructor(private readonly opts: FeeEstimatorOptions) {
    this.log = opts.log ?? silentLog;
    this.ceiling = opts.ceilingSatPerKw ?? 250_000;
    this.ldk = ldk.FeeEstimator.new_impl({
      // called from inside LDK: must never throw (a throw kills the node's event delivery)
      get_est_sat_per_1000_weight: (target: ldk.ConfirmationTarget): number => {
        try {
          const name = NAMES[target];
          return name ? this.satPerKw(name) : POLICY.MaximumFeeEstimate.fallback;
        } catch (e) {
          this.log('error', 'fee estimator failed', { error: String(e) });
          return POLICY.UrgentOnChainSweep.fallback;
        }
      },
    });
  }

  /** Fetch fresh estimates. Failures keep the previous cache and are logged, never thrown. */
  async refresh(): Promise<void> {
    try {
      const rates = await this.opts.source.feeRates();
      if (rates.size > 0) {
        this.rates = rates;
        this.rememberSlowEstimate();
      }
    } catch (e) {
      this.log('warn', 'fee estimates unavailable, keeping the cached ones', { error: String(e) });
    }
  }

  /** The answer LDK gets for `target`, in sat per 1000 weight units. */
  satPerKw(target: FeeTargetName): number {
    const policy = POLICY[target];
    let rate = this.opts.overrides?.[target] ?? this.estimate(policy.blocks) ?? policy.fallback;
    if (target === 'MinAllowedNonAnchorChannelRemoteFee' && this.opts.overrides?.[target] === undefined) {
      if (this.opts.trustFunderFeerate) return FEERATE_FLOOR_SAT_PER_KW;
      rate = Math.min(rate, ...this.slowSeen.map((s) => s.satPerKw)) / 2 - 250;
    }
    if (policy.standalone && this.opts.overrides?.[target] === undefined) rate *= 1 + VBYTE_ROUNDING_MARGIN;
    return Math.min(this.ceiling, Math.max(FEERATE_FLOOR_SAT_PER_KW, policy.floor, Math.ceil(rate)));
  }

  private rememberSlowEstimate(): void {
    const now = (this.opts.now ?? Date.now)();
    const slow = this.estimate(POLICY.MinAllowedNonAnchorChannelRemoteFee.blocks);
    this.slowSeen = this.slowSeen.filter((s) => now - s.atMs < REMOTE_FEE_MEMORY_MS);
    // keep only the entries that could still be the minimum after older ones expire
    if (slow !== undefined) {
      this.slowSeen = this.slowSeen.filter((s) => s.satPerKw < slow);
      this.slowSeen.push({ atMs: now, satPerKw: slow });
    }
  }

  /** The estimate for the nearest target at or below `blocks` (faster is the safe side); else the slowest known. */
  private estimate(blocks: number): number | undefined {
    let best: number | undefined;
    let bestBlocks = 0;
    for (const [target, rate] of this.rates) {
      if (target <= blocks && target > bestBlocks) {
        best = rate;
        bestBlocks = target;
      }
    }
    if (best !== undefined) return best;
    // only faster targets than asked are missing: take the fastest estimate there is
    let fastest = Number.POSITIVE_INFINITY;
    for (const [target, rate] of this.rates)
      if (target < fastest) {
        fastest = target;
        best = rate;
      }
    return best;
  }
}
