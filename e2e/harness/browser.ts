// Debian's Chromium (no browser download), as the Playwright config and the bench launch it: the two
// devices the journeys run on, and a profile directory that survives relaunches (reload, offline,
// second tab), optionally with a fake camera that plays a .y4m file.
import { rmSync } from 'node:fs';
import { type BrowserContext, chromium, type LaunchOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** How every browser of the journeys starts (playwright.config.ts gives it to the runner's too). */
export const LAUNCH: LaunchOptions = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

export interface Device {
  viewport: { width: number; height: number };
  deviceScaleFactor: number;
  isMobile: boolean;
  hasTouch: boolean;
}

/** The wallet's default view: a phone's screen and touch. */
export const PHONE: Device = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

export const DESKTOP: Device = {
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  isMobile: false,
  hasTouch: false,
};

export async function openProfile(
  profileDir: string,
  options: { cameraY4m?: string; device?: Device } = {},
): Promise<BrowserContext> {
  const camera = options.cameraY4m
    ? [
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${options.cameraY4m}`,
      ]
    : [];
  return chromium.launchPersistentContext(profileDir, {
    ...LAUNCH,
    args: [...LAUNCH.args!, ...camera],
    ...(options.device ?? PHONE),
    permissions: ['clipboard-read', 'clipboard-write', ...(options.cameraY4m ? ['camera'] : [])],
  });
}

/** Deletes a profile directory; Chromium may still be flushing into it just after close, hence retries. */
export function removeProfile(profileDir: string): void {
  rmSync(profileDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

/** Collects the page's console errors and uncaught exceptions (a test can assert there are none). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}
