// `pnpm --filter @lpw/lsp-server start`: read the configuration, open the store, start the node
// and the HTTP server; SIGTERM/SIGINT stop them in reverse order.

import { mkdirSync } from 'node:fs';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, loadOrCreateSeed } from './config.ts';
import { Metrics } from './metrics.ts';
import { assembleNode } from './node/assemble.ts';
import { deriveSecrets } from './secrets.ts';
import { openStore } from './store/index.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const log = pino({ level: config.logLevel, redact: ['config.adminPassword', 'config.lspSeed'] });
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const seed = loadOrCreateSeed(config);
  const secrets = deriveSecrets(seed);
  const store = await openStore(config.databaseUrl);
  log.info({ backend: store.backend, chain: config.chain, network: config.network }, 'store open');
  const assembled = await assembleNode(config, store, secrets.nodeSeed, log);
  const metrics = new Metrics();
  const app = createApp({ config, store, node: assembled.lspNode, log, metrics, clock: Date.now, secrets });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
    log.info(
      { port: info.port, host: config.host, nodeId: assembled.lspNode.nodeId },
      'lsp-server listening',
    ),
  );
  const sweeper = setInterval(() => {
    store
      .sweepExpired(Date.now())
      .catch((err: unknown) => log.error({ err }, 'sweeping expired sessions failed'));
  }, 60_000);
  sweeper.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    clearInterval(sweeper);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assembled.stop();
    await store.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  console.error('lsp-server failed to start:', e);
  process.exit(1);
});
