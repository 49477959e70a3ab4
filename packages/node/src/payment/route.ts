// Route hints for a payer that keeps no graph: a path someone else found (the LSP's routes.find)
// becomes private hops beside the payee's own, and payment parameters carry them to LDK's router.
// The one place a path turns into hints and hints into LDK's payment parameters.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import type { Own } from '../ldk/free.ts';
import { fromHex } from '../ldk/values.ts';

/**
 * One hop of a private route towards the payee, as in a BOLT 11 `r` field: the channel
 * `shortChannelId` leaving `srcNodeId`, with the fees and CLTV delta that node charges for it.
 */
export interface RouteHintHop {
  srcNodeId: string;
  shortChannelId: bigint;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
}

/**
 * One hop of a found path, as a router reports it: the node reached over `shortChannelId`, and what
 * that node charges (`feeMsat`, for the amount the path was found for) and adds (`cltvExpiryDelta`)
 * to forward over the next hop.
 */
export interface PathHop {
  nodeId: string;
  shortChannelId: bigint;
  feeMsat: bigint;
  cltvExpiryDelta: number;
}

/** A found path as route hints, and the routing fee it costs for the amount it was found for. */
export interface PathHints {
  payee: string;
  hints: RouteHintHop[];
  feeMsat: bigint;
}

/** LDK's own fee limit when a caller gives none: 1% of the amount plus 50 sat. */
export function defaultMaxFeeMsat(amountMsat: bigint): bigint {
  return amountMsat / 100n + 50_000n;
}

/**
 * A path from our channel's peer on (hops[0] is our own channel to it) as one route hint: hop k ≥ 1
 * is the channel hops[k].shortChannelId leaving hops[k-1].nodeId, which charges hops[k-1].feeMsat
 * (for this amount, so a base fee) and adds hops[k-1].cltvExpiryDelta for it.
 */
export function pathHints(hops: readonly PathHop[]): PathHints {
  const last = hops[hops.length - 1];
  if (!last) throw new NodeError('ROUTE_NOT_FOUND', 'the path has no hops');
  let feeMsat = 0n;
  const hints = hops.slice(1).map((hop, k) => {
    const from = hops[k]!;
    if (from.feeMsat < 0n || from.feeMsat > 0xffff_ffffn)
      throw new NodeError('ROUTE_NOT_FOUND', `hop fee ${from.feeMsat} msat out of range`);
    feeMsat += from.feeMsat;
    return {
      srcNodeId: from.nodeId,
      shortChannelId: hop.shortChannelId,
      feeBaseMsat: Number(from.feeMsat),
      feeProportionalMillionths: 0,
      cltvExpiryDelta: from.cltvExpiryDelta,
    };
  });
  return { payee: last.nodeId, hints, feeMsat };
}

/**
 * Node ids already found to be curve points. The check is a square root mod p (~0.1 ms), and an
 * LSP's route query made three (the payee, the payer, each forwarding peer) of the same few keys:
 * under the hostile bench they were 29% of a route query. Bounded: when full it starts over.
 */
const curvePoints = new Set<string>();
const CURVE_POINTS_MAX = 10_000;

/** A node id (33-byte compressed key, hex) as bytes; INVALID_INPUT unless it is a curve point. */
export function nodeIdBytes(hex: string, what = 'peerId'): Uint8Array {
  const bytes = fromHex(hex, what);
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) {
    throw new NodeError('INVALID_INPUT', `"${what}" expected a 33-byte compressed public key`);
  }
  if (curvePoints.has(hex)) return bytes;
  // LDK panics (killing the WASM instance for every node in it) on a key that is not a curve point
  try {
    secp256k1.Point.fromBytes(bytes).assertValidity();
  } catch {
    throw new NodeError('INVALID_INPUT', `"${what}" is not a valid secp256k1 public key`);
  }
  if (curvePoints.size >= CURVE_POINTS_MAX) curvePoints.clear();
  curvePoints.add(hex);
  return bytes;
}

