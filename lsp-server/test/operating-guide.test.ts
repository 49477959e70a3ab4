// docs/operating.md is tested by reading it: every block marked `<!-- tested: KIND [ARG] -->` is
// checked against the code (config loader, package scripts), PostgreSQL, a shell, and one running LSP
// (createLsp on a devnet chain, configured by the guide's own settings); so is the Grafana dashboard.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { API_ERRORS, openingFeeMsat } from '@lpw/api';
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import { buildUserConfig } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TrustedProxies } from '../src/client-ip.ts';
import {
  adminPasswordWeakness,
  type Config,
  ConfigError,
  EXAMPLE_ADMIN_PASSWORD,
  loadConfig,
  loadOrCreateSeed,
} from '../src/config.ts';
import { feeMenu } from '../src/liquidity/fees.ts';
import { createLsp, type Lsp } from '../src/lsp.ts';
import { tempDir } from './temp-dir.ts';

const ROOT = new URL('../../', import.meta.url);
const GUIDE = readFileSync(new URL('docs/operating.md', ROOT), 'utf8');
const DASHBOARD = JSON.parse(readFileSync(new URL('docs/grafana/lsp-dashboard.json', ROOT), 'utf8'));

interface Block {
  kind: string;
  arg: string;
  body: string;
  /** 1-based line of the marker, for messages. */
  line: number;
}

/** The marked blocks: the fenced block or table right after each `<!-- tested: … -->`. */
function markedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*<!-- tested: ([a-z-]+)(?: ([^ ]+))? -->$/.exec(lines[i]!);
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    const first = lines[j] ?? '';
    const indent = first.length - first.trimStart().length;
    const body: string[] = [];
    if (first.trim().startsWith('```')) {
      for (j++; j < lines.length && !lines[j]!.trim().startsWith('```'); j++)
        body.push(lines[j]!.slice(indent));
    } else if (first.trim().startsWith('|')) {
      for (; j < lines.length && lines[j]!.trim().startsWith('|'); j++) body.push(lines[j]!.trim());
    } else {
      throw new Error(
        `docs/operating.md:${i + 1}: a tested marker must be followed by a code block or a table`,
      );
    }
    blocks.push({ kind: m[1]!, arg: m[2] ?? '', body: body.join('\n'), line: i + 1 });
  }
  return blocks;
}

const BLOCKS = markedBlocks(GUIDE);
const blocksOf = (kind: string) => BLOCKS.filter((b) => b.kind === kind);
const KINDS = [
  'sh',
  'env',
  'systemd',
  'sql',
  'nginx',
  'secret',
  'defaults',
  'jit-table',
  'capital-table',
  'prometheus',
  'metrics',
  'seed-backup',
];

/** `NAME=value` lines of an env or defaults block. */
function envLines(block: Block): [string, string][] {
  return block.body
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(l.trim());
      if (!m) throw new Error(`docs/operating.md:${block.line}: not NAME=value: ${l}`);
      return [m[1]!, m[2]!];
    });
}

function configError(env: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
}

/**
 * Whether the loader reads `name`: some value either changes the loaded config or is refused with a
 * message naming it. An unknown variable is ignored by loadConfig, so it does neither.
 */
function loaderReads(name: string, extraValues: string[] = []): boolean {
  const defaults = loadConfig({});
  for (const value of ['1', '7', 'x', 'true', 'http://127.0.0.1:1', '127.0.0.1:1', ...extraValues]) {
    const refused = configError({ [name]: value });
    if (refused) {
      if (refused.problems.some((p) => p.includes(name))) return true;
      continue;
    }
    if (!isDeepStrictEqual(loadConfig({ [name]: value }), defaults)) return true;
  }
  return false;
}

