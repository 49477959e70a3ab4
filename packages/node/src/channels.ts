// Channels: open (we fund), accept or reject an inbound open, close, list, routing fees, and the
// checks a send makes against what the channels can carry now (network fees, outbound capacity).
import * as ldk from 'lightningdevkit';
import type { ChainFeeEstimator } from './chain/fees.ts';
import { buildUserConfig, type NodeRole } from './config.ts';
import { NodeError } from './errors.ts';
import { assertPaymentNotDust, type FeeWeatherReport, feeWeatherReport } from './fee-policy.ts';
import {
  assertForwardingFees,
  defaultForwardingFees,
  type ForwardingFees,
  setDefaultForwardingFees,
  updateChannelForwardingFees,
} from './forwarding-fees.ts';
import { freeLdk, type Own, withLdk } from './ldk/free.ts';
import {
  bool,
  channelIdHex,
  expectOk,
  fromHex,
  isNullPointer,
  outpointKey,
  someOf,
  toHex,
  u128FromLdk,
  unwrap,
} from './ldk/values.ts';
import { type Lifecycle, randomU128 } from './lifecycle.ts';
import { assertBigint, nodeIdBytes } from './payment/route.ts';
import type { OnchainWallet } from './wallet/onchain.ts';

export interface ChannelSummary {
  channelId: string;
  peerId: string;
  userChannelId: bigint;
  fundingTxo: string | undefined;
  capacityMsat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  nextOutboundHtlcLimitMsat: bigint;
  isOutbound: boolean;
  isReady: boolean;
  isUsable: boolean;
  isAnnounced: boolean;
  confirmations: number | undefined;
  shortChannelId: bigint | undefined;
  inboundScidAlias: bigint | undefined;
  outboundScidAlias: bigint | undefined;
  /** What the peer makes us keep in the channel (our `outboundMsat` is the balance above it). */
  ourReserveMsat: bigint | undefined;
  /** Blocks our own output waits (CSV) after we force-close; set by the peer. */
  toSelfDelay: number | undefined;
}

export interface OpenChannelRequest {
  peerId: string;
  capacitySat: bigint;
  pushMsat?: bigint;
  announce?: boolean;
  /** Informational: whether 0-conf is used is the acceptor's choice (our trust in our own funding is on). */
  zeroConf?: boolean;
}

export interface ChannelsContext {
  channelManager: ldk.ChannelManager;
  /** The manager's default UserConfig (its channel config is what new channels get). */
  config: ldk.UserConfig;
  role: NodeRole;
  configure: ((config: ldk.UserConfig) => void) | undefined;
  onchain: OnchainWallet;
  fees: ChainFeeEstimator;
  life: Lifecycle;
  random: (length: number) => Uint8Array;
  wake: () => void;
  isConnected: (peerId: string) => boolean;
  /** Subscribes to `channel-pending` (runtime fee changes follow inbound channels). */
  onChannelPending: (listener: () => void) => () => void;
}

export class Channels {
  /** Set once fees change at runtime: inbound channels take the manager's default from its start. */
  private feesFollowNewChannels: (() => void) | undefined;

  constructor(private readonly c: ChannelsContext) {}

