// What network fees mean for payments and closes on a channel without anchors: when an HTLC is
// dust, when small payments must wait, what a close costs now. The policy's reasons are in config.ts.
import { NodeError } from './errors.ts';

/** LDK's dust limit (MIN_CHAN_DUST_LIMIT_SATOSHIS), what both LDK sides of our channels choose. */
export const DUST_LIMIT_SAT = 354n;
/** BOLT 3 weights without anchors: HTLC-success (the larger of the two HTLC transactions). */
const HTLC_SUCCESS_WEIGHT = 703n;
/** BOLT 3: a commitment without anchors and without HTLC outputs, and each HTLC output it carries. */
const COMMITMENT_WEIGHT = 724n;
const HTLC_OUTPUT_WEIGHT = 172n;
/**
 * A mutual close (2-of-2 input, two P2WPKH outputs), and the sweep of our delayed to_local output
 * into one P2WPKH as LDK's OutputSweeper prices it (484 WU, the signature at its longest; measured
 * on the devnet: 24,442 sat at 50,500 sat/kW, 244 at 505).
 */
const CLOSING_TX_WEIGHT = 674n;
const TO_LOCAL_SWEEP_WEIGHT = 484n;

/**
 * From this commitment feerate on, fees are "high" (10 sat/vB, the feerate LDK's own dust-exposure
 * docs take as normal): dust HTLCs are refused instead of sent.
 */
export const HIGH_FEERATE_SAT_PER_KW = 2_500;
/** Dust in flight a wallet risks in fair weather (LDK's default cap at 2,500 sat/kW). */
export const DUST_IN_FLIGHT_BUDGET_MSAT = 25_000_000n;

/**
 * An HTLC below this is trimmed from one of the two commitments at `feerateSatPerKw`: on a close
 * it would become miners' fees instead of an output.
 */
export function htlcDustThresholdMsat(feerateSatPerKw: number): bigint {
  const feeSat = (BigInt(Math.ceil(feerateSatPerKw)) * HTLC_SUCCESS_WEIGHT + 999n) / 1000n;
  return (DUST_LIMIT_SAT + feeSat) * 1000n;
}

export const feesHighSentence = (minMsat: bigint): string =>
  `network fees are high right now; payments under ${(minMsat + 999n) / 1000n} sats wait`;

export interface ChannelFeeState {
  /** The commitment's feerate now. */
  feerateSatPerKw: number;
  /** Outbound HTLCs in flight that are dust now. */
  dustInFlightMsat: bigint;
}

/**
 * A payment is refused (FEES_TOO_HIGH) when its HTLC would be dust on every usable channel and
 * either fees are high or the dust already in flight would pass the budget. In fair weather small
 * payments (streams) go as before.
 */
export function assertPaymentNotDust(amountMsat: bigint, channels: ChannelFeeState[]): void {
  if (channels.length === 0) return; // assertCanSend reports it
  let minMsat: bigint | undefined;
  for (const ch of channels) {
    const threshold = htlcDustThresholdMsat(ch.feerateSatPerKw);
    if (amountMsat >= threshold) return;
    if (
      ch.feerateSatPerKw < HIGH_FEERATE_SAT_PER_KW &&
      ch.dustInFlightMsat + amountMsat <= DUST_IN_FLIGHT_BUDGET_MSAT
    )
      return;
    if (minMsat === undefined || threshold < minMsat) minMsat = threshold;
  }
  throw new NodeError('FEES_TOO_HIGH', feesHighSentence(minMsat!));
}

/** What the person sees about network fees now (see LightningNode.feeWeather). */
export interface FeeWeatherReport {
  /** The estimates the node works with now, sat/kW: next block, a commitment (12 blocks), a day. */
  nextBlockSatPerKw: number;
  commitmentSatPerKw: number;
  dayAheadSatPerKw: number;
  /** The highest commitment feerate of our usable channels; undefined without one. */
  channelSatPerKw: number | undefined;
  /** Fees are high: payments under `smallPaymentMinMsat` wait. */
  high: boolean;
  /** Payments under this wait now; 0n when none do. */
  smallPaymentMinMsat: bigint;
  /** The sentence to show when fees are high. */
  notice: string | undefined;
  /**
   * What closing our channels now would cost us. Cooperative: the closing transaction, paid by the
   * funder (0 when our peer funded). Force: the commitment's fee if we funded it, plus sweeping our
   * own output after the delay.
   */
  closeCostMsat: { cooperative: bigint; force: bigint };
}

export interface FeeWeatherInputs {
  nextBlockSatPerKw: number;
  commitmentSatPerKw: number;
  dayAheadSatPerKw: number;
  sweepSatPerKw: number;
  /**
   * Every open channel. Only usable ones say what is dust now; all of them count in the close cost,
   * since a force close is what a person does when the peer is gone (no channel usable).
   */
  channels: Array<{ feerateSatPerKw: number; weFund: boolean; nonDustHtlcs: number; usable: boolean }>;
}

export function feeWeatherReport(i: FeeWeatherInputs): FeeWeatherReport {
  const usable = i.channels.filter((c) => c.usable);
  const channelSatPerKw = usable.length ? Math.max(...usable.map((c) => c.feerateSatPerKw)) : undefined;
  // the channel's feerate rules what is dust now; a spike the LSP has not applied yet counts too
  const effective = Math.max(channelSatPerKw ?? 0, i.commitmentSatPerKw);
  const high = effective >= HIGH_FEERATE_SAT_PER_KW;
  const smallPaymentMinMsat = high ? htlcDustThresholdMsat(effective) : 0n;
  // as LDK prices a transaction: feerate × weight / 1000, rounded down to the sat
  const feeMsat = (weight: bigint, satPerKw: number) =>
    ((weight * BigInt(Math.ceil(satPerKw))) / 1000n) * 1000n;
  let cooperative = 0n;
  let force = 0n;
  for (const ch of i.channels) {
    force += feeMsat(TO_LOCAL_SWEEP_WEIGHT, i.sweepSatPerKw);
    if (!ch.weFund) continue;
    cooperative += feeMsat(CLOSING_TX_WEIGHT, i.commitmentSatPerKw);
    force += feeMsat(COMMITMENT_WEIGHT + HTLC_OUTPUT_WEIGHT * BigInt(ch.nonDustHtlcs), ch.feerateSatPerKw);
  }
  return {
    nextBlockSatPerKw: i.nextBlockSatPerKw,
    commitmentSatPerKw: i.commitmentSatPerKw,
    dayAheadSatPerKw: i.dayAheadSatPerKw,
    channelSatPerKw,
    high,
    smallPaymentMinMsat,
    notice: high ? feesHighSentence(smallPaymentMinMsat) : undefined,
    closeCostMsat: { cooperative, force },
  };
}
