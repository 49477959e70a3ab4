// The person's journey on a phone-sized Chromium against the real stack: create, receive through a
// JIT channel, pay by camera scan, reload, second tab, offline, restore on a fresh profile.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSP } from '@lpw/wallet/csp';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProfile, shot, watchErrors } from '../harness/browser.ts';
import { type Stack, startStack } from '../harness/stack.ts';
import { balanceSat, buildWallet, createWallet, DIST, waitConnected } from '../harness/wallet.ts';

let stack: Stack;
let profile: string;
let context: BrowserContext;
let page: Page;
let errors: string[];
const state: { words: string[] } = { words: [] };

beforeAll(async () => {
  buildWallet();
  stack = await startStack({ distDir: DIST, csp: CSP });
  profile = mkdtempSync(join(tmpdir(), 'lpw-e2e-profile-'));
  context = await openProfile(profile);
  page = await context.newPage();
  errors = watchErrors(page);
});

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('wallet journey', () => {
  it('a new user opens the URL and creates a wallet; the node starts and connects to the LSP', async () => {
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor();
    await shot(page, '01-welcome');
    state.words = await createWallet(page, (name) => shot(page, name));
    expect(state.words).toHaveLength(12);
    await waitConnected(page);
    await shot(page, '05-home-empty');
    expect(await balanceSat(page)).toBe(0n);
  });
});