export function assertBigint(value: unknown, what: string, min = 0n): asserts value is bigint {
  if (typeof value !== 'bigint')
    throw new NodeError('INVALID_INPUT', `"${what}" expected bigint, got ${typeof value}`);
  if (value < min) throw new NodeError('INVALID_INPUT', `"${what}" must be ≥ ${min}, got ${value}`);
}

function assertInteger(value: unknown, what: string, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new NodeError('INVALID_INPUT', `"${what}" expected an integer 0..${max}, got ${String(value)}`);
  }
}

function routeHintHop(hop: RouteHintHop, what: string, own: Own): ldk.RouteHintHop {
  if (typeof hop !== 'object' || hop === null)
    throw new NodeError('INVALID_INPUT', `"${what}" expected a hop`);
  assertBigint(hop.shortChannelId, `${what}.shortChannelId`);
  if (hop.shortChannelId > 0xffff_ffff_ffff_ffffn) {
    throw new NodeError('INVALID_INPUT', `"${what}.shortChannelId" out of range`);
  }
  assertInteger(hop.feeBaseMsat, `${what}.feeBaseMsat`, 0xffff_ffff);
  assertInteger(hop.feeProportionalMillionths, `${what}.feeProportionalMillionths`, 0xffff_ffff);
  assertInteger(hop.cltvExpiryDelta, `${what}.cltvExpiryDelta`, 0xffff);
  return own(
    ldk.RouteHintHop.constructor_new(
      nodeIdBytes(hop.srcNodeId, `${what}.srcNodeId`),
      hop.shortChannelId,
      own(ldk.RoutingFees.constructor_new(hop.feeBaseMsat, hop.feeProportionalMillionths)),
      hop.cltvExpiryDelta,
      own(ldk.Option_u64Z.constructor_none()),
      own(ldk.Option_u64Z.constructor_none()),
    ),
  );
}

/**
 * Checked route hints as LDK's (an empty route is left out: it would say nothing). A caller gives
 * at most `maxRoutes`; an invoice's own hints are bounded by its length instead.
 */
export function ldkRouteHints(
  routes: readonly RouteHintHop[][] | undefined,
  own: Own,
  maxRoutes = 32,
): ldk.RouteHint[] {
  if (routes === undefined) return [];
  if (!Array.isArray(routes) || routes.length > maxRoutes) {
    throw new NodeError('INVALID_INPUT', `"routeHints" expected an array of at most ${maxRoutes} routes`);
  }
  return routes
    .map((route, i) => {
      if (!Array.isArray(route) || route.length > 19) {
        throw new NodeError('INVALID_INPUT', `"routeHints[${i}]" expected at most 19 hops`);
      }
      return route;
    })
    .filter((route) => route.length > 0)
    .map((route, i) =>
      own(
        ldk.RouteHint.constructor_new(
          route.map((hop, j) => routeHintHop(hop, `routeHints[${i}][${j}]`, own)),
        ),
      ),
    );
}

/**
 * Route parameters to `payee` over `hints` (beside none of LDK's own: a node without a graph
 * routes on these and its channels alone), keeping LDK's path and CLTV limits from `base`.
 */
export function routeParamsWithHints(
  request: {
    payee: Uint8Array;
    hints: ldk.RouteHint[];
    features: ldk.Bolt11InvoiceFeatures;
    finalCltvExpiryDelta: number;
    amountMsat: bigint;
    maxFeeMsat: bigint;
    base: ldk.PaymentParameters;
  },
  own: Own,
): ldk.RouteParameters {
  const { base } = request;
  const paymentParams = own(
    ldk.PaymentParameters.constructor_new(
      own(
        ldk.Payee.constructor_clear(
          request.payee,
          request.hints,
          request.features,
          request.finalCltvExpiryDelta,
        ),
      ),
      own(base.get_expiry_time()),
      base.get_max_total_cltv_expiry_delta(),
      base.get_max_path_count(),
      base.get_max_path_length(),
      base.get_max_channel_saturation_power_of_half(),
      [],
      [],
    ),
  );
  return own(
    ldk.RouteParameters.constructor_new(
      paymentParams,
      request.amountMsat,
      own(ldk.Option_u64Z.constructor_some(request.maxFeeMsat)),
    ),
  );
}
