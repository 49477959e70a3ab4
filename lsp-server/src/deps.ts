// Everything a request handler may touch, assembled once in main.ts (or a test) and passed down.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import type { LspNode } from './node/lsp-node.ts';
import type { LspStore } from './store/types.ts';

export interface Deps {
  config: Config;
  store: LspStore;
  node: LspNode;
  log: Logger;
  metrics: Metrics;
  /** Milliseconds since the epoch; injected so tests can move time. */
  clock: () => number;
  /** Keys derived from the LSP seed. */
  secrets: { promise: Uint8Array };
}
