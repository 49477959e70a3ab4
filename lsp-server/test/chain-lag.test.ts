// The chain lag alert with a second chain source (ESPLORA_URL_2): an LSP whose own Esplora holds its
// tip back still syncs "fine" (its sync age stays low), and only the second source shows it is
// behind. No store is involved beyond what createLsp needs: SQLite only.
import { type Devnet, type LyingEsplora, startDevnet, startLyingEsplora, waitUntil } from '@lpw/devnet';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createLsp, type Lsp } from '../src/lsp.ts';
import { tempDir } from './temp-dir.ts';

const PASSWORD = 'operator password 16';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

describe('chain lag against a second chain source', () => {
  let devnet: Devnet;
  let primary: LyingEsplora;
  let lsp: Lsp;
  beforeAll(async () => {
    devnet = await startDevnet({ seed: 'chain-lag' });
    primary = await startLyingEsplora(devnet.esploraUrl);
    lsp = await createLsp(
      loadConfig({
        LOG_LEVEL: 'silent',
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: tempDir('lsp-chain-lag-'),
        ADMIN_PASSWORD: PASSWORD,
        ESPLORA_URL: primary.url,
        ESPLORA_URL_2: devnet.esploraUrl,
        ALERT_CHAIN_BEHIND_BLOCKS: '2',
      }),
      {
        seed: new Uint8Array(32).fill(11),
        node: { chainSyncIntervalMs: 0, logLevel: 'error' },
        log: pino({ level: 'silent' }),
      },
    );
    await lsp.node.syncChain();
  }, 60_000);
  afterAll(async () => {
    await lsp?.stop();
    await primary?.close();
    await devnet?.stop();
  }, 60_000);

  const metrics = async () => (await fetch(`${lsp.url}/metrics`)).text();
  const metric = (text: string, name: string) =>
    new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (-?\\d+)$`, 'm').exec(text)?.[1];
  const alertDetail = async () => {
    const html = await (await fetch(`${lsp.url}/admin`, { headers: { authorization: AUTH } })).text();
    return /data-alert="chain_lag">(.*?)<\/li>/.exec(html)?.[1] ?? '';
  };

  it('fires when our source holds its tip back while the second moves on, and clears when it catches up', async () => {
    const text = await metrics();
    expect(metric(text, 'lsp_alert{kind="chain_lag"}')).toBe('0');
    expect(metric(text, 'lsp_chain_behind_blocks')).toBe('0');

    const held = devnet.chain.tipHeight;
    primary.lie({ kind: 'hold-tip', height: held });
    devnet.mine(3);
    await lsp.node.syncChain();
    // the sync itself succeeded just now: without the second source nothing would show
    expect(lsp.node.chainWatch().lastSyncHeight).toBe(held);
    await waitUntil(
      'the second source’s tip read again (10 s cache)',
      async () => metric(await metrics(), 'lsp_chain_behind_blocks') === '3',
      30_000,
    );
    expect(metric(await metrics(), 'lsp_alert{kind="chain_lag"}')).toBe('1');
    expect(await alertDetail()).toContain(
      `synced to block ${held}, the second chain source&#39;s tip is ${held + 3}: 3 block(s) behind`,
    );

    primary.lie({ kind: 'honest' });
    await lsp.node.syncChain();
    const after = await metrics();
    expect(metric(after, 'lsp_chain_behind_blocks')).toBe('0');
    expect(metric(after, 'lsp_alert{kind="chain_lag"}')).toBe('0');
  }, 90_000);
});
