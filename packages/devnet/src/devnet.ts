// startDevnet(): assembles the chain, the faucet and the servers; the one place to see the whole devnet.

import type { Block } from './block.ts';
import { Chain, type ChainOptions } from './chain.ts';
import { Faucet, type FundOptions, faucetKey } from './faucet.ts';

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
  /** Set false to run the chain in-process only. */
  servers?: boolean;
}

export interface Devnet {
  chain: Chain;
  faucet: Faucet;
  esploraUrl: string;
  rpcUrl: string;
  fund(address: string, sats: bigint | number, options?: FundOptions): string;
  mine(n?: number, toAddress?: string): Block[];
  stop(): Promise<void>;
}

export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const key = faucetKey(options.seed ?? 'devnet');
  const chain = new Chain({ ...options, coinbaseScript: key.script });
  chain.mine(options.premine ?? 101);
  const faucet = new Faucet(chain, key);
  return {
    chain,
    faucet,
    esploraUrl: '',
    rpcUrl: '',
    fund: (address, sats, fundOptions) => faucet.fund(address, sats, fundOptions),
    mine: (n = 1, toAddress) => chain.mine(n, toAddress),
    stop: async () => {},
  };
}
