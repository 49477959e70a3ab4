// Route finding for others (an LSP answers routes.find for wallets that keep no graph): LDK's
// router over the node's own gossip graph and the scorer that learns from its payments' outcomes.
// First hops: our usable channels with the payee and with the peers that forward: those of our
// announced channels and those the graph knows (a hub we hold a private channel with). The other
// peers are wallets, which forward nothing, and an LSP holds thousands of their channels: listing
// every channel per route cost ~0.1 ms a channel (a second at 10,000), copied twice.
import * as ldk from 'lightningdevkit';
import { NodeError } from './errors.ts';
import { type Own, withLdk } from './ldk/free.ts';
import { bool, isNullPointer, someOf, toHex } from './ldk/values.ts';
import { assertBigint, nodeIdBytes, type PathHop } from './payment/route.ts';

export interface RouteRequest {
  payeeNodeId: string;
  amountMsat: bigint;
  finalCltvExpiryDelta: number;
}

/** What this node charges and adds to forward over a channel (its ChannelConfig). */
export interface Forwarding {
  feeBaseMsat: bigint;
  feeProportionalMillionths: bigint;
  cltvExpiryDelta: number;
}

export interface FoundPath {
  /** From our first channel on, as LDK's RouteHops (the last hop's fee is the amount). */
  hops: PathHop[];
  /** Ours on the path's first channel, for a payer that reaches us first. */
  firstHopForwarding: Forwarding | undefined;
}

export interface RoutingParts {
  channelManager: ldk.ChannelManager;
  graph: ldk.NetworkGraph;
  scorer: ldk.ProbabilisticScorer;
  logger: ldk.Logger;
  random: (length: number) => Uint8Array;
  forwardingPeers: ForwardingPeers;
}

/**
 * The peers that forward: every channel listed once, at the first need, then kept by `changed` on
 * each channel opened or closed (a look at that one peer), and listed again every REBUILD_MS for
 * peers the graph has come to know since.
 */
export class ForwardingPeers {
  private peers: Set<string> | undefined;
  private builtAtMs = 0;

  constructor(
    private readonly channelManager: ldk.ChannelManager,
    private readonly graph: ldk.NetworkGraph,
    private readonly now: () => number,
  ) {}

  /** A channel with `peerId` was opened or closed. */
  changed(peerId: string): void {
    if (!this.peers) return;
    const peer = nodeIdBytes(peerId, 'peerId');
    const forwards = withLdk((own) => {
      const channels = own(this.channelManager.list_channels_with_counterparty(peer));
      if (channels.some((c) => bool(c.get_is_announced()))) return true;
      return channels.length > 0 && this.knownToGraph(own, [peer]).length > 0;
    });
    if (forwards) this.peers.add(peerId);
    else this.peers.delete(peerId);
  }

  /** Our channels with these peers (freed with `own`). */
  channels(own: Own): ldk.ChannelDetails[] {
    return [...this.list()].flatMap((peer) =>
      own(this.channelManager.list_channels_with_counterparty(nodeIdBytes(peer, 'peer'))),
    );
  }

  list(): Set<string> {
    if (this.peers && this.now() - this.builtAtMs < REBUILD_MS) return this.peers;
    this.builtAtMs = this.now();
    this.peers = withLdk((own) => {
      const peers = new Set<string>();
      const found = new Set<string>();
      for (const c of own(this.channelManager.list_channels())) {
        const peer = toHex(own(c.get_counterparty()).get_node_id());
        peers.add(peer);
        if (bool(c.get_is_announced())) found.add(peer);
      }
      const unannounced = [...peers].filter((peer) => !found.has(peer));
      const known = this.knownToGraph(
        own,
        unannounced.map((peer) => nodeIdBytes(peer, 'peer')),
      );
      for (const peer of known) found.add(toHex(peer));
      return found;
    });
    return this.peers;
  }

  /** The `peers` the gossip graph has a node for, through one read view for them all. */
  private knownToGraph(own: Own, peers: Uint8Array[]): Uint8Array[] {
    const view = this.graph.read_only();
    try {
      return peers.filter(
        (peer) => !isNullPointer(own(view.node(own(ldk.NodeId.constructor_from_pubkey(peer))))),
      );
    } finally {
      view.free();
    }
  }
}

/** Peers the graph came to know after their channel opened count as forwarding within this. */
const REBUILD_MS = 10 * 60_000;

/** The paths LDK's router finds from this node to the payee; ROUTE_NOT_FOUND when there is none. */
export function findRoute(parts: RoutingParts, request: RouteRequest): FoundPath[] {
  const payee = nodeIdBytes(request.payeeNodeId, 'payeeNodeId');
  assertBigint(request.amountMsat, 'amountMsat', 1n);
  const cltv = request.finalCltvExpiryDelta;
  if (!Number.isInteger(cltv) || cltv < 0 || cltv > 0xffff)
    throw new NodeError('INVALID_INPUT', `"finalCltvExpiryDelta" expected an integer 0..65535, got ${cltv}`);
  return withLdk((own) => {
    const cm = parts.channelManager;
    const params = own(
      ldk.RouteParameters.constructor_from_payment_params_and_value(
        own(ldk.PaymentParameters.constructor_from_node_id(payee, cltv)),
        request.amountMsat,
      ),
    );
    const payeeChannels = parts.forwardingPeers.list().has(toHex(payee))
      ? []
      : own(cm.list_channels_with_counterparty(payee));
    const usable = [...payeeChannels, ...parts.forwardingPeers.channels(own)].filter((c) =>
      bool(c.get_is_usable()),
    );
    const found = own(
      ldk.UtilMethods.constructor_find_route(
        cm.get_our_node_id(),
        params,
        parts.graph,
        usable,
        parts.logger,
        parts.scorer.as_ScoreLookUp(),
        own(ldk.ProbabilisticScoringFeeParameters.constructor_default()),
        parts.random(32),
      ),
    );
    if (!bool(found.is_ok())) {
      const err = (found as unknown as { err: ldk.LightningError }).err;
      throw new NodeError('ROUTE_NOT_FOUND', err.get_err());
    }
    const route = (found as unknown as { res: ldk.Route }).res;
    return own(route.get_paths()).map((path) => {
      const hops = own(path.get_hops());
      const firstScid = hops[0]?.get_short_channel_id();
      const out = usable.find((c) => someOf<bigint>(own(c.get_short_channel_id())) === firstScid);
      const config = out ? own(out.get_config()) : undefined;
      const known = config !== undefined && !isNullPointer(config);
      return {
        hops: hops.map((h) => ({
          nodeId: toHex(h.get_pubkey()),
          shortChannelId: h.get_short_channel_id(),
          feeMsat: h.get_fee_msat(),
          cltvExpiryDelta: h.get_cltv_expiry_delta(),
        })),
        firstHopForwarding: known
          ? {
              feeBaseMsat: BigInt(config.get_forwarding_fee_base_msat()),
              feeProportionalMillionths: BigInt(config.get_forwarding_fee_proportional_millionths()),
              cltvExpiryDelta: config.get_cltv_expiry_delta(),
            }
          : undefined,
      };
    });
  });
}
