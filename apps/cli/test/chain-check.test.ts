// `--esplora-url-2`: the wallet compares two chain sources and checks the first. A chain source that
// holds the tip back (caught by the comparison) or serves a tip without proof of work (caught by
// the check alone) fails the command with CHAIN_CHECK_FAILED, exit 6, naming what was caught.
import { join } from 'node:path';
import { type LyingEsplora, startLyingEsplora } from '@lpw/devnet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliDone, type Stack, startStack } from './stack.ts';

describe('lpw-wallet: a checked chain view', () => {
  let s: Stack;
  let dir: string;
  let liar: LyingEsplora;
  let second: string;
  beforeAll(async () => {
    s = await startStack('lpw-cli-chain-check');
    dir = join(s.tmp, 'wallet');
    liar = await startLyingEsplora(s.devnet.esploraUrl);
    second = await s.devnet.startEsplora();
    expect((await cliDone(s, dir, ['init'])).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await liar?.close();
    await s?.stop();
  });

  const balance = (sources: string[]) => cliDone(s, dir, ['onchain', 'balance', ...sources]);

  it('runs on two sources that agree', async () => {
    const r = await balance(['--esplora-url', liar.url, '--esplora-url-2', second]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('refuses a held-back tip when a second source is given, and a tip without proof of work alone', async () => {
    liar.lie({ kind: 'hold-tip', height: s.devnet.chain.tipHeight });
    s.devnet.mine(2);
    const held = await balance(['--esplora-url', liar.url, '--esplora-url-2', second]);
    expect(held.code).toBe(6);
    expect(held.stderr).toMatch(/CHAIN_CHECK_FAILED.*SOURCES_DISAGREE/);

    liar.lie({ kind: 'bad-pow' });
    const forged = await balance(['--esplora-url', liar.url]);
    expect(forged.code).toBe(6);
    expect(forged.stderr).toMatch(/CHAIN_CHECK_FAILED.*BAD_PROOF_OF_WORK/);

    liar.lie({ kind: 'honest' });
    const honest = await balance(['--esplora-url', liar.url, '--esplora-url-2', second]);
    expect(honest.code, honest.stderr).toBe(0);
  });
});
