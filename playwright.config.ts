// Browser journeys (e2e/tests) on @playwright/test, in Debian's Chromium: the runner never downloads a
// browser (executablePath; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 where installs run).
import { defineConfig } from '@playwright/test';
import { DESKTOP, LAUNCH, PHONE } from './e2e/harness/browser.ts';

export default defineConfig({
  testDir: 'e2e/tests',
  testMatch: '**/*.test.ts',
  outputDir: 'e2e/test-results',
  globalSetup: './e2e/harness/global-setup.ts',
  // each file starts its own stack (devnet, LDK nodes, LSP, front) in the worker, and the wallet runs
  // LDK in the browser: one at a time on a small machine, with generous limits
  workers: 1,
  fullyParallel: false,
  timeout: 300_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: LAUNCH,
    // a trace of actions, DOM snapshots, console and network, without the screencast: its frames
    // (a phone at scale 3) cost enough CPU on two cores to slow the wallet's payments (a stream
    // journey's in-flight keysends then land after its pause)
    trace: { mode: 'retain-on-failure', screenshots: false },
    screenshot: 'only-on-failure',
  },
  projects: [
    // every journey on the phone, the wallet's default view
    { name: 'phone', use: PHONE, grepInvert: /@desktop-only/ },
    // on a desktop, a smoke subset (the layout, and the main journey) rather than every journey twice,
    // which would double the run: tests tagged @desktop (also on the phone) or @desktop-only
    { name: 'desktop', use: DESKTOP, grep: /@desktop/ },
  ],
});
