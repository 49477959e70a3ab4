// `pnpm --filter @lpw/lsp-server start`: read the configuration, open the store, start the node
// and the HTTP server; SIGTERM/SIGINT stop them in reverse order.

import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { ConfigError, loadConfig, loadOrCreateSeed } from './config.ts';
import { Metrics } from './metrics.ts';
import { assembleNode } from './node/assemble.ts';
import { deriveSecrets } from './secrets.ts';
import { startLsp } from './server.ts';
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
  const restoreStart = performance.now();
  const assembled = await assembleNode(config, store, secrets.nodeSeed, log);
  // restart time and size: what an operator (and `npm run bench`) watches as channels pile up
  log.info(
    {
      restoreMs: Math.round(performance.now() - restoreStart),
      channels: assembled.node.listChannels().length,
    },
    'node ready',
  );
  const metrics = new Metrics();
  const deps = { config, store, node: assembled.lspNode, log, metrics, clock: Date.now, secrets };
  const lsp = await startLsp(deps, assembled.node);
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
    // HTTP, peers and JIT first (held HTLCs stay in LDK and the store), then the node flushes its state
    await lsp.close();
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
