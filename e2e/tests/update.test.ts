// Updates of the wallet's own code, against a host that serves tampered releases. The wallet runs the
// release it verified; a new one installs only with the pinned key's signature over every file, and runs
// only after the person agrees. Each tampered release is refused, the person is told, the tampered code
// never runs (it would leave a mark in the page's storage), and the words stay with the version they have.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseKey, releasePublicKey, signRelease } from '@lpw/wallet/release';
import type { Page } from 'playwright-core';
import { removeProfile, watchErrors } from '../harness/browser.ts';
import { type Front, startFront } from '../harness/front.ts';
import { expect, openDevice, shot, test } from '../harness/runner.ts';
import { createWallet, DIST, PIN, unlock } from '../harness/wallet.ts';

let front: Front;
let served: string;
let profile: string;
let BUILT_VERSION: string;
/** The page's entry chunk: where a tampered release puts its code. */
let ENTRY: string;

// the tests are one journey, each step starting where the last ended: a failure skips the rest
test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  const built = JSON.parse(readFileSync(join(DIST, 'release.json'), 'utf8')) as {
    version: string;
    files: Record<string, string>;
  };
  BUILT_VERSION = built.version;
  ENTRY = Object.keys(built.files).find((f) => /^assets\/index-.*\.js$/.test(f))!;
  served = mkdtempSync(join(tmpdir(), 'lpw-e2e-served-'));
  deploy(() => {}); // the release as built
  front = await startFront({ distDir: served });
  front.setLsp('http://127.0.0.1:9'); // nothing listens: updates need no LSP
  profile = mkdtempSync(join(tmpdir(), 'lpw-e2e-update-'));
});

test.afterAll(async () => {
  await front?.close();
  if (profile) removeProfile(profile);
  if (served) rmSync(served, { recursive: true, force: true });
});

/** What the host serves from now on: the build as made, then changed by `change`. */
function deploy(change: (dir: string) => void): void {
  for (const entry of readdirSync(served, { withFileTypes: true }))
    rmSync(join(served, entry.name), { recursive: true });
  cpSync(DIST, served, { recursive: true });
  change(served);
}

function edit(dir: string, path: string, fn: (text: string) => string): void {
  writeFileSync(join(dir, path), fn(readFileSync(join(dir, path), 'utf8')));
}

/** Code a tampered release adds: it would run on load and leave its mark. */
const MARK = ';try{localStorage.setItem("tampered","ran")}catch{}';

async function checkForUpdates(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Check for updates' }).click();
}

