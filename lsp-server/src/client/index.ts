// The wallet's side of this LSP, shared by the wallet app and the tests: log in with the node key,
// open the Lightning peer link over the LSP's WebSocket, receive through a JIT channel (LSPS2
// "MPP+fixed-invoice": menu → buy → our own invoice over the intercept SCID), and pay along a route
// the LSP found (a wallet keeps no graph). Browser-safe: no Node builtins.
//
// The wallet node must be created with `role: 'wallet'` and `trustedPeers: [lspNodeId]`, so it
// accepts the LSP's zero-conf channel.
import {
  ApiError,
  type InfoOutput,
  loginMessage,
  type OpeningFeeParamsWire,
  openingFeeMsat,
  openingFeeParamsInput,
  parseScid,
  peerWebSocketProtocols,
  type RoutesFindOutput,
  signNodeMessage,
} from '@lpw/api';
import {
  createJitInvoice,
  type LightningNode,
  NodeError,
  type NodeIdentity,
  type RouteHintHop,
  type SentPayment,
  type WebSocketConstructor,
  webSocket,
} from '@lpw/node';
import { createTRPCClient, httpLink } from '@trpc/client';
import * as ldk from 'lightningdevkit';
import type { AppRouter } from '../router/index.ts';
import { type BackoffOptions, backoffLink } from './backoff.ts';

export { type BackoffOptions, backoffLink, isLspBusy, LspBusyError, rateLimitWaitSec } from './backoff.ts';

export type LspTrpcClient = ReturnType<typeof createTRPCClient<AppRouter>>;

export interface LspClientOptions {
  /** The LSP's base URL, e.g. https://lsp.example.com */
  url: string;
  /** WebSocket implementation (browsers have one; Node tests pass `ws`). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /** How calls refused with RATE_LIMITED are retried (backoff.ts); then they fail with LspBusyError. */
  backoff?: BackoffOptions;
}

/** A JIT receive: the invoice to hand out and what the LSP will keep from it. */
export interface JitReceive {
  bolt11: string;
  paymentHash: string;
  amountMsat: bigint;
  /** The opening fee the LSP skims; the node refuses to claim if more is taken. */
  openingFeeMsat: bigint;
  jitChannelScid: string;
}

export type RoutedPayment = SentPayment;

/** The parts of a wallet node the client uses. */
export type WalletNode = Pick<
  LightningNode,
  | 'nodeId'
  | 'network'
  | 'ldk'
  | 'connect'
  | 'isConnected'
  | 'createInboundPayment'
  | 'signInvoice'
  | 'waitFor'
  | 'on'
  | 'payInvoice'
>;

const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A hop of a route the LSP found (`routes.find`), amounts as decimal strings. */
interface FoundHop {
  node_id: string;
  short_channel_id: string;
  fee_msat: string;
  cltv_expiry_delta: number;
}

/**
 * The LSP's path as one route hint from the LSP on: hop k ≥ 1 is the channel hops[k].short_channel_id
 * leaving hops[k-1].node_id, which charges hops[k-1].fee_msat (for this amount, so a base fee) and
 * adds hops[k-1].cltv_expiry_delta for it.
 */
export function routeHintFromPath(hops: readonly FoundHop[]): RouteHintHop[] {
  return hops.slice(1).map((hop, k) => {
    const from = hops[k]!;
    const feeMsat = BigInt(from.fee_msat);
    if (feeMsat > 0xffff_ffffn) throw new NodeError('ROUTE_NOT_FOUND', 'hop fee out of range');
    return {
      srcNodeId: from.node_id,
      shortChannelId: parseScid(hop.short_channel_id),
      feeBaseMsat: Number(feeMsat),
      feeProportionalMillionths: 0,
      cltvExpiryDelta: from.cltv_expiry_delta,
    };
  });
}

/**
 * @example
 * const lsp = createLspClient({ url: 'https://lsp.example.com' });
 * await lsp.login(node); await lsp.connect(node);
 * const { bolt11, openingFeeMsat } = await lsp.receiveJit(node, { amountMsat: 50_000_000n, description: 'coffee' });
 */
