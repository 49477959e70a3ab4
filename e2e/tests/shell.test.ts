// The shipped shell without a running LSP: the CSP (no inline script, no third-party origin), the
// precache manifest holding LDK's WASM, and the screens at desktop size.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSP, LOOPBACK } from '@lpw/wallet/csp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProfile, removeProfile, shot, watchErrors } from '../harness/browser.ts';
import { type Front, startFront } from '../harness/front.ts';
import { buildWallet, DIST } from '../harness/wallet.ts';

let front: Front;
let profile: string;

beforeAll(async () => {
  buildWallet();
  front = await startFront({ distDir: DIST, esploraUrl: 'http://127.0.0.1:9', csp: CSP });
  profile = mkdtempSync(join(tmpdir(), 'lpw-e2e-shell-'));
});

afterAll(async () => {
  await front?.close();
  if (profile) removeProfile(profile);
});

describe('the built wallet', () => {
  it('has a CSP without inline script or other origins, and no inline script in its HTML', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta?.replaceAll('&#39;', "'")).toBe(CSP);
    expect(CSP).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
    // no origin named but this machine's plain-http ports (LNURL sites on the devnet)
    expect(CSP).toContain(`connect-src 'self' https: ${LOOPBACK};`);
    expect(CSP.replace(LOOPBACK, '')).not.toMatch(
      /unsafe-inline'[^;]*;?\s*$|script-src[^;]*unsafe-inline|https?:\/\//,
    );
    for (const [, attrs, body] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(attrs).toMatch(/src=/);
      expect(body!.trim()).toBe('');
    }
  });

  it('precaches the app shell and LDK’s WASM for offline starts', () => {
    const sw = readFileSync(join(DIST, 'sw.js'), 'utf8');
    expect(sw).toMatch(/liblightningjs-[\w-]+\.wasm/);
    expect(sw).toMatch(/index\.html/);
    expect(sw).toMatch(/manifest\.webmanifest/);
  });

  it('looks right on a desktop: a centred phone-width column', async () => {
    const context = await openProfile(profile, { viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(front.url);
    await page.getByTestId('screen-welcome').waitFor();
    const box = await page.getByTestId('screen-welcome').boundingBox();
    expect(box!.width).toBeLessThanOrEqual(480);
    expect(Math.abs(box!.x + box!.width / 2 - 640)).toBeLessThan(2);
    await shot(page, 'desktop-welcome');
    await page.getByRole('button', { name: 'Restore from recovery words' }).click();
    await page.locator('textarea[name=words]').fill('abandon abandon abandon');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Expected 12 words, got 3').waitFor();
    await shot(page, 'desktop-restore-error');
    expect(errors.filter((e) => /Content Security Policy|pageerror/.test(e))).toEqual([]);
    await context.close();
  });
});
