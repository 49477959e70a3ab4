// tRPC setup: the request context, the error shape (tRPC code + our ApiError code and details in
// `data.app`), and the procedure kinds: public, rate-limited by IP, and wallet (bearer session).
import { ApiError, type ApiErrorData } from '@lpw/api';
import { initTRPC, TRPCError } from '@trpc/server';
import * as z from 'zod/mini';
import type { AddressService } from '../addresses.ts';
import type { AuthService } from '../auth.ts';
import type { BackupService } from '../backup.ts';
import type { Deps } from '../deps.ts';
import type { Door } from '../door.ts';
import type { Gate } from '../gate.ts';
import type { JitService } from '../liquidity/jit.ts';
import type { OrderService } from '../liquidity/orders.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { RatesService } from '../rates.ts';
import type { RelayService } from '../relay.ts';

export interface Services {
  auth: AuthService;
  backup: BackupService;
  jit: JitService;
  orders: OrderService;
  relay: RelayService;
  rates: RatesService;
  addresses: AddressService;
  limits: {
    /** Every HTTP request and tRPC call per client address (RATE_REQUESTS_PER_MIN). */
    requestsPerIp: RateLimiter;
    authPerIp: RateLimiter;
    buyPerWallet: RateLimiter;
    relayPerWallet: RateLimiter;
    ordersPerWallet: RateLimiter;
    routesPerWallet: RateLimiter;
    addressPerWallet: RateLimiter;
  };
  /** One bound on the procedures that hold the event loop, shared by every client. */
  expensive: Gate;
  /** The refusals of /trpc made before anything parses (door.ts). */
  door: Door;
}

export interface Context {
  deps: Deps;
  services: Services;
  ip: string;
  /** The origin the request came to (Lightning Addresses use it on regtest when PUBLIC_URL is unset). */
  origin: string;
  /** Bearer token from the Authorization header, if any. */
  token: string | undefined;
}

// the contract's schemas are zod/mini, which leaves issue messages to the app: ours are English
z.config(z.locales.en());

function appData(error: TRPCError): ApiErrorData | undefined {
  const cause = error.cause;
  if (cause instanceof ApiError) {
    return { code: cause.code, lsps2Code: cause.lsps2Code, details: cause.details };
  }
  if (cause instanceof z.core.$ZodError) {
    const field = cause.issues[0]?.path.join('.');
    return { code: 'INVALID_INPUT', details: field ? { field } : {} };
  }
  return undefined;
}

const t = initTRPC.context<Context>().create({
  // tRPC's default (NODE_ENV not 'production') puts each error's stack in its shape: formatting one
  // (through source maps) cost more than the refusal it described, and the formatter drops it anyway
  isDev: false,
  errorFormatter({ shape, error }) {
    const app = appData(error);
    // never leak internals: a 500's message is generic, the log has the cause
    const message = error.code === 'INTERNAL_SERVER_ERROR' ? 'internal error' : shape.message;
    const issues =
      error.cause instanceof z.core.$ZodError
        ? error.cause.issues
            .slice(0, 10)
            .map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
        : undefined;
    return { ...shape, message, data: { ...shape.data, stack: undefined, app, issues } };
  },
});

export const router = t.router;

/** ApiError → TRPCError with the mapped code; anything else is logged and becomes a 500. */
const typedErrors = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof ApiError) {
      throw new TRPCError({ code: cause.trpcCode, message: cause.message, cause });
    }
    if (result.error.code === 'INTERNAL_SERVER_ERROR') {
      ctx.deps.log.error({ err: cause ?? result.error, path }, 'procedure failed');
    }
  }
  return result;
});

export const publicProcedure = t.procedure.use(typedErrors);

/** For unauthenticated procedures that cost us something: a token bucket per client IP. */
export const ipLimitedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const wait = ctx.services.limits.authPerIp.take(ctx.ip);
  if (wait > 0) {
    ctx.deps.metrics.rateLimited.inc(1, { scope: 'ip' });
    throw new ApiError('RATE_LIMITED', `too many requests; retry in ${wait} s`, { retryAfterSec: wait });
  }
  return next();
});

/** Requires `Authorization: Bearer <token>`; handlers get `ctx.wallet.nodeId`, never an id from input. */
export const walletProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const wallet = await ctx.services.auth.walletFor(ctx.token);
  return next({ ctx: { wallet } });
});

/** A wallet procedure with its own token bucket per wallet (`scope` names it in the metrics). */
export const walletLimitedProcedure = (pick: (limits: Services['limits']) => RateLimiter, what: string) =>
  walletProcedure.use(async ({ ctx, next }) => {
    const wait = pick(ctx.services.limits).take(ctx.wallet.nodeId);
    if (wait > 0) {
      ctx.deps.metrics.rateLimited.inc(1, { scope: 'wallet' });
      throw new ApiError('RATE_LIMITED', `too many ${what}; retry in ${wait} s`, { retryAfterSec: wait });
    }
    return next();
  });

/** A rate-limited wallet procedure whose work holds the event loop: it waits its turn at the gate. */
export const walletExpensiveProcedure = (pick: (limits: Services['limits']) => RateLimiter, what: string) =>
  walletLimitedProcedure(pick, what).use(async ({ ctx, next }) => {
    try {
      return await ctx.services.expensive.run(() => next(), ctx.ip);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'RATE_LIMITED')
        ctx.deps.metrics.rateLimited.inc(1, { scope: 'busy' });
      throw error;
    }
  });
