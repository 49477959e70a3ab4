// startDevnet(): assembles the chain, the faucet and the servers; the one place to see the whole devnet.

import type { Block } from './block.ts';
import { Chain, type ChainOptions } from './chain.ts';
import { startEsplora } from './esplora.ts';
import { Faucet, type FundOptions, faucetKey } from './faucet.ts';
import type { FeeWeather } from './fee-weather.ts';
import type { Listening } from './http.ts';
import { startRpc } from './rpc.ts';

export interface DevnetOptions extends Omit<ChainOptions, 'coinbaseScript'> {
  /** Everything (faucet key, blocks, txids) follows from it. */
  seed?: string;
  /** Blocks mined at start (≥ 101 so the first coinbases are mature). */
  premine?: number;
  esploraPort?: number;
  rpcPort?: number;
  host?: string;
  /** Basic auth for the JSON-RPC server; none when omitted. */
  rpcUser?: string;
  rpcPassword?: string;
  /** Set false to run the chain in-process only (esploraUrl and rpcUrl are then empty). */
  servers?: boolean;
}

export interface Devnet {
  chain: Chain;
  faucet: Faucet;
  esploraUrl: string;
  rpcUrl: string;
  fund(address: string, sats: bigint | number, options?: FundOptions): string;
  mine(n?: number, toAddress?: string): Block[];
  /**
   * One more Esplora over the same chain whose /fee-estimates read `weather` (e.g.
   * `chain.weather.scaled(10)`, a source that disagrees ×10); returns its URL. Stopped with the devnet.
   */
  startEsplora(options: { weather: FeeWeather }): Promise<string>;
  stop(): Promise<void>;
}

export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const key = faucetKey(options.seed ?? 'devnet');
  const chain = new Chain({ ...options, coinbaseScript: key.script });
  chain.mine(options.premine ?? 101);
  const faucet = new Faucet(chain, key);
  const servers: Listening[] = [];
  const extra: Listening[] = [];
  const host = options.host ?? '127.0.0.1';
  if (options.servers !== false) {
    const auth =
      options.rpcUser !== undefined
        ? { user: options.rpcUser, password: options.rpcPassword ?? '' }
        : undefined;
    servers.push(await startEsplora(chain, host, options.esploraPort ?? 0));
    try {
      servers.push(await startRpc({ chain, faucet }, host, options.rpcPort ?? 0, auth));
    } catch (e) {
      await servers[0]!.close();
      throw e;
    }
  }
  return {
    chain,
    faucet,
    esploraUrl: servers[0]?.url ?? '',
    rpcUrl: servers[1]?.url ?? '',
    fund: (address, sats, fundOptions) => faucet.fund(address, sats, fundOptions),
    mine: (n = 1, toAddress) => chain.mine(n, toAddress),
    startEsplora: async ({ weather }) => {
      const server = await startEsplora(chain, host, 0, weather);
      extra.push(server);
      return server.url;
    },
    stop: async () => {
      await Promise.all([...servers, ...extra].map((s) => s.close()));
    },
  };
}
