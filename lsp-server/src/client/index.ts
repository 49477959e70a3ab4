// The wallet's side of this LSP, the one client of the wallet worker, the CLI and the tests: one
// session (log in with the node key, again when it expires), the Lightning peer link over the LSP's
// WebSocket, JIT quoting and receiving (LSPS2 "MPP+fixed-invoice": menu → the one pick → buy → our
// own invoice over the intercept SCID), and paying invoices and keysends along a route the LSP
// found (a wallet keeps no graph) through the node's payment handles. Browser-safe: no Node builtins.
//
// The wallet node must be created with `role: 'wallet'` and `trustedPeers: [lspNodeId]`, so it
// accepts the LSP's zero-conf channel.
import {
  ApiError,
  type ApiErrorCode,
  type InfoOutput,
  loginMessage,
  type OpeningFeeParams,
  type OpeningFeeParamsWire,
  openingFeeMsat,
  openingFeeParamsInput,
  parseScid,
  peerWebSocketProtocols,
  type RoutesFindOutput,
  signNodeMessage,
} from '@lpw/api';
import { isBackupError } from '@lpw/backup';
import {
  defaultMaxFeeMsat,
  isNodeError,
  KEYSEND_CLTV_DELTA,
  type LightningNode,
  NodeError,
  type NodeIdentity,
  type PathHints,
  pathHints,
  payTrace,
  type RouteHintHop,
  type SentPayment,
  type SideFrames,
  type WebSocketConstructor,
  webSocket,
} from '@lpw/node';
import { type Bolt11Invoice, decodeBolt11 } from '@lpw/payment-request';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../router/index.ts';
import { type BackoffOptions, backoffLink } from './backoff.ts';
import { type JitReceiveRequest, MIN_FINAL_CLTV_EXPIRY_DELTA, receiveJitVia } from './jit.ts';

export {
  type AddressInvoiceOrder,
  type AddressInvoiceServer,
  AddressRefusal,
  metadataIdentifier,
  serveAddressInvoices,
} from './address.ts';
export { type BackoffOptions, backoffLink, isLspBusy, LspBusyError, rateLimitWaitSec } from './backoff.ts';
export {
  type JitPurchaseVia,
  type JitReceiveRequest,
  MIN_FINAL_CLTV_EXPIRY_DELTA,
  receiveJitVia,
} from './jit.ts';

export type LspTrpcClient = ReturnType<typeof createTRPCClient<AppRouter>>;

export interface LspClientOptions {
  /** The LSP's base URL, e.g. https://lsp.example.com */
  url: string;
  /** WebSocket implementation (browsers have one; Node tests pass `ws`). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /** How calls refused with RATE_LIMITED are retried (backoff.ts); then they fail with LspBusyError. */
  backoff?: BackoffOptions;
  /** Who logs in when a call first needs the session (else: the first `login`). */
  identity?: LoginIdentity;
}

