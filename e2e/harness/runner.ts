// The journeys' side of @playwright/test: browsers opened with the running project's device (phone or
// desktop, playwright.config.ts), and screenshots of the screens a journey passes through.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '@playwright/test';
import type { BrowserContext, Page } from 'playwright-core';
import { type Device, openProfile } from './browser.ts';

export { expect, test } from '@playwright/test';

/**
 * A persistent profile on the project's device. The runner traces it and screenshots its pages when a
 * test fails, as it does for the contexts it makes itself.
 */
export function openDevice(
  profileDir: string,
  options: { cameraY4m?: string } = {},
): Promise<BrowserContext> {
  const use = test.info().project.use;
  const device: Device = {
    viewport: use.viewport!,
    deviceScaleFactor: use.deviceScaleFactor!,
    isMobile: use.isMobile!,
    hasTouch: use.hasTouch!,
  };
  return openProfile(profileDir, { ...options, device });
}

/** Every screen a journey passes through, to look at: `e2e/screenshots/<project>/<name>.png`. */
export async function shot(page: Page, name: string): Promise<string> {
  const dir = join(import.meta.dirname, '..', 'screenshots', test.info().project.name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
