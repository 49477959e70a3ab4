// The LSP as it ships, for the LSP benchmarks: lsp-server's main.ts in its own process on a durable
// SQLite file (the devnet's Esplora as chain source, TCP peer listener), prepared beforehand by an
// in-process node on the same file (funds, channels), as an operator's node would be before a start.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNode, type LightningNode, MemoryStore, type Store } from '@lpw/node';
import { sha256 } from '@noble/hashes/sha2.js';
import { deriveSecrets } from '../../lsp-server/src/secrets.ts';
import { openStore } from '../../lsp-server/src/store/index.ts';
import type { LspStore } from '../../lsp-server/src/store/types.ts';
import { sleep } from './product.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const lspServerDir = join(here, '..', '..', 'lsp-server');

export const LSP_SEED_HEX = '5b'.repeat(32);

export interface LspProcess {
  child: ChildProcess;
  url: string;
  peerPort: number;
  /** createNode restore + first chain sync inside the process (main.ts's "node ready"). */
  restoreMs: number;
  /** The process's CPU time (user + system) over the same span, when the LSP logs it. */
  restoreCpuMs: number;
  /** When each step of the restore ended, ms after it began (the LSP's `node ready` line). */
  restoreSteps: Record<string, number>;
  /** Channels the restored node holds. */
  channels: number;
  /** Spawn to the HTTP server listening: imports, WASM, restore, services. */
  spawnToListeningMs: number;
  logs: string[];
  /** performance.now() at the spawn, and at the exit once it exited: a profile's time slices. */
  spawnedAt: number;
  exitedAt?: number;
  /** SIGTERM: the LSP stops cleanly (its node flushes its state). */
  stop(): Promise<void>;
}

/**
 * The node flags of lsp-server's `start` script, read from its package.json (where they are set, for
 * operators): the bench runs the LSP as they do.
 */
