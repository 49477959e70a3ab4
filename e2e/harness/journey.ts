// What a serial journey starts with: the whole stack, and the project's device on a fresh profile
// with one page whose errors are collected; and its end, which leaves no browser, stack or profile.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { removeProfile, watchErrors } from './browser.ts';
import { openDevice } from './runner.ts';
import { type Stack, startStack } from './stack.ts';
import { DIST } from './wallet.ts';

export interface Journey {
  stack: Stack;
  profile: string;
  context: BrowserContext;
  page: Page;
  /** The page's console errors and uncaught exceptions so far (a journey ends asserting none). */
  errors: string[];
}

/**
 * Starts the stack (its devnet seeded with `seed`) and opens the device; `echoConsole` prints the
 * browser's console beside the runner's output. What started is stopped again if a later step fails.
 */
export async function startJourney(options: { seed?: string; echoConsole?: boolean } = {}): Promise<Journey> {
  const stack = await startStack({ distDir: DIST, ...(options.seed ? { seed: options.seed } : {}) });
  const profile = mkdtempSync(join(tmpdir(), 'lpw-e2e-profile-'));
  try {
    const context = await openDevice(profile);
    const page = await context.newPage();
    const errors = watchErrors(page);
    if (options.echoConsole) page.on('console', (m) => console.log(`[browser ${m.type()}] ${m.text()}`));
    return { stack, profile, context, page, errors };
  } catch (error) {
    await stack.stop();
    removeProfile(profile);
    throw error;
  }
}

/** Closes the browser, stops the stack and deletes the profile (undefined: startJourney failed). */
export async function stopJourney(journey: Journey | undefined): Promise<void> {
  if (!journey) return;
  await journey.context.close();
  await journey.stack.stop();
  removeProfile(journey.profile);
}
