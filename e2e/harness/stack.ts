// One real stack for browser journeys: the devnet chain, its public network (router, merchant), an
// LSP with channels to the router both ways and on-chain funds for JIT channels, the built wallet on
// its own origin with the LSP on another (front.ts), and the merchant's paid API + Lightning Address
// on a third, and the devnet's fixed exchange rates. Same shape as `npm start` (lsp-server/src/dev.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, type LyingEsplora, startDevnet, startLyingEsplora } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import { type PaidApi, startPaidApi } from '@lpw/devnet/paid-api';
import { createLsp, type Lsp, type LspStore, loadConfig } from '@lpw/lsp-server';
import { provideDevnetLiquidity } from '@lpw/lsp-server/devnet';
import { type DevnetRates, serveDevnetRates } from '@lpw/lsp-server/devnet-rates';
import type { LightningNode } from '@lpw/node';
import pino from 'pino';
import { type Front, startFront } from './front.ts';

export interface Stack {
  devnet: Devnet;
  net: PublicNetwork;
  lspNode: LightningNode;
  lsp: Lsp;
  /** The LSP's store (tests write into it what a misbehaving LSP would serve). */
  lspStore: LspStore;
  front: Front;
  /**
   * The wallet's default chain source (the one the LSP names): honest until a test makes it lie.
   */
  liar: LyingEsplora;
  /** A second, honest Esplora over the same chain. */
  secondEsploraUrl: string;
  /** The merchant's site: L402 paid API, Lightning Address `merchant@<host:port>`. */
  paidApi: PaidApi;
  /** The devnet's fixed exchange rates the LSP serves (1 BTC = 100,000 USD …). */
  rates: DevnetRates;
  /** The LSP goes away for good: its server and node stop (the front, chain and network stay). */
  stopLsp(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(options: { distDir: string; seed?: string }): Promise<Stack> {
  const devnet = await startDevnet({ seed: options.seed ?? 'lpw-e2e', host: '127.0.0.1' });
  const net = await startPublicNetwork(devnet, { host: '127.0.0.1', routerFundsSat: 30_000_000n });
  const liar = await startLyingEsplora(devnet.esploraUrl!);
  const secondEsploraUrl = await devnet.startEsplora();
  const front = await startFront({ distDir: options.distDir });
  const rates = await serveDevnetRates();
  const dataDir = mkdtempSync(join(tmpdir(), 'lpw-e2e-lsp-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_PASSWORD: 'e2e-admin-password',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ESPLORA_URL: devnet.esploraUrl,
    PUBLIC_ESPLORA_URL: liar.url,
    WALLET_ORIGINS: front.url,
    PUBLIC_PEERS: net.router.uri,
    NETWORK: 'regtest',
    // the merchant's site is on this machine, as with npm start
    RELAY_ALLOW_LOOPBACK: 'true',
    RATES_URL: rates.url,
  });
  const lsp = await createLsp(config, { devnet, log: pino({ level: 'warn' }) });
  const node = lsp.node;
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
    lspStore: lsp.store,
    front,
    liar,
    secondEsploraUrl,
    paidApi,
    rates,
    stopLsp: () => lsp.stop(), // runs once however often it is called
    async stop() {
      await paidApi.close();
      await front.close();
      await liar.close();
      await lsp.stop();
      await rates.close();
      await net.stop();
      await devnet.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