const LSP_START_FLAGS = (() => {
  const { scripts } = JSON.parse(readFileSync(join(lspServerDir, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const args = scripts.start.split(/\s+/);
  const end = args.indexOf('--import');
  if (args[0] !== 'node' || end < 0)
    throw new Error(`bench: unexpected lsp-server start script: ${scripts.start}`);
  return args.slice(1, end);
})();

/** Starts lsp-server's main.ts on `databasePath`; resolves once it listens. */
export async function spawnLsp(options: {
  databasePath: string;
  dataDir: string;
  esploraUrl: string;
  publicPeers?: string;
  timeoutMs?: number;
  /** Last word on the environment; an empty value leaves that setting at the LSP's default. */
  env?: Record<string, string>;
  /** Another checkout's lsp-server (a before/after comparison); default: this one's. */
  serverDir?: string;
}): Promise<LspProcess> {
  const t0 = performance.now();
  // BENCH_LSP_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node flags for the LSP process
  // (NODE_OPTIONS refuses --cpu-prof)
  const nodeFlags = process.env.BENCH_LSP_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [...LSP_START_FLAGS, ...nodeFlags, '--import', 'tsx', 'src/main.ts'],
    {
      cwd: options.serverDir ?? lspServerDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        PEER_LISTEN: '127.0.0.1:0',
        DATA_DIR: options.dataDir,
        DATABASE_URL: options.databasePath,
        ESPLORA_URL: options.esploraUrl,
        PUBLIC_PEERS: options.publicPeers ?? '',
        LSP_SEED: LSP_SEED_HEX,
        LOG_LEVEL: 'info',
        RATE_BUY_PER_MIN: '1000000',
        RATE_AUTH_PER_MIN: '1000000',
        RATE_REQUESTS_PER_MIN: '10000000',
        // every bench wallet comes from loopback: the per-IP and per-wallet quotas would measure themselves
        RATE_NEW_WALLETS_PER_HOUR: '1000000',
        RATE_ORDERS_PER_MIN: '1000000',
        RATE_ROUTES_PER_MIN: '1000000',
        BACKUP_BYTES_PER_HOUR_PER_IP: String(1024 ** 4),
        SESSION_TTL_SEC: '86400',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: string[] = [];
  let exitedAt: number | undefined;
  child.once('exit', () => {
    exitedAt = performance.now();
  });
  const seen: {
    port?: number;
    peerPort?: number;
    restoreMs?: number;
    restoreCpuMs?: number;
    restoreSteps?: Record<string, number>;
    channels?: number;
    at?: number;
  } = {};
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      // the first lines, and every error after them (pino level 50+): what a failure needs explained
      if (logs.length < 2_000 || isLspErrorLine(line)) logs.push(line);
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (entry.msg === 'node ready') {
        seen.restoreMs = entry.restoreMs as number;
        seen.restoreCpuMs = entry.restoreCpuMs as number | undefined;
        seen.restoreSteps = entry.steps as Record<string, number> | undefined;
        seen.channels = entry.channels as number;
      }
      if (entry.msg === 'lsp-server listening') {
        seen.port = entry.port as number;
        seen.peerPort = entry.peerPort as number;
        seen.at = performance.now();
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => logs.push(chunk));
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  while (seen.at === undefined && child.exitCode === null) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bench: the LSP did not start in time:\n${logs.slice(-20).join('\n')}`);
    }
    await sleep(10);
  }
  if (seen.at === undefined) throw new Error(`bench: the LSP exited:\n${logs.slice(-20).join('\n')}`);
  return {
    child,
    url: `http://127.0.0.1:${seen.port}`,
    peerPort: seen.peerPort!,
    restoreMs: seen.restoreMs ?? Number.NaN,
    restoreCpuMs: seen.restoreCpuMs ?? Number.NaN,
    restoreSteps: seen.restoreSteps ?? {},
    channels: seen.channels ?? -1,
    spawnToListeningMs: seen.at - t0,
    logs,
    spawnedAt: t0,
    get exitedAt() {
      return exitedAt;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU time (user + system) a process has used so far (Linux /proc), in ms. */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime (fields 14 and 15 of stat) in clock ticks, 100 per second on Linux
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size of a process (Linux /proc), in bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`bench: no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** The LSP's node on its SQLite file in this process, for preparing state before the real start. */
export async function openLspForPrep(
  databasePath: string,
  esploraUrl: string,
  /** Wraps the node's store (e.g. to count what its commits write). */
  wrap: (store: Store) => Store = (store) => store,
): Promise<{ node: LightningNode; store: LspStore; close(): Promise<void> }> {
  const store = await openStore(databasePath);
  const node = await createNode({
    seed: deriveSecrets(Uint8Array.from(Buffer.from(LSP_SEED_HEX, 'hex'))).nodeSeed,
    network: 'regtest',
    role: 'lsp',
    store: wrap(store.nodeStore('lsp-0')),
    chain: { esploraUrl },
    chainSyncIntervalMs: 0,
    logLevel: 'error',
  });
  return {
    node,
    store,
    async close() {
      await node.stop();
      await store.close();
    },
  };
}

/** A simulated wallet: a real node (role wallet, trusting the LSP) in this process, in memory. */
export function walletNode(index: number, lspNodeId: string, esploraUrl: string): Promise<LightningNode> {
  return createNode({
    seed: sha256(new TextEncoder().encode(`bench-wallet/${index}`)),
    network: 'regtest',
    role: 'wallet',
    store: new MemoryStore(),
    chain: { esploraUrl },
    chainSyncIntervalMs: 0,
    trustedPeers: [lspNodeId],
    logLevel: 'error',
  });
}

/** The LSP process's log lines at pino's error level or above, and whatever it wrote to stderr. */
export const lspErrorLines = (lsp: LspProcess): string[] =>
  lsp.logs.filter((line) => isLspErrorLine(line) || !line.startsWith('{'));

/** A pino line at the error level or above (50 error, 60 fatal). */
export const isLspErrorLine = (line: string): boolean => /"level":(5|6)\d/.test(line);

/**
 * Every payer pays in a loop, all at once, until `payments` have started (the `lsp` groups' forward
 * load): how many succeeded, failed (the first five reasons) and the seconds it took.
 */
export async function payAllAtOnce(
  payers: LightningNode[],
  payments: number,
  pay: (node: LightningNode) => Promise<void>,
) {
  const failures: string[] = [];
  let started = 0;
  let succeeded = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    payers.map(async (node) => {
      while (started < payments) {
        started++;
        try {
          await pay(node);
          succeeded++;
        } catch (error) {
          failed++;
          if (failures.length < 5) failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    }),
  );
  return { succeeded, failed, failures, startedAt: t0, seconds: (performance.now() - t0) / 1000 };
}
