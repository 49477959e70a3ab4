// createLsp(config, overrides): the one way to assemble a running LSP — store, node, HTTP server with
// the wallets' WebSocket peers, the public-peer keeper, the session sweeper and the history sampler — and stop it in
// reverse order. main.ts, dev.ts, the e2e and CLI stacks and the LSP's own tests call it.
import { mkdirSync } from 'node:fs';
import type { Devnet } from '@lpw/devnet';
import type { LightningNode, NodeOptions } from '@lpw/node';
import pino, { type Logger } from 'pino';
import { loadFeePolicy, loadRoutingFees } from './admin/fee-policy.ts';
import { evaluateAlerts, renderAlerts, renderChainBehind } from './alerts.ts';
import { SecondChainSource } from './chain-lag.ts';
import { type Config, loadOrCreateSeed } from './config.ts';
import { HistorySampler } from './history/sampler.ts';
import { Metrics } from './metrics.ts';
import { assembleNode } from './node/assemble.ts';
import { deriveSecrets } from './secrets.ts';
import { type RunningLsp, startLsp } from './server.ts';
import { ACTIVE_METRIC_HEAD, type NodeFence } from './standby.ts';
import { openStore } from './store/index.ts';
import type { LspStore } from './store/types.ts';

export interface LspOverrides {
  /** The LSP seed instead of `LSP_SEED` or the seed file under `DATA_DIR`. */
  seed?: Uint8Array;
  /** An open store instead of opening `DATABASE_URL` (closed by `stop()` all the same). */
  store?: LspStore;
  /** A devnet whose Esplora the node uses instead of the configured chain; each block syncs the node. */
  devnet?: Devnet;
  /** Last word on the node's options (tests: chain sync on demand, log level, alias). */
  node?: Partial<NodeOptions>;
  /** Hot standby (standby.ts): the node writes through the lock's session and checks it before broadcasting. */
  fence?: NodeFence;
  log?: Logger;
  metrics?: Metrics;
  clock?: () => number;
}

export interface Lsp {
  config: Config;
  store: LspStore;
  node: LightningNode;
  server: RunningLsp;
  url: string;
  log: Logger;
  metrics: Metrics;
  /** Writes the operator's history on its timer; `sample()` takes one now (tests). */
  history: HistorySampler;
  /** HTTP, peers and JIT first (held HTLCs stay in LDK and the store), then the node, then the store. */
  stop(): Promise<void>;
}

/** How often expired sessions and challenges are deleted. */
const SWEEP_EVERY_MS = 60_000;

export function lspLogger(config: Config): Logger {
  return pino({
    level: config.logLevel,
    redact: ['config.adminPassword', 'config.lspSeed', 'config.metricsToken'],
  });
}

/** @example const lsp = await createLsp(loadConfig(process.env)); console.log(lsp.url); await lsp.stop(); */
export async function createLsp(config: Config, overrides: LspOverrides = {}): Promise<Lsp> {
  const log = overrides.log ?? lspLogger(config);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const secrets = deriveSecrets(overrides.seed ?? loadOrCreateSeed(config));
  const store = overrides.store ?? (await openStore(config.databaseUrl));
  log.info({ backend: store.backend, chain: config.chain, network: config.network }, 'store open');
  // the operator's JIT fee menu from the admin page outlives restarts
  const feePolicy = await loadFeePolicy(store, config);
  if (feePolicy)
    log.info(
      { minFeeMsat: feePolicy.minFeeMsat.toString(), proportional: feePolicy.proportional },
      'admin fee policy',
    );
  // and so do its routing fees: the node starts with them, for its channels old and new
  const forwardingFees = await loadRoutingFees(store);
  const restoreStart = performance.now();
  const restoreCpu = process.cpuUsage();
  const assembled = await assembleNode(config, store, secrets.nodeSeed, log, {
    ...(overrides.devnet ? { esploraUrl: overrides.devnet.esploraUrl } : {}),
    node: { ...(forwardingFees ? { forwardingFees } : {}), ...overrides.node },
    ...(overrides.fence ? { fence: overrides.fence } : {}),
  });
  // channels restored with other fees (a crash between storing and applying) take them now
  if (forwardingFees) assembled.node.setForwardingFees(forwardingFees);
  const node = assembled.node;
  // restart time and size: what an operator (and `npm run bench`) watches as channels pile up; the
  // CPU time beside the wall time tells a slow restore from a busy machine
  const cpu = process.cpuUsage(restoreCpu);
  log.info(
    {
      restoreMs: Math.round(performance.now() - restoreStart),
      restoreCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      channels: node.listChannels().length,
      steps: restoreSteps(restoreStart),
    },
    'node ready',
  );
  const unfollow = overrides.devnet?.chain.onBlock(() => void node.syncChain().catch(() => {}));
  const metrics = overrides.metrics ?? new Metrics();
  // wallets whose backups were failing before a restart are still failing until they write again
  await metrics.backupHealth.attach(store);
  const clock = overrides.clock ?? Date.now;
  const watched = {
    config,
    store,
    node,
    log,
    metrics,
    clock,
    ...(config.esploraUrl2 ? { secondChain: new SecondChainSource(config.esploraUrl2, clock) } : {}),
  };
  metrics.collectors.push(async () => {
    const syncedAtMs = node.chainWatch().lastSyncAtMs;
    return [
      renderAlerts(await evaluateAlerts(watched)),
      await renderChainBehind(watched),
      `${ACTIVE_METRIC_HEAD}\nlsp_active 1`,
      '# HELP lsp_chain_sync_age_seconds Seconds since the last completed chain sync',
      '# TYPE lsp_chain_sync_age_seconds gauge',
      `lsp_chain_sync_age_seconds ${syncedAtMs === undefined ? -1 : Math.max(0, Math.round((clock() - syncedAtMs) / 1000))}`,
    ].join('\n');
  });
  const history = new HistorySampler(watched);
  const server = await startLsp({ ...watched, secrets });
  history.start();
  const sweeper = setInterval(() => {
    store
      .sweepExpired(Date.now())
      .catch((err: unknown) => log.error({ err }, 'sweeping expired sessions failed'));
  }, SWEEP_EVERY_MS);
  sweeper.unref();
  let stopped: Promise<void> | undefined;
  return {
    config,
    store,
    node,
    server,
    url: server.url,
    log,
    metrics,
    history,
    stop() {
      stopped ??= (async () => {
        clearInterval(sweeper);
        await history.stop();
        unfollow?.();
        await server.close();
        await assembled.stop();
        await store.close();
      })();
      return stopped;
    },
  };
}

/** When each step of the node's start ended (its `lpw:` performance marks), in ms after `since`. */
function restoreSteps(since: number): Record<string, number> {
  const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('lpw:'));
  performance.clearMarks();
  return Object.fromEntries(
    marks.filter((m) => m.startTime >= since).map((m) => [m.name.slice(4), Math.round(m.startTime - since)]),
  );
}
