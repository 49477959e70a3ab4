// Configuration: defaults < JSON file (CONFIG_FILE) < environment variables, validated with zod once
// at start. Every refusal names the variable and says what to put there.

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_RELAY_RESPONSE_BYTES, U64_MAX } from '@lpw/api';
import { z } from 'zod';
import { trustedProxyProblem } from './client-ip.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const msat = (name: string) =>
  z.union([z.string(), z.number(), z.bigint()]).transform((v, ctx) => {
    const s = String(v);
    if (!/^(0|[1-9][0-9]{0,19})$/.test(s) || BigInt(s) > U64_MAX) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be a whole number of msat (0 … 2^64-1), got ${s}`,
      });
      return z.NEVER;
    }
    return BigInt(s);
  });
const int = (name: string, min: number, max: number) =>
  z.coerce
    .number({ message: `${name} must be an integer from ${min} to ${max}` })
    .refine(
      (n) => Number.isInteger(n) && n >= min && n <= max,
      `${name} must be an integer from ${min} to ${max}`,
    );
const flag = (name: string) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'], { message: `${name} must be true or false` })])
    .transform((v) => v === true || v === 'true' || v === '1');
const url = (name: string, schemes: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return schemes.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    `${name} must be a ${schemes.map((p) => `${p}//`).join(' or ')} URL`,
  );

/** Why `entry` is not an origin a wallet can be served from, or undefined. */
export function walletOriginProblem(entry: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(entry);
  } catch {
    return `"${entry}" is not a URL; write an origin like https://wallet.example`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return `"${entry}" must be an https:// (or, on regtest, http://) origin`;
  // a browser's Origin header is exactly scheme://host[:port]: anything more never matches it
  if (parsed.origin !== entry)
    return `"${entry}" is not an origin (scheme://host[:port], no path or trailing slash); did you mean ${parsed.origin}?`;
  return undefined;
}

/** The devnet's admin password, printed by `npm start` and the README: never good outside regtest. */
export const EXAMPLE_ADMIN_PASSWORD = 'devnet-admin-password';

/**
 * Why an admin password is too weak for real money, or undefined. A guesser gets ~100 tries an hour
 * per IP past the lockout, so what matters is that the password is not a known or patterned one:
 * 16+ characters, 10+ distinct, not the devnet's. A random base64 string passes.
 */
export function adminPasswordWeakness(password: string): string | undefined {
  if (password.toLowerCase().includes(EXAMPLE_ADMIN_PASSWORD)) return 'is the devnet example from the README';
  if (password.length < 16) return 'is shorter than 16 characters';
  if (new Set(password).size < 10) return 'has fewer than 10 different characters';
  return undefined;
}

const configSchema = z
  .object({
    port: int('PORT', 0, 65535).default(8080),
    host: z.string().min(1, 'HOST must not be empty').default('0.0.0.0'),
    network: z
      .enum(['bitcoin', 'testnet', 'signet', 'regtest'], {
        message: 'NETWORK must be one of bitcoin, testnet, signet, regtest',
      })
      .default('regtest'),
    dataDir: z.string().min(1, 'DATA_DIR must not be empty').default('./data'),
    /** postgres://… or a SQLite path (sqlite:… or a plain path); default: DATA_DIR/lsp.sqlite. */
    databaseUrl: z
      .string()
      .refine(
        (s) => /^postgres(ql)?:\/\/[^\s]+$/.test(s) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(s),
        'DATABASE_URL must be a postgres:// URL or a SQLite file path',
      )
      .optional(),
    /**
     * Hot standby (standby.ts): run the node only while holding the database's lock, else wait as the
     * standby. Every process of the LSP gets the same settings plus this one.
     */
    hotStandby: flag('HOT_STANDBY').default(false),
    /**
     * /trpc answers carry a Server-Timing header: how long the request waited for its turn (`queue`)
     * and ran until its answer (`app`), in ms, for measuring where a client's time goes (the hostile
     * bench). Off by default: it tells any client how busy the LSP is.
     */
    serverTiming: flag('SERVER_TIMING').default(false),
    esploraUrl: url('ESPLORA_URL', ['http:', 'https:']).optional(),
    bitcoindRpcUrl: url('BITCOIND_RPC_URL', ['http:', 'https:']).optional(),
    /** A second Esplora whose tip the chain lag alert compares with ours (chain-lag.ts); none by default. */
    esploraUrl2: url('ESPLORA_URL_2', ['http:', 'https:']).optional(),
    /** Esplora URL handed to wallets (defaults to esploraUrl). */
    publicEsploraUrl: url('PUBLIC_ESPLORA_URL', ['http:', 'https:']).optional(),
    adminPassword: z.string().min(12, 'ADMIN_PASSWORD must be at least 12 characters').optional(),
    lspSeed: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'LSP_SEED must be 64 hex characters (32 bytes)')
      .optional(),
    publicPeerAddress: z
      .string()
      .regex(/^[^\s:]+:[0-9]{1,5}$/, 'PUBLIC_PEER_ADDRESS must be host:port')
      .optional(),
    /** host:port to accept public Lightning peers on over TCP (off when unset). */
    peerListen: z
      .string()
      .regex(/^[^\s:]+:[0-9]{1,5}$/, 'PEER_LISTEN must be host:port')
      .optional(),
    /** Public peers to stay connected to: nodeId@host:port, comma separated. */
    publicPeers: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^0[23][0-9a-f]{64}@[^\s:@]+:[0-9]{1,5}$/,
              'PUBLIC_PEERS entries must be nodeId@host:port (66 lowercase hex characters for the id)',
            ),
        ),
      )
      .default([]),
    nodeAlias: z.string().max(32, 'NODE_ALIAS must be at most 32 characters').default('lpw-lsp'),
    websocketPath: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/, 'WEBSOCKET_PATH must be a path like /peer')
      .default('/peer'),
    logLevel: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        message: 'LOG_LEVEL must be trace, debug, info, warn, error, fatal or silent',
      })
      .default('info'),
    fee: z
      .object({
        minFeeMsat: msat('JIT_MIN_FEE_MSAT').default(2_000_000n),
        proportional: int('JIT_PROPORTIONAL', 0, 0xffff_ffff).default(4_000),
        validForSec: int('JIT_VALID_FOR_SEC', 60, 7 * 24 * 3600).default(3_600),
        minLifetimeBlocks: int('JIT_MIN_LIFETIME', 0, 0xffff_ffff).default(4_320),
        maxClientToSelfDelay: int('JIT_MAX_CLIENT_TO_SELF_DELAY', 0, 0xffff).default(2_016),
        minPaymentSizeMsat: msat('JIT_MIN_PAYMENT_MSAT').default(10_000_000n),
        maxPaymentSizeMsat: msat('JIT_MAX_PAYMENT_MSAT').default(10_000_000_000n),
        lspCltvExpiryDelta: int('JIT_CLTV_EXPIRY_DELTA', 18, 2016).default(72),
      })
      .prefault({}),
    /** How JIT channels are sized, and what the LSP risks on unconfirmed channels. */
    jit: z
      .object({
        /** Channel = max(multiplier × payment, min), capped by on-chain funds and exposure. */
        channelMultiplier: int('JIT_CHANNEL_MULTIPLIER', 1, 100).default(2),
        minChannelSat: int('JIT_MIN_CHANNEL_SAT', 20_000, 21e14).default(100_000),
        maxChannelSat: int('JIT_MAX_CHANNEL_SAT', 20_000, 21e14).default(16_000_000),
        /** Total capacity of our unconfirmed (zero-conf) channels may not exceed this. */
        maxZeroConfExposureSat: int('JIT_MAX_ZEROCONF_EXPOSURE_SAT', 0, 21e14).default(50_000_000),
        /** Kept in the on-chain wallet for fees; never put into a JIT channel. */
        onchainReserveSat: int('JIT_ONCHAIN_RESERVE_SAT', 0, 21e14).default(50_000),
        /** How long MPP parts (and a payment waiting for its wallet to connect) are held. */
        holdTimeoutSec: int('JIT_HOLD_TIMEOUT_SEC', 10, 3_600).default(90),
      })
      .prefault({}),
    orders: z
      .object({
        minLspBalanceSat: int('ORDER_MIN_LSP_BALANCE_SAT', 0, 21e14).default(100_000),
        maxLspBalanceSat: int('ORDER_MAX_LSP_BALANCE_SAT', 0, 21e14).default(16_000_000),
        maxClientBalanceSat: int('ORDER_MAX_CLIENT_BALANCE_SAT', 0, 21e14).default(0),
        baseFeeSat: int('ORDER_BASE_FEE_SAT', 0, 21e14).default(1_000),
        feePpm: int('ORDER_FEE_PPM', 0, 1_000_000).default(5_000),
        maxChannelExpiryBlocks: int('ORDER_MAX_CHANNEL_EXPIRY_BLOCKS', 1, 1_000_000).default(13_140),
        invoiceExpirySec: int('ORDER_INVOICE_EXPIRY_SEC', 60, 86_400).default(3_600),
      })
      .prefault({}),
    /**
     * What one client may cost the LSP. Token buckets refill evenly over their window and burst up
     * to their size; every tRPC call counts, also inside a batch. Over a limit the answer is
     * TOO_MANY_REQUESTS (HTTP 429, Retry-After) with `retryAfterSec` in the error's data.
     * The per-IP and per-wallet buckets live in the process (each LSP process enforces its own);
     * stored bytes per wallet are counted in the store.
     */
    limits: z
      .object({
        bodyLimitBytes: int('BODY_LIMIT_BYTES', 1_024, 64 * 1024 * 1024).default(6 * 1024 * 1024),
        /** tRPC calls in one HTTP request; more is BATCH_TOO_LARGE (413) before any runs. */
        maxBatchCalls: int('MAX_BATCH_CALLS', 1, 1_000).default(10),
        /** Every tRPC call (and backup request) per client IP. */
        requestsPerMinutePerIp: int('RATE_REQUESTS_PER_MIN', 1, 10_000_000).default(600),
        /**
         * ... of which at most this many at once. A wallet's session is a handful of calls, and many
         * wallets behind one carrier NAT arrive spread out; a bucket as large as the minute's let a
         * flood take 600 calls in its first seconds at ~90 a second per address.
         */
        requestsBurstPerIp: int('RATE_REQUESTS_BURST', 1, 10_000_000).default(60),
        /**
         * tRPC requests one client IP may have open at once; the next is TOO_MANY_REQUESTS (retry in
         * 1 s) before anything else runs. Our client sends one call per request, so a wallet
         * starting up has a few open; a flood keeping many open is refused, not queued.
         */
        inFlightPerIp: int('MAX_IN_FLIGHT_PER_IP', 1, 10_000).default(8),
        /**
         * A client refused again before the Retry-After it was given gets that refusal this many
         * seconds late at most (its wait; 0 answers at once): a client that never backs off then
         * sends at most its open requests per wait, whatever the LSP's speed.
         */
        tarpitMaxSec: int('TARPIT_MAX_SEC', 0, 60).default(10),
        /**
         * Event-loop lag (ms) past which /trpc requests are admitted by client address, not in
         * arrival order: the address that used the LSP least lately goes first, so a flood waits
         * behind itself (door.ts). Below it, admission is immediate; 0 admits by address always.
         */
        fairLagMs: int('FAIR_LAG_MS', 0, 10_000).default(10),
        /** Requests one address may have waiting for its turn; the next is 429 (retry in 1 s). */
        fairHeldPerIp: int('FAIR_HELD_PER_IP', 1, 10_000).default(4),
        /**
         * Requests waiting for their turn, all addresses together (each a socket and at most 64 KiB
         * of its body, one socket read); past it the last in line is refused (429).
         */
        fairHeldMax: int('FAIR_HELD_MAX', 1, 1_000_000).default(500),
        /** Early returns per minute after which an address is refused outright ... */
        banAfterEarlyRetries: int('BAN_AFTER_EARLY_RETRIES', 1, 1_000_000).default(30),
        /** ... for this long (every /trpc request answered 429 with the time left). */
        banSec: int('BAN_SEC', 0, 86_400).default(300),
        /** auth.challenge and auth.login per client IP. */
        authPerMinutePerIp: int('RATE_AUTH_PER_MIN', 1, 1_000_000).default(30),
        /** Logins of node ids the LSP has never seen, per client IP (throwaway identities). */
        newWalletsPerHourPerIp: int('RATE_NEW_WALLETS_PER_HOUR', 1, 1_000_000).default(10),
        buyPerMinutePerWallet: int('RATE_BUY_PER_MIN', 1, 1_000_000).default(10),
        /** orders.create (each makes an invoice and a stored order) per wallet. */
        ordersPerMinutePerWallet: int('RATE_ORDERS_PER_MIN', 1, 1_000_000).default(5),
        /**
         * routes.find (a pathfinding run over the graph) per wallet; a wallet asks once per payment,
         * so twice a once-a-second stream leaves room for retries.
         */
        routesPerMinutePerWallet: int('RATE_ROUTES_PER_MIN', 1, 1_000_000).default(120),
        /**
         * ... of which at most this many at once: a wallet asks one at a time, while a bucket as large
         * as the minute's let each throwaway session run 120 pathfindings the moment it logged in.
         */
        routesBurstPerWallet: int('RATE_ROUTES_BURST', 1, 1_000_000).default(10),
        /**
         * routes.find and orders.create hold the event loop (pathfinding, invoice signing): at most
         * this many run at once, one event-loop turn apart, whoever asks ...
         */
        expensiveConcurrency: int('EXPENSIVE_CONCURRENCY', 1, 64).default(2),
        /** ... and at most this many wait; the next is TOO_MANY_REQUESTS (retry in 1 s). */
        expensiveQueue: int('EXPENSIVE_QUEUE', 0, 100_000).default(32),
        /** ... of which one client IP may hold this many; waiting clients are served in turn. */
        expensiveQueuePerIp: int('EXPENSIVE_QUEUE_PER_IP', 0, 100_000).default(4),
        sessionTtlSec: int('SESSION_TTL_SEC', 60, 30 * 86_400).default(3_600),
        maxBackupBlobBytes: int('MAX_BACKUP_BLOB_BYTES', 1, 4 * 1024 * 1024).default(4 * 1024 * 1024),
        maxBackupKeys: int('MAX_BACKUP_KEYS', 1, 256).default(64),
        /** All of one wallet's backups together (a wallet needs one or two keys of a few hundred KB). */
        maxBackupBytesPerWallet: int('MAX_BACKUP_BYTES_PER_WALLET', 1, 1024 * 1024 * 1024).default(
          8 * 1024 * 1024,
        ),
        /** Backup bytes added to what the LSP stores, per client IP per hour, whatever the wallet (a rewrite adds only its growth). */
        backupBytesPerHourPerIp: int('BACKUP_BYTES_PER_HOUR_PER_IP', 1, 1024 * 1024 * 1024 * 1024).default(
          64 * 1024 * 1024,
        ),
      })
      .prefault({}),
    /** The operator's page: HTTP basic auth, user `admin`. */
    admin: z
      .object({
        /** Wrong passwords from one IP before it must wait; each further one doubles the wait ... */
        lockoutAfterFailures: int('ADMIN_LOCKOUT_AFTER', 1, 1_000).default(5),
        /** ... from 1 s up to this; a right password (once the wait is over) clears the count. */
        lockoutMaxSec: int('ADMIN_LOCKOUT_MAX_SEC', 1, 86_400).default(900),
      })
      .prefault({}),
    /** `/metrics` asks `Authorization: Bearer <METRICS_TOKEN>` when set. */
    metricsToken: z
      .string()
      .regex(/^[\x21-\x7e]{32,256}$/, 'METRICS_TOKEN must be 32–256 printable characters without spaces')
      .optional(),
    /** host:port to serve `/metrics` on instead of the public port (e.g. 127.0.0.1:9464). */
    metricsListen: z
      .string()
      .regex(/^[^\s:]+:[0-9]{1,5}$/, 'METRICS_LISTEN must be host:port')
      .optional(),
    /**
     * Reverse proxies whose X-Forwarded-For the per-IP limits believe (addresses or CIDRs, comma
     * separated). Empty: every limit keys on the TCP peer, and X-Forwarded-For is ignored.
     */
    trustedProxies: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
      .pipe(
        z.array(
          z.string().superRefine((entry, ctx) => {
            const problem = trustedProxyProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: `TRUSTED_PROXIES: ${problem}` });
          }),
        ),
      )
      .default([]),
    /**
     * Origins of the web wallets this LSP serves (scheme://host[:port], comma separated): tRPC,
     * /backup and /health answer them with CORS, and the /peer WebSocket accepts only them (a
     * browser always sends Origin; clients that send none, like the CLI, are not browsers). Empty:
     * no browser wallet can use this LSP.
     */
    walletOrigins: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
      .pipe(
        z.array(
          z.string().superRefine((entry, ctx) => {
            const problem = walletOriginProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: `WALLET_ORIGINS: ${problem}` });
          }),
        ),
      )
      .default([]),
    /** The HTTP relay wallets use to reach other origins (LNURL, Lightning Addresses, L402). */
    relay: z
      .object({
        /** Devnet only: let wallets reach loopback sites (the devnet's merchant), over http too. */
        allowLoopback: flag('RELAY_ALLOW_LOOPBACK').default(false),
        timeoutMs: int('RELAY_TIMEOUT_MS', 100, 60_000).default(10_000),
        maxResponseBytes: int('RELAY_MAX_RESPONSE_BYTES', 1_024, MAX_RELAY_RESPONSE_BYTES).default(
          MAX_RELAY_RESPONSE_BYTES,
        ),
        perMinutePerWallet: int('RATE_RELAY_PER_MIN', 1, 1_000_000).default(60),
      })
      .prefault({}),
    /**
     * Exchange rates wallets show beside sats (rates.ts): fetched from RATES_URL (JSON), the value at
     * RATES_PATH for each of RATES_CURRENCIES being the price of one bitcoin in that currency. Unset:
     * `rates.get` answers RATES_UNAVAILABLE and wallets show sats only.
     */
    rates: z
      .object({
        url: url('RATES_URL', ['http:', 'https:']).optional(),
        /** Dot-separated keys; {CURRENCY} / {currency} stand for the code, e.g. data.rates.{CURRENCY}. */
        path: z
          .string()
          .regex(
            /^[A-Za-z0-9_{}-]+(\.[A-Za-z0-9_{}-]+)*$/,
            'RATES_PATH must be dot-separated keys, e.g. data.rates.{CURRENCY} or bitcoin.{currency}',
          )
          .default('{CURRENCY}'),
        currencies: z
          .union([z.string(), z.array(z.string())])
          .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
          .pipe(
            z
              .array(
                z.string().regex(/^[A-Z]{3}$/, 'RATES_CURRENCIES entries must be ISO 4217 codes like USD'),
              )
              .min(1, 'RATES_CURRENCIES must name at least one currency')
              .max(64, 'RATES_CURRENCIES may name at most 64 currencies'),
          )
          .default(['USD', 'EUR', 'GBP', 'JPY', 'CHF']),
        /** How long one reading is served before the source is asked again (every wallet shares it). */
        maxAgeSec: int('RATES_MAX_AGE_SEC', 10, 86_400).default(300),
        timeoutMs: int('RATES_TIMEOUT_MS', 100, 60_000).default(5_000),
      })
      .prefault({}),
    /** The operator's history (history/): sampled on a timer, raw points downsampled to hours. */
    history: z
      .object({
        sampleEverySec: int('HISTORY_SAMPLE_SEC', 5, 3_600).default(60),
        /** Raw samples older than this are folded into hourly points. */
        rawKeepHours: int('HISTORY_RAW_HOURS', 1, 24 * 31).default(48),
        /** Hourly points older than this are deleted. */
        keepDays: int('HISTORY_KEEP_DAYS', 1, 3_660).default(90),
      })
      .prefault({}),
    /** When the admin page and `lsp_alert{kind}` raise an alert (alerts.ts). */
    alerts: z
      .object({
        /** On-chain capital for JIT channels below this many minimum-size channels. */
        jitWallets: int('ALERT_JIT_WALLETS', 0, 1_000_000).default(10),
        /** On-chain balance below the reserve plus this many minimum-size channel opens. */
        onchainOpens: int('ALERT_ONCHAIN_OPENS', 0, 1_000_000).default(2),
        wasmPercent: int('ALERT_WASM_PERCENT', 1, 100).default(70),
        /** A channel's stored monitor above this: each payment over it copies the whole monitor. */
        monitorKb: int('ALERT_MONITOR_KB', 1, 1_048_576).default(4_096),
        /** The last completed chain sync older than this (the node syncs every 10 s). */
        chainLagSec: int('ALERT_CHAIN_LAG_SEC', 30, 86_400).default(300),
        /** Our synced height this many blocks below ESPLORA_URL_2's tip (a block reaches servers seconds apart). */
        chainBehindBlocks: int('ALERT_CHAIN_BEHIND_BLOCKS', 1, 1_000).default(2),
      })
      .prefault({}),
    /**
     * The LSP's public origin (https://lsp.example): wallets' Lightning Addresses are name@its host
     * and LNURL callbacks point at it. Unset: on regtest the origin a request came to; elsewhere the
     * LSP serves no addresses (behind a proxy the request's own URL is not the public one).
     */
    publicUrl: z
      .string()
      .superRefine((entry, ctx) => {
        const problem = walletOriginProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: `PUBLIC_URL: ${problem}` });
      })
      .optional(),
    /** Lightning Addresses (lnaddr/): how long a payer waits for the wallet's invoice. */
    addresses: z
      .object({
        /** The wallet may buy a JIT channel first (a few round trips to us); then the payer is told it is offline. */
        invoiceTimeoutMs: int('ADDRESS_INVOICE_TIMEOUT_MS', 1_000, 60_000).default(20_000),
      })
      .prefault({}),
    /** LSPS2 tokens; when non-empty, `jit.getInfo` requires one of them. */
    jitTokens: z.array(z.string().min(1).max(256)).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.fee.minPaymentSizeMsat > c.fee.maxPaymentSizeMsat) {
      ctx.addIssue({ code: 'custom', message: 'JIT_MIN_PAYMENT_MSAT must not exceed JIT_MAX_PAYMENT_MSAT' });
    }
    if (c.orders.minLspBalanceSat > c.orders.maxLspBalanceSat) {
      ctx.addIssue({
        code: 'custom',
        message: 'ORDER_MIN_LSP_BALANCE_SAT must not exceed ORDER_MAX_LSP_BALANCE_SAT',
      });
    }
    if (c.publicUrl?.startsWith('http:') && c.network !== 'regtest') {
      ctx.addIssue({ code: 'custom', message: 'PUBLIC_URL must be an https:// origin outside regtest' });
    }
    if (c.relay.allowLoopback && c.network !== 'regtest') {
      ctx.addIssue({ code: 'custom', message: 'RELAY_ALLOW_LOOPBACK is for a regtest devnet only' });
    }
    const plain = c.walletOrigins.filter((o) => o.startsWith('http:'));
    if (c.network !== 'regtest' && plain.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `WALLET_ORIGINS must be https:// origins outside regtest (a wallet served over http can be swapped on the way), got ${plain.join(', ')}`,
      });
    }
    if (c.limits.backupBytesPerHourPerIp < c.limits.maxBackupBlobBytes) {
      ctx.addIssue({
        code: 'custom',
        message: 'BACKUP_BYTES_PER_HOUR_PER_IP must be at least MAX_BACKUP_BLOB_BYTES (else no backup fits)',
      });
    }
    if (c.network !== 'regtest' && c.adminPassword !== undefined) {
      const weak = adminPasswordWeakness(c.adminPassword);
      if (weak) {
        ctx.addIssue({
          code: 'custom',
          message: `ADMIN_PASSWORD ${weak} (NETWORK=${c.network}); set a random one, e.g. ADMIN_PASSWORD="$(openssl rand -base64 24)"`,
        });
      }
    }
    if (c.hotStandby && !/^postgres(ql)?:\/\//.test(c.databaseUrl ?? '')) {
      ctx.addIssue({
        code: 'custom',
        message:
          'HOT_STANDBY needs DATABASE_URL to be a postgres:// URL (the processes share its lock and state)',
      });
    }
    if (c.hotStandby && !c.esploraUrl && !c.bitcoindRpcUrl) {
      ctx.addIssue({
        code: 'custom',
        message:
          'HOT_STANDBY needs ESPLORA_URL or BITCOIND_RPC_URL (an in-process devnet is one per process)',
      });
    }
    if (c.network === 'bitcoin' && !c.esploraUrl && !c.bitcoindRpcUrl) {
      ctx.addIssue({
        code: 'custom',
        message: 'NETWORK=bitcoin needs ESPLORA_URL or BITCOIND_RPC_URL (devnet is regtest only)',
      });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type ResolvedConfig = z.output<typeof configSchema>;
export interface Config extends ResolvedConfig {
  databaseUrl: string;
  /** Where the chain comes from: the in-process devnet unless a real source is configured. */
  chain: 'devnet' | 'esplora' | 'bitcoind';
}

/** Environment variable → path in the config object. */
const ENV: Record<string, string> = {
  PORT: 'port',
  HOST: 'host',
  NETWORK: 'network',
  DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  HOT_STANDBY: 'hotStandby',
  ESPLORA_URL: 'esploraUrl',
  BITCOIND_RPC_URL: 'bitcoindRpcUrl',
  ESPLORA_URL_2: 'esploraUrl2',
  PUBLIC_ESPLORA_URL: 'publicEsploraUrl',
  ADMIN_PASSWORD: 'adminPassword',
  LSP_SEED: 'lspSeed',
  PUBLIC_PEER_ADDRESS: 'publicPeerAddress',
  WEBSOCKET_PATH: 'websocketPath',
  PEER_LISTEN: 'peerListen',
  PUBLIC_PEERS: 'publicPeers',
  NODE_ALIAS: 'nodeAlias',
  JIT_CHANNEL_MULTIPLIER: 'jit.channelMultiplier',
  JIT_MIN_CHANNEL_SAT: 'jit.minChannelSat',
  JIT_MAX_CHANNEL_SAT: 'jit.maxChannelSat',
  JIT_MAX_ZEROCONF_EXPOSURE_SAT: 'jit.maxZeroConfExposureSat',
  JIT_ONCHAIN_RESERVE_SAT: 'jit.onchainReserveSat',
  JIT_HOLD_TIMEOUT_SEC: 'jit.holdTimeoutSec',
  LOG_LEVEL: 'logLevel',
  JIT_MIN_FEE_MSAT: 'fee.minFeeMsat',
  JIT_PROPORTIONAL: 'fee.proportional',
  JIT_VALID_FOR_SEC: 'fee.validForSec',
  JIT_MIN_LIFETIME: 'fee.minLifetimeBlocks',
  JIT_MAX_CLIENT_TO_SELF_DELAY: 'fee.maxClientToSelfDelay',
  JIT_MIN_PAYMENT_MSAT: 'fee.minPaymentSizeMsat',
  JIT_MAX_PAYMENT_MSAT: 'fee.maxPaymentSizeMsat',
  JIT_CLTV_EXPIRY_DELTA: 'fee.lspCltvExpiryDelta',
  ORDER_MIN_LSP_BALANCE_SAT: 'orders.minLspBalanceSat',
  ORDER_MAX_LSP_BALANCE_SAT: 'orders.maxLspBalanceSat',
  ORDER_MAX_CLIENT_BALANCE_SAT: 'orders.maxClientBalanceSat',
  ORDER_BASE_FEE_SAT: 'orders.baseFeeSat',
  ORDER_FEE_PPM: 'orders.feePpm',
  ORDER_MAX_CHANNEL_EXPIRY_BLOCKS: 'orders.maxChannelExpiryBlocks',
  ORDER_INVOICE_EXPIRY_SEC: 'orders.invoiceExpirySec',
  BODY_LIMIT_BYTES: 'limits.bodyLimitBytes',
  RATE_AUTH_PER_MIN: 'limits.authPerMinutePerIp',
  RATE_BUY_PER_MIN: 'limits.buyPerMinutePerWallet',
  RATE_REQUESTS_PER_MIN: 'limits.requestsPerMinutePerIp',
  RATE_REQUESTS_BURST: 'limits.requestsBurstPerIp',
  SESSION_TTL_SEC: 'limits.sessionTtlSec',
  MAX_BACKUP_BLOB_BYTES: 'limits.maxBackupBlobBytes',
  MAX_BACKUP_KEYS: 'limits.maxBackupKeys',
  MAX_BATCH_CALLS: 'limits.maxBatchCalls',
  RATE_NEW_WALLETS_PER_HOUR: 'limits.newWalletsPerHourPerIp',
  RATE_ORDERS_PER_MIN: 'limits.ordersPerMinutePerWallet',
  RATE_ROUTES_PER_MIN: 'limits.routesPerMinutePerWallet',
  RATE_ROUTES_BURST: 'limits.routesBurstPerWallet',
  EXPENSIVE_CONCURRENCY: 'limits.expensiveConcurrency',
  EXPENSIVE_QUEUE: 'limits.expensiveQueue',
  EXPENSIVE_QUEUE_PER_IP: 'limits.expensiveQueuePerIp',
  MAX_IN_FLIGHT_PER_IP: 'limits.inFlightPerIp',
  TARPIT_MAX_SEC: 'limits.tarpitMaxSec',
  BAN_AFTER_EARLY_RETRIES: 'limits.banAfterEarlyRetries',
  BAN_SEC: 'limits.banSec',
  FAIR_LAG_MS: 'limits.fairLagMs',
  FAIR_HELD_PER_IP: 'limits.fairHeldPerIp',
  FAIR_HELD_MAX: 'limits.fairHeldMax',
  MAX_BACKUP_BYTES_PER_WALLET: 'limits.maxBackupBytesPerWallet',
  BACKUP_BYTES_PER_HOUR_PER_IP: 'limits.backupBytesPerHourPerIp',
  ADMIN_LOCKOUT_AFTER: 'admin.lockoutAfterFailures',
  ADMIN_LOCKOUT_MAX_SEC: 'admin.lockoutMaxSec',
  METRICS_TOKEN: 'metricsToken',
  SERVER_TIMING: 'serverTiming',
  METRICS_LISTEN: 'metricsListen',
  TRUSTED_PROXIES: 'trustedProxies',
  WALLET_ORIGINS: 'walletOrigins',
  RELAY_ALLOW_LOOPBACK: 'relay.allowLoopback',
  RELAY_TIMEOUT_MS: 'relay.timeoutMs',
  RELAY_MAX_RESPONSE_BYTES: 'relay.maxResponseBytes',
  RATE_RELAY_PER_MIN: 'relay.perMinutePerWallet',
  RATES_URL: 'rates.url',
  RATES_PATH: 'rates.path',
  RATES_CURRENCIES: 'rates.currencies',
  RATES_MAX_AGE_SEC: 'rates.maxAgeSec',
  RATES_TIMEOUT_MS: 'rates.timeoutMs',
  HISTORY_SAMPLE_SEC: 'history.sampleEverySec',
  HISTORY_RAW_HOURS: 'history.rawKeepHours',
  HISTORY_KEEP_DAYS: 'history.keepDays',
  PUBLIC_URL: 'publicUrl',
  ADDRESS_INVOICE_TIMEOUT_MS: 'addresses.invoiceTimeoutMs',
  ALERT_JIT_WALLETS: 'alerts.jitWallets',
  ALERT_ONCHAIN_OPENS: 'alerts.onchainOpens',
  ALERT_WASM_PERCENT: 'alerts.wasmPercent',
  ALERT_MONITOR_KB: 'alerts.monitorKb',
  ALERT_CHAIN_LAG_SEC: 'alerts.chainLagSec',
  ALERT_CHAIN_BEHIND_BLOCKS: 'alerts.chainBehindBlocks',
};

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/**
 * Read and validate the configuration.
 * @example const config = loadConfig(process.env); // throws ConfigError listing every problem
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  let raw: Record<string, unknown> = {};
  if (env.CONFIG_FILE) {
    let text: string;
    try {
      text = readFileSync(env.CONFIG_FILE, 'utf8');
    } catch (e) {
      throw new ConfigError([`CONFIG_FILE ${env.CONFIG_FILE} cannot be read: ${(e as Error).message}`]);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError([`CONFIG_FILE ${env.CONFIG_FILE} is not valid JSON: ${(e as Error).message}`]);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError([`CONFIG_FILE ${env.CONFIG_FILE} must hold a JSON object`]);
    }
  }
  for (const [name, path] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown setting(s) ${i.keys.join(', ')}${i.path.length ? ` in ${i.path.join('.')}` : ''} in CONFIG_FILE`
          : i.message,
      ),
    );
  }
  const c = parsed.data;
  return {
    ...c,
    databaseUrl: c.databaseUrl ?? join(c.dataDir, 'lsp.sqlite'),
    chain: c.bitcoindRpcUrl ? 'bitcoind' : c.esploraUrl ? 'esplora' : 'devnet',
  };
}

/**
 * The LSP's 32-byte secret: LSP_SEED, else DATA_DIR/lsp-seed (created on first start, mode 0600).
 * Refuses a seed file others can read.
 */
export function loadOrCreateSeed(config: Pick<Config, 'lspSeed' | 'dataDir'>): Uint8Array {
  if (config.lspSeed) return Uint8Array.from(Buffer.from(config.lspSeed, 'hex'));
  const dir = resolve(config.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'lsp-seed');
  if (!existsSync(path)) {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new ConfigError([`${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`]);
  const hex = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError([`${path} must hold 64 hex characters`]);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
