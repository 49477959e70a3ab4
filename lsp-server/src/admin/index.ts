// /admin: the operator's page behind HTTP basic auth (user "admin", ADMIN_PASSWORD). Disabled when
// no password is configured. Wrong passwords back off per IP (lockout.ts); form posts are checked for
// same origin (CSRF) and validated by zod.
import { timingSafeEqual } from 'node:crypto';
import { isApiError } from '@lpw/api';
import { isNodeError } from '@lpw/node';
import { type Context, Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { LoginLockout } from './lockout.ts';
import { dashboard, STYLE } from './views.ts';

const openChannelForm = z.object({
  peerId: z.string().regex(/^0[23][0-9a-f]{64}$/, 'node id must be 66 hex characters'),
  address: z.string().regex(/^[^\s:]{1,253}:[0-9]{1,5}$/, 'address must be host:port'),
  capacitySat: z
    .string()
    .regex(/^[1-9][0-9]{0,11}$/, 'capacity must be a whole number of sat')
    .transform((s) => BigInt(s)),
  announce: z.literal('1').optional(),
});

function passwordMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function adminRoutes(deps: Deps, clientIp: (c: Context) => string): Hono {
  const admin = new Hono();
  const password = deps.config.adminPassword;
  const lockout = new LoginLockout(
    deps.config.admin.lockoutAfterFailures,
    deps.config.admin.lockoutMaxSec,
    deps.clock,
  );

  admin.use('*', async (c, next) => {
    if (!password) return c.text('admin is disabled: set ADMIN_PASSWORD', 404);
    const ip = clientIp(c);
    const wait = lockout.waitSec(ip);
    if (wait > 0) {
      deps.metrics.rateLimited.inc(1, { scope: 'admin' });
      return c.text(`too many wrong passwords; retry in ${wait} s`, 429, { 'Retry-After': String(wait) });
    }
    const header = c.req.header('authorization') ?? '';
    const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header);
    const [user, ...rest] = m ? Buffer.from(m[1]!, 'base64').toString('utf8').split(':') : [];
    if (user !== 'admin' || !passwordMatches(rest.join(':'), password)) {
      // a browser's first visit carries no credentials: that is not a guess
      if (header !== '') {
        lockout.failed(ip);
        deps.log.warn({ ip }, 'admin: wrong password');
      }
      return c.text('authentication required', 401, {
        'WWW-Authenticate': 'Basic realm="lsp admin", charset="UTF-8"',
      });
    }
    lockout.succeeded(ip);
    c.header('Cache-Control', 'no-store');
    await next();
  });
  admin.use('*', csrf());

  admin.get('/style.css', (c) => c.body(STYLE, 200, { 'Content-Type': 'text/css; charset=utf-8' }));

  admin.get('/', async (c) => {
    const { node, store, metrics } = deps;
    const channels = node.listChannels();
    const balances = await node.balances();
    const wallets = await store.listWallets(500);
    const forwards = await store.listForwards(50);
    const message = c.req.query('message');
    return c.html(
      dashboard({
        nodeId: node.nodeId,
        network: node.network,
        onchainSat: balances.onchainSat,
        outboundMsat: balances.lightningOutboundMsat,
        inboundMsat: balances.lightningInboundMsat,
        feesEarnedMsat: metrics.feesEarnedMsat.total(),
        channels,
        wallets: wallets.map((w) => ({
          nodeId: w.nodeId,
          createdAt: new Date(w.createdAtMs).toISOString(),
          lastLoginAt: new Date(w.lastLoginAtMs).toISOString(),
        })),
        forwards: forwards.map((f) => ({ ...f, at: new Date(f.createdAtMs).toISOString() })),
        ...(message ? { message: message.slice(0, 300) } : {}),
      }),
    );
  });

  admin.post('/channels', async (c) => {
    const form = openChannelForm.safeParse(Object.fromEntries(Object.entries(await c.req.parseBody())));
    const back = (message: string) => c.redirect(`/admin?message=${encodeURIComponent(message)}`, 303);
    if (!form.success) return back(`Not opened: ${form.error.issues.map((i) => i.message).join('; ')}`);
    try {
      const opened = await deps.node.openChannel({
        peerId: form.data.peerId,
        address: form.data.address,
        capacitySat: form.data.capacitySat,
        announce: form.data.announce === '1',
      });
      deps.log.info(
        { peerId: form.data.peerId, capacitySat: form.data.capacitySat.toString() },
        'admin opened channel',
      );
      return back(
        `Opening channel ${opened.temporaryChannelId.slice(0, 16)}… to ${form.data.peerId.slice(0, 16)}…`,
      );
    } catch (e) {
      if (isApiError(e) || isNodeError(e)) return back(`Not opened: ${e.message}`);
      deps.log.error({ err: e }, 'admin open channel failed');
      return back('Not opened: internal error (see the server log)');
    }
  });

  return admin;
}
