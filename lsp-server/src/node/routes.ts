// routes.find: the LSP's router (LDK find_route over our gossip graph, our usable channels as first
// hops) computes LSP → payee; our own hop (the wallet's channel to us, our forwarding fee and CLTV
// delta on the outgoing channel) is put in front, so a wallet without a graph can pay along it.
import { ApiError } from '@lpw/api';
import type { LightningNode } from '@lpw/node';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as ldk from 'lightningdevkit';
import type { RouteHop, RouteRequest } from './lsp-node.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bool = (v: boolean | number) => v === true || v === 1;

/** A finder bound to `node`; it keeps its LDK callback objects alive for the node's life. */
export function routeFinder(node: LightningNode): (request: RouteRequest) => RouteHop[][] {
  // LDK holds callback objects weakly: this logger lives as long as the closure below
  const logger = ldk.Logger.new_impl({ log() {} });
  let scorer: ldk.ProbabilisticScorer | undefined;
  return (request) => {
    const cm = node.ldk.channelManager;
    const graph = node.ldk.networkGraph;
    scorer ??= ldk.ProbabilisticScorer.constructor_new(
      ldk.ProbabilisticScoringDecayParameters.constructor_default(),
      graph,
      logger,
    );
    // LDK panics on a key that is not a curve point, and the panic kills the WASM instance: the
    // whole LSP. The schema checks only the shape; the curve is checked here, before LDK sees it.
    try {
      secp256k1.Point.fromHex(request.payeeNodeId).assertValidity();
    } catch {
      throw new ApiError('INVALID_INPUT', 'payee_node_id is not a secp256k1 public key', {
        field: 'payee_node_id',
      });
    }
    if (request.payeeNodeId === node.nodeId) {
      throw new ApiError('INVALID_INPUT', 'the payee is this LSP: pay it directly', {
        field: 'payee_node_id',
      });
    }
    const params = ldk.RouteParameters.constructor_from_payment_params_and_value(
      ldk.PaymentParameters.constructor_from_node_id(
        Buffer.from(request.payeeNodeId, 'hex'),
        request.finalCltvExpiryDelta,
      ),
      request.amountMsat,
    );
    const usable = cm.list_usable_channels();
    const found = ldk.UtilMethods.constructor_find_route(
      cm.get_our_node_id(),
      params,
      graph,
      usable,
      logger,
      scorer.as_ScoreLookUp(),
      ldk.ProbabilisticScoringFeeParameters.constructor_default(),
      crypto.getRandomValues(new Uint8Array(32)),
    );
    if (!bool(found.is_ok())) {
      const err = (found as unknown as { err: ldk.LightningError }).err;
      throw new ApiError('NOT_FOUND', `no route: ${err.get_err()}`);
    }
    const route = (found as unknown as { res: ldk.Route }).res;
    const payerChannel = request.payerNodeId
      ? node.listChannels().find((c) => c.peerId === request.payerNodeId && c.isUsable)
      : undefined;
    return route.get_paths().map((path) => {
      const hops = path.get_hops();
      const first = hops[0]!;
      // what the payer sends us for the first outgoing hop: the path's total
      const forwardedMsat = hops.reduce((a, h) => a + h.get_fee_msat(), 0n);
      const out = usable.find((c) => {
        const scid = c.get_short_channel_id();
        return scid instanceof ldk.Option_u64Z_Some && scid.some === first.get_short_channel_id();
      });
      const config = out?.get_config();
      const base = BigInt(config?.get_forwarding_fee_base_msat() ?? 0);
      const proportional = BigInt(config?.get_forwarding_fee_proportional_millionths() ?? 0);
      const ourHop: RouteHop = {
        nodeId: node.nodeId,
        shortChannelId: payerChannel?.shortChannelId ?? payerChannel?.inboundScidAlias ?? 0n,
        feeMsat: base + (forwardedMsat * proportional) / 1_000_000n,
        cltvExpiryDelta: config?.get_cltv_expiry_delta() ?? 72,
      };
      return [
        ourHop,
        ...hops.map((h) => ({
          nodeId: hex(h.get_pubkey()),
          shortChannelId: h.get_short_channel_id(),
          feeMsat: h.get_fee_msat(),
          cltvExpiryDelta: h.get_cltv_expiry_delta(),
        })),
      ];
    });
  };
}
