// A wallet's LSPS client over BOLT 8 (bLIP 50 transport, bLIP 51 and 52 methods): JSON-RPC requests
// in custom messages of type 37913 to the LSP's node, no HTTP and no login (BOLT 8 already says who
// we are). Any LSPS-speaking LSP answers it, ours included. Browser-safe.
import {
  ApiError,
  type ApiErrorCode,
  type JitBuyOutput,
  jitBuyOutput,
  jitGetInfoOutput,
  type OrdersCreateInput,
  type OrderWire,
  ordersGetInfoOutput,
  orderWire,
} from '@lpw/api';
import type { LightningNode } from '@lpw/node';
import * as z from 'zod/mini';
import {
  encodeRequest,
  type JsonRpcError,
  LSPS_ERROR,
  LSPS0_MAX_PAYLOAD_BYTES,
  LSPS0_MESSAGE_TYPE,
  type Params,
  readResponse,
} from '../lsps/jsonrpc.ts';
import { type JitQuote, type JitReceive, pickJitOffer, type WalletNode } from './index.ts';
import { type JitReceiveRequest, receiveJitVia } from './jit.ts';

/** bLIP 50: a client times a request out "on the scale of minutes", then forgets its id. */
export const LSPS_REQUEST_TIMEOUT_MS = 120_000;

/** Our code for an LSPS error, so callers handle both transports alike. */
const API_CODES: Record<number, ApiErrorCode> = {
  [LSPS_ERROR.LSPS2_UNRECOGNIZED_OR_STALE_TOKEN]: 'UNRECOGNIZED_OR_STALE_TOKEN',
  [LSPS_ERROR.LSPS2_INVALID_OPENING_FEE_PARAMS]: 'INVALID_OPENING_FEE_PARAMS',
  [LSPS_ERROR.LSPS2_PAYMENT_SIZE_TOO_SMALL]: 'PAYMENT_SIZE_TOO_SMALL',
  [LSPS_ERROR.LSPS2_PAYMENT_SIZE_TOO_LARGE]: 'PAYMENT_SIZE_TOO_LARGE',
  [LSPS_ERROR.LSPS1_OPTION_MISMATCH]: 'INVALID_INPUT',
  [LSPS_ERROR.LSPS1_NOT_FOUND]: 'NOT_FOUND',
  [LSPS_ERROR.RATE_LIMITED]: 'RATE_LIMITED',
  [LSPS_ERROR.INVALID_PARAMS]: 'INVALID_INPUT',
  [LSPS_ERROR.METHOD_NOT_FOUND]: 'NOT_IMPLEMENTED',
};

/**
 * An LSPS error answer, or no answer: `rpcCode` is the JSON-RPC code the LSP sent (undefined: the
 * request timed out, the link dropped, or the LSP misbehaved), `code` ours for it.
 */
export class LspsError extends ApiError {
  constructor(
    code: ApiErrorCode,
    message: string,
    readonly rpcCode?: number,
    readonly data?: Record<string, unknown>,
  ) {
    const retry = data?.retry_after_sec;
    super(code, message, typeof retry === 'number' ? { retryAfterSec: retry } : {});
  }
}

export const isLspsError = (e: unknown): e is LspsError => e instanceof LspsError;

export interface LspsClientOptions {
  timeoutMs?: number;
  /** Told of what bLIP 50 says to log: bad messages from the LSP, answers to forgotten ids. */
  log?: (message: string) => void;
}

type Pending = { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void; timer: unknown };

/**
 * @example
 * const lsps = createLspsClient(node, lspNodeId);
 * await node.connect(lspNodeId, tcp(host, port));
 * const { bolt11 } = await lsps.receiveJit(node, { amountMsat: 50_000_000n, description: 'coffee' });
 */
