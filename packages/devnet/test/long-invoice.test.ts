// Invoices longer than LDK 0.1's parser reads (1,023 characters) are valid BOLT 11 and get paid:
// the devnet merchant (a real LDK node) signs invoices of 1,024, 2,000 and 7,000 characters with
// long descriptions and many route hints, and the devnet router pays each over their channel.
import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import { decodeBolt11, parsePaymentRequest } from '@lpw/payment-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longBolt11, nodeLongInvoice } from '../src/long-invoice.ts';
import { type PublicNetwork, startPublicNetwork } from '../src/network.ts';

const LENGTHS = [1_024, 2_000, 7_000];
const TEST_KEY = new Uint8Array(32).fill(0x42);
const fields = {
  network: 'regtest' as const,
  amountMsat: 5_000_000n,
  timestamp: 1_800_000_000,
  paymentHash: '11'.repeat(32),
  paymentSecret: '22'.repeat(32),
  features: [8, 14, 17],
};

describe('long invoices: made to the character, read by our decoder', () => {
  it.each(LENGTHS)('%i characters: decoded with its description and hints', (chars) => {
    const text = longBolt11(fields, chars, TEST_KEY);
    expect(text).toHaveLength(chars);
    const invoice = decodeBolt11(text);
    expect(invoice).toMatchObject({ amountMsat: 5_000_000n, paymentHash: fields.paymentHash });
    expect(invoice.description?.startsWith('A long invoice')).toBe(true);
    expect(invoice.routeHints.length).toBeGreaterThanOrEqual(chars > 2_000 ? 50 : 0);
    const request = parsePaymentRequest(`lightning:${text.toUpperCase()}`, {
      network: 'regtest',
      nowSec: fields.timestamp,
    });
    expect(request.kind === 'bolt11' && request.invoice.paymentHash).toBe(fields.paymentHash);
  });

  it('a length the fields alone exceed is a RangeError', () => {
    expect(() => longBolt11(fields, 200, TEST_KEY)).toThrow(RangeError);
  });
});

describe('long invoices are paid over real LDK: router → merchant', () => {
  let devnet: Devnet;
  let net: PublicNetwork;
  beforeAll(async () => {
    devnet = await startDevnet({ seed: 'long-invoice-tests' });
    net = await startPublicNetwork(devnet);
  });
  afterAll(async () => {
    await net?.stop();
    await devnet?.stop();
  });

  it.each(LENGTHS)('%i characters: paid, the merchant receives the amount', async (chars) => {
    const merchant = net.merchant.node;
    const amountMsat = 1_000_000n + BigInt(chars);
    const { bolt11, paymentHash } = nodeLongInvoice(merchant, { amountMsat, chars });
    expect(bolt11).toHaveLength(chars);
    const received = merchant.waitFor('payment-received', (e) => e.paymentHash === paymentHash, 60_000);
    const sent = await net.router.node.payInvoice(bolt11, { timeoutMs: 60_000 });
    expect(sent.paymentHash).toBe(paymentHash);
    expect((await received).amountMsat).toBe(amountMsat);
    expect(net.router.node.payment(paymentHash)).toMatchObject({
      status: 'succeeded',
      invoice: bolt11,
      description: decodeBolt11(bolt11).description,
    });
  });
});