  open(request: OpenChannelRequest): { temporaryChannelId: string; userChannelId: bigint } {
    this.c.life.assertRunning();
    assertBigint(request.capacitySat, 'capacitySat', 1n);
    const pushMsat = request.pushMsat ?? 0n;
    assertBigint(pushMsat, 'pushMsat');
    if (pushMsat > request.capacitySat * 1000n)
      throw new NodeError('INVALID_INPUT', '"pushMsat" exceeds the capacity');
    const peer = nodeIdBytes(request.peerId);
    if (!this.c.isConnected(request.peerId)) throw new NodeError('PEER_NOT_CONNECTED', request.peerId);
    // the wallet funds it from confirmed coins (plus a fee, checked when the funding tx is built)
    const confirmedSat = this.c.onchain.balance().confirmedSat;
    if (confirmedSat < request.capacitySat)
      throw new NodeError(
        'INSUFFICIENT_BALANCE',
        `a ${request.capacitySat} sat channel needs more than the wallet's ${confirmedSat} confirmed sat`,
      );
    const override = buildUserConfig(this.c.role, this.c.configure);
    setDefaultForwardingFees(override, this.forwardingFees());
    const handshake = override.get_channel_handshake_config();
    handshake.set_announce_for_forwarding(request.announce ?? false);
    override.set_channel_handshake_config(handshake);
    const userChannelId = randomU128(this.c.random);
    const temporaryChannelId = unwrap<ldk.ChannelId>(
      this.c.channelManager.create_channel(
        peer,
        request.capacitySat,
        pushMsat,
        userChannelId,
        null,
        override,
      ),
      'CHANNEL_CREATION_FAILED',
      'create_channel',
    );
    this.c.wake();
    return { temporaryChannelId: channelIdHex(temporaryChannelId), userChannelId };
  }

  accept(temporaryChannelId: string, peerId: string, options: { zeroConf?: boolean } = {}): bigint {
    const channelId = ldk.ChannelId.constructor_new(fromHex(temporaryChannelId, 'temporaryChannelId'));
    const userChannelId = randomU128(this.c.random);
    const peer = nodeIdBytes(peerId);
    const cm = this.c.channelManager;
    const result = options.zeroConf
      ? cm.accept_inbound_channel_from_trusted_peer_0conf(channelId, peer, userChannelId)
      : cm.accept_inbound_channel(channelId, peer, userChannelId);
    expectOk(result, 'CHANNEL_NOT_FOUND', 'accept_inbound_channel');
    this.c.wake();
    return userChannelId;
  }

  reject(temporaryChannelId: string, peerId: string): void {
    const channelId = ldk.ChannelId.constructor_new(fromHex(temporaryChannelId, 'temporaryChannelId'));
    expectOk(
      this.c.channelManager.force_close_without_broadcasting_txn(
        channelId,
        nodeIdBytes(peerId),
        'channel rejected',
      ),
      'CHANNEL_NOT_FOUND',
      'reject channel',
    );
    this.c.wake();
  }

  close(channelId: string, options: { force?: boolean } = {}): void {
    this.c.life.assertRunning();
    const cm = this.c.channelManager;
    withLdk((own) => {
      const channel = own(cm.list_channels()).find(
        (c) => channelIdHex(c.get_channel_id()) === channelId.toLowerCase(),
      );
      if (!channel) throw new NodeError('CHANNEL_NOT_FOUND', channelId);
      const peer = channel.get_counterparty().get_node_id();
      const result = own(
        options.force
          ? cm.force_close_broadcasting_latest_txn(channel.get_channel_id(), peer, 'closed by user')
          : cm.close_channel(channel.get_channel_id(), peer),
      );
      expectOk(result, 'CHANNEL_CLOSING_FAILED', 'close channel');
    });
    this.c.wake();
  }

  setForwardingFees(fees: ForwardingFees): number {
    this.c.life.assertRunning();
    assertForwardingFees(fees);
    setDefaultForwardingFees(this.c.config, fees);
    // a listener that throws becomes an 'error' event (EventBus)
    this.feesFollowNewChannels ??= this.c.onChannelPending(() => {
      if (updateChannelForwardingFees(this.c.channelManager, this.forwardingFees()) > 0) this.c.wake();
    });
    const changed = updateChannelForwardingFees(this.c.channelManager, fees);
    this.c.wake();
    return changed;
  }

  forwardingFees(): ForwardingFees {
    return defaultForwardingFees(this.c.config);
  }

  list(peerId?: string): ChannelSummary[] {
    const cm = this.c.channelManager;
    return withLdk((own) =>
      own(
        peerId === undefined
          ? cm.list_channels()
          : cm.list_channels_with_counterparty(nodeIdBytes(peerId, 'peerId')),
      ).map((c) => channelSummary(c, own)),
    );
  }

