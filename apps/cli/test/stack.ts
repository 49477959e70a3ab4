// The product as `npm start` runs it, for the CLI's tests and benchmark: a devnet chain, its public
// network (router + merchant), the LSP (SQLite, HTTP + WebSocket peers, JIT) with a channel each
// way to the router, and helpers to run `lpw-wallet` as a child process against it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Devnet, startDevnet } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import { createLsp, type Lsp, type LspStore, loadConfig, openStore } from '@lpw/lsp-server';
import { provideDevnetLiquidity } from '@lpw/lsp-server/devnet';
import type { LightningNode } from '@lpw/node';
import pino from 'pino';

export interface Stack {
  devnet: Devnet;
  net: PublicNetwork;
  lspNode: LightningNode;
  lsp: Lsp;
  store: LspStore;
  tmp: string;
  /** The LSP goes away for good (its server and node stop); `stop` still ends the rest. */
  stopLsp(): Promise<void>;
  stop(): Promise<void>;
}

const cliDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function startStack(seed = 'lpw-cli-tests'): Promise<Stack> {
  const tmp = mkdtempSync(join(tmpdir(), 'lpw-cli-'));
  const devnet = await startDevnet({ seed, host: '127.0.0.1' });
  const net = await startPublicNetwork(devnet, { host: '127.0.0.1', routerFundsSat: 30_000_000n });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_PASSWORD: 'cli-tests-admin-password',
    LOG_LEVEL: 'silent',
    DATA_DIR: join(tmp, 'lsp'),
    ESPLORA_URL: devnet.esploraUrl,
    PUBLIC_PEERS: net.router.uri,
    // the LSP as a plain Lightning peer too: wallets that speak LSPS over BOLT 8 connect here
    PEER_LISTEN: '127.0.0.1:0',
    NETWORK: 'regtest',
    RATE_BUY_PER_MIN: '1000',
    RATE_AUTH_PER_MIN: '1000',
  });
  const store = await openStore(`sqlite:${join(tmp, 'lsp.sqlite')}`);
  const lsp = await createLsp(config, {
    devnet,
    store,
    seed: new Uint8Array(32).fill(9),
    log: pino({ level: 'silent' }),
  });
  const node = lsp.node;
  // also puts the router → merchant channel in the LSP's graph, which routes.find needs
  await provideDevnetLiquidity(devnet, net, node);
  return {
    devnet,
    net,
    lspNode: node,
    lsp,
    store,
    tmp,
    stopLsp: () => lsp.stop(), // runs once however often it is called
    async stop() {
      await lsp.stop();
      await net.stop();
      await devnet.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  child: ChildProcess;
  /** JSON lines printed so far. */
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exit: Promise<number | string>;
  /** Resolves with the first JSON line whose `event` is `event`. */
  next(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * Node flags for the wallet child from LPW_CLI_NODE_FLAGS (space-separated), e.g. the bench's
 * `--profile` passing `--cpu-prof` on: NODE_OPTIONS refuses the profiling flags.
 */
function childNodeFlags(): string[] {
  return (process.env.LPW_CLI_NODE_FLAGS ?? '').split(' ').filter(Boolean);
}

/** Runs `lpw-wallet <args> --json --dir dir --lsp url` as a child process. */
export function cli(stack: Stack, dir: string, args: string[]): CliRun {
  const child = spawn(
    process.execPath,
    [
      ...childNodeFlags(),
      '--import',
      'tsx',
      'src/main.ts',
      ...args,
      '--json',
      '--dir',
      dir,
      '--lsp',
      stack.lsp.url,
    ],
    { cwd: cliDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      nl = buffered.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exit = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve(code ?? signal ?? -1);
    }),
  );
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  return {
    child,
    lines,
    stderr: () => err,
    exit,
    async next(event, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((l) => l.event === event);
        if (found) return found;
        if (exited) throw new Error(`lpw-wallet exited before printing "${event}": ${err}`);
        if (Date.now() > deadline)
          throw new Error(`lpw-wallet printed no "${event}" in ${timeoutMs} ms: ${err}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

/** Runs a command to completion; returns its JSON lines and exit code. */
export async function cliDone(stack: Stack, dir: string, args: string[]) {
  const run = cli(stack, dir, args);
  const code = await run.exit;
  return { code, lines: run.lines, stderr: run.stderr() };
}