function bashParses(script: string): void {
  execFileSync('bash', ['-n'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

const rootPackage = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8'));
/** Workspace package name → its scripts (the directories pnpm-workspace.yaml lists). */
const WORKSPACE = new Map<string, Record<string, string>>();
for (const dir of ['lsp-server', 'e2e', 'bench', ...['packages', 'apps'].flatMap(listDirs)]) {
  const file = new URL(`${dir}/package.json`, ROOT);
  if (!existsSync(file)) continue;
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  WORKSPACE.set(pkg.name, pkg.scripts ?? {});
}
function listDirs(parent: string): string[] {
  return readdirSync(new URL(`${parent}/`, ROOT), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${parent}/${d.name}`);
}

/** npm and pnpm invocations in a command must name scripts and packages that exist. */
function checkCommands(script: string, where: string): number {
  let checked = 0;
  for (const m of script.matchAll(/\bnpm (start|test|run ([\w:-]+))/g)) {
    expect(rootPackage.scripts, `${where}: npm ${m[1]}`).toHaveProperty(m[2] ?? m[1]!);
    checked++;
  }
  for (const m of script.matchAll(/\bpnpm@([\d.]+)/g)) {
    expect(`pnpm@${m[1]}`, `${where}: the pnpm the repository uses`).toBe(rootPackage.packageManager);
  }
  for (const m of script.matchAll(/--filter (\S+) (?:run )?([\w:-]+)/g)) {
    expect(WORKSPACE.has(m[1]!), `${where}: workspace package ${m[1]}`).toBe(true);
    expect(WORKSPACE.get(m[1]!), `${where}: ${m[1]} script`).toHaveProperty(m[2]!);
    checked++;
  }
  return checked;
}

/** nginx `location` blocks: modifier, path and the directives inside. */
function nginxLocations(conf: string): { path: string; exact: boolean; body: string }[] {
  return [...conf.matchAll(/location\s+(=\s+)?(\S+)\s*\{([^}]*)\}/g)].map((m) => ({
    exact: Boolean(m[1]),
    path: m[2]!,
    body: m[3]!,
  }));
}

/** An nginx `upstream` block: its servers and its `keepalive` (0 without). */
function nginxUpstream(conf: string, name: string): { servers: string[]; keepalive: number } {
  const body = new RegExp(`upstream\\s+${name}\\s*\\{([^}]*)\\}`).exec(conf)?.[1];
  if (body === undefined) throw new Error(`no upstream ${name} in the guide's nginx block`);
  return {
    servers: [...body.matchAll(/^\s*server\s+(\S+);/gm)].map((m) => m[1]!),
    keepalive: Number(/keepalive\s+(\d+);/.exec(body)?.[1] ?? 0),
  };
}

/** The server-level directives of an nginx site: its text without the location blocks. */
const nginxServerLevel = (conf: string) => conf.replace(/location\s+(=\s+)?\S+\s*\{[^}]*\}/g, '');

/** The Prometheus scrape config's `authorization` (type and inline credentials). */
function prometheusAuthorization(yaml: string): { type: string; credentials: string } | undefined {
  const m = /^\s*authorization:\s*\n\s*type: (\S+)\s*\n\s*credentials: (\S+)\s*$/m.exec(yaml);
  return m ? { type: m[1]!, credentials: m[2]! } : undefined;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
function nginxSize(text: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(text)!;
  return Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
}

/** The metric names a PromQL expression reads (not functions, keywords, labels or durations). */
function promqlMetrics(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'bool', 'and', 'or', 'unless', 'offset']);
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => !m[2] && !keywords.has(m[1]!))
    .map((m) => m[1]!);
}

/** Prometheus exposition: family name → type, and every sample name. */
function parseExposition(text: string): { families: Map<string, string>; samples: Set<string> } {
  const families = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1]!, type[2]!);
    else if (line && !line.startsWith('#')) samples.add(/^[^{ ]+/.exec(line)![0]);
  }
  return { families, samples };
}

/** The leading number of a table cell: `1,065,300 sat (1.07 BTC)` → 1065300n. */
const sat = (cell: string) => BigInt(/^[\d,]+/.exec(cell)![0].replace(/,/g, ''));
const tableRows = (block: Block) =>
  block.body
    .split('\n')
    .slice(2)
    .map((row) =>
      row
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );

