import { defineConfig } from 'vitest/config';

// Browser journeys: one real stack (devnet, public network, LSP, the built wallet) and Debian's
// Chromium per file; serial, generous limits (two shared cores, LDK in the browser and in Node).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