  feeWeather(): FeeWeatherReport {
    const fees = this.c.fees;
    return withLdk((own) => {
      const open = own(this.c.channelManager.list_channels());
      return feeWeatherReport({
        nextBlockSatPerKw: fees.satPerKw('MaximumFeeEstimate'),
        commitmentSatPerKw: fees.satPerKw('NonAnchorChannelFee'),
        dayAheadSatPerKw: fees.satPerKw('ChannelCloseMinimum'),
        sweepSatPerKw: fees.satPerKw('OutputSpendingFee'),
        channels: open.map((c) => ({
          feerateSatPerKw: someOf<number>(own(c.get_feerate_sat_per_1000_weight())) ?? 0,
          weFund: bool(c.get_is_outbound()),
          usable: bool(c.get_is_usable()),
          nonDustHtlcs: [
            ...own(c.get_pending_inbound_htlcs()),
            ...own(c.get_pending_outbound_htlcs()),
          ].filter((h) => !bool(h.get_is_dust())).length,
        })),
      });
    });
  }

  assertFeesAllow(amountMsat: bigint): void {
    if (this.c.role !== 'wallet') return;
    const channels = withLdk((own) =>
      own(this.c.channelManager.list_usable_channels()).map((c) => ({
        feerateSatPerKw: someOf<number>(own(c.get_feerate_sat_per_1000_weight())) ?? 0,
        dustInFlightMsat: own(c.get_pending_outbound_htlcs()).reduce(
          (n, h) => (bool(h.get_is_dust()) ? n + h.get_amount_msat() : n),
          0n,
        ),
      })),
    );
    assertPaymentNotDust(amountMsat, channels);
  }

  /** Before asking LDK: enough in usable channels? (LDK would fail with RouteNotFound, less clearly.) */
  assertCanSend(totalMsat: bigint): void {
    const usable = this.c.channelManager.list_usable_channels();
    let available = 0n;
    for (const c of usable) available += c.get_next_outbound_htlc_limit_msat();
    freeLdk(usable);
    if (available === 0n) throw new NodeError('INSUFFICIENT_BALANCE', 'no usable channel');
    if (totalMsat > available) {
      throw new NodeError(
        'INSUFFICIENT_BALANCE',
        `need ${totalMsat} msat, channels can send ${available} msat now`,
      );
    }
  }
}

function reserveMsat(channel: ldk.ChannelDetails, own: Own): bigint | undefined {
  const sat = someOf<bigint>(own(channel.get_unspendable_punishment_reserve()));
  return sat === undefined ? undefined : sat * 1000n;
}

/** What the node tells about a channel; Option getters allocate, so they are owned by the caller's scope. */
function channelSummary(c: ldk.ChannelDetails, own: Own): ChannelSummary {
  const txo = c.get_funding_txo();
  return {
    channelId: channelIdHex(c.get_channel_id()),
    peerId: toHex(c.get_counterparty().get_node_id()),
    userChannelId: u128FromLdk(c.get_user_channel_id()),
    fundingTxo: isNullPointer(txo) ? undefined : outpointKey(txo),
    capacityMsat: c.get_channel_value_satoshis() * 1000n,
    outboundMsat: c.get_outbound_capacity_msat(),
    inboundMsat: c.get_inbound_capacity_msat(),
    nextOutboundHtlcLimitMsat: c.get_next_outbound_htlc_limit_msat(),
    isOutbound: bool(c.get_is_outbound()),
    isReady: bool(c.get_is_channel_ready()),
    isUsable: bool(c.get_is_usable()),
    isAnnounced: bool(c.get_is_announced()),
    confirmations: someOf<number>(own(c.get_confirmations())),
    shortChannelId: someOf<bigint>(own(c.get_short_channel_id())),
    inboundScidAlias: someOf<bigint>(own(c.get_inbound_scid_alias())),
    outboundScidAlias: someOf<bigint>(own(c.get_outbound_scid_alias())),
    ourReserveMsat: reserveMsat(c, own),
    toSelfDelay: someOf<number>(own(c.get_force_close_spend_delay())),
  };
}
