// `npm start`: the whole product on embedded defaults, for trying it. One in-memory devnet chain
// (Esplora + bitcoind RPC), its public network (router + merchant on TCP), the LSP (SQLite under
// DATA_DIR/devnet, connected to the router with a funded channel each way so wallets can pay out
// and receive), and the built wallet on its own origin (another port), offering that LSP.
// The devnet's chain lives in memory, so the LSP's devnet state is reset each start.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDevnet } from '@lpw/devnet';
import { startPublicNetwork } from '@lpw/devnet/network';
import { startPaidApi } from '@lpw/devnet/paid-api';
import pino from 'pino';
import { ConfigError, loadConfig } from './config.ts';
import { provideDevnetLiquidity } from './devnet-liquidity.ts';
import { serveDevnetRates } from './devnet-rates.ts';
import { createLsp } from './lsp.ts';
import { serveWallet, type WalletHost } from './wallet-host.ts';

/** The built wallet (scripts/start.sh builds it), served from its own origin. */
const WALLET_DIST = join(import.meta.dirname, '..', '..', 'apps', 'wallet', 'dist');

async function main(): Promise<void> {
  const env = process.env;
  const host = env.DEVNET_HOST ?? '127.0.0.1';
  const devnet = await startDevnet({
    seed: env.DEVNET_SEED ?? 'lpw-dev',
    host,
    esploraPort: Number(env.DEVNET_ESPLORA_PORT ?? 3002),
    rpcPort: Number(env.DEVNET_RPC_PORT ?? 18443),
  });
  const net = await startPublicNetwork(devnet, {
    host,
    routerPort: Number(env.DEVNET_ROUTER_PORT ?? 9735),
    merchantPort: Number(env.DEVNET_MERCHANT_PORT ?? 9736),
    routerFundsSat: 30_000_000n,
  });
  // demo paid API (L402) with invoices from the merchant, for trying pay-per-request
  const paidApi = await startPaidApi(net.merchant.node, {
    host,
    port: Number(env.PAID_API_PORT ?? 8090),
    faucet: net.router.node,
  });
  const baseDir = env.DATA_DIR ?? './data';
  const dataDir = join(baseDir, 'devnet');
  const lspPort = env.PORT ?? '8080';
  const walletPort = Number(env.WALLET_PORT ?? 8081);
  rmSync(dataDir, { recursive: true, force: true }); // its chain is gone: start the LSP afresh
  // fixed exchange rates (1 BTC = 100,000 USD …) for the wallet's fiat amounts
  const rates = await serveDevnetRates(host);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      PORT: lspPort,
      HOST: '127.0.0.1',
      // the wallet's origin below: its calls and peer socket come from there
      WALLET_ORIGINS: `http://127.0.0.1:${walletPort},http://localhost:${walletPort}`,
      PEER_LISTEN: `${host}:9737`,
      PUBLIC_PEER_ADDRESS: `${host}:9737`,
      ADMIN_PASSWORD: 'devnet-admin-password',
      LOG_LEVEL: 'info',
      RATES_URL: rates.url,
      ...env,
      DATA_DIR: dataDir,
      ESPLORA_URL: devnet.esploraUrl,
      // the wallet reads the devnet's Esplora directly (it sends CORS, as public Esplora servers do)
      PUBLIC_ESPLORA_URL: devnet.esploraUrl,
      PUBLIC_PEERS: net.router.uri,
      NETWORK: 'regtest',
      // the merchant's Lightning Address and paid API are on this machine: let the relay reach them
      RELAY_ALLOW_LOOPBACK: 'true',
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const log = pino({ level: config.logLevel });
  const lsp = await createLsp(config, { devnet, log });
  const node = lsp.node;
  let wallet: WalletHost | undefined;
  if (existsSync(join(WALLET_DIST, 'index.html'))) {
    wallet = await serveWallet({
      distDir: WALLET_DIST,
      host: '127.0.0.1',
      port: walletPort,
      defaultLspUrl: lsp.url,
    });
  }

  // liquidity: on-chain funds for JIT channels, a channel out to the router and one in from it
  await provideDevnetLiquidity(devnet, net, node);

  const lines = [
    '',
    `  wallet app    ${wallet ? `${wallet.url}/   (its own origin; it offers the LSP below on first run)` : '(not built: VITE_DEVNET=1 npx pnpm@10.34.9 --filter @lpw/wallet build)'}`,
    `  LSP           ${lsp.url}   (tRPC ${lsp.url}/trpc, metrics ${lsp.url}/metrics)`,
    `  admin         ${lsp.url}/admin   (user admin, password ${config.adminPassword ?? '— set ADMIN_PASSWORD'})`,
    `  wallet peer   ${lsp.url.replace(/^http/, 'ws')}${config.websocketPath} (Sec-WebSocket-Protocol: lpw-peer, lpw-token.<session token>)`,
    `  LSP node      ${node.nodeId}@${config.peerListen ?? '(no TCP listener)'}`,
    `  router        ${net.router.uri}`,
    `  merchant      ${net.merchant.uri}`,
    `  merchant shop ${paidApi.url}/shop   (invoices as QR codes to scan; a faucet for first sats at /shop/faucet)`,
    `  paid API      ${paidApi.url}   (L402: /api/quote 10 sats for 3 quotes, /api/weather 20 sats; menu at /)`,
    `  merchant address merchant@${new URL(paidApi.url).host}   (Lightning Address, LNURL-pay)`,
    `  rates         ${config.rates.url ?? '(none)'}   (exchange rates the LSP serves wallets; the devnet's are fixed)`,
    `  esplora       ${devnet.esploraUrl}`,
    `  bitcoind rpc  ${devnet.rpcUrl}`,
    `  data          ${dataDir} (reset at each start: the devnet chain lives in memory)`,
    '',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await wallet?.close();
    await lsp.stop();
    await paidApi.close();
    await rates.close();
    await net.stop();
    await devnet.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  console.error('npm start failed:', e);
  process.exit(1);
});
