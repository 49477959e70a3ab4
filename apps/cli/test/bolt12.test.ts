// `lpw-wallet` and BOLT 12 offers on the devnet, as child processes: `offer` prints the wallet's
// reusable offer, which the public merchant pays; `pay lno1…` shows what the offer says, then pays
// the merchant's offer through the LSP; a bad offer is refused with a typed error and exit code.
import { join } from 'node:path';
import { waitUntil } from '@lpw/devnet';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliDone, type Stack, startStack } from './stack.ts';

describe('lpw-wallet: BOLT 12 offers', () => {
  let s: Stack;
  let dir: string;
  beforeAll(async () => {
    s = await startStack('lpw-cli-bolt12');
    dir = join(s.tmp, 'wallet');
    expect((await cliDone(s, dir, ['init'])).code).toBe(0);
    // a channel with money: a JIT receive the router pays
    const run = cli(s, dir, ['receive', '500000', '--max-fee-sats', '10000']);
    const invoice = await run.next('invoice');
    await s.net.router.node.payInvoice(invoice.bolt11 as string, { timeoutMs: 60_000 });
    await run.next('received');
    expect(await run.exit).toBe(0);
    await waitUntil(
      'the LSP holds the router’s payment',
      () => s.lspNode.listChannels().some((c) => c.peerId === s.net.router.nodeId && c.outboundMsat > 0n),
      30_000,
    );
  }, 240_000);
  afterAll(() => s?.stop());

  it("pay lno1…: the offer's terms first, then paid through the LSP", async () => {
    const offer = s.net.merchant.node.bolt12Payment.offer();
    const r = await cliDone(s, dir, ['pay', offer, '--amount-sats', '120000', '--max-fee-sats', '2000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toMatchObject({
      event: 'offer',
      description: null,
      amountMsat: null,
      expiresAt: null,
    });
    const paid = r.lines[1]!;
    expect(paid).toMatchObject({ event: 'paid', amountMsat: '120000000' });
    expect(bytesToHex(sha256(hexToBytes(paid.preimage as string)))).toBe(paid.paymentHash);
    expect(s.net.merchant.node.payment(paid.paymentHash as string)).toMatchObject({
      kind: 'bolt12',
      status: 'succeeded',
      amountMsat: 120_000_000n,
    });
  });

  it('offer --payments 2: the wallet’s reusable offer, online while the merchant pays it twice', async () => {
    const run = cli(s, dir, ['offer', '--payments', '2', '--timeout', '180']);
    const offer = (await run.next('offer')).offer as string;
    expect(offer).toMatch(/^lno1/);
    for (const amountMsat of [20_000_000n, 25_000_000n]) {
      const id = await s.net.merchant.node.bolt12Payment.payOffer(offer, amountMsat);
      expect((await s.net.merchant.node.bolt12Payment.outcome(id, 60_000)).amountMsat).toBe(amountMsat);
    }
    expect(await run.exit).toBe(0);
    const received = run.lines
      .filter((l) => l.event === 'received')
      .map((l) => BigInt(l.amountMsat as string));
    expect(received).toEqual([20_000_000n, 25_000_000n]);
  });

  it('bad offers: a typed error and its exit code, nothing paid', async () => {
    const garbled = await cliDone(s, dir, ['pay', 'lno1qqqqqq', '--amount-sats', '10']);
    expect(garbled.code).toBe(3);
    expect(garbled.stderr).toMatch(/INVALID_OFFER/);
    // the BOLT 12 spec's first offer vector: valid, for bitcoin (mainnet)
    const mainnet = 'lno1pgx9getnwss8vetrw3hhyuckyypwa3eyt44h6txtxquqh7lz5djge4afgfjn7k4rgrkuag0jsd5xvxg';
    const wrongChain = await cliDone(s, dir, ['pay', mainnet, '--amount-sats', '10']);
    expect(wrongChain.code).toBe(3);
    expect(wrongChain.stderr).toMatch(/bitcoin/);
    const noAmount = await cliDone(s, dir, ['pay', s.net.merchant.node.bolt12Payment.offer()]);
    expect(noAmount.code).not.toBe(0);
    expect(noAmount.stderr).toMatch(/--amount-sats/);
  });
});
