// /admin: the operator's page behind HTTP basic auth (user "admin", ADMIN_PASSWORD). Disabled when
// no password is configured. Wrong passwords back off per IP (lockout.ts). Form posts are checked
// for same origin and a CSRF token, validated by zod, shown with their fee on a confirmation page,
// and logged when done.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isApiError, openingFeeMsat } from '@lpw/api';
import { isNodeError, type LightningNode } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { type Context, Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { z } from 'zod';
import { evaluateAlerts } from '../alerts.ts';
import type { Deps } from '../deps.ts';
import type { AdminActionRecord } from '../store/types.ts';
import { CHANNEL_RANGES, CHARTS_JS, channelChartData, chartData, RANGES, type RangeName } from './charts.ts';
import { CsrfTokens } from './csrf-token.ts';
import { saveFeePolicy, saveRoutingFees } from './fee-policy.ts';
import { LoginLockout } from './lockout.ts';
import {
  type ChannelView,
  channelPage,
  closePage,
  confirmPage,
  dashboard,
  STYLE,
  walletPage,
} from './views.ts';

// uPlot served by the LSP itself (no third-party origin in the CSP), read once
const uplotDir = createRequire(import.meta.url)
  .resolve('uplot')
  .replace(/[^/\\]+$/, '');
const UPLOT_JS = readFileSync(`${uplotDir}uPlot.iife.min.js`, 'utf8');
const UPLOT_CSS = readFileSync(`${uplotDir}uPlot.min.css`, 'utf8');

/** A funding transaction (one P2WPKH input, the P2WSH channel output and change) is about 616 WU. */
const FUNDING_TX_WEIGHT = 616n;

const nodeIdParam = z.string().regex(/^0[23][0-9a-f]{64}$/, 'node id must be 66 hex characters');
const channelIdParam = z.string().regex(/^[0-9a-f]{64}$/, 'channel id must be 64 hex characters');
const closeForm = z.object({ mode: z.enum(['cooperative', 'force']), confirm: z.literal('yes').optional() });
const feePolicyForm = z.object({
  minFeeMsat: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, 'minimum fee must be a whole number of msat')
    .transform((s) => BigInt(s)),
  proportional: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,6})$/, 'proportional must be a whole number of ppm')
    .transform(Number)
    .refine((n) => n <= 1_000_000, 'proportional must be at most 1,000,000 ppm'),
  confirm: z.literal('yes').optional(),
});

/** BOLT 7 carries both routing fees as u32. */
const u32Field = (what: string) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,9})$/, `${what} must be a whole number`)
    .transform(Number)
    .refine((n) => n <= 0xffff_ffff, `${what} must be at most 4,294,967,295`);
const routingFeesForm = z.object({
  baseMsat: u32Field('base fee (msat)'),
  proportionalMillionths: u32Field('proportional fee (ppm)'),
  confirm: z.literal('yes').optional(),
});

/** What a forward of `amountMsat` earns under BOLT 7 fees (LDK rounds the proportional part down). */
const routingFeeMsat = (amountMsat: bigint, f: { baseMsat: number; proportionalMillionths: number }) =>
  BigInt(f.baseMsat) + (amountMsat * BigInt(f.proportionalMillionths)) / 1_000_000n;

/** How many admin actions the page lists. */
const ACTION_LOG_ROWS = 50;

const openChannelForm = z.object({
  peerId: z.string().regex(/^0[23][0-9a-f]{64}$/, 'node id must be 66 hex characters'),
  address: z.string().regex(/^[^\s:]{1,253}:[0-9]{1,5}$/, 'address must be host:port'),
  capacitySat: z
    .string()
    .regex(/^[1-9][0-9]{0,11}$/, 'capacity must be a whole number of sat')
    .transform((s) => BigInt(s)),
  announce: z.literal('1').optional(),
  confirm: z.literal('yes').optional(),
});

