// The shipped shell without a running LSP: the CSP (no inline script; other origins over TLS only,
// loopback without TLS in the devnet build), the signed release naming LDK's WASM, and the screens at
// desktop size.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSP, walletCsp } from '@lpw/wallet/csp';
import { releaseKey, releasePublicKey, verifyRelease } from '@lpw/wallet/release';
import { watchErrors } from '../harness/browser.ts';
import { type Front, startFront } from '../harness/front.ts';
import { expect, shot, test } from '../harness/runner.ts';
import { DIST } from '../harness/wallet.ts';

let front: Front;

test.beforeAll(async () => {
  front = await startFront({ distDir: DIST });
  front.setLsp('http://127.0.0.1:9'); // nothing listens: no LSP
});

test.afterAll(async () => {
  await front?.close();
});

test.describe('the built wallet', () => {
  test('has a CSP without inline script, other origins over TLS only, and no inline script in its HTML', async () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    const devnet = walletCsp({ devnet: true });
    expect(meta?.replaceAll('&#39;', "'")).toBe(devnet); // the e2e build is a devnet build
    expect((await fetch(front.url)).headers.get('content-security-policy')).toBe(
      `${devnet}; frame-ancestors 'none'`,
    );
    for (const policy of [CSP, devnet]) {
      expect(policy).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
      expect(policy).not.toMatch(/unsafe-inline'[^;]*;?\s*$|script-src[^;]*unsafe-inline/);
    }
    // a release reaches other origins over TLS only; the devnet build adds loopback, nothing else
    expect(CSP).toMatch(/connect-src 'self' https: wss:;/);
    expect(CSP).not.toMatch(/(http|ws):\/\//);
    const plain = devnet.match(/\b(http|ws):\/\/[^\s;]+/g) ?? [];
    expect(plain.length).toBeGreaterThan(0);
    for (const source of plain) expect(source).toMatch(/^(http|ws):\/\/(127\.0\.0\.1|localhost):\*$/);
    for (const [, attrs, body] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(attrs).toMatch(/src=/);
      expect(body!.trim()).toBe('');
    }
  });

  test('is a signed release that names the app shell and LDK’s WASM, which the service worker caches for offline starts', () => {
    const manifestBytes = readFileSync(join(DIST, 'release.json'));
    const manifest = verifyRelease(
      manifestBytes,
      readFileSync(join(DIST, 'release.sig'), 'utf8'),
      releasePublicKey(releaseKey()),
    );
    const names = Object.keys(manifest.files);
    expect(names).toEqual(expect.arrayContaining(['index.html', 'sw.js', 'manifest.webmanifest']));
    expect(names.some((n) => /liblightningjs-[\w-]+\.wasm$/.test(n))).toBe(true);
    const tampered = Uint8Array.from(manifestBytes);
    tampered[tampered.length - 3]! ^= 1;
    expect(() =>
      verifyRelease(
        tampered,
        readFileSync(join(DIST, 'release.sig'), 'utf8'),
        releasePublicKey(releaseKey()),
      ),
    ).toThrow(/not signed/);
  });

  // the desktop project's own check: the runner's page at the desktop's size
  test('looks right on a desktop: a centred phone-width column', { tag: '@desktop-only' }, async ({
    page,
  }) => {
    const errors = watchErrors(page);
    await page.goto(front.url);
    await page.getByTestId('screen-welcome').waitFor();
    const box = await page.getByTestId('screen-welcome').boundingBox();
    expect(box!.width).toBeLessThanOrEqual(480);
    expect(Math.abs(box!.x + box!.width / 2 - page.viewportSize()!.width / 2)).toBeLessThan(2);
    await shot(page, 'desktop-welcome');
    await page.getByRole('button', { name: 'Restore from recovery words' }).click();
    await page.locator('textarea[name=words]').fill('abandon abandon abandon');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Expected 12 words, got 3').waitFor();
    await shot(page, 'desktop-restore-error');
    expect(errors.filter((e) => /Content Security Policy|pageerror/.test(e))).toEqual([]);
  });
});
