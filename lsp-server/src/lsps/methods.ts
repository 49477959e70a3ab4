// The LSPS methods this LSP answers over BOLT 8 (lsps0.list_protocols, bLIP 51 LSPS1, bLIP 52
// LSPS2): each one's params schema (the tRPC API's own, from @lpw/api) and the service call behind
// it (the same JitService and OrderService as the tRPC routers), plus how our typed errors become
// the bLIPs' error codes. Policy, fees and promises live in those services, never here.
import {
  ApiError,
  jitBuyInput,
  jitGetInfoInput,
  type OrdersCreateInput,
  ordersCreateInput,
  ordersGetInput,
} from '@lpw/api';
import * as z from 'zod/mini';
import type { RateLimiter } from '../rate-limit.ts';
import type { Services } from '../router/trpc.ts';
import { type JsonRpcError, LSPS_ERROR, type Params } from './jsonrpc.ts';

/**
 * What a method costs the LSP beyond the per-peer message rate, as its tRPC procedure says:
 * `wallet` it keeps a record under the peer's node id (a wallet row first), `limit` the same
 * per-wallet token bucket, `expensive` it waits its turn at the shared gate.
 */
export interface MethodCost {
  wallet?: boolean;
  limit?: (limits: Services['limits']) => RateLimiter;
  what?: string;
  expensive?: boolean;
}

export interface LspsMethod {
  params: z.ZodMiniType;
  cost: MethodCost;
  run(services: Pick<Services, 'jit' | 'orders'>, peerId: string, params: never): Promise<object> | object;
  /** This method's own reading of a service error (bLIP 51's 100/101); undefined: the common one. */
  error?(e: ApiError, params: never, services: Pick<Services, 'orders'>): JsonRpcError | undefined;
}

const method = <S extends z.ZodMiniType>(m: {
  params: S;
  cost: MethodCost;
  run(
    services: Pick<Services, 'jit' | 'orders'>,
    peerId: string,
    params: z.output<S>,
  ): Promise<object> | object;
  error?(e: ApiError, params: z.output<S>, services: Pick<Services, 'orders'>): JsonRpcError | undefined;
}): LspsMethod => m as unknown as LspsMethod;

const noParams = z.strictObject({});

/** bLIP 51 create_order's option names, for a refusal of the field the client sent. */
function optionMismatch(
  e: ApiError,
  input: OrdersCreateInput,
  services: Pick<Services, 'orders'>,
): JsonRpcError | undefined {
  if (e.code !== 'INVALID_INPUT' || !e.details.field) return undefined;
  const { options } = services.orders.getInfo();
  const property = {
    lsp_balance_sat:
      input.lsp_balance_sat < BigInt(options.min_initial_lsp_balance_sat)
        ? 'min_initial_lsp_balance_sat'
        : 'max_initial_lsp_balance_sat',
    client_balance_sat: 'max_initial_client_balance_sat',
    channel_expiry_blocks: 'max_channel_expiry_blocks',
  }[e.details.field];
  if (!property) return undefined;
  return {
    code: LSPS_ERROR.LSPS1_OPTION_MISMATCH,
    message: 'Option mismatch',
    data: { property, message: e.message },
  };
}

export const LSPS_METHODS: Record<string, LspsMethod> = {
  'lsps0.list_protocols': method({
    params: noParams,
    cost: {},
    // bLIP 50: LSPS0 itself is never listed
    run: () => ({ protocols: [1, 2] }),
  }),
  'lsps1.get_info': method({
    params: noParams,
    cost: {},
    run: (s) => s.orders.getInfo(),
  }),
  'lsps1.create_order': method({
    params: ordersCreateInput,
    cost: { wallet: true, limit: (l) => l.ordersPerWallet, what: 'orders', expensive: true },
    run: (s, peerId, input) => s.orders.create(peerId, input),
    error: optionMismatch,
  }),
  'lsps1.get_order': method({
    params: ordersGetInput,
    cost: {},
    run: (s, peerId, input) => s.orders.get(peerId, input.order_id),
    error: (e) =>
      e.code === 'NOT_FOUND'
        ? { code: LSPS_ERROR.LSPS1_NOT_FOUND, message: 'Not found', data: {} }
        : undefined,
  }),
  'lsps2.get_info': method({
    params: jitGetInfoInput,
    cost: {},
    run: (s, _peerId, input) => s.jit.getInfo(input.token),
  }),
  'lsps2.buy': method({
    params: jitBuyInput,
    cost: { wallet: true, limit: (l) => l.buyPerWallet, what: 'purchases' },
    run: (s, peerId, input) => s.jit.buy(peerId, input),
  }),
};

/** bLIP 52's names for its codes. */
const LSPS2_ERROR_NAMES: Record<number, string> = {
  200: 'unrecognized_or_stale_token',
  201: 'invalid_opening_fee_params',
  202: 'payment_size_too_small',
  203: 'payment_size_too_large',
};

/**
 * bLIP 50's -32602: `data.unrecognized` names the parameters the LSP does not know (dotted for
 * nested ones); a known parameter with a bad value is named in `property` (bLIP 51's shape).
 */
export function invalidParams(error: z.core.$ZodError): JsonRpcError {
  const unrecognized: string[] = [];
  let property: string | undefined;
  let why: string | undefined;
  for (const issue of error.issues) {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') unrecognized.push(...issue.keys.map((k) => [...at, k].join('.')));
    else if (property === undefined) {
      property = at.join('.');
      why = issue.message;
    }
  }
  return {
    code: LSPS_ERROR.INVALID_PARAMS,
    message: 'Invalid params',
    data: { unrecognized, ...(property !== undefined ? { property, message: why } : {}) },
  };
}

/** A service's typed error as the bLIPs say it; anything unknown is an internal error (logged). */
export function jsonRpcErrorOf(
  e: unknown,
  m: LspsMethod,
  params: Params,
  services: Pick<Services, 'orders'>,
) {
  if (!(e instanceof ApiError)) return undefined;
  const own = m.error?.(e, params as never, services);
  if (own) return own;
  if (e.lsps2Code !== undefined)
    return { code: e.lsps2Code, message: LSPS2_ERROR_NAMES[e.lsps2Code] ?? 'error', data: {} };
  if (e.code === 'RATE_LIMITED')
    return {
      code: LSPS_ERROR.RATE_LIMITED,
      message: e.message,
      data: { retry_after_sec: e.details.retryAfterSec ?? 1 },
    };
  if (e.code === 'INVALID_INPUT')
    return {
      code: LSPS_ERROR.INVALID_PARAMS,
      message: 'Invalid params',
      data: {
        unrecognized: [],
        ...(e.details.field ? { property: e.details.field } : {}),
        message: e.message,
      },
    };
  return undefined;
}