describe('docs/operating.md, read against the code', () => {
  it('has every kind of tested block, and no unknown kind', () => {
    expect(new Set(BLOCKS.map((b) => b.kind))).toEqual(new Set(KINDS));
  });

  it('env blocks: every line is a setting the loader reads, and each block loads', () => {
    for (const block of blocksOf('env')) {
      const env = Object.fromEntries(envLines(block));
      expect(configError(env)?.problems, `docs/operating.md:${block.line}`).toBeUndefined();
      for (const name of Object.keys(env))
        expect(loaderReads(name), `${name} is read by loadConfig`).toBe(true);
    }
  });

  it('defaults blocks: each value is the real default of a setting the loader reads', () => {
    const defaults = loadConfig({});
    for (const block of blocksOf('defaults')) {
      for (const [name, value] of envLines(block)) {
        expect(loadConfig({ [name]: value }), `${name}=${value} is the default`).toEqual(defaults);
        expect(loaderReads(name, [String(BigInt(value) + 1n)]), `${name} is read by loadConfig`).toBe(true);
      }
    }
  });

  it('defaults blocks: every limit and admin setting has its default written down', () => {
    const defaults = loadConfig({});
    const documented = new Set<string>();
    for (const [name, value] of blocksOf('defaults').flatMap(envLines)) {
      // the setting a variable moves: the keys that change when its value is one more (or less)
      const moved = [BigInt(value) + 1n, BigInt(value) - 1n].find((v) => !configError({ [name]: String(v) }));
      const config = loadConfig({ [name]: String(moved) });
      for (const section of ['limits', 'admin'] as const) {
        for (const [key, v] of Object.entries(config[section]))
          if (v !== defaults[section][key as keyof (typeof defaults)[typeof section]])
            documented.add(`${section}.${key}`);
      }
    }
    const all = (['limits', 'admin'] as const).flatMap((section) =>
      Object.keys(defaults[section]).map((key) => `${section}.${key}`),
    );
    expect(all.filter((key) => !documented.has(key))).toEqual([]);
  });

  it('the admin password rules the guide states are the ones the LSP enforces outside regtest', () => {
    const length = Number(/shorter than (\d+) characters/.exec(GUIDE)?.[1]);
    const distinct = Number(/fewer than (\d+) different characters/.exec(GUIDE)?.[1]);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    expect(adminPasswordWeakness(alphabet.slice(0, length))).toBeUndefined();
    expect(adminPasswordWeakness(alphabet.slice(0, length - 1))).toMatch(/shorter/);
    expect(adminPasswordWeakness(alphabet.slice(0, distinct - 1).padEnd(length + 4, 'a'))).toMatch(
      /different/,
    );
    expect(GUIDE).toMatch(/contains\s+the devnet's \(the one `npm start` prints\)/);
    const signet = { NETWORK: 'signet', ESPLORA_URL: 'http://127.0.0.1:3000' };
    for (const weak of [EXAMPLE_ADMIN_PASSWORD, `${EXAMPLE_ADMIN_PASSWORD}!`, 'aaaaaaaaaaaaaaaaaaaa'])
      expect(configError({ ...signet, ADMIN_PASSWORD: weak })?.problems.join()).toMatch(/ADMIN_PASSWORD/);
    // the same password is fine on the devnet
    expect(loadConfig({ ADMIN_PASSWORD: EXAMPLE_ADMIN_PASSWORD }).adminPassword).toBe(EXAMPLE_ADMIN_PASSWORD);
  });

  it('every setting named in the text is one the loader reads', () => {
    // upper-case words in code spans that are not settings: SQL and HTTP words, signals, and the
    // API's error codes (which must be real ones: an unknown code is taken for a setting and fails)
    const notSettings = new Set(['FULL', 'GET', 'SIGTERM', ...Object.keys(API_ERRORS)]);
    const named = new Set(
      [...GUIDE.matchAll(/`[^`\n]+`/g)]
        .flatMap((span) => span[0].match(/\b[A-Z][A-Z0-9_]{2,}\b/g) ?? [])
        .filter((word) => !notSettings.has(word)),
    );
    expect(named.size).toBeGreaterThanOrEqual(25);
    for (const name of named) expect(loaderReads(name), `${name} is read by loadConfig`).toBe(true);
  });

  it('shell blocks parse, and name scripts and packages that exist', () => {
    let commands = 0;
    for (const block of blocksOf('sh')) {
      bashParses(block.body);
      commands += checkCommands(block.body, `docs/operating.md:${block.line}`);
    }
    // the install-and-start block, the start by hand, the upgrade
    expect(commands).toBeGreaterThanOrEqual(2);
  });

  it('the systemd unit starts the same command, reads the env file, stops with SIGTERM', () => {
    const [unit] = blocksOf('systemd');
    const get = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit!.body)?.[1];
    const exec = get('ExecStart')!;
    expect(exec.startsWith('/'), 'systemd wants an absolute ExecStart').toBe(true);
    bashParses(exec);
    expect(checkCommands(exec, 'ExecStart')).toBe(1);
    expect(get('KillSignal')).toBe('SIGTERM');
    const envFile = get('EnvironmentFile')!;
    expect(blocksOf('sh').some((b) => b.body.includes(`. ${envFile}`))).toBe(true);
    expect(GUIDE).toContain(`\`${envFile}\``);
  });

  it('secret commands make values the loader accepts, and different ones each time', () => {
    const secrets = blocksOf('secret');
    expect(secrets.map((b) => b.arg).sort()).toEqual(['ADMIN_PASSWORD', 'LSP_SEED', 'METRICS_TOKEN']);
    const read = {
      LSP_SEED: 'lspSeed',
      ADMIN_PASSWORD: 'adminPassword',
      METRICS_TOKEN: 'metricsToken',
    } as const;
    for (const block of secrets) {
      const make = () => execFileSync('bash', ['-c', block.body], { encoding: 'utf8' }).trim();
      const value = make();
      // on mainnet too, where a weak admin password is refused
      const config = loadConfig({
        NETWORK: 'bitcoin',
        ESPLORA_URL: 'http://127.0.0.1:3000',
        [block.arg]: value,
      });
      expect(config[read[block.arg as keyof typeof read]]).toBe(value);
      expect(make()).not.toBe(value);
    }
  });

  it('the seed backup command prints the seed the LSP created', () => {
    const [block] = blocksOf('seed-backup');
    const dataDir = tempDir('guide-seed-');
    const seed = loadOrCreateSeed({ dataDir });
    const printed = execFileSync('bash', ['-c', block!.body], {
      encoding: 'utf8',
      env: { ...process.env, DATA_DIR: dataDir },
    });
    expect(printed.trim()).toBe(Buffer.from(seed).toString('hex'));
  });

  it('the proxy: big enough bodies, the LSP as upstream, the WebSocket upgrade on the peer path', () => {
    const [nginx] = blocksOf('nginx');
    const server = loadConfig(Object.fromEntries(envLines(blocksOf('env')[0]!)));
    const maxBody = nginxSize(/client_max_body_size\s+(\S+);/.exec(nginx!.body)![1]!);
    expect(maxBody).toBeGreaterThanOrEqual(server.limits.bodyLimitBytes);
    expect(maxBody).toBeGreaterThanOrEqual(server.limits.maxBackupBlobBytes);
    // every proxy_pass names the one upstream, which lists the LSP
    const upstreams = new Set([...nginx!.body.matchAll(/proxy_pass\s+http:\/\/(\S+);/g)].map((m) => m[1]));
    expect(upstreams.size).toBe(1);
    const upstream = nginxUpstream(nginx!.body, [...upstreams][0]!);
    expect(upstream.servers).toEqual([`${server.host}:${server.port}`]);
    const locations = nginxLocations(nginx!.body);
    const peer = locations.filter((l) => l.body.includes('Upgrade'));
    expect(peer.map((l) => l.path)).toEqual([server.websocketPath]);
    expect(peer[0]!.body).toMatch(/proxy_http_version 1\.1;/);
    expect(peer[0]!.body).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(peer[0]!.body).toMatch(/proxy_set_header Connection "upgrade";/);
    expect(locations.find((l) => l.path === '/metrics')?.body).toMatch(/deny all;/);
    expect(locations.find((l) => l.path === '/admin')?.body).toMatch(/deny all;/);
  });

  it('the proxy keeps its connections to the LSP', () => {
    const [nginx] = blocksOf('nginx');
    const name = /proxy_pass\s+http:\/\/(\S+);/.exec(nginx!.body)![1]!;
    expect(nginxUpstream(nginx!.body, name).keepalive).toBeGreaterThan(0);
    // nginx needs both to keep an upstream connection; the peer location sets its own (the upgrade)
    const serverLevel = nginxServerLevel(nginx!.body);
    expect(serverLevel).toMatch(/proxy_http_version 1\.1;/);
    expect(serverLevel).toMatch(/proxy_set_header Connection "";/);
  });

  it('the proxy passes the client address on, and the LSP believes it from the proxy only', () => {
    const [nginx] = blocksOf('nginx');
    const server = loadConfig(Object.fromEntries(envLines(blocksOf('env')[0]!)));
    expect(nginxServerLevel(nginx!.body)).toMatch(
      /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/,
    );
    // a location with a proxy_set_header of its own inherits none of the server's: the per-IP
    // limited paths must have none
    for (const location of nginxLocations(nginx!.body)) {
      if (location.body.includes('Upgrade') || !location.body.includes('proxy_pass')) continue;
      expect(location.body, location.path).not.toMatch(/proxy_set_header/);
    }
    // nginx reaches the LSP on loopback, so its connections come from there
    const proxies = new TrustedProxies(server.trustedProxies);
    expect(proxies.has(server.host)).toBe(true);
    expect(proxies.clientAddress(server.host, '198.51.100.1, 203.0.113.5')).toBe('203.0.113.5');
    expect(proxies.clientAddress('203.0.113.5', '198.51.100.1')).toBe('203.0.113.5');
  });

  it('Prometheus scrapes the LSP where the settings put it, with their METRICS_TOKEN', () => {
    const [prom] = blocksOf('prometheus');
    const server = loadConfig(Object.fromEntries(envLines(blocksOf('env')[0]!)));
    expect(/targets: \['([^']+)'\]/.exec(prom!.body)?.[1]).toBe(`${server.host}:${server.port}`);
    expect(prometheusAuthorization(prom!.body)).toEqual({ type: 'Bearer', credentials: server.metricsToken });
  });

  it('routing fees are what the guide says LDK gives every LSP channel', async () => {
    await initLdkNode();
    const m =
      /LDK's defaults on every channel: ([\d,]+) msat base and (\d+) ppm, with a CLTV\s+delta of (\d+) blocks/.exec(
        GUIDE,
      );
    expect(m).not.toBeNull();
    const channel = buildUserConfig('lsp').get_channel_config();
    expect(channel.get_forwarding_fee_base_msat()).toBe(Number(m![1]!.replace(/,/g, '')));
    expect(channel.get_forwarding_fee_proportional_millionths()).toBe(Number(m![2]));
    expect(channel.get_cltv_expiry_delta()).toBe(Number(m![3]));
  });
});

describe('docs/operating.md and the Grafana dashboard, against a running LSP', () => {
  let devnet: Devnet;
  let lsp: Lsp;
  let exposition: ReturnType<typeof parseExposition>;
  let database: { url: string; drop(): void } | undefined;

  /** Runs the guide's SQL on the test PostgreSQL (names made unique) and returns its DATABASE_URL. */
  function createGuideDatabase(pgUrl: string, documentedUrl: string): { url: string; drop(): void } {
    const [block] = blocksOf('sql');
    const doc = new URL(documentedUrl);
    // the SQL and the URL must describe the same role, password and database
    expect(block!.body).toContain(`CREATE ROLE ${doc.username} LOGIN PASSWORD '${doc.password}';`);
    expect(block!.body).toContain(`CREATE DATABASE ${doc.pathname.slice(1)} OWNER ${doc.username};`);
    const name = `${doc.username}_guide_${randomBytes(4).toString('hex')}`;
    const psql = (sql: string) =>
      execFileSync('psql', [pgUrl, '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], { input: sql, stdio: 'pipe' });
    psql(block!.body.replace(new RegExp(`\\b${doc.username}\\b`, 'g'), name));
    const url = new URL(pgUrl);
    url.username = name;
    url.password = doc.password;
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE);\nDROP ROLE IF EXISTS ${name};`),
    };
  }

  beforeAll(async () => {
    const guideEnv = Object.fromEntries(envLines(blocksOf('env')[0]!));
    const pgUrl = inject('pgUrl');
    if (pgUrl) database = createGuideDatabase(pgUrl, guideEnv.DATABASE_URL!);
    else
      console.warn('operating guide: no PostgreSQL here, so its SQL is untested and the LSP runs on SQLite');
    devnet = await startDevnet({ seed: 'operating-guide' });
    const dataDir = tempDir('guide-lsp-');
    // the guide's settings, on this machine: the devnet's chain, a free port, no public peer port
    const config: Config = loadConfig({
      ...guideEnv,
      NETWORK: 'regtest',
      ESPLORA_URL: devnet.esploraUrl,
      PUBLIC_ESPLORA_URL: devnet.esploraUrl,
      DATABASE_URL: database?.url ?? join(dataDir, 'lsp.sqlite'),
      DATA_DIR: dataDir,
      PORT: '0',
      PEER_LISTEN: '',
      LOG_LEVEL: 'silent',
    });
    lsp = await createLsp(config, {
      node: { chainSyncIntervalMs: 0, logLevel: 'error', gossip: false },
      log: pino({ level: 'silent' }),
    });
    // on-chain coins for the JIT table, more than its largest channel
    devnet.fund(await lsp.node.newAddress(), 30_000_000n, { confirmations: 1 });
    await waitUntil(
      'LSP sees its coins',
      async () => {
        await lsp.node.syncChain();
        return lsp.node.balances().onchainConfirmedMsat >= 30_000_000_000n;
      },
      60_000,
    );
    const res = await fetch(`${lsp.url}/metrics`, { headers: { authorization: scrapeAuthorization() } });
    expect(res.status).toBe(200);
    exposition = parseExposition(await res.text());
  }, 180_000);

  /** The Authorization header Prometheus sends with the guide's scrape config. */
  function scrapeAuthorization(): string {
    const auth = prometheusAuthorization(blocksOf('prometheus')[0]!.body)!;
    return `${auth.type} ${auth.credentials}`;
  }

  afterAll(async () => {
    await lsp?.stop();
    await devnet?.stop();
    database?.drop();
  });

  it('ran on the database the guide told PostgreSQL to create', () => {
    if (!database) return; // said loudly in beforeAll
    expect(lsp.store.backend).toBe('postgres');
  });

  it('the metrics table lists every metric of /metrics, with its type, and nothing else', () => {
    const [table] = blocksOf('metrics');
    const documented = new Map(tableRows(table!).map(([name, type]) => [name!.replace(/`/g, ''), type]));
    expect(documented).toEqual(exposition.families);
  });

  it("the Prometheus block's authorization opens /metrics, and nothing else does", async () => {
    expect((await fetch(`${lsp.url}/metrics`)).status).toBe(401);
    const wrong = `Bearer ${'0'.repeat(64)}`;
    expect((await fetch(`${lsp.url}/metrics`, { headers: { authorization: wrong } })).status).toBe(401);
    const ok = await fetch(`${lsp.url}/metrics`, { headers: { authorization: scrapeAuthorization() } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('lsp_wallets');
  });

  it('every metric the text names is in /metrics', () => {
    const named = new Set([...GUIDE.matchAll(/\blsp_[a-z0-9_]+/g)].map((m) => m[0]));
    for (const name of named) {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      expect(exposition.families.has(family) || exposition.families.has(name), name).toBe(true);
    }
  });

  it('every metric a dashboard panel queries is in /metrics', () => {
    const exprs = (DASHBOARD.panels as { targets?: { expr: string }[] }[]).flatMap((p) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(15);
    for (const expr of exprs) {
      const metrics = promqlMetrics(expr);
      expect(metrics.length, expr).toBeGreaterThan(0);
      for (const metric of metrics) expect(exposition.samples.has(metric), `${metric} in ${expr}`).toBe(true);
    }
  });

  it('the LSP keeps an idle connection longer than the proxy reuses one', async () => {
    const [nginx] = blocksOf('nginx');
    // what the LSP tells a client it keeps an idle connection for, over real HTTP
    const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
      const req = request(`${lsp.url}/health`, { agent: false, headers: { connection: 'keep-alive' } });
      req.on('response', (res) => {
        res.resume();
        res.socket.destroy();
        resolve(res.headers['keep-alive'] as string | undefined);
      });
      req.on('error', reject);
      req.end();
    });
    const idleSec = Number(/timeout=(\d+)/.exec(keepAlive ?? '')?.[1]);
    // nginx's upstream keepalive_timeout is 60 s unless the guide's block sets it
    const nginxIdleSec = Number(/keepalive_timeout\s+(\d+)s?;/.exec(nginx!.body)?.[1] ?? 60);
    expect(idleSec).toBeGreaterThan(nginxIdleSec);
  });

  it("the proxy's paths are the LSP's routes", async () => {
    const [nginx] = blocksOf('nginx');
    // the LSP's answer to a path it does not serve, which no location may get
    const notFound = await (await fetch(`${lsp.url}/not-a-route`)).text();
    for (const location of nginxLocations(nginx!.body)) {
      if (location.body.includes('Upgrade')) {
        // no session token: the WebSocket endpoint answers 401; any other path 404
        expect(await upgradeStatus(`${lsp.url}${location.path}`), location.path).toBe(401);
        expect(await upgradeStatus(`${lsp.url}${location.path}-not`)).toBe(404);
        continue;
      }
      const probe = `${lsp.url}${location.path}${location.path.endsWith('/') ? 'probe' : ''}`;
      const res = await fetch(probe);
      expect(await res.text(), `${location.path} is served`).not.toBe(notFound);
    }
  });

  it('the JIT table is what the LSP computes with its defaults', () => {
    const [table] = blocksOf('jit-table');
    const menu = feeMenu(lsp.config.fee, new Uint8Array(32), Date.now())[0]!;
    const rows = tableRows(table!);
    expect(rows.length).toBeGreaterThan(3);
    for (const [payment, channel, fee, gets] of rows.map((r) => r.map(sat))) {
      expect(lsp.server.lightning.jit.channelSize(payment! * 1000n), `channel for ${payment}`).toBe(channel);
      expect(openingFeeMsat(payment! * 1000n, menu) / 1000n, `fee for ${payment}`).toBe(fee);
      expect(payment! - fee!).toBe(gets);
    }
  });

  it('the capital table adds up from the LSP channel size, fee and reserve', () => {
    const [table] = blocksOf('capital-table');
    const paymentMsat = 50_000_000n; // "first payment at most 50,000 sat"
    const channelSat = lsp.server.lightning.jit.channelSize(paymentMsat)!;
    const feeSat =
      openingFeeMsat(paymentMsat, feeMenu(lsp.config.fee, new Uint8Array(32), Date.now())[0]!) / 1000n;
    const fundingFeeSat = 1_530n; // the guide's estimate: ~153 vB at 10 sat/vB
    expect(GUIDE).toMatch(/153 vB: about 1,530 sat at 10 sat\/vB/);
    for (const [wallets, channels, funding, reserve, total, earned] of tableRows(table!).map((r) =>
      r.map(sat),
    )) {
      expect(channels).toBe(wallets! * channelSat);
      expect(funding).toBe(wallets! * fundingFeeSat);
      expect(reserve).toBe(BigInt(lsp.config.jit.onchainReserveSat));
      expect(total, `on-chain capital for ${wallets}`).toBe(channels! + funding! + reserve!);
      expect(earned).toBe(wallets! * feeSat);
    }
  });
});

/** Status of a WebSocket upgrade request (the LSP refuses before upgrading, so an HTTP status). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end();
  });
}
