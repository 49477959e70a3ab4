// The RoutingMessageHandler of a node that keeps a graph (LDK's gossip sync, each channel_announcement's
// funding output checked on the chain), or of a node built to count the gossip it would ignore;
// both count the gossip each peer sends us.
//
// A wallet has neither: its routing handler is LDK's IgnoringMessageHandler (builder.ts), and its
// gossip_queries feature comes from the custom message handler (custom-messages.ts), so an LSP
// relays it none. This module is imported by `createNode` only, never by `createWalletNode`: the
// PWA's worker bundle holds none of it, nor the LDK glue behind a RoutingMessageHandler of our own.
// A counting node without a graph advertises no feature of its own either, so its peers see the
// very init a wallet sends (lsp-server/test/gossip-wallets.test.ts compares them).
import * as ldk from 'lightningdevkit';
import type { ChainSource } from './chain/source.ts';
import { type FundingChecks, GossipUtxoLookup } from './gossip-utxo.ts';
import { type CallbackErrorSink, guard, type Retainer } from './ldk/callbacks.ts';
import { freeLdk, withLdk } from './ldk/free.ts';
import { bool, someOf, toHex } from './ldk/values.ts';

/** Gossip messages (BOLT 7 types 256, 257, 258) received, and their bytes on the wire (type included). */
export interface GossipTraffic {
  channelAnnouncements: number;
  nodeAnnouncements: number;
  channelUpdates: number;
  bytes: number;
}

/** What `createGossipHandler` needs from the node being built (builder.ts). */
export interface GossipParts {
  /** The graph gossip fills; undefined: a node that only counts the gossip it ignores. */
  graph: ldk.NetworkGraph | undefined;
  source: ChainSource;
  /** The chain this node is on (genesis, as LDK's ChainHash). */
  chainHash: Uint8Array;
  channelManager: ldk.ChannelManager;
  logger: ldk.Logger;
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
  stopped: () => boolean;
  wake: () => void;
  onLookupFailed: (scid: bigint, error: unknown) => void;
}

/** The gossip handler of a node that keeps a graph (with its funding checks) or counts gossip. */
export function createGossipHandler(p: GossipParts): GossipHandler {
  const { graph, retainer, onCallbackError } = p;
  // no channel enters the graph unless its funding output is on the chain (BOLT 7)
  const utxoLookup = graph
    ? new GossipUtxoLookup({
        source: p.source,
        chainHash: p.chainHash,
        graph,
        retainer,
        onCallbackError,
        stopped: p.stopped,
        wake: p.wake,
        onLookupFailed: p.onLookupFailed,
      })
    : undefined;
  return new GossipHandler({
    graph,
    utxoLookup,
    channelManager: p.channelManager,
    logger: p.logger,
    retainer,
    onCallbackError,
  });
}

interface GossipHandlerContext {
  /** The graph gossip fills; undefined: a node that only counts (it ignores gossip like a wallet). */
  graph: ldk.NetworkGraph | undefined;
  /** Checks each channel_announcement's funding output on the chain (gossip-utxo.ts); with the graph. */
  utxoLookup: GossipUtxoLookup | undefined;
  channelManager: ldk.ChannelManager;
  logger: ldk.Logger;
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
}

const TYPE_BYTES = 2;

export class GossipHandler {
  readonly handler: ldk.RoutingMessageHandler;
  private readonly received = new Map<string, GossipTraffic>();

