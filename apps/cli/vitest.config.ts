import { defineConfig } from 'vitest/config';

// Generous limits: devnet, LSP, public network and CLI child processes share two cores; speed is
// measured by `npm run bench`, not by test timeouts.
export default defineConfig({ test: { testTimeout: 180_000, hookTimeout: 180_000, fileParallelism: false } });
