// The HTTP surface: tRPC under /trpc, /backup, /health, /metrics, /admin; CORS for the listed wallet
// origins. Body size and request rates of /trpc are limited before anything parses (door.ts); errors
// never leave as stack traces.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { getConnInfo } from '@hono/node-server/conninfo';
import { trpcServer } from '@hono/trpc-server';
import { ApiError } from '@lpw/api';
import { BACKUP_ROUTE } from '@lpw/backup';
import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { ADDRESS_INVOICES_PER_MIN, addressRoutes } from './address-routes.ts';
import { AddressInvoices, AddressService } from './addresses.ts';
import { adminRoutes } from './admin/index.ts';
import { AuthService } from './auth.ts';
import { BackupService } from './backup.ts';
import { backupRoutes } from './backup-routes.ts';
import { TrustedProxies } from './client-ip.ts';
import { walletCors } from './cors.ts';
import type { Deps } from './deps.ts';
import { Door } from './door.ts';
import { Gate } from './gate.ts';
import { JitService } from './liquidity/jit.ts';
import { OrderService } from './liquidity/orders.ts';
import { RateLimiter } from './rate-limit.ts';
import { RatesService } from './rates.ts';
import { RelayService } from './relay.ts';
import { appRouter } from './router/index.ts';
import type { Services } from './router/trpc.ts';

const HOUR_MS = 3_600_000;

/** What the rest of the server hears from the HTTP app. */
export interface AppHooks {
  /** A wallet logged out with `token` (its peer sockets must close). */
  onLogout?: (token: string) => void;
}

export function createServices(deps: Deps, hooks: AppHooks = {}): Services {
  const { limits } = deps.config;
  /** `perMinute` a minute, at most `burst` of them at once (never more than the minute's). */
  const bursting = (perMinute: number, burst: number) =>
    new RateLimiter(perMinute, deps.clock, 100_000, 60_000, Math.min(burst, perMinute));
  // one per-IP budget for every way in over HTTP: /trpc (at the door), backups, Lightning Addresses
  const requestsPerIp = bursting(limits.requestsPerMinutePerIp, limits.requestsBurstPerIp);
  return {
    auth: new AuthService(
      deps,
      new RateLimiter(limits.newWalletsPerHourPerIp, deps.clock, 100_000, HOUR_MS),
      hooks.onLogout,
    ),
    backup: new BackupService(
      deps,
      new RateLimiter(limits.backupBytesPerHourPerIp, deps.clock, 100_000, HOUR_MS),
    ),
    jit: new JitService(deps),
    orders: new OrderService(deps),
    relay: new RelayService(deps),
    rates: new RatesService(deps),
    addresses: new AddressService(deps, new AddressInvoices(deps.node, deps.log)),
    limits: {
      requestsPerIp,
      authPerIp: new RateLimiter(limits.authPerMinutePerIp, deps.clock),
      buyPerWallet: new RateLimiter(limits.buyPerMinutePerWallet, deps.clock),
      relayPerWallet: new RateLimiter(deps.config.relay.perMinutePerWallet, deps.clock),
      ordersPerWallet: new RateLimiter(limits.ordersPerMinutePerWallet, deps.clock),
      routesPerWallet: bursting(limits.routesPerMinutePerWallet, limits.routesBurstPerWallet),
      // a name is a row; changing it a few times a minute is plenty
      addressPerWallet: new RateLimiter(10, deps.clock),
    },
    expensive: new Gate(limits.expensiveConcurrency, limits.expensiveQueue, limits.expensiveQueuePerIp),
    door: new Door({
      limits,
      walletOrigins: deps.config.walletOrigins,
      proxies: new TrustedProxies(deps.config.trustedProxies),
      requestsPerIp,
      metrics: deps.metrics,
      clock: deps.clock,
      serverTiming: deps.config.serverTiming,
    }),
  };
}

/** The one way the app learns a request's client address (see client-ip.ts). */
function clientIpOf(proxies: TrustedProxies): (c: Context) => string {
  return (c) => {
    let socket: string | undefined;
    try {
      socket = getConnInfo(c).remote.address;
    } catch {
      // not behind @hono/node-server (app.request in a test)
    }
    return socket ? proxies.clientAddress(socket, c.req.header('x-forwarded-for')) : 'unknown';
  };
}

/**
 * `/metrics` (balances, liquidity, fees, wallet count: the operator's business): with METRICS_TOKEN
 * it asks `Authorization: Bearer <token>`; open only on regtest or on the METRICS_LISTEN address.
 */
