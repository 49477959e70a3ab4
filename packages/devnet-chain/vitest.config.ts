import { defineConfig } from 'vitest/config';

// Generous limits: CI shares two cores between LDK nodes, child processes and Chromium; speed is
// measured by `npm run bench`, not by test timeouts.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 120_000 } });
