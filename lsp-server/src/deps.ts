// Everything a request handler may touch, assembled once in main.ts (or a test) and passed down.
import type { LightningNode } from '@lpw/node';
import type { Logger } from 'pino';
import type { SecondChainSource } from './chain-lag.ts';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import type { LspStore } from './store/types.ts';

export interface Deps {
  config: Config;
  store: LspStore;
  node: LightningNode;
  log: Logger;
  metrics: Metrics;
  /** Milliseconds since the epoch; injected so tests can move time. */
  clock: () => number;
  /** Keys derived from the LSP seed. */
  secrets: { promise: Uint8Array };
  /** ESPLORA_URL_2, when set: the chain lag alert compares our synced height with its tip. */
  secondChain?: SecondChainSource;
}