export function metricsHandler(deps: Pick<Deps, 'config' | 'metrics' | 'node' | 'store'>) {
  const expected = deps.config.metricsToken ? Buffer.from(`Bearer ${deps.config.metricsToken}`) : undefined;
  return async (c: Context) => {
    if (expected) {
      const given = Buffer.from(c.req.header('authorization') ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return c.text('metrics need Authorization: Bearer <METRICS_TOKEN>', 401, {
          'WWW-Authenticate': 'Bearer realm="lsp metrics"',
        });
      }
    }
    return c.body(await deps.metrics.render(deps.node, deps.store), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  };
}

/** The app METRICS_LISTEN serves: `/metrics` alone. */
export function createMetricsApp(deps: Pick<Deps, 'config' | 'metrics' | 'node' | 'store'>): Hono {
  const app = new Hono();
  app.get('/metrics', metricsHandler(deps));
  app.notFound((c) => c.text('only /metrics here', 404));
  return app;
}

/**
 * @example
 * const app = createApp(deps);
 * serve({ fetch: app.fetch, port: deps.config.port });
 */
export function createApp(deps: Deps, hooks: AppHooks = {}, services = createServices(deps, hooks)): Hono {
  const requestsPerIp = services.limits.requestsPerIp;
  const clientIp = clientIpOf(new TrustedProxies(deps.config.trustedProxies));
  const app = new Hono();
  // first: a preflight is answered before any limit or login, and every answer, refusals too, carries
  // the headers its wallet needs to read it
  const cors = walletCors(deps.config.walletOrigins);
  for (const path of ['/trpc/*', `${BACKUP_ROUTE}/*`, '/health']) app.use(path, cors);

  // one CSP for everything: the admin page needs only its own stylesheet, its own chart scripts
  // (files, never inline) and form posts
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    }),
  );
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    deps.metrics.httpRequests.inc(1, { status: `${Math.floor(c.res.status / 100)}xx` });
    if (c.res.status >= 500) {
      deps.log.error({ method: c.req.method, path: c.req.path, status: c.res.status }, 'request failed');
    } else {
      deps.log.debug(
        {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  });

  app.get('/health', (c) => c.json({ ok: true, nodeId: deps.node.nodeId }));
  if (deps.config.metricsListen) {
    app.get('/metrics', (c) => c.text('metrics are served on METRICS_LISTEN, not here', 404));
  } else if (deps.config.metricsToken || deps.config.network === 'regtest') {
    app.get('/metrics', metricsHandler(deps));
  } else {
    app.get('/metrics', (c) => c.text('metrics are off: set METRICS_TOKEN or METRICS_LISTEN', 404));
  }

  // the refusals at the front door of /trpc are made before Hono runs (door.ts, in node:http's
  // listener); a refusal made inside (a procedure's quota, the busy gate) is told to the door, which
  // answers the same query itself until its wait is over, and holds the answer of a client that came
  // back too early. A batch refused in part (a 207 with Retry-After) is told too: asked again within
  // its wait it would be refused again, and a batch abuser repeating one ran its refusals every time
  app.use('/trpc/*', async (c, next) => {
    await next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if ((c.res.status !== 429 && !c.res.headers.has('retry-after')) || !incoming) return;
    const holdMs = services.door.refusedLater(incoming, Number(c.res.headers.get('retry-after')));
    if (holdMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      c.res.headers.set('Connection', 'close');
    }
  });
  const limits = deps.config.limits;
  app.use(
    '/trpc/*',
    trpcServer({
      router: appRouter,
      endpoint: '/trpc',
      maxBatchSize: limits.maxBatchCalls, // checked at the door already; tRPC's own guard too
      createContext: (_opts, c) => {
        const auth = c.req.header('authorization');
        const m = auth ? /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(auth) : null;
        return { deps, services, ip: clientIp(c), origin: new URL(c.req.url).origin, token: m?.[1] };
      },
      // a procedure's RATE_LIMITED carries its wait in data; HTTP clients and proxies read the header
      responseMeta: ({ errors, paths }) => {
        // the rates are one shared reading: a browser or proxy may keep a good answer for a minute
        if (errors.length === 0 && paths?.length && paths.every((p) => p === 'rates.get'))
          return { headers: { 'Cache-Control': 'public, max-age=60' } };
        const waits = errors.map((e) =>
          e.cause instanceof ApiError ? e.cause.details.retryAfterSec : undefined,
        );
        const wait = Math.max(0, ...waits.filter((w): w is number => w !== undefined));
        return wait > 0 ? { headers: { 'Retry-After': String(wait) } } : {};
      },
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          deps.log.error({ err: error.cause ?? error, path }, 'trpc error');
      },
    }),
  );

  app.route(BACKUP_ROUTE, backupRoutes(deps, services, { limiter: requestsPerIp, ip: clientIp }));
  app.route('/admin', adminRoutes(deps, clientIp));
  app.route(
    '/',
    addressRoutes(services.addresses, {
      perIp: requestsPerIp,
      perAddress: new RateLimiter(ADDRESS_INVOICES_PER_MIN, deps.clock),
      ip: clientIp,
    }),
  );

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    // middleware refusals (csrf 403, …) keep their status
    if (err instanceof HTTPException) return err.getResponse();
    // the client went away while its body was read: no one reads this answer, and it is not ours
    if (c.req.raw.signal.aborted || (err as NodeJS.ErrnoException).code === 'ECONNRESET')
      return c.json({ error: 'client closed the request' }, 400);
    deps.log.error({ err, path: c.req.path }, 'unhandled');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
