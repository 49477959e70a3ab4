// The devnet CLI with its public Lightning network: `start` also runs the router and the merchant
// (DEVNET_PEERS=0 serves the chain alone); every other command is the chain's (@lpw/devnet-chain).
import { runDevnetCli } from '@lpw/devnet-chain';

const DEFAULT_ROUTER_PORT = 9735;
const DEFAULT_MERCHANT_PORT = 9736;

/** BOLT 7's human form of a short channel id: block x transaction x output. */
const scidText = (scid: bigint) => `${scid >> 40n}x${(scid >> 16n) & 0xffffffn}x${scid & 0xffffn}`;

runDevnetCli(process.argv.slice(2), async (devnet) => {
  if (process.env.DEVNET_PEERS === '0') return undefined;
  // imported on demand so `mine` and `fund` do not load LDK
  const { startPublicNetwork } = await import('./network.ts');
  const network = await startPublicNetwork(devnet, {
    host: process.env.DEVNET_HOST ?? '127.0.0.1',
    routerPort: Number(process.env.DEVNET_ROUTER_PORT ?? DEFAULT_ROUTER_PORT),
    merchantPort: Number(process.env.DEVNET_MERCHANT_PORT ?? DEFAULT_MERCHANT_PORT),
  });
  return {
    lines: [
      `router   ${network.router.uri}`,
      `merchant ${network.merchant.uri} (announced channel ${scidText(network.channelScid)} with the router)`,
    ],
    stop: () => network.stop(),
  };
}).catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
