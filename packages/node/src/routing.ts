// Route finding for others (an LSP answers routes.find for wallets that keep no graph): LDK's
// router over the node's own gossip graph and the scorer that learns from its payments' outcomes.
// First hops: our usable channels with the payee and with the peers of our announced channels. A
// private channel leads to a wallet, which forwards nothing, and an LSP holds thousands of them:
// listing every channel per route cost ~0.1 ms a channel (a second at 10,000), copied twice.
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
 * The peers of our announced channels: every channel listed once, at the first route, then kept
 * by `changed` on each channel opened or closed (a look at that one peer's channels).
 */
export class ForwardingPeers {
  private peers: Set<string> | undefined;

  constructor(private readonly channelManager: ldk.ChannelManager) {}

  /** A channel with `peerId` was opened or closed. */
  changed(peerId: string): void {
    if (!this.peers) return;
    const announced = withLdk((own) =>
      own(this.channelManager.list_channels_with_counterparty(nodeIdBytes(peerId, 'peerId'))).some((c) =>
        bool(c.get_is_announced()),
      ),
    );
    if (announced) this.peers.add(peerId);
    else this.peers.delete(peerId);
  }

  /** Our channels with these peers (freed with `own`). */
  channels(own: Own): ldk.ChannelDetails[] {
    return [...this.list()].flatMap((peer) =>
      own(this.channelManager.list_channels_with_counterparty(nodeIdBytes(peer, 'peer'))),
    );
  }

  list(): Set<string> {
    this.peers ??= withLdk(
      (own) =>
        new Set(
          own(this.channelManager.list_channels())
            .filter((c) => bool(c.get_is_announced()))
            .map((c) => toHex(own(c.get_counterparty()).get_node_id())),
        ),
    );
    return this.peers;
  }
}

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