export function createLspClient(options: LspClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  let token: string | undefined;
  let info: InfoOutput | undefined;
  const trpc: LspTrpcClient = createTRPCClient<AppRouter>({
    links: [
      backoffLink(options.backoff),
      httpLink({
        url: `${base}/trpc`,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    ],
  });

  const getInfo = async (): Promise<InfoOutput> => {
    info ??= await trpc.info.get.query();
    return info;
  };

  return {
    trpc,
    info: getInfo,
    get token() {
      return token;
    },

    /**
     * Sign the LSP's challenge with the node key; the session token is kept for later calls. A
     * running node, or its identity alone (`nodeIdentity(seed)`: log in before the node starts).
     */
    async login(node: Pick<WalletNode, 'nodeId'> & Pick<NodeIdentity, 'ldk'>): Promise<string> {
      const { challenge } = await trpc.auth.challenge.mutate();
      const secret = node.ldk.keysManager.get_node_secret_key();
      try {
        const signature = signNodeMessage(loginMessage(challenge), secret);
        token = (await trpc.auth.login.mutate({ nodeId: node.nodeId, challenge, signature })).token;
      } finally {
        secret.fill(0);
      }
      return token;
    },

    /** Open (or keep) the BOLT 8 link to the LSP over its WebSocket endpoint. */
    async connect(node: WalletNode): Promise<void> {
      if (!token) throw new ApiError('SESSION_REQUIRED', 'log in before connecting');
      const lsp = await getInfo();
      if (node.isConnected(lsp.nodeId)) return;
      // the token rides in Sec-WebSocket-Protocol: URLs end up in proxies' logs
      const wsUrl = `${base.replace(/^http/, 'ws')}${lsp.websocketPath}`;
      await node.connect(
        lsp.nodeId,
        webSocket(wsUrl, options.WebSocket, { protocols: peerWebSocketProtocols(token) }),
      );
    },

    /**
     * Buy a JIT channel for a payment of `amountMsat` at the cheapest offered fee and build the
     * invoice (route hint over the intercept SCID). `maxFeeMsat` refuses a dearer menu.
     */
    async receiveJit(
      node: WalletNode,
      request: { amountMsat: bigint; description: string; expirySecs?: number; maxFeeMsat?: bigint },
    ): Promise<JitReceive> {
      const lsp = await getInfo();
      const { opening_fee_params_menu: menu } = await trpc.jit.getInfo.query({});
      const priced = menu
        .map((wire) => ({ wire, params: openingFeeParamsInput.parse(wire) }))
        .filter(
          ({ params }) =>
            request.amountMsat >= params.min_payment_size_msat &&
            request.amountMsat <= params.max_payment_size_msat,
        )
        .map((o) => ({ ...o, feeMsat: openingFeeMsat(request.amountMsat, o.params) }))
        .sort((a, b) => (a.feeMsat < b.feeMsat ? -1 : a.feeMsat > b.feeMsat ? 1 : 0));
      const offer = priced[0];
      if (!offer) throw new ApiError('PAYMENT_SIZE_TOO_SMALL', 'no offered fee covers this amount');
      if (request.maxFeeMsat !== undefined && offer.feeMsat > request.maxFeeMsat) {
        throw new ApiError(
          'INVALID_OPENING_FEE_PARAMS',
          `opening fee ${offer.feeMsat} msat exceeds the limit`,
        );
      }
      const bought = await trpc.jit.buy.mutate({
        opening_fee_params: offer.wire satisfies OpeningFeeParamsWire,
        payment_size_msat: request.amountMsat.toString(),
      });
      const validUntilSec = Math.floor(Date.parse(offer.params.valid_until) / 1000);
      const expirySecs = Math.min(request.expirySecs ?? 3600, validUntilSec - Math.floor(Date.now() / 1000));
      if (expirySecs <= 0) throw new ApiError('INVALID_OPENING_FEE_PARAMS', 'the fee offer has expired');
      const inbound = node.createInboundPayment({
        amountMsat: request.amountMsat,
        expirySecs,
        maxLspFeeMsat: offer.feeMsat,
        description: request.description,
      });
      const bolt11 = createJitInvoice({
        amountMsat: request.amountMsat,
        description: request.description,
        expirySecs,
        paymentHash: inbound.paymentHash,
        paymentSecret: inbound.paymentSecret,
        minFinalCltvExpiryDelta: MIN_FINAL_CLTV_EXPIRY_DELTA,
        payeeNodeId: node.nodeId,
        lspNodeId: lsp.nodeId,
        interceptScid: parseScid(bought.jit_channel_scid),
        lspCltvExpiryDelta: bought.lsp_cltv_expiry_delta,
        validUntilSec,
        network: node.network,
        sign: (hash) => {
          const { signature, recoveryId } = node.signInvoice(hash);
          return { signature64: signature, recovery: recoveryId };
        },
      });
      return {
        bolt11,
        paymentHash: inbound.paymentHash,
        amountMsat: request.amountMsat,
        openingFeeMsat: offer.feeMsat,
        jitChannelScid: bought.jit_channel_scid,
      };
    },

    /** The LSP's route to `payee` for `amountMsat`, hops from the LSP on (see RouteHop). */
    async findRoute(
      payeeNodeId: string,
      amountMsat: bigint,
      finalCltvExpiryDelta: number,
    ): Promise<RoutesFindOutput> {
      return trpc.routes.find.query({
        payee_node_id: payeeNodeId,
        amount_msat: amountMsat.toString(),
        final_cltv_expiry_delta: finalCltvExpiryDelta,
      });
    },

    /**
     * Pay a BOLT 11 invoice along the route the LSP computes: the LSP's path (after our channel
     * to it) becomes a route hint, and the node pays through its own payment path (records,
     * events, retries, `maxFeeMsat`), building the onion from our channel to the LSP plus those
     * hops, with the fees and CLTV deltas the LSP reported.
     */
    async payWithRoute(
      node: WalletNode,
      bolt11: string,
      payOptions: { timeoutMs?: number; maxFeeMsat?: bigint } = {},
    ): Promise<RoutedPayment> {
      const parsed = ldk.Bolt11Invoice.constructor_from_str(bolt11.trim());
      if (!(parsed instanceof ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_OK)) {
        throw new NodeError('INVALID_INVOICE', 'not a BOLT 11 invoice');
      }
      const invoice = parsed.res;
      const amountOpt = invoice.amount_milli_satoshis();
      if (!(amountOpt instanceof ldk.Option_u64Z_Some)) {
        throw new NodeError('INVALID_INVOICE', 'invoice has no amount');
      }
      const payee = hexOf(invoice.recover_payee_pub_key());
      const finalCltv = Number(invoice.min_final_cltv_expiry_delta());
      const route = await this.findRoute(payee, amountOpt.some, finalCltv);
      return this.payAlongRoute(node, bolt11, route, payOptions);
    },

    /** payWithRoute with a route already asked for (a caller that looked at its fee first). */
    payAlongRoute(
      node: WalletNode,
      bolt11: string,
      route: RoutesFindOutput,
      payOptions: { timeoutMs?: number; maxFeeMsat?: bigint } = {},
    ): Promise<RoutedPayment> {
      const path = route.paths[0];
      if (!path || path.hops.length < 2) throw new NodeError('ROUTE_NOT_FOUND', 'the LSP found no route');
      return node.payInvoice(bolt11, {
        routeHints: [routeHintFromPath(path.hops)],
        ...(payOptions.maxFeeMsat !== undefined ? { maxFeeMsat: payOptions.maxFeeMsat } : {}),
        timeoutMs: payOptions.timeoutMs ?? 60_000,
      });
    },
  };
}

export type LspClient = ReturnType<typeof createLspClient>;

/** The delta our node enforces on JIT receives (the invoice states it plus the LSPS2 margin). */
export const MIN_FINAL_CLTV_EXPIRY_DELTA = 144;
