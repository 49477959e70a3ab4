// The devnet CLI: `start` serves a devnet (and, given `startPeers`, its public Lightning network)
// until SIGINT/SIGTERM; `mine N`, `fund ADDRESS SATS` and `fees …` (spikes, climbs, crashes, mempool
// load) drive a running one over its JSON-RPC (DEVNET_RPC_URL, default http://127.0.0.1:18443).
import { type Devnet, startDevnet } from './devnet.ts';

/** What runs beside the chain on `start` (@lpw/devnet's public Lightning network): says what it serves. */
export type StartPeers = (devnet: Devnet) => Promise<{ lines: string[]; stop(): Promise<void> } | undefined>;

const DEFAULT_RPC_PORT = 18443;
const DEFAULT_ESPLORA_PORT = 3002;

async function rpc(method: string, params: unknown[]): Promise<unknown> {
  const url = process.env.DEVNET_RPC_URL ?? `http://127.0.0.1:${DEFAULT_RPC_PORT}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const reply = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  if (reply.error) throw new Error(`${method}: ${reply.error.message} (code ${reply.error.code})`);
  return reply.result;
}

export async function runDevnetCli(argv: string[], startPeers?: StartPeers): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start': {
      const devnet = await startDevnet({
        seed: process.env.DEVNET_SEED,
        host: process.env.DEVNET_HOST ?? '127.0.0.1',
        esploraPort: Number(process.env.DEVNET_ESPLORA_PORT ?? DEFAULT_ESPLORA_PORT),
        rpcPort: Number(process.env.DEVNET_RPC_PORT ?? DEFAULT_RPC_PORT),
      });
      const port = (url: string) => new URL(url).port;
      console.log(`devnet regtest at height ${devnet.chain.tipHeight}, faucet ${devnet.faucet.address}`);
      console.log(`esplora ${devnet.esploraUrl} (port ${port(devnet.esploraUrl)})`);
      console.log(`rpc     ${devnet.rpcUrl} (port ${port(devnet.rpcUrl)})`);
      const peers = await startPeers?.(devnet);
      for (const line of peers?.lines ?? []) console.log(line);
      const stop = async (signal: string) => {
        console.log(`devnet: ${signal}, stopping`);
        await peers?.stop();
        await devnet.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      return;
    }
    case 'mine': {
      const n = Number(args[0] ?? 1);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`mine: N must be a positive integer, got ${args[0]}`);
      // generatetoaddress needs an address; by default the rewards go to the faucet, as at start.
      const address = args[1] ?? ((await rpc('devnet_faucetaddress', [])) as string);
      const hashes = (await rpc('generatetoaddress', [n, address])) as string[];
      console.log(hashes.join('\n'));
      return;
    }
    case 'fund': {
      const [address, sats] = args;
      if (!address || !sats || !/^\d+$/.test(sats)) throw new Error('usage: fund ADDRESS SATS');
      console.log(await rpc('devnet_fund', [address, Number(sats)]));
      return;
    }
    case 'fees': {
      // spike FACTOR | climb FACTOR BLOCKS | crash | set SAT_PER_VB | mempoolminfee SAT_PER_VB | (nothing: show)
      const [action, ...numbers] = args;
      const params = action === undefined ? [] : [action, ...numbers.map(Number)];
      console.log(JSON.stringify(await rpc('devnet_feeweather', params)));
      return;
    }
    default:
      console.log(
        'usage: devnet start | mine N [ADDRESS] | fund ADDRESS SATS | fees [spike F | climb F BLOCKS | crash | set SAT_PER_VB | mempoolminfee SAT_PER_VB]',
      );
      process.exitCode = command ? 1 : 0;
  }
}
