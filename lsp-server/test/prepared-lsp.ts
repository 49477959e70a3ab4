// The LSP's node made ready before any LSP process runs, on the database the processes will open:
// on-chain funds and a public channel from the devnet's router, usable. The tests that kill LSP
// processes (crash, hot standby) start from here, with a wallet node that trusts that LSP, and run
// the LSP as `src/main.ts` in child processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Devnet } from '@lpw/devnet';
import { fundingBroadcast, waitUntil } from '@lpw/devnet';
import type { PublicNetwork } from '@lpw/devnet/network';
import {
  createNode,
  createWalletNode,
  type LightningNode,
  MemoryStore,
  type NodeOptions,
  type WebSocketConstructor,
} from '@lpw/node';
import WebSocket from 'ws';
import { createLspClient, type LspClient } from '../src/client/index.ts';
import { deriveSecrets } from '../src/secrets.ts';
import { openStore } from '../src/store/index.ts';

/** Prepares the LSP's node in `database` (SQLite path or PostgreSQL URL); returns its node id. */
export async function prepareLspNode(opts: {
  database: string;
  seedHex: string;
  devnet: Devnet;
  net: PublicNetwork;
  /** Coins of 5,000,000 sats each, for JIT channels. */
  coins: number;
}): Promise<string> {
  const { devnet, net } = opts;
  const store = await openStore(opts.database);
  const prep = await createNode({
    seed: deriveSecrets(Buffer.from(opts.seedHex, 'hex')).nodeSeed,
    network: 'regtest',
    role: 'lsp',
    store: store.nodeStore('lsp-0'),
    chain: { esploraUrl: devnet.esploraUrl },
    chainSyncIntervalMs: 0,
    logLevel: 'error',
  });
  for (let i = 0; i < opts.coins; i++) devnet.fund(await prep.newAddress(), 5_000_000n, { confirmations: 1 });
  await prep.syncChain();
  const { tcp } = await import('@lpw/node/tcp');
  await prep.connect(net.router.nodeId, tcp(net.router.host, net.router.port));
  const pending = prep.waitFor('channel-pending', (e) => e.peerId === net.router.nodeId, 15_000);
  net.router.node.openChannel({ peerId: prep.nodeId, capacitySat: 4_000_000n, announce: true });
  const { fundingTxo } = await pending;
  await fundingBroadcast(devnet.chain, fundingTxo);
  devnet.mine(6);
  await Promise.all([prep.syncChain(), net.router.node.syncChain(), net.merchant.node.syncChain()]);
  await waitUntil('router → LSP usable', () => prep.listChannels().some((c) => c.isUsable), 30_000);
  const nodeId = prep.nodeId;
  await prep.stop();
  await store.close();
  return nodeId;
}

/**
 * A wallet node in memory that trusts `lspNodeId` (its zero-conf JIT channels), built as the PWA
 * builds it; or its twin that counts the gossip it ignores (`countGossip`, gossip-wallets.test.ts).
 */
export function walletOf(
  devnet: Devnet,
  lspNodeId: string,
  seedByte: number,
  kind: WalletKind = 'wallet',
): Promise<LightningNode> {
  const options: NodeOptions = {
    seed: new Uint8Array(32).fill(seedByte),
    network: 'regtest',
    role: 'wallet',
    store: new MemoryStore(),
    chain: { esploraUrl: devnet.esploraUrl },
    chainSyncIntervalMs: 0,
    trustedPeers: [lspNodeId],
    logLevel: 'error',
  };
  return kind === 'wallet' ? createWalletNode(options) : createNode({ ...options, countGossip: true });
}

export type WalletKind = 'wallet' | 'gossip-counting twin';

/** A client of the LSP at `url` with `wallet` logged in and linked, retried while the LSP (re)starts. */
export async function linkedClient(url: string, wallet: LightningNode, what: string): Promise<LspClient> {
  const client = createLspClient({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
  await waitUntil(
    what,
    async () => {
      try {
        await client.login(wallet);
        await client.connect(wallet);
        return true;
      } catch {
        return false;
      }
    },
    60_000,
  );
  return client;
}

/** An LSP running as `src/main.ts` in a child process. */
export interface LspProcess {
  name: string;
  child: ChildProcess;
  url: string;
  /** Its log lines (JSON, LOG_LEVEL info) and stderr, as they came. */
  logs: string[];
  exit: Promise<number | null>;
}

/**
 * Starts `src/main.ts` on the devnet with the LSP seed `seedHex` and `env` on top; resolves once
 * its log line `listeningMsg` names its port (the process's first answer: "lsp-server listening",
 * or a hot standby's "standby: waiting for the lock").
 */
export async function spawnLsp(opts: {
  name: string;
  devnet: Devnet;
  net: PublicNetwork;
  seedHex: string;
  env: Record<string, string>;
  listeningMsg: string;
  timeoutMs: number;
}): Promise<LspProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(import.meta.dirname, '..'),
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      ESPLORA_URL: opts.devnet.esploraUrl,
      PUBLIC_PEERS: opts.net.router.uri,
      LSP_SEED: opts.seedHex,
      LOG_LEVEL: 'info',
      RATE_BUY_PER_MIN: '1000',
      RATE_AUTH_PER_MIN: '1000',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const listening = new RegExp(`"port":(\\d+)[^}]*"msg":"${opts.listeningMsg}"`);
  let port = 0;
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      logs.push(line);
      const m = listening.exec(line);
      if (m) port = Number(m[1]);
    }
  });
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitUntil(`${opts.name} listening`, () => port > 0 || child.exitCode !== null, opts.timeoutMs);
  } catch (error) {
    child.kill('SIGKILL'); // no test holds it yet: it would outlive the run
    throw error;
  }
  if (!port) throw new Error(`${opts.name} exited: ${logs.join('\n')}`);
  return { name: opts.name, child, url: `http://127.0.0.1:${port}`, logs, exit };
}