  constructor(private readonly c: GossipHandlerContext) {
    const { retainer, onCallbackError: onError } = c;
    const sync = c.graph
      ? retainer.keep(
          ldk.P2PGossipSync.constructor_new(c.graph, ldk.Option_UtxoLookupZ.constructor_none(), c.logger),
        )
      : undefined;
    if (sync) c.utxoLookup?.attach(sync);
    const inner = sync ? retainer.keep(sync.as_RoutingMessageHandler()) : undefined;
    const events = sync ? retainer.keep(sync.as_MessageSendEventsProvider()) : undefined;
    const notForwarded = () => ldk.Result_boolLightningErrorZ.constructor_ok(false);
    const unhandled = () =>
      ldk.Result_boolLightningErrorZ.constructor_err(
        ldk.LightningError.constructor_new(
          'gossip handler failed',
          ldk.ErrorAction.constructor_ignore_error(),
        ),
      );
    const ok = () => ldk.Result_NoneLightningErrorZ.constructor_ok();
    const impl: ldk.RoutingMessageHandlerInterface = {
      handle_channel_announcement: guard(
        'RoutingMessageHandler.handle_channel_announcement',
        (from: Uint8Array, msg: ldk.ChannelAnnouncement) => {
          this.count(from, 'channelAnnouncements', msg.write().length);
          return inner ? inner.handle_channel_announcement(from, msg) : notForwarded();
        },
        unhandled,
        onError,
      ),
      handle_node_announcement: guard(
        'RoutingMessageHandler.handle_node_announcement',
        (from: Uint8Array, msg: ldk.NodeAnnouncement) => {
          this.count(from, 'nodeAnnouncements', msg.write().length);
          return inner ? inner.handle_node_announcement(from, msg) : notForwarded();
        },
        unhandled,
        onError,
      ),
      handle_channel_update: guard(
        'RoutingMessageHandler.handle_channel_update',
        (from: Uint8Array, msg: ldk.ChannelUpdate) => {
          // the peer of our unannounced channel sends us its update directly (BOLT 7): not gossip
          if (inner || !this.isOwnPrivateChannel(msg)) this.count(from, 'channelUpdates', msg.write().length);
          return inner ? inner.handle_channel_update(from, msg) : notForwarded();
        },
        unhandled,
        onError,
      ),
      get_next_channel_announcement: (start: bigint) =>
        inner
          ? inner.get_next_channel_announcement(start)
          : ldk.Option_C3Tuple_ChannelAnnouncementChannelUpdateChannelUpdateZZ.constructor_none(),
      // null is "none" to the bindings' glue (a nullable return)
      get_next_node_announcement: (start: ldk.NodeId) =>
        inner ? inner.get_next_node_announcement(start) : (null as unknown as ldk.NodeAnnouncement),
      peer_connected: guard(
        'RoutingMessageHandler.peer_connected',
        (from: Uint8Array, init: ldk.Init, inbound: boolean) =>
          inner ? inner.peer_connected(from, init, inbound) : ldk.Result_NoneNoneZ.constructor_ok(),
        () => ldk.Result_NoneNoneZ.constructor_ok(),
        onError,
      ),
      handle_reply_channel_range: (from: Uint8Array, msg: ldk.ReplyChannelRange) =>
        inner ? inner.handle_reply_channel_range(from, msg) : ok(),
      handle_reply_short_channel_ids_end: (from: Uint8Array, msg: ldk.ReplyShortChannelIdsEnd) =>
        inner ? inner.handle_reply_short_channel_ids_end(from, msg) : ok(),
      handle_query_channel_range: (from: Uint8Array, msg: ldk.QueryChannelRange) =>
        inner ? inner.handle_query_channel_range(from, msg) : ok(),
      handle_query_short_channel_ids: (from: Uint8Array, msg: ldk.QueryShortChannelIds) =>
        inner ? inner.handle_query_short_channel_ids(from, msg) : ok(),
      processing_queue_high: () => (inner ? inner.processing_queue_high() : false),
      provided_node_features: () =>
        inner ? inner.provided_node_features() : ldk.NodeFeatures.constructor_empty(),
      // without a graph, nothing: a wallet's init (gossip_queries from custom-messages.ts), exactly
      provided_init_features: (theirNodeId: Uint8Array) =>
        inner ? inner.provided_init_features(theirNodeId) : ldk.InitFeatures.constructor_empty(),
    };
    const provider: ldk.MessageSendEventsProviderInterface = {
      get_and_clear_pending_msg_events: () => (events ? events.get_and_clear_pending_msg_events() : []),
    };
    retainer.keep(impl);
    retainer.keep(provider);
    this.handler = retainer.keep(ldk.RoutingMessageHandler.new_impl(impl, provider));
  }

  /** The funding-output checks of channel_announcements; undefined on a node without a graph. */
  fundingChecks(): FundingChecks | undefined {
    return this.c.utxoLookup?.checks;
  }

  /** What `peerId` has sent us, or what every peer has when none is named. */
  receivedFrom(peerId?: string): GossipTraffic {
    if (peerId !== undefined) return { ...(this.received.get(peerId.toLowerCase()) ?? emptyTraffic()) };
    const total = emptyTraffic();
    for (const t of this.received.values()) {
      total.channelAnnouncements += t.channelAnnouncements;
      total.nodeAnnouncements += t.nodeAnnouncements;
      total.channelUpdates += t.channelUpdates;
      total.bytes += t.bytes;
    }
    return total;
  }

  private count(from: Uint8Array, kind: Exclude<keyof GossipTraffic, 'bytes'>, length: number): void {
    const peerId = toHex(from);
    let traffic = this.received.get(peerId);
    if (!traffic) {
      traffic = emptyTraffic();
      this.received.set(peerId, traffic);
    }
    traffic[kind] += 1;
    traffic.bytes += length + TYPE_BYTES;
  }

  /** A counting node (a wallet's twin) has a channel or two: listing them per update costs nothing (never on a graph node). */
  private isOwnPrivateChannel(msg: ldk.ChannelUpdate): boolean {
    const contents = msg.get_contents();
    const scid = contents.get_short_channel_id();
    freeLdk(contents);
    const open = this.c.channelManager.list_channels();
    try {
      return open.some(
        (ch) =>
          !bool(ch.get_is_announced()) &&
          withLdk((own) =>
            [ch.get_short_channel_id(), ch.get_inbound_scid_alias(), ch.get_outbound_scid_alias()].some(
              (option) => someOf<bigint>(own(option)) === scid,
            ),
          ),
      );
    } finally {
      freeLdk(open);
    }
  }
}

function emptyTraffic(): GossipTraffic {
  return { channelAnnouncements: 0, nodeAnnouncements: 0, channelUpdates: 0, bytes: 0 };
}
