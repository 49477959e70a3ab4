// `pnpm --filter @lpw/lsp-server start`: read the configuration and run the LSP (createLsp);
// SIGTERM/SIGINT stop it in reverse order.
import { ConfigError, loadConfig } from './config.ts';
import { createLsp } from './lsp.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const lsp = await createLsp(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lsp.log.info({ signal }, 'stopping');
    await lsp.stop();
    lsp.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  console.error('lsp-server failed to start:', e);
  process.exit(1);
});
