// routes.find: the node's own router (LDK's, over our gossip graph and the scorer that learns from
// our payments, our usable channels as first hops) computes LSP → payee; our own hop (the wallet's
// channel to us, our forwarding fee and CLTV delta on the outgoing channel) is put in front, so a
// wallet without a graph can pay along it.
import { ApiError } from '@lpw/api';
import { isNodeError, type LightningNode, nodeIdBytes } from '@lpw/node';

export interface RouteRequest {
  /** The wallet that will pay (its channel with us is the first hop). */
  payerNodeId?: string;
  payeeNodeId: string;
  amountMsat: bigint;
  finalCltvExpiryDelta: number;
}

/**
 * One hop as in LDK's `RouteHop`: the channel `shortChannelId` leads to `nodeId`, which takes
 * `feeMsat` and `cltvExpiryDelta` for the next channel; on the last hop they are the amount and
 * the payee's final delta. A path starts with our own hop (the payer's channel to us).
 */
export interface RouteHop {
  nodeId: string;
  shortChannelId: bigint;
  feeMsat: bigint;
  cltvExpiryDelta: number;
}

/** LDK's default CLTV delta, for a first channel whose config we cannot read. */
const DEFAULT_CLTV_EXPIRY_DELTA = 72;

/** Routes on our graph for a wallet that has none, each starting with the hop to us. */
export function findLspRoute(node: LightningNode, request: RouteRequest): RouteHop[][] {
  // The schema checks only the shape; the node checks the curve before LDK sees the key (LDK
  // panics on one that is not a point, killing the whole LSP), and this names the field.
  try {
    nodeIdBytes(request.payeeNodeId, 'payee_node_id');
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
  let paths: ReturnType<LightningNode['findRoute']>;
  try {
    paths = node.findRoute(request);
  } catch (error) {
    if (isNodeError(error, 'ROUTE_NOT_FOUND')) throw new ApiError('NOT_FOUND', `no route: ${error.message}`);
    throw error;
  }
  const payerChannel = request.payerNodeId
    ? node.listChannels(request.payerNodeId).find((c) => c.isUsable)
    : undefined;
  return paths.map(({ hops, firstHopForwarding: forwarding }) => {
    // what the payer sends us for the first outgoing hop: the path's total
    const forwardedMsat = hops.reduce((a, h) => a + h.feeMsat, 0n);
    const ourHop: RouteHop = {
      nodeId: node.nodeId,
      shortChannelId: payerChannel?.shortChannelId ?? payerChannel?.inboundScidAlias ?? 0n,
      feeMsat: forwarding
        ? forwarding.feeBaseMsat + (forwardedMsat * forwarding.feeProportionalMillionths) / 1_000_000n
        : 0n,
      cltvExpiryDelta: forwarding?.cltvExpiryDelta ?? DEFAULT_CLTV_EXPIRY_DELTA,
    };
    return [ourHop, ...hops];
  });
}
