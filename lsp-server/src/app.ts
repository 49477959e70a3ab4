// The HTTP surface: tRPC under /trpc, /health, /metrics, /admin. Body size and request rates are
// limited here before anything parses; errors never leave as stack traces.
import { getConnInfo } from '@hono/node-server/conninfo';
import { trpcServer } from '@hono/trpc-server';
import { ApiError } from '@lpw/api';
import { BACKUP_ROUTE } from '@lpw/backup';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { adminRoutes } from './admin/index.ts';
import { AuthService } from './auth.ts';
import { BackupService } from './backup.ts';
import { backupRoutes } from './backup-routes.ts';
import type { Deps } from './deps.ts';
import { JitService } from './liquidity/jit.ts';
import { OrderService } from './liquidity/orders.ts';
import { RateLimiter } from './rate-limit.ts';
import { RelayService } from './relay.ts';
import { appRouter } from './router/index.ts';
import type { Services } from './router/trpc.ts';
import { serveWalletApp } from './wallet-app.ts';

export function createServices(deps: Deps): Services {
  return {
    auth: new AuthService(deps),
    backup: new BackupService(deps),
    jit: new JitService(deps),
    orders: new OrderService(deps),
    relay: new RelayService(deps),
    limits: {
      authPerIp: new RateLimiter(deps.config.limits.authPerMinutePerIp, deps.clock),
      buyPerWallet: new RateLimiter(deps.config.limits.buyPerMinutePerWallet, deps.clock),
      relayPerWallet: new RateLimiter(deps.config.relay.perMinutePerWallet, deps.clock),
    },
  };
}

function clientIp(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not behind @hono/node-server (app.request in a test)
  }
}

/**
 * @example
 * const app = createApp(deps);
 * serve({ fetch: app.fetch, port: deps.config.port });
 */
export function createApp(deps: Deps): Hono {
  const services = createServices(deps);
  const requestsPerIp = new RateLimiter(deps.config.limits.requestsPerMinutePerIp, deps.clock);
  const app = new Hono();
  if (deps.walletApp) {
    // before the LSP's own headers: the wallet's pages carry the wallet's CSP, not the admin page's
    serveWalletApp(app, {
      ...deps.walletApp,
      reserved: ['/trpc', '/backup', '/health', '/metrics', '/admin', deps.config.websocketPath],
    });
  }

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
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.render(deps.node, deps.store), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    }),
  );

  app.use(
    '/trpc/*',
    bodyLimit({
      maxSize: deps.config.limits.bodyLimitBytes,
      onError: (c) =>
        c.json(
          {
            error: {
              message: 'request body too large',
              code: -32600,
              data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
            },
          },
          413,
        ),
    }),
  );
  app.use('/trpc/*', async (c, next) => {
    const wait = requestsPerIp.take(clientIp(c));
    if (wait > 0) {
      deps.metrics.rateLimited.inc(1, { scope: 'ip' });
      const e = new ApiError('RATE_LIMITED', `too many requests; retry in ${wait} s`, {
        retryAfterSec: wait,
      });
      return c.json(
        {
          error: {
            message: e.message,
            code: -32029,
            data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, app: { code: e.code, details: e.details } },
          },
        },
        429,
        { 'Retry-After': String(wait) },
      );
    }
    await next();
  });
  app.use(
    '/trpc/*',
    trpcServer({
      router: appRouter,
      endpoint: '/trpc',
      createContext: (_opts, c) => {
        const auth = c.req.header('authorization');
        const m = auth ? /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(auth) : null;
        return { deps, services, ip: clientIp(c), token: m?.[1] };
      },
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          deps.log.error({ err: error.cause ?? error, path }, 'trpc error');
      },
    }),
  );

  app.route(BACKUP_ROUTE, backupRoutes(deps, services, { limiter: requestsPerIp, ip: clientIp }));
  app.route('/admin', adminRoutes(deps));

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    // middleware refusals (csrf 403, …) keep their status
    if (err instanceof HTTPException) return err.getResponse();
    deps.log.error({ err, path: c.req.path }, 'unhandled');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
