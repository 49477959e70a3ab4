// One running LSP: the HTTP app (tRPC, /metrics, /admin) with the wallets' WebSocket peer endpoint
// on the same port, the TCP listener and dialler for public peers, and the Lightning services.
// main.ts, dev.ts and the tests start it the same way.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ApiError } from '@lpw/api';
import type { TcpListener } from '@lpw/node/tcp';
import { createApp, createMetricsApp, createServices } from './app.ts';
import { AuthService } from './auth.ts';
import { checkedBackupKey } from './backup-routes.ts';
import { TrustedProxies } from './client-ip.ts';
import type { Deps } from './deps.ts';
import { behind } from './door.ts';
import { keepConnectionsForProxy } from './keep-alive.ts';
import { type LightningServices, startLightningServices } from './lightning.ts';
import { LspsServer } from './lsps/server.ts';
import { keepConnected, listenPublic, parsePeerUri, servePeerWebSocket } from './node/peers.ts';

export interface RunningLsp {
  url: string;
  port: number;
  /** Port of the public TCP listener, when PEER_LISTEN is set. */
  peerPort: number | undefined;
  /** Port of the metrics listener, when METRICS_LISTEN is set. */
  metricsPort: number | undefined;
  lightning: LightningServices;
  /** LSPS0/1/2 over BOLT 8 custom messages, to any peer (lsps/). */
  lsps: LspsServer;
  close(): Promise<void>;
}

/** Starts serving `deps.node`. */
export async function startLsp(deps: Deps): Promise<RunningLsp> {
  const { config, log, node } = deps;
  const lightning = await startLightningServices(deps, node);
  // the peer endpoint exists only once the server does; logouts reach it through this late binding
  let endPeerSession: (token: string) => void = () => {};
  const hooks = { onLogout: (token: string) => endPeerSession(token) };
  // one set of services and limiters for both ways in: a wallet's budget is the same over HTTP and BOLT 8
  const services = createServices(deps, hooks);
  const app = createApp(deps, hooks, services);
  const lsps = new LspsServer({ deps, node, services });
  lsps.start();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch: app.fetch, port: config.port, hostname: config.host, createServer: behind(services.door) },
      () => resolve(s),
    );
  });
  keepConnectionsForProxy(server as unknown as import('node:http').Server);
  const port = (server.address() as AddressInfo).port;
  const auth = new AuthService(deps);
  const proxies = new TrustedProxies(config.trustedProxies);
  const peerWs = servePeerWebSocket(server as unknown as import('node:http').Server, {
    path: config.websocketPath,
    origins: config.walletOrigins,
    node,
    authenticate: async (token) => {
      try {
        return await auth.walletFor(token);
      } catch {
        return undefined;
      }
    },
    log,
    clock: deps.clock,
    backup: {
      maxBlobBytes: config.limits.maxBackupBlobBytes,
      // what the HTTP route does for a PUT: the per-IP request budget, then the service's checks
      store: async (nodeId, put, req) => {
        const forwarded = req.headers['x-forwarded-for'];
        const ip = proxies.clientAddress(
          req.socket.remoteAddress ?? 'unknown',
          Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
        );
        const wait = services.limits.requestsPerIp.take(ip);
        if (wait > 0) {
          deps.metrics.rateLimited.inc(1, { scope: 'ip' });
          throw new ApiError('RATE_LIMITED', `too many requests; retry in ${wait} s`, {
            retryAfterSec: wait,
          });
        }
        const { key, blob, expectedVersion, leaseToken } = put;
        return services.backup.putV2(
          nodeId,
          checkedBackupKey(key),
          blob,
          { expectedVersion, leaseToken },
          ip,
        );
      },
    },
  });
  endPeerSession = (token) => peerWs.endSession(token);
  let metricsServer: ReturnType<typeof serve> | undefined;
  if (config.metricsListen) {
    const i = config.metricsListen.lastIndexOf(':');
    const listening = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve(
        {
          fetch: createMetricsApp(deps).fetch,
          port: Number(config.metricsListen!.slice(i + 1)),
          hostname: config.metricsListen!.slice(0, i),
        },
        () => resolve(s),
      );
    });
    metricsServer = listening;
  }
  let tcp: TcpListener | undefined;
  if (config.peerListen) tcp = await listenPublic(node, config.peerListen);
  const keeper = keepConnected(node, config.publicPeers.map(parsePeerUri), log);
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  log.info(
    { port, peerPort: tcp?.port, websocketPath: config.websocketPath, nodeId: node.nodeId },
    'lsp-server listening',
  );
  return {
    url: `http://${host}:${port}`,
    port,
    peerPort: tcp?.port,
    metricsPort: metricsServer ? (metricsServer.address() as AddressInfo).port : undefined,
    lightning,
    lsps,
    async close() {
      lsps.stop();
      keeper.stop();
      peerWs.close();
      await tcp?.close();
      await new Promise<void>((resolve) =>
        metricsServer ? metricsServer.close(() => resolve()) : resolve(),
      );
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await lightning.stop();
    },
  };
}
