// A real lsp-server for tests: HTTP on a random port, a real store backend, a real LDK node (role
// 'lsp') on the in-process devnet, a clock the test can move, and a typed tRPC client.
import { serve } from '@hono/node-server';
import { loginMessage, signNodeMessage } from '@lpw/api';
import { type Devnet, startDevnet } from '@lpw/devnet';
import { createNode, type LightningNode, MemoryStore } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import pino from 'pino';
import { createApp, createServices } from '../src/app.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { behind, type Door } from '../src/door.ts';
import type { Gate } from '../src/gate.ts';
import { Metrics } from '../src/metrics.ts';
import type { AppRouter } from '../src/router/index.ts';
import { deriveSecrets } from '../src/secrets.ts';
import type { LspStore } from '../src/store/types.ts';
import type { Backend } from './stores.ts';

export interface TestLightning {
  devnet: Devnet;
  node: LightningNode;
  stop(): Promise<void>;
}

/** One LDK node for a test file (starting one takes a moment). */
export async function startLightning(): Promise<TestLightning> {
  await initLdkNode();
  const devnet = await startDevnet({ seed: 'lsp-server-tests' });
  const node = await createNode({
    seed: new Uint8Array(32).fill(42),
    network: 'regtest',
    role: 'lsp',
    store: new MemoryStore(),
    chain: { esploraUrl: devnet.esploraUrl },
    chainSyncIntervalMs: 0,
    gossip: false,
  });
  return {
    devnet,
    node,
    async stop() {
      await node.stop();
      await devnet.stop();
    },
  };
}

export interface TestServer {
  url: string;
  store: LspStore;
  config: Config;
  metrics: Metrics;
  /** The app and its front door, to serve them again behind a test's own listener. */
  app: ReturnType<typeof createApp>;
  door: Door;
  /** The gate of the procedures that hold the event loop (route queries, orders). */
  expensive: Gate;
  now: { ms: number };
  client(token?: string): ReturnType<typeof createTRPCClient<AppRouter>>;
  /** Logs in as the wallet whose node key is `secretKey`; returns its bearer token. */
  login(secretKey: Uint8Array): Promise<string>;
  close(): Promise<void>;
}

export async function startServer(
  backend: Backend,
  lightning: TestLightning,
  env: Record<string, string> = {},
): Promise<TestServer> {
  const config = loadConfig({ ADMIN_PASSWORD: 'correct horse battery', LOG_LEVEL: 'silent', ...env });
  const store = await backend.open();
  const now = { ms: Date.parse('2029-01-01T00:00:00Z') };
  const metrics = new Metrics();
  const deps = {
    config,
    store,
    node: lightning.node,
    log: pino({ level: 'silent' }),
    metrics,
    clock: () => now.ms,
    secrets: deriveSecrets(new Uint8Array(32).fill(1)),
  };
  const services = createServices(deps);
  const app = createApp(deps, {}, services);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    // the LSP's own front door in front of the app, as server.ts serves it
    const s = serve(
      { fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer: behind(services.door) },
      () => resolve(s),
    );
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const client = (token?: string) =>
    createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${url}/trpc`, headers: token ? { authorization: `Bearer ${token}` } : {} })],
    });
  return {
    url,
    store,
    config,
    metrics,
    app,
    door: services.door,
    expensive: services.expensive,
    now,
    client,
    async login(secretKey) {
      const nodeId = bytesToHex(secp256k1.getPublicKey(secretKey, true));
      const { challenge } = await client().auth.challenge.mutate();
      const signature = signNodeMessage(loginMessage(challenge), secretKey);
      return (await client().auth.login.mutate({ nodeId, challenge, signature })).token;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

/** What the LSP answered to a call that must fail: HTTP status, tRPC code, its own code and details. */
export interface Refusal {
  http: number;
  trpc: string;
  app?: string;
  lsps2?: number;
  details?: Record<string, unknown>;
  message: string;
}

/** The refusal of a tRPC call that must fail (the test fails if it succeeds or fails otherwise). */
export async function refusal(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof TRPCClientError)) throw e;
    const data = e.data as {
      httpStatus: number;
      code: string;
      app?: { code: string; lsps2Code?: number; details: Record<string, unknown> };
    };
    return {
      http: data.httpStatus,
      trpc: data.code,
      app: data.app?.code,
      lsps2: data.app?.lsps2Code,
      details: data.app?.details,
      message: e.message,
    };
  }
  throw new Error('expected the call to fail');
}
