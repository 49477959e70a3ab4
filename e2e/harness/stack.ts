// One real stack for browser journeys: the devnet chain, its public network (router, merchant), an
// LSP with channels to the router both ways and on-chain funds for JIT channels, and the front
// origin serving the built wallet, and the merchant's paid API + Lightning Address on another origin.
// Same shape as `npm start` (lsp-server/src/dev.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, startDevnet } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import { type PaidApi, startPaidApi } from '@lpw/devnet/paid-api';
import { type LspStore, loadConfig, loadOrCreateSeed, Metrics, openStore } from '@lpw/lsp-server';
import type { LightningNode } from '@lpw/node';
import pino from 'pino';
import { provideDevnetLiquidity } from '../../lsp-server/src/devnet-liquidity.ts';
// the LSP's own start-up parts, by path: the package exports only its API and wallet client
import { assembleNode } from '../../lsp-server/src/node/assemble.ts';
import { deriveSecrets } from '../../lsp-server/src/secrets.ts';
import { type RunningLsp, startLsp } from '../../lsp-server/src/server.ts';
import { type Front, startFront } from './front.ts';

export interface Stack {
  devnet: Devnet;
  net: PublicNetwork;
  lspNode: LightningNode;
  lsp: RunningLsp;
  /** The LSP's store (tests write into it what a misbehaving LSP would serve). */
  lspStore: LspStore;
  front: Front;
  /** The merchant's site: L402 paid API, Lightning Address `merchant@<host:port>`. */
  paidApi: PaidApi;
  stop(): Promise<void>;
}

export async function startStack(options: { distDir: string; csp: string; seed?: string }): Promise<Stack> {
  const devnet = await startDevnet({ seed: options.seed ?? 'lpw-e2e', host: '127.0.0.1' });
  const net = await startPublicNetwork(devnet, { host: '127.0.0.1', routerFundsSat: 30_000_000n });
  const front = await startFront({
    distDir: options.distDir,
    esploraUrl: devnet.esploraUrl!,
    csp: options.csp,
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'lpw-e2e-lsp-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_PASSWORD: 'e2e-admin-password',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ESPLORA_URL: devnet.esploraUrl,
    PUBLIC_ESPLORA_URL: `${front.url}/esplora`,
    PUBLIC_PEERS: net.router.uri,
    NETWORK: 'regtest',
    // the merchant's site is on this machine, as with npm start
    RELAY_ALLOW_LOOPBACK: 'true',
  });
  const log = pino({ level: 'warn' });
  const secrets = deriveSecrets(loadOrCreateSeed(config));
  const store = await openStore(config.databaseUrl);
  const assembled = await assembleNode(config, store, secrets.nodeSeed, log, devnet.esploraUrl);
  const node = assembled.node;
  const unfollow = devnet.chain.onBlock(() => void node.syncChain().catch(() => {}));
  const lsp = await startLsp(
    { config, store, node: assembled.lspNode, log, metrics: new Metrics(), clock: Date.now, secrets },
    node,
  );
  front.setLsp(lsp.url);
  const paidApi = await startPaidApi(net.merchant.node, { host: '127.0.0.1' });
  await provideDevnetLiquidity(devnet, net, node);
  // the merchant starts with all its channel on the router's side: give it money to pay with
  const topUp = net.merchant.node.createInvoice({
    amountMsat: 1_000_000_000n,
    description: 'float',
    expirySecs: 600,
  });
  await net.router.node.payInvoice(topUp.bolt11, { timeoutMs: 60_000 });
  return {
    devnet,
    net,
    lspNode: node,
    lsp,
    lspStore: store,
    front,
    paidApi,
    async stop() {
      unfollow();
      await paidApi.close();
      await front.close();
      await lsp.close();
      await node.stop();
      await store.close();
      await net.stop();
      await devnet.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
