// `pnpm --filter @lpw/lsp-server start`: read the configuration and run the LSP (createLsp);
// SIGTERM/SIGINT stop it in reverse order. With HOT_STANDBY=true it first waits as the standby until
// it holds the database's lock (standby.ts), and exits the moment it can no longer prove it does.
import { initLdkNode } from '@lpw/node/node-wasm';
import { type Config, ConfigError, loadConfig, loadOrCreateSeed } from './config.ts';
import { createLsp, type Lsp, lspLogger } from './lsp.ts';
import { deriveSecrets } from './secrets.ts';
import { type ActiveLease, acquireActiveLease, serveStandby } from './standby.ts';

/** Exit status of a process that lost the standby lock: its supervisor restarts it as a standby. */
const EXIT_LEASE_LOST = 75;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  let lsp: Lsp | undefined;
  let lease: ActiveLease | undefined;
  const standby = new AbortController();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    standby.abort();
    lsp?.log.info({ signal }, 'stopping');
    // the node's last writes go through the lock's session: release it only after the node stopped
    await lsp?.stop();
    await lease?.release();
    lsp?.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  if (!config.hotStandby) {
    lsp = await createLsp(config);
    return;
  }
  const log = lspLogger(config);
  const seed = loadOrCreateSeed(config);
  // hot: the WASM is compiled while waiting, so a takeover only restores the node
  await initLdkNode();
  const waiting = await serveStandby({ port: config.port, host: config.host });
  log.info({ port: waiting.port }, 'standby: waiting for the lock');
  try {
    lease = await acquireActiveLease(config.databaseUrl, {
      log,
      nodeSeed: deriveSecrets(seed).nodeSeed,
      signal: standby.signal,
    });
  } catch (e) {
    if (stopping) return;
    throw e;
  }
  // no graceful stop: stopping would persist, message peers and broadcast on a lock another process
  // may hold by now; exiting drops every connection at once
  lease.onLost((why) => {
    log.fatal({ why }, 'standby: lock lost, exiting');
    process.exit(EXIT_LEASE_LOST);
  });
  await waiting.close();
  // the same port, so a proxy's configuration names both processes once
  lsp = await createLsp({ ...config, port: waiting.port }, { seed, log, fence: lease });
}

main().catch((e: unknown) => {
  console.error('lsp-server failed to start:', e);
  process.exit(1);
});
