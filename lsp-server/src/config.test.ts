import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/temp-dir.ts';
import { ConfigError, loadConfig, loadOrCreateSeed } from './config.ts';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('config', () => {
  it('defaults: SQLite under ./data, devnet chain, port 8080, regtest', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      network: 'regtest',
      chain: 'devnet',
      databaseUrl: 'data/lsp.sqlite',
    });
    expect(c.fee.minFeeMsat).toBe(2_000_000n);
  });
  it('HOT_STANDBY: needs a shared PostgreSQL and a chain both processes see', () => {
    expect(problems({ HOT_STANDBY: 'true' })).toEqual([
      'HOT_STANDBY needs DATABASE_URL to be a postgres:// URL (the processes share its lock and state)',
      'HOT_STANDBY needs ESPLORA_URL or BITCOIND_RPC_URL (an in-process devnet is one per process)',
    ]);
    const c = loadConfig({
      HOT_STANDBY: '1',
      DATABASE_URL: 'postgres://lsp@db/lsp',
      ESPLORA_URL: 'http://127.0.0.1:3002',
    });
    expect(c.hotStandby).toBe(true);
    expect(loadConfig({}).hotStandby).toBe(false);
  });
  it('messages say what to fix', () => {
    expect(problems({ DATABASE_URL: 'mysql://x' })).toEqual([
      'DATABASE_URL must be a postgres:// URL or a SQLite file path',
    ]);
    expect(problems({ PORT: 'eighty' })).toEqual(['PORT must be an integer from 0 to 65535']);
    expect(problems({ NETWORK: 'mainnet' })).toEqual([
      'NETWORK must be one of bitcoin, testnet, signet, regtest',
    ]);
    expect(problems({ ESPLORA_URL: 'ftp://x' })).toEqual(['ESPLORA_URL must be a http:// or https:// URL']);
    expect(problems({ LSP_SEED: 'abc' })).toEqual(['LSP_SEED must be 64 hex characters (32 bytes)']);
    expect(problems({ ADMIN_PASSWORD: 'short' })).toEqual(['ADMIN_PASSWORD must be at least 12 characters']);
    expect(problems({ JIT_MIN_FEE_MSAT: '-5' })[0]).toMatch(
      /^JIT_MIN_FEE_MSAT must be a whole number of msat/,
    );
    expect(problems({ JIT_MIN_PAYMENT_MSAT: '5', JIT_MAX_PAYMENT_MSAT: '4' })).toEqual([
      'JIT_MIN_PAYMENT_MSAT must not exceed JIT_MAX_PAYMENT_MSAT',
    ]);
    expect(problems({ NETWORK: 'bitcoin' })[0]).toMatch(/needs ESPLORA_URL or BITCOIND_RPC_URL/);
    expect(problems({ PORT: 'x', NETWORK: 'y' })).toHaveLength(2);
  });
  it('outside regtest: refuses the README example and weak admin passwords, saying how to make one', () => {
    const esplora = { ESPLORA_URL: 'https://esplora.example/api' };
    for (const network of ['bitcoin', 'signet', 'testnet']) {
      const readme = problems({ ...esplora, NETWORK: network, ADMIN_PASSWORD: 'devnet-admin-password' });
      expect(readme).toEqual([expect.stringMatching(/is the devnet example from the README/)]);
      expect(readme[0]).toContain('openssl rand -base64 24');
      expect(problems({ ...esplora, NETWORK: network, ADMIN_PASSWORD: 'aaaaaaaaaaaa' })[0]).toMatch(
        /ADMIN_PASSWORD is shorter than 16 characters/,
      );
      expect(problems({ ...esplora, NETWORK: network, ADMIN_PASSWORD: 'abababababababababab' })[0]).toMatch(
        /fewer than 10 different characters/,
      );
      // what `openssl rand -base64 24` prints passes
      expect(
        problems({ ...esplora, NETWORK: network, ADMIN_PASSWORD: 'q3Vn8+Jc0ZrT/7yLwPe2aXkB5sUd9mHf' }),
      ).toEqual([]);
    }
    // the devnet keeps its printed password
    expect(problems({ ADMIN_PASSWORD: 'devnet-admin-password' })).toEqual([]);
  });
  it('WALLET_ORIGINS: origins only, https outside regtest, each mistake named', () => {
    expect(loadConfig({}).walletOrigins).toEqual([]);
    expect(
      loadConfig({ WALLET_ORIGINS: 'https://wallet.example, http://127.0.0.1:8081' }).walletOrigins,
    ).toEqual(['https://wallet.example', 'http://127.0.0.1:8081']);
    expect(problems({ WALLET_ORIGINS: 'https://wallet.example/' })).toEqual([
      'WALLET_ORIGINS: "https://wallet.example/" is not an origin (scheme://host[:port], no path or trailing slash); did you mean https://wallet.example?',
    ]);
    expect(problems({ WALLET_ORIGINS: 'wallet.example' })[0]).toMatch(/"wallet.example" is not a URL/);
    expect(problems({ WALLET_ORIGINS: 'ftp://wallet.example' })[0]).toMatch(/must be an https:\/\//);
    const signet = { NETWORK: 'signet', ESPLORA_URL: 'https://esplora.example/api' };
    expect(problems({ ...signet, WALLET_ORIGINS: 'http://wallet.example' })).toEqual([
      expect.stringMatching(
        /^WALLET_ORIGINS must be https:\/\/ origins outside regtest.*http:\/\/wallet.example$/,
      ),
    ]);
    expect(problems({ ...signet, WALLET_ORIGINS: 'https://wallet.example' })).toEqual([]);
  });
  it('limits: defaults written here, overridable by environment, checked against each other', () => {
    const c = loadConfig({});
    expect(c.limits).toMatchObject({
      maxBatchCalls: 10,
      requestsPerMinutePerIp: 600,
      requestsBurstPerIp: 60,
      newWalletsPerHourPerIp: 10,
      ordersPerMinutePerWallet: 5,
      routesPerMinutePerWallet: 120,
      routesBurstPerWallet: 10,
      maxBackupBytesPerWallet: 8 * 1024 * 1024,
      backupBytesPerHourPerIp: 64 * 1024 * 1024,
    });
    expect(c.admin).toEqual({ lockoutAfterFailures: 5, lockoutMaxSec: 900 });
    expect(loadConfig({ MAX_BATCH_CALLS: '3' }).limits.maxBatchCalls).toBe(3);
    expect(problems({ BACKUP_BYTES_PER_HOUR_PER_IP: '1000' })[0]).toMatch(/at least MAX_BACKUP_BLOB_BYTES/);
    expect(problems({ METRICS_TOKEN: 'short' })[0]).toMatch(/METRICS_TOKEN must be 32/);
    expect(problems({ METRICS_LISTEN: 'nowhere' })).toEqual(['METRICS_LISTEN must be host:port']);
  });
  it('reads a JSON file; the environment wins; unknown keys are refused', () => {
    const dir = tempDir('lsp-config-');
    const file = join(dir, 'lsp.json');
    writeFileSync(file, JSON.stringify({ port: 9000, fee: { proportional: 1000 }, jitTokens: ['a'] }));
    const c = loadConfig({ CONFIG_FILE: file, DATABASE_URL: 'postgres://u@h/db' });
    expect(c).toMatchObject({ port: 9000, databaseUrl: 'postgres://u@h/db', jitTokens: ['a'] });
    expect(c.fee.proportional).toBe(1000);
    expect(loadConfig({ CONFIG_FILE: file, PORT: '9100' }).port).toBe(9100);
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    expect(problems({ CONFIG_FILE: file })[0]).toContain('unknown setting(s) prot');
    writeFileSync(file, '{');
    expect(problems({ CONFIG_FILE: file })[0]).toContain('is not valid JSON');
    expect(problems({ CONFIG_FILE: join(dir, 'missing.json') })[0]).toContain('cannot be read');
  });
  it('creates the seed file once, mode 0600, and refuses one others can read', () => {
    const dataDir = tempDir('lsp-seed-');
    const a = loadOrCreateSeed({ dataDir });
    expect(a).toHaveLength(32);
    expect(statSync(join(dataDir, 'lsp-seed')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSeed({ dataDir })).toEqual(a);
    expect(loadOrCreateSeed({ dataDir, lspSeed: '11'.repeat(32) })).toEqual(new Uint8Array(32).fill(0x11));
    const loose = tempDir('lsp-seed-');
    writeFileSync(join(loose, 'lsp-seed'), '22'.repeat(32), { mode: 0o644 });
    expect(() => loadOrCreateSeed({ dataDir: loose })).toThrow(/chmod 600/);
  });
});