/** A JIT receive: the invoice to hand out and what the LSP will keep from it. */
export interface JitReceive {
  bolt11: string;
  paymentHash: string;
  amountMsat: bigint;
  /** The opening fee the LSP skims; the node refuses to claim if more is taken. */
  openingFeeMsat: bigint;
  jitChannelScid: string;
  expiresAtMs: number;
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
  | 'bolt11Payment'
  | 'bolt12Payment'
  | 'spontaneousPayment'
>;

/** What logs in: a running node, or its identity alone (`nodeIdentity(seed)`, before the node starts). */
export type LoginIdentity = Pick<WalletNode, 'nodeId'> & Pick<NodeIdentity, 'ldk'>;

/** An offer of the LSP's fee menu priced for one payment size. */
export interface JitOffer {
  wire: OpeningFeeParamsWire;
  params: OpeningFeeParams;
  feeMsat: bigint;
}

/** The fee menu for a payment size: the cheapest offer that takes it, and the sizes the menu takes. */
export interface JitQuote {
  /** Undefined when no offer takes this size (or the menu is empty). */
  offer: JitOffer | undefined;
  minPaymentMsat: bigint | undefined;
  maxPaymentMsat: bigint | undefined;
}

/**
 * The LSP's error code in a failure, if it sent one: a tRPC one (`data.app.code`) or one of the
 * binary backup routes (@lpw/backup keeps the LSP's code in `details.lspCode`; `HTTP_<status>` when
 * the answer carried none, which matches no ApiErrorCode a caller tests for).
 */
export function lspErrorCode(error: unknown): ApiErrorCode | undefined {
  if (isBackupError(error)) {
    const { lspCode } = error.details;
    return typeof lspCode === 'string' ? (lspCode as ApiErrorCode) : undefined;
  }
  if (!(error instanceof TRPCClientError)) return undefined;
  return (error.data as { app?: { code?: ApiErrorCode } } | undefined)?.app?.code;
}

/** The LSP's `routes.find` path as route hints from the LSP on (the node's pathHints). */
export function routeHintsOf(found: RoutesFindOutput): PathHints {
  const hops = found.paths[0]?.hops;
  if (!hops || hops.length === 0) throw new NodeError('ROUTE_NOT_FOUND', 'the LSP found no route');
  return pathHints(
    hops.map((h) => ({
      nodeId: h.node_id,
      shortChannelId: parseScid(h.short_channel_id),
      feeMsat: BigInt(h.fee_msat),
      cltvExpiryDelta: h.cltv_expiry_delta,
    })),
  );
}

/** One path of `routes.find` as one route hint from the LSP on (for callers holding a path). */
export function routeHintFromPath(hops: RoutesFindOutput['paths'][number]['hops']): RouteHintHop[] {
  return routeHintsOf({ paths: [{ hops }] }).hints;
}

/** An offer must stay valid this long to be picked: the invoice built on it needs time to be paid. */
export const MIN_OFFER_VALIDITY_MS = 120_000;

/**
 * The cheapest offer of `menu` for a payment of `amountMsat` (LSPS2 fee), and the sizes the menu
 * takes; offers ending within MIN_OFFER_VALIDITY_MS are left out.
 */
export function pickJitOffer(
  menu: readonly OpeningFeeParamsWire[],
  amountMsat: bigint,
  nowMs = Date.now(),
): JitQuote {
  let offer: JitOffer | undefined;
  let minPaymentMsat: bigint | undefined;
  let maxPaymentMsat: bigint | undefined;
  for (const wire of menu) {
    const params = openingFeeParamsInput.parse(wire);
    if (Date.parse(params.valid_until) <= nowMs + MIN_OFFER_VALIDITY_MS) continue;
    if (minPaymentMsat === undefined || params.min_payment_size_msat < minPaymentMsat)
      minPaymentMsat = params.min_payment_size_msat;
    if (maxPaymentMsat === undefined || params.max_payment_size_msat > maxPaymentMsat)
      maxPaymentMsat = params.max_payment_size_msat;
    if (amountMsat < params.min_payment_size_msat || amountMsat > params.max_payment_size_msat) continue;
    const feeMsat = openingFeeMsat(amountMsat, params);
    if (!offer || feeMsat < offer.feeMsat) offer = { wire, params, feeMsat };
  }
  return { offer, minPaymentMsat, maxPaymentMsat };
}

/**
 * A BOLT 11 invoice `node` can pay along a route: decoded (also from a `lightning:` link), for its
 * network, with an amount, unexpired, not its own; else a NodeError and nothing asked or sent.
 */
export function payableInvoice(
  node: Pick<WalletNode, 'network' | 'nodeId'>,
  bolt11: string,
): Bolt11Invoice & { amountMsat: bigint } {
  let invoice: Bolt11Invoice;
  try {
    invoice = decodeBolt11(bolt11.trim().replace(/^lightning:/i, ''));
  } catch (e) {
    throw new NodeError('INVALID_INVOICE', e instanceof Error ? e.message : 'not a BOLT 11 invoice', {
      cause: e,
    });
  }
  if (invoice.network !== node.network)
    throw new NodeError('INVALID_INVOICE', `invoice is for another network than ${node.network}`);
  if (invoice.amountMsat === undefined)
    throw new NodeError('INVALID_INVOICE', 'invoice has no amount (amountless invoices are not supported)');
  if (invoice.expiresAt * 1000 <= Date.now())
    throw new NodeError('INVOICE_EXPIRED', 'the invoice has expired');
  if (invoice.payeeNodeId === node.nodeId) throw new NodeError('INVALID_INVOICE', 'the invoice is our own');
  return invoice as Bolt11Invoice & { amountMsat: bigint };
}

/** Refuses a route dearer than the caller's limit before anything is sent. */
function assertRouteFee(route: PathHints, maxFeeMsat: bigint): void {
  if (route.feeMsat > maxFeeMsat)
    throw new NodeError(
      'ROUTE_FEE_TOO_HIGH',
      `the LSP's route costs ${route.feeMsat} msat, above the limit of ${maxFeeMsat} msat`,
    );
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
  let expiresAtMs = 0;
  let identity: LoginIdentity | undefined = options.identity;
  let loggingIn: Promise<string> | undefined;
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

  /**
   * Sign the LSP's challenge with the node key; the session token is kept for later calls, and the
   * identity to log in again when it expires. Concurrent logins share one.
   */
  const login = (node: LoginIdentity): Promise<string> => {
    identity = node;
    loggingIn ??= (async () => {
      try {
        const { challenge } = await trpc.auth.challenge.mutate();
        const secret = node.ldk.keysManager.get_node_secret_key();
        let signature: string;
        try {
          signature = signNodeMessage(loginMessage(challenge), secret);
        } finally {
          secret.fill(0);
        }
        const session = await trpc.auth.login.mutate({ nodeId: node.nodeId, challenge, signature });
        token = session.token;
        expiresAtMs = Date.parse(session.expires_at);
        return token;
      } finally {
        loggingIn = undefined;
      }
    })();
    return loggingIn;
  };

  /**
   * Runs a call that needs the session: logs in first when there is none or it ends within a
   * minute, and once more when the LSP answers that it expired (streams run for days). `codeOf`
   * reads the LSP's code from a failure `lspErrorCode` does not know.
   */
  const session = async <T>(
    call: () => Promise<T>,
    codeOf: (error: unknown) => string | undefined = lspErrorCode,
  ): Promise<T> => {
    if (!identity) throw new ApiError('SESSION_REQUIRED', 'log in first');
    if (!token || Date.now() >= expiresAtMs - 60_000) await login(identity);
    try {
      return await call();
    } catch (error) {
      const code = codeOf(error);
      if (code !== 'SESSION_EXPIRED' && code !== 'SESSION_REQUIRED') throw error;
      token = undefined;
      await login(identity);
      return call();
    }
  };

  const findRoute = (payeeNodeId: string, amountMsat: bigint, finalCltvExpiryDelta: number) =>
    session(() =>
      trpc.routes.find.query({
        payee_node_id: payeeNodeId,
        amount_msat: amountMsat.toString(),
        final_cltv_expiry_delta: finalCltvExpiryDelta,
      }),
    );

  const client = {
    /** The LSP's base URL (no trailing slash). */
    url: base,
    trpc,
    info: getInfo,
    get token() {
      return token;
    },
    login,
    session,

    /**
     * Open (or keep) the BOLT 8 link to the LSP over its WebSocket endpoint; `backup` (a
     * PeerBackupLink) offers the backup on that socket, used when the LSP takes it.
     */
    async connect(node: WalletNode, link: { backup?: SideFrames } = {}): Promise<void> {
      if (!token) throw new ApiError('SESSION_REQUIRED', 'log in before connecting');
      const lsp = await getInfo();
      if (node.isConnected(lsp.nodeId)) return;
      // the token rides in Sec-WebSocket-Protocol: URLs end up in proxies' logs
      const wsUrl = `${base.replace(/^http/, 'ws')}${lsp.websocketPath}`;
      const protocols = peerWebSocketProtocols(token, { backup: link.backup !== undefined });
      await node.connect(lsp.nodeId, webSocket(wsUrl, options.WebSocket, { protocols, side: link.backup }));
    },

    /** The LSP's fee menu priced for a payment of `amountMsat`: the cheapest offer that takes it. */
    async quoteJit(amountMsat: bigint): Promise<JitQuote> {
      const { opening_fee_params_menu: menu } = await trpc.jit.getInfo.query({});
      return pickJitOffer(menu, amountMsat);
    },

    /**
     * Buy a JIT channel for a payment of `amountMsat` at the cheapest offered fee and build the
     * invoice (route hint over the intercept SCID). `maxFeeMsat` refuses a dearer menu.
     */
    async receiveJit(node: WalletNode, request: JitReceiveRequest): Promise<JitReceive> {
      const lsp = await getInfo();
      return receiveJitVia(
        {
          node,
          lspNodeId: lsp.nodeId,
          quote: (amountMsat) => client.quoteJit(amountMsat),
          buy: (offer, paymentSizeMsat) =>
            session(() =>
              trpc.jit.buy.mutate({
                opening_fee_params: offer.wire,
                payment_size_msat: paymentSizeMsat.toString(),
              }),
            ),
        },
        request,
      );
    },

    /** The LSP's route to `payee` for `amountMsat`, hops from the LSP on (see RouteHop). */
    findRoute,

    /** The LSP's route to `payee` as route hints, with its routing fee (a wallet keeps no graph). */
    async route(payeeNodeId: string, amountMsat: bigint, finalCltvExpiryDelta: number): Promise<PathHints> {
      const hints = routeHintsOf(await findRoute(payeeNodeId, amountMsat, finalCltvExpiryDelta));
      if (hints.payee !== payeeNodeId)
        throw new NodeError('ROUTE_NOT_FOUND', 'the LSP route does not end at the payee');
      return hints;
    },

    /** The routing fee of the LSP's route for this invoice now. */
    async invoiceRoute(node: Pick<WalletNode, 'network' | 'nodeId'>, bolt11: string): Promise<PathHints> {
      const invoice = payableInvoice(node, bolt11);
      return client.route(invoice.payeeNodeId, invoice.amountMsat, invoice.minFinalCltvExpiryDelta);
    },

    /**
     * Sends a BOLT 11 payment along the LSP's route (`route`: one already asked for, whose fee the
     * caller showed) through the node's payment handle; resolves with the payment id once its record
     * is durable (`node.bolt11Payment.outcome(id)` waits for the result). A route dearer than
     * `maxFeeMsat` is refused (ROUTE_FEE_TOO_HIGH) and nothing is sent.
     */
    async sendPayment(
      node: WalletNode,
      bolt11: string,
      request: { maxFeeMsat: bigint; route?: PathHints },
    ): Promise<string> {
      const invoice = payableInvoice(node, bolt11);
      const route =
        request.route ??
        (await client.route(invoice.payeeNodeId, invoice.amountMsat, invoice.minFinalCltvExpiryDelta));
      payTrace('pay:route');
      assertRouteFee(route, request.maxFeeMsat);
      const id = await node.bolt11Payment.send(invoice.paymentRequest, {
        routeHints: [route.hints],
        maxFeeMsat: request.maxFeeMsat,
      });
      payTrace('pay:recorded');
      return id;
    },

    /**
     * Sends a keysend of `amountMsat` to `payeeNodeId` along the LSP's route; resolves with the
     * payment id once its record is durable (`node.spontaneousPayment.outcome(id)` waits).
     */
    async sendKeysend(
      node: WalletNode,
      payeeNodeId: string,
      amountMsat: bigint,
      request: { maxFeeMsat: bigint; route?: PathHints },
    ): Promise<string> {
      const route = request.route ?? (await client.route(payeeNodeId, amountMsat, KEYSEND_CLTV_DELTA));
      assertRouteFee(route, request.maxFeeMsat);
      return node.spontaneousPayment.send(payeeNodeId, amountMsat, {
        routeHints: [route.hints],
        maxFeeMsat: request.maxFeeMsat,
      });
    },

    /**
     * Pays a BOLT 12 offer; resolves with the payment id once its record is durable
     * (`node.bolt12Payment.outcome(id)` waits for the result). The invoice request and the
     * invoice travel as onion messages through the LSP; the LSP's routes to the offer's
     * introduction nodes (where the payee's invoice paths usually start too) let a node without a
     * graph reach the invoice's blinded paths. An introduction node the LSP finds no route to is
     * left to LDK (the LSP itself needs none).
     */
    async sendOffer(
      node: WalletNode,
      offer: string,
      request: { amountMsat?: bigint; maxFeeMsat: bigint; payerNote?: string; paymentId?: string },
    ): Promise<string> {
      const summary = node.bolt12Payment.decodeOffer(offer);
      const amountMsat = request.amountMsat ?? summary.amountMsat;
      if (amountMsat === undefined)
        throw new NodeError('INVALID_INPUT', 'offer has no amount: pass amountMsat');
      const lsp = await getInfo();
      const knownPaths: PathHints[] = [];
      for (const intro of summary.introductionNodeIds) {
        if (intro === lsp.nodeId || intro === node.nodeId) continue;
        try {
          knownPaths.push(await client.route(intro, amountMsat, MIN_FINAL_CLTV_EXPIRY_DELTA));
        } catch (error) {
          if (!isNodeError(error, 'ROUTE_NOT_FOUND')) throw error;
        }
      }
      return node.bolt12Payment.payOffer(offer, request.amountMsat, {
        maxFeeMsat: request.maxFeeMsat,
        knownPaths,
        ...(request.payerNote !== undefined ? { payerNote: request.payerNote } : {}),
        ...(request.paymentId !== undefined ? { paymentId: request.paymentId } : {}),
      });
    },

    /** sendPayment, then its outcome (rejects with a NodeError when it failed). */
    async payWithRoute(
      node: WalletNode,
      bolt11: string,
      payOptions: { timeoutMs?: number; maxFeeMsat?: bigint } = {},
    ): Promise<RoutedPayment> {
      const invoice = payableInvoice(node, bolt11);
      const maxFeeMsat = payOptions.maxFeeMsat ?? defaultMaxFeeMsat(invoice.amountMsat);
      const id = await client.sendPayment(node, bolt11, { maxFeeMsat });
      return node.bolt11Payment.outcome(id, payOptions.timeoutMs ?? 60_000);
    },
  };
  return client;
}

export type LspClient = ReturnType<typeof createLspClient>;