export function createLspsClient(
  node: Pick<LightningNode, 'customMessages' | 'on'>,
  lspNodeId: string,
  options: LspsClientOptions = {},
) {
  const lsp = lspNodeId.toLowerCase();
  const timeoutMs = options.timeoutMs ?? LSPS_REQUEST_TIMEOUT_MS;
  const log = options.log ?? (() => {});
  const pending = new Map<string, Pending>();
  /** bLIP 50: after a bad message, send nothing more on this connection (a reconnection resets). */
  let badConnection = false;

  const settle = (id: string): Pending | undefined => {
    const p = pending.get(id);
    if (!p) return undefined;
    pending.delete(id);
    clearTimeout(p.timer as ReturnType<typeof setTimeout>);
    return p;
  };
  const failAll = (error: () => LspsError) => {
    for (const id of [...pending.keys()]) settle(id)?.reject(error());
  };

  const offs = [
    node.customMessages.onMessage(LSPS0_MESSAGE_TYPE, (peerId, payload) => {
      if (peerId !== lsp) return; // another peer's LSPS traffic is not our LSP's answer
      const message = readResponse(payload);
      if (message.kind === 'bad') {
        log(
          `LSP ${lsp} sent a bad LSPS message (${payload.length} bytes); not asking it again until reconnected`,
        );
        badConnection = true;
        failAll(() => new LspsError('UNAVAILABLE', 'the LSP sent a bad LSPS message'));
        return;
      }
      if (message.kind === 'notification') return; // none that we enabled
      const p = message.id === null ? undefined : settle(message.id);
      if (!p) {
        log(`LSPS answer to an id we did not send or forgot (${message.id})`);
        return;
      }
      if (message.kind === 'result') p.resolve(message.result);
      else p.reject(errorOf(message.error));
    }),
    node.on('peer-disconnected', (e) => {
      if (e.peerId !== lsp) return;
      badConnection = false;
      // an answer cannot come over a connection that is gone
      failAll(() => new LspsError('UNAVAILABLE', 'the connection to the LSP dropped'));
    }),
  ];

  const request = (method: string, params: Params = {}): Promise<Record<string, unknown>> => {
    if (badConnection)
      return Promise.reject(
        new LspsError('UNAVAILABLE', 'the LSP sent a bad LSPS message on this connection'),
      );
    // bLIP 50: a high-entropy string id (128 random bits), never a counter
    const id = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('');
    const payload = encodeRequest(id, method, params);
    if (payload.length > LSPS0_MAX_PAYLOAD_BYTES)
      return Promise.reject(new LspsError('INVALID_INPUT', `${method}: request larger than one message`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        settle(id);
        reject(new LspsError('UNAVAILABLE', `${method}: no answer from the LSP within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      try {
        node.customMessages.send(lsp, LSPS0_MESSAGE_TYPE, payload);
      } catch (e) {
        settle(id);
        reject(e);
      }
    });
  };

  /** An answer that does not have the shape the bLIP gives it is the LSP's fault, not ours. */
  const shaped = async <S extends z.ZodMiniType>(schema: S, method: string, params?: Params) => {
    const parsed = schema.safeParse(await request(method, params));
    if (!parsed.success) throw new LspsError('INTERNAL', `${method}: the LSP's answer has the wrong shape`);
    return parsed.data as z.output<S>;
  };

  const client = {
    lspNodeId: lsp,
    request,
    /** Requests waiting for an answer (each is forgotten at its timeout or when the link drops). */
    get pending() {
      return pending.size;
    },

    async listProtocols(): Promise<number[]> {
      return (await shaped(z.object({ protocols: z.array(z.number()) }), 'lsps0.list_protocols')).protocols;
    },

    lsps1GetInfo: () => shaped(ordersGetInfoOutput, 'lsps1.get_info'),
    lsps1CreateOrder: (order: OrdersCreateInput): Promise<OrderWire> =>
      shaped(orderWire, 'lsps1.create_order', {
        ...order,
        lsp_balance_sat: order.lsp_balance_sat.toString(),
        client_balance_sat: order.client_balance_sat.toString(),
      }),
    lsps1GetOrder: (orderId: string): Promise<OrderWire> =>
      shaped(orderWire, 'lsps1.get_order', { order_id: orderId }),

    lsps2GetInfo: (token?: string) =>
      shaped(jitGetInfoOutput, 'lsps2.get_info', token === undefined ? {} : { token }),
    lsps2Buy: (params: Params): Promise<JitBuyOutput> => shaped(jitBuyOutput, 'lsps2.buy', params),

    /** The LSP's fee menu priced for a payment of `amountMsat`: the cheapest offer that takes it. */
    async quoteJit(amountMsat: bigint): Promise<JitQuote> {
      return pickJitOffer((await client.lsps2GetInfo()).opening_fee_params_menu, amountMsat);
    },

    /** lsps2.get_info → lsps2.buy → our invoice over the intercept SCID (as the tRPC client's). */
    receiveJit(wallet: WalletNode, r: JitReceiveRequest): Promise<JitReceive> {
      return receiveJitVia(
        {
          node: wallet,
          lspNodeId: lsp,
          quote: (amountMsat) => client.quoteJit(amountMsat),
          // the offer goes back verbatim (bLIP 52: the client MUST copy it from the menu)
          buy: (offer, sizeMsat) =>
            client.lsps2Buy({ opening_fee_params: offer.wire, payment_size_msat: sizeMsat.toString() }),
        },
        r,
      );
    },

    /** Stop listening; requests still waiting fail. */
    close(): void {
      for (const off of offs) off();
      failAll(() => new LspsError('UNAVAILABLE', 'the LSPS client closed'));
    },
  };
  return client;
}

export type LspsClient = ReturnType<typeof createLspsClient>;

function errorOf(error: JsonRpcError): LspsError {
  const code =
    API_CODES[error.code] ?? (error.code === LSPS_ERROR.CLIENT_REJECTED ? 'UNAVAILABLE' : 'INTERNAL');
  // bLIP 50: the LSP's message is not for display as is; keep it printable and short for logs
  const said = error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return new LspsError(code, `LSPS error ${error.code}: ${said}`, error.code, error.data);
}