test.describe('updates of the wallet’s code', () => {
  test('refuses tampered releases, says so, and never runs their code', async () => {
    const context = await openDevice(profile);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(front.url);
    await createWallet(page);
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, {
      timeout: 60_000,
    });

    const attackerKey = 'ab'.repeat(32);
    const tampered: { name: string; change: (dir: string) => void; reason: RegExp }[] = [
      {
        name: 'changed code under the old signature',
        change: (dir) => {
          edit(dir, ENTRY, (js) => js + MARK);
          edit(dir, 'sw.js', (js) => `${js}\n// changed`);
        },
        reason: /is not the file the release was signed with/,
      },
      {
        name: 'changed code signed with another key',
        change: (dir) => {
          edit(dir, ENTRY, (js) => js + MARK);
          edit(dir, 'sw.js', (js) => `${js}\n// changed`);
          signRelease(dir, attackerKey, { version: 'evil', notes: 'Nothing to see.' });
        },
        reason: /not signed by the wallet’s publisher/,
      },
      {
        name: 'changed code that trusts a new release key, signed with it',
        change: (dir) => {
          const [own, attacker] = [releasePublicKey(releaseKey()), releasePublicKey(attackerKey)];
          edit(dir, ENTRY, (js) => js.replaceAll(own, attacker) + MARK);
          edit(dir, 'sw.js', (js) => js.replaceAll(own, attacker));
          signRelease(dir, attackerKey, { version: 'evil', notes: 'Nothing to see.' });
        },
        reason: /another release key than the one this wallet trusts/,
      },
    ];
    for (const attack of tampered) {
      deploy(attack.change);
      await checkForUpdates(page);
      await page.getByTestId('update-refused').getByText(attack.reason).waitFor({ timeout: 60_000 });
      await shot(page, `update-refused-${tampered.indexOf(attack) + 1}`);
      // the version running is the one verified; a reload still gets it (the service worker serves it)
      await page.reload();
      await unlock(page);
      expect(await page.evaluate(() => localStorage.getItem('tampered')), attack.name).toBeNull();
    }
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('version').getByText(`Version ${BUILT_VERSION}`).waitFor();
    expect(errors.filter((e) => /pageerror/.test(e))).toEqual([]);
    await context.close();
  });

  test('offers a signed update with what changed, and runs it only after the person agrees', async () => {
    const next = `${BUILT_VERSION}-next`;
    deploy((dir) => {
      for (const path of [ENTRY, 'sw.js']) edit(dir, path, (js) => js.replaceAll(BUILT_VERSION, next));
      signRelease(dir, releaseKey(), { version: next, notes: 'Payments show their fee in the history.' });
    });
    const context = await openDevice(profile);
    const page = await context.newPage();
    await page.goto(front.url);
    await unlock(page);
    await checkForUpdates(page);
    const offer = page.getByTestId('update-available');
    await offer.getByText('Payments show their fee in the history.').waitFor({ timeout: 60_000 });
    await offer.getByText(`version ${next}`).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'update-available');
    // not yet agreed: still the old version
    await page.getByTestId('version').getByText(`Version ${BUILT_VERSION}`).waitFor();
    await offer.getByRole('button', { name: 'Update now' }).click();
    await page.getByTestId('screen-lock').waitFor({ timeout: 60_000 });
    await unlock(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('version').getByText(`Version ${next}`).waitFor();
    await context.close();
  });

  test('stays locked when a service worker nobody checked takes over, and says why', async () => {
    const context = await openDevice(profile);
    const page = await context.newPage();
    await page.goto(front.url);
    await page.getByTestId('screen-lock').waitFor({ timeout: 30_000 });
    // a host that serves its own sw.js: it takes over at once and would serve the tampered page
    deploy((dir) => {
      edit(dir, ENTRY, (js) => js + MARK);
      writeFileSync(
        join(dir, 'sw.js'),
        "self.addEventListener('install', () => self.skipWaiting());\n" +
          "self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));\n",
      );
    });
    // A browser may activate a waiting worker whenever it likes. The worst moment: as soon as it is
    // installed, while the page is still checking it (fetching the release, hashing its sw.js): the
    // check then ends after the takeover, and once put its lesser reason in the takeover's place.
    // So Chromium is asked to activate it right then (it mostly keeps it waiting).
    const cdp = await context.newCDPSession(page);
    const scopeURL = `${front.url}/`;
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
      if (versions.some((v) => v.status === 'installed'))
        void cdp.send('ServiceWorker.skipWaiting', { scopeURL });
    });
    await cdp.send('ServiceWorker.enable');
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    const refused = page.getByTestId('update-refused');
    await refused
      .getByText(/sw\.js is not the file the release was signed with|never agreed to has taken over/)
      .waitFor({ timeout: 60_000 });
    // and if that ask came too early for the domain to know the registration, again until it happens
    const takenOver = refused.getByText(/never agreed to has taken over/);
    await expect(async () => {
      await cdp.send('ServiceWorker.skipWaiting', { scopeURL });
      await takenOver.waitFor({ timeout: 2_000 });
    }).toPass({ timeout: 60_000 });
    await page.locator('input[name=pin]').fill(PIN);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText(/you never agreed to has taken over this page, so it stays locked/).waitFor();
    await shot(page, 'update-takeover-refused');
    expect(await page.getByTestId('screen-lock').isVisible()).toBe(true);
    // the check of its sw.js ended long ago, whichever finished first: the takeover is still what it says
    expect(await takenOver.isVisible()).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('tampered'))).toBeNull();
    await context.close();
  });
});
