// What each side reports of itself for the checks: channels as LDK's ChannelDetails has them (HTLCs
// included) and the durable payment records. Read straight from LDK, not from the node's summaries,
// so the check does not trust the code it tests.
import * as ldk from 'lightningdevkit';
import { bool, channelIdHex, isNullPointer, outpointKey, someOf, toHex } from '../../src/ldk/values.ts';
import type { LightningNode } from '../../src/node.ts';
import type { ChannelView, HtlcView, NodeView } from './protocol.ts';

const stateName = (names: Record<number, string>, option: unknown): string => {
  const value = someOf<number>(option);
  return value === undefined ? 'unknown' : (names[value] ?? String(value)).replace(/^LDK\w+?_/, '');
};

function htlcView(
  h: ldk.InboundHTLCDetails | ldk.OutboundHTLCDetails,
  names: Record<number, string>,
): HtlcView {
  return {
    paymentHash: toHex(h.get_payment_hash()),
    amountMsat: h.get_amount_msat(),
    cltvExpiry: h.get_cltv_expiry(),
    state: stateName(names, h.get_state()),
    isDust: bool(h.get_is_dust()),
  };
}

export function channelView(c: ldk.ChannelDetails): ChannelView {
  const txo = c.get_funding_txo();
  return {
    channelId: channelIdHex(c.get_channel_id()),
    fundingTxo: isNullPointer(txo) ? undefined : outpointKey(txo),
    capacityMsat: c.get_channel_value_satoshis() * 1000n,
    outboundMsat: c.get_outbound_capacity_msat(),
    inboundMsat: c.get_inbound_capacity_msat(),
    reserveMsat: (someOf<bigint>(c.get_unspendable_punishment_reserve()) ?? 0n) * 1000n,
    isUsable: bool(c.get_is_usable()),
    isReady: bool(c.get_is_channel_ready()),
    pendingInbound: c
      .get_pending_inbound_htlcs()
      .map((h) => htlcView(h, ldk.InboundHTLCStateDetails as unknown as Record<number, string>)),
    pendingOutbound: c
      .get_pending_outbound_htlcs()
      .map((h) => htlcView(h, ldk.OutboundHTLCStateDetails as unknown as Record<number, string>)),
  };
}

export function nodeView(node: LightningNode, full: boolean): NodeView {
  const cm = node.ldk.channelManager;
  const payments = node.listPayments();
  return {
    nodeId: node.nodeId,
    bestBlockHeight: cm.current_best_block().get_height(),
    peers: node.listPeers().map((p) => p.peerId),
    channels: cm.list_channels().map(channelView),
    pendingOutbound: payments.filter((p) => p.direction === 'outbound' && p.status === 'pending').length,
    ...(full ? { payments } : {}),
  };
}
