// @lpw/lsp-server: createLsp (the one way to run an LSP), the router type the wallet's tRPC client
// imports, and the parts tests use.
export { createApp, createServices } from './app.ts';
export { type Config, ConfigError, loadConfig, loadOrCreateSeed } from './config.ts';
export type { Deps } from './deps.ts';
export { l402UsageStore } from './l402-usage.ts';
export { createLsp, type Lsp, type LspOverrides } from './lsp.ts';
export { Metrics } from './metrics.ts';
export type { RouteHop, RouteRequest } from './node/routes.ts';
export { RelayService } from './relay.ts';
export type { AppRouter } from './router/index.ts';
export { openStore } from './store/index.ts';
export type { LspStore } from './store/types.ts';
