// `lpw-wallet --lsp-transport bolt8` on the devnet, as a child process: the wallet reaches the LSP
// only as a Lightning peer and buys its JIT channel in LSPS over BOLT 8 custom messages. The LSP's
// HTTP request counter proves no tRPC (no HTTP at all) was used; what needs the HTTP API says so.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliDone, type Stack, startStack } from './stack.ts';

const big = (v: unknown) => BigInt(v as string);

describe('lpw-wallet over BOLT 8 alone', () => {
  let s: Stack;
  let dir: string;
  let bolt8: string[];
  beforeAll(async () => {
    s = await startStack('lpw-cli-bolt8');
    dir = join(s.tmp, 'wallet-bolt8');
    bolt8 = [
      '--lsp-transport',
      'bolt8',
      '--lsp-peer',
      `${s.lspNode.nodeId}@127.0.0.1:${s.lsp.server.peerPort}`,
      '--network',
      'regtest',
      '--esplora-url',
      s.devnet.esploraUrl,
    ];
  });
  afterAll(() => s?.stop());

  it('receives through a JIT channel bought over BOLT 8, with no HTTP request to the LSP', async () => {
    expect((await cliDone(s, dir, ['init'])).code).toBe(0);
    const httpBefore = s.lsp.metrics.httpRequests.total();
    const run = cli(s, dir, [
      'receive',
      '200000',
      '--desc',
      'over bolt 8',
      '--max-fee-sats',
      '5000',
      ...bolt8,
    ]);
    const quote = await run.next('quote');
    expect(quote.jit).toBe(true);
    const invoice = await run.next('invoice');
    expect(big(invoice.openingFeeMsat)).toBe(big(quote.openingFeeMsat));
    await s.net.router.node.payInvoice(invoice.bolt11 as string, { timeoutMs: 60_000 });
    const got = await run.next('received');
    expect(await run.exit, run.stderr()).toBe(0);
    expect(big(got.amountMsat)).toBe(200_000_000n - big(quote.openingFeeMsat));

    const balance = await cliDone(s, dir, ['balance', ...bolt8]);
    expect(balance.code, balance.stderr).toBe(0);
    expect(balance.lines[0]).toMatchObject({ channels: 1 });
    expect(s.lsp.metrics.httpRequests.total()).toBe(httpBefore);
    // the purchase is the wallet's, known by its node id alone
    expect(await s.store.listJitPurchases(balance.lines[0]!.nodeId as string)).toHaveLength(1);
  }, 180_000);

  it('refuses what needs the LSP HTTP API, and a bad --lsp-peer, with usage errors', async () => {
    const invoice = s.net.merchant.node.createInvoice({
      amountMsat: 1_000_000n,
      description: 'tea',
      expirySecs: 600,
    });
    const pay = await cliDone(s, dir, ['pay', invoice.bolt11, ...bolt8]);
    expect(pay.code).toBe(2);
    expect(pay.stderr).toMatch(/needs the LSP's HTTP API/);
    const bad = await cliDone(s, dir, [
      'balance',
      '--lsp-transport',
      'bolt8',
      '--lsp-peer',
      'nope',
      '--network',
      'regtest',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/NODE_ID@HOST:PORT/);
  }, 120_000);
});