/** Dials the public peer at `address` (host:port, checked by the form) and opens an outbound channel. */
async function connectAndOpen(
  node: LightningNode,
  request: { peerId: string; address: string; capacitySat: bigint; announce: boolean },
): Promise<{ temporaryChannelId: string }> {
  const colon = request.address.lastIndexOf(':');
  await node.connect(
    request.peerId,
    tcp(request.address.slice(0, colon), Number(request.address.slice(colon + 1))),
  );
  return node.openChannel({
    peerId: request.peerId,
    capacitySat: request.capacitySat,
    announce: request.announce,
  });
}

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
  const tokens = new CsrfTokens();
  const credentials = (c: Context) => c.req.header('authorization') ?? '';
  const csrfToken = (c: Context) => tokens.tokenFor(credentials(c));
  admin.use('*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const body = await c.req.parseBody();
    if (!tokens.matches(credentials(c), body.csrf))
      return c.text('CSRF token missing or wrong: reload the page', 403);
    await next();
  });
  const back = (c: Context, message: string) =>
    c.redirect(`/admin?message=${encodeURIComponent(message)}`, 303);
  const form = async (c: Context) =>
    Object.fromEntries(Object.entries(await c.req.parseBody()).filter(([k]) => k !== 'csrf'));
  /** A confirmed action's outcome: into the action log (kept across restarts), then to the operator. */
  const done = async (
    c: Context,
    action: string,
    params: Record<string, string>,
    outcome: AdminActionRecord['outcome'],
    message: string,
  ) => {
    try {
      await deps.store.recordAdminAction({ atMs: deps.clock(), action, params, outcome, detail: message });
    } catch (err) {
      // the action ran (or failed) either way: the operator still sees what happened
      deps.log.error({ err, action, params, outcome }, 'admin action log write failed');
    }
    return back(c, message);
  };

  admin.get('/style.css', (c) => c.body(STYLE, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  admin.get('/uplot.css', (c) => c.body(UPLOT_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  admin.get('/uplot.js', (c) => c.body(UPLOT_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  admin.get('/charts.js', (c) =>
    c.body(CHARTS_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
  );

  admin.get('/', async (c) => {
    const { node, store, metrics } = deps;
    const channels = node.listChannels();
    const balances = node.balances();
    const wallets = await store.listWallets(500);
    const forwards = await store.listForwards(50);
    const message = c.req.query('message');
    const range = (c.req.query('range') ?? '2d') as RangeName;
    return c.html(
      dashboard({
        nodeId: node.nodeId,
        network: node.network,
        onchainSat: balances.onchainConfirmedMsat / 1000n,
        outboundMsat: balances.lightningOutboundMsat,
        inboundMsat: balances.lightningInboundMsat,
        feesEarnedMsat: metrics.feesEarnedMsat.total(),
        alerts: await evaluateAlerts(deps),
        charts: await chartData(store, range in RANGES ? range : '2d', deps.clock()),
        channels,
        feePolicy: { minFeeMsat: deps.config.fee.minFeeMsat, proportional: deps.config.fee.proportional },
        routingFees: node.forwardingFees(),
        actions: await store.listAdminActions(ACTION_LOG_ROWS),
        csrf: csrfToken(c),
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
    const parsed = openChannelForm.safeParse(await form(c));
    if (!parsed.success)
      return back(c, `Not opened: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    if (parsed.data.confirm !== 'yes') {
      const satPerKw = BigInt(Math.ceil(deps.node.feeWeather().commitmentSatPerKw));
      const feeSat = (satPerKw * FUNDING_TX_WEIGHT + 999n) / 1000n;
      return c.html(
        confirmPage({
          title: 'Open a channel',
          facts: [
            ['Peer', parsed.data.peerId],
            ['Address', parsed.data.address],
            ['Capacity', `${parsed.data.capacitySat.toLocaleString('en-US')} sat, from the on-chain wallet`],
            ['Announced', parsed.data.announce === '1' ? 'yes' : 'no'],
          ],
          fee: `about ${feeSat.toLocaleString('en-US')} sat on-chain for the funding transaction (${satPerKw} sat/kW now)`,
          action: '/admin/channels',
          fields: {
            peerId: parsed.data.peerId,
            address: parsed.data.address,
            capacitySat: parsed.data.capacitySat.toString(),
            ...(parsed.data.announce ? { announce: '1' } : {}),
          },
          button: 'Open channel',
          csrf: csrfToken(c),
        }),
      );
    }
    const params = {
      peerId: parsed.data.peerId,
      address: parsed.data.address,
      capacitySat: parsed.data.capacitySat.toString(),
      announce: parsed.data.announce === '1' ? 'yes' : 'no',
    };
    try {
      const opened = await connectAndOpen(deps.node, {
        peerId: parsed.data.peerId,
        address: parsed.data.address,
        capacitySat: parsed.data.capacitySat,
        announce: parsed.data.announce === '1',
      });
      deps.log.info(
        { peerId: parsed.data.peerId, capacitySat: parsed.data.capacitySat.toString() },
        'admin opened channel',
      );
      return done(
        c,
        'open-channel',
        params,
        'done',
        `Opening channel ${opened.temporaryChannelId.slice(0, 16)}… to ${parsed.data.peerId.slice(0, 16)}…`,
      );
    } catch (e) {
      if (isApiError(e) || isNodeError(e))
        return done(c, 'open-channel', params, 'failed', `Not opened: ${e.message}`);
      deps.log.error({ err: e }, 'admin open channel failed');
      return done(c, 'open-channel', params, 'failed', 'Not opened: internal error (see the server log)');
    }
  });

  admin.get('/channels/:channelId/close', (c) => {
    const channel = findChannel(c.req.param('channelId'));
    if (!channel) return back(c, 'No such channel');
    // the node's figure is for all its usable channels: each gets its share
    const { closeCostMsat } = deps.node.feeWeather();
    const usable = BigInt(deps.node.listChannels().filter((ch) => ch.isUsable).length);
    const share = (total: bigint) => (usable > 0n ? total / usable : total);
    return c.html(
      closePage({
        channel,
        cooperativeFeeMsat: share(closeCostMsat.cooperative),
        forceFeeMsat: share(closeCostMsat.force),
        csrf: csrfToken(c),
      }),
    );
  });

  admin.post('/channels/:channelId/close', async (c) => {
    const channel = findChannel(c.req.param('channelId'));
    const parsed = closeForm.safeParse(await form(c));
    if (!channel) return back(c, 'Not closed: no such channel');
    if (!parsed.success || parsed.data.confirm !== 'yes')
      return c.redirect(`/admin/channels/${channel.channelId}/close`, 303);
    const force = parsed.data.mode === 'force';
    const params = { channelId: channel.channelId, peerId: channel.peerId, mode: parsed.data.mode };
    try {
      deps.node.closeChannel(channel.channelId, { force });
    } catch (e) {
      if (isNodeError(e)) return done(c, 'close-channel', params, 'failed', `Not closed: ${e.message}`);
      deps.log.error({ err: e }, 'admin close channel failed');
      return done(c, 'close-channel', params, 'failed', 'Not closed: internal error (see the server log)');
    }
    deps.log.info({ channelId: channel.channelId, peerId: channel.peerId, force }, 'admin closed channel');
    return done(
      c,
      'close-channel',
      params,
      'done',
      `${force ? 'Force-closing' : 'Closing'} channel ${channel.channelId.slice(0, 16)}…`,
    );
  });

  admin.post('/fee-policy', async (c) => {
    const parsed = feePolicyForm.safeParse(await form(c));
    if (!parsed.success)
      return back(c, `Fee policy not changed: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const next = { minFeeMsat: parsed.data.minFeeMsat, proportional: parsed.data.proportional };
    const now = { minFeeMsat: deps.config.fee.minFeeMsat, proportional: deps.config.fee.proportional };
    if (parsed.data.confirm !== 'yes') {
      const example = (paymentMsat: bigint) => {
        const fee = (p: typeof now) =>
          openingFeeMsat(paymentMsat, { min_fee_msat: p.minFeeMsat, proportional: p.proportional });
        return [
          `Opening fee on a ${(paymentMsat / 1000n).toLocaleString('en-US')} sat payment`,
          `${(fee(now) / 1000n).toLocaleString('en-US')} sat now → ${(fee(next) / 1000n).toLocaleString('en-US')} sat`,
        ] as [string, string];
      };
      return c.html(
        confirmPage({
          title: 'Change the JIT fee policy',
          facts: [
            ['Minimum fee', `${now.minFeeMsat} msat → ${next.minFeeMsat} msat`],
            ['Proportional', `${now.proportional} ppm → ${next.proportional} ppm`],
            example(10_000_000n),
            example(100_000_000n),
            example(1_000_000_000n),
          ],
          fee: 'none: the new menu applies to JIT purchases from now on; menus already handed out keep their fees',
          action: '/admin/fee-policy',
          fields: { minFeeMsat: next.minFeeMsat.toString(), proportional: String(next.proportional) },
          button: 'Change the fee policy',
          csrf: csrfToken(c),
        }),
      );
    }
    await saveFeePolicy(deps.store, deps.config, next);
    deps.log.info(
      {
        from: { ...now, minFeeMsat: now.minFeeMsat.toString() },
        to: { ...next, minFeeMsat: next.minFeeMsat.toString() },
      },
      'admin changed the JIT fee policy',
    );
    return done(
      c,
      'jit-fee-policy',
      { minFeeMsat: next.minFeeMsat.toString(), proportional: String(next.proportional) },
      'done',
      `JIT fee policy: minimum ${next.minFeeMsat} msat, ${next.proportional} ppm`,
    );
  });

  admin.post('/routing-fees', async (c) => {
    const parsed = routingFeesForm.safeParse(await form(c));
    if (!parsed.success)
      return back(c, `Routing fees not changed: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const next = {
      baseMsat: parsed.data.baseMsat,
      proportionalMillionths: parsed.data.proportionalMillionths,
    };
    const now = deps.node.forwardingFees();
    const params = {
      baseMsat: String(next.baseMsat),
      proportionalMillionths: String(next.proportionalMillionths),
    };
    if (parsed.data.confirm !== 'yes') {
      const example = (amountMsat: bigint): [string, string] => [
        `Fee on a ${(amountMsat / 1000n).toLocaleString('en-US')} sat forward`,
        `${routingFeeMsat(amountMsat, now).toLocaleString('en-US')} msat now → ${routingFeeMsat(amountMsat, next).toLocaleString('en-US')} msat`,
      ];
      const channels = deps.node.listChannels();
      return c.html(
        confirmPage({
          title: 'Change the routing fees',
          facts: [
            ['Base fee', `${now.baseMsat} msat → ${next.baseMsat} msat`],
            ['Proportional', `${now.proportionalMillionths} ppm → ${next.proportionalMillionths} ppm`],
            example(10_000_000n),
            example(100_000_000n),
            example(1_000_000_000n),
            [
              'Channels',
              `all ${channels.length} now (${channels.filter((ch) => ch.isAnnounced).length} announced) and every channel opened later`,
            ],
          ],
          fee: 'none: the node announces the new fees to the network (a channel update per channel); payers that have not seen them yet may pay the old fees for a while',
          action: '/admin/routing-fees',
          fields: params,
          button: 'Change the routing fees',
          csrf: csrfToken(c),
        }),
      );
    }
    try {
      // stored first: the node takes them from the store at every start
      await saveRoutingFees(deps.store, next);
      const changed = deps.node.setForwardingFees(next);
      deps.log.info({ from: now, to: next, channels: changed }, 'admin changed the routing fees');
      return done(
        c,
        'routing-fees',
        params,
        'done',
        `Routing fees: ${next.baseMsat} msat + ${next.proportionalMillionths} ppm (${changed} channel(s) updated)`,
      );
    } catch (e) {
      if (isNodeError(e))
        return done(c, 'routing-fees', params, 'failed', `Routing fees not changed: ${e.message}`);
      deps.log.error({ err: e }, 'admin routing fee change failed');
      return done(
        c,
        'routing-fees',
        params,
        'failed',
        'Routing fees not changed: internal error (see the server log)',
      );
    }
  });

  admin.get('/channels/:channelId', async (c) => {
    const channel = findChannel(c.req.param('channelId'));
    if (!channel) return back(c, 'No such channel');
    const range = c.req.query('range') ?? '2d';
    return c.html(
      channelPage({
        channel,
        charts: await channelChartData(
          deps.store,
          channel.channelId,
          range in CHANNEL_RANGES ? (range as keyof typeof CHANNEL_RANGES) : '2d',
          deps.clock(),
        ),
      }),
    );
  });

  admin.get('/wallets/:nodeId', async (c) => {
    const id = nodeIdParam.safeParse(c.req.param('nodeId'));
    const wallet = id.success ? await deps.store.getWallet(id.data) : undefined;
    if (!wallet) return back(c, 'No such wallet');
    const online = deps.node.listPeers().some((p) => p.peerId === wallet.nodeId);
    return c.html(
      walletPage({
        nodeId: wallet.nodeId,
        createdAt: new Date(wallet.createdAtMs).toISOString(),
        lastLoginAt: new Date(wallet.lastLoginAtMs).toISOString(),
        online,
        channels: deps.node.listChannels(wallet.nodeId),
        purchases: await deps.store.listJitPurchases(wallet.nodeId, 100),
        backups: await deps.store.listBackups(wallet.nodeId),
        backupFailure: deps.metrics.backupHealth.failure(wallet.nodeId),
      }),
    );
  });

  function findChannel(param: string): ChannelView | undefined {
    const id = channelIdParam.safeParse(param);
    return id.success ? deps.node.listChannels().find((ch) => ch.channelId === id.data) : undefined;
  }

  return admin;
}
