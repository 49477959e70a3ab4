import { defineConfig } from 'vitest/config';

// Generous limits: CI shares two cores between LDK nodes, child processes and Chromium.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 120_000 } });
