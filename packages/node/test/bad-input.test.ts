// Bad input at the node's payment boundary: every invalid BOLT 11 example of the spec, invoices of
// another network, expired invoices, an amount over the balance, unknown peers. Each must be a typed
// NodeError, and none may change the node's payments, channels or balances.
import { readFileSync } from 'node:fs';
import { encodeBolt11 } from '@lpw/payment-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNodeError, type NodeErrorCode } from '../src/errors.ts';
import type { LightningNode } from '../src/node.ts';
import { type TestNet, testNet } from './harness.ts';

interface Vector {
  title: string;
  invoice: string;
  valid: boolean;
  network?: string;
}
const vectors = (
  JSON.parse(readFileSync(new URL('../../../vectors/bolt11.json', import.meta.url), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;

async function codeOf(attempt: Promise<unknown>): Promise<NodeErrorCode> {
  try {
    await attempt;
  } catch (error) {
    if (isNodeError(error)) return error.code;
    throw new Error(`expected a NodeError, got ${String(error)}`);
  }
  throw new Error('expected a NodeError, but the call succeeded');
}

describe('bad input at the payment boundary is refused with typed errors and changes nothing', () => {
  let net: TestNet;
  let node: LightningNode;
  let snapshot: () => unknown;

  beforeAll(async () => {
    net = await testNet('bad-input');
    ({ node } = await net.make('payer', 0x5a));
    snapshot = () => ({
      payments: node.listPayments(),
      channels: node.listChannels(),
      balances: node.balances(),
    });
  });
  afterAll(async () => {
    await node?.stop();
    await net?.stop();
  });

  it('every invalid BOLT 11 example of the spec is INVALID_INVOICE', async () => {
    const before = snapshot();
    const invalid = vectors.filter((v) => !v.valid);
    expect(invalid.length).toBeGreaterThanOrEqual(10);
    for (const vector of invalid) {
      expect(await codeOf(node.payInvoice(vector.invoice)), vector.title).toBe('INVALID_INVOICE');
    }
    expect(snapshot()).toEqual(before);
  });

  it('the valid examples are mainnet invoices: refused on regtest as another network', async () => {
    const before = snapshot();
    for (const vector of vectors.filter((v) => v.valid && v.network === 'bitcoin')) {
      await expect(node.payInvoice(vector.invoice), vector.title).rejects.toMatchObject({
        code: 'INVALID_INVOICE',
      });
    }
    expect(snapshot()).toEqual(before);
  });

  it('an expired regtest invoice is INVOICE_EXPIRED; one over the balance is INSUFFICIENT_BALANCE', async () => {
    const before = snapshot();
    const payee = new Uint8Array(32).fill(0x42);
    const invoice = (timestamp: number, amountMsat: bigint) =>
      encodeBolt11(
        {
          network: 'regtest',
          amountMsat,
          timestamp,
          paymentHash: '11'.repeat(32),
          paymentSecret: '22'.repeat(32),
          description: 'bad input',
          expirySeconds: 60,
          features: [8, 14],
        },
        payee,
      );
    const now = Math.floor(Date.now() / 1000);
    expect(await codeOf(node.payInvoice(invoice(now - 3600, 1_000n)))).toBe('INVOICE_EXPIRED');
    expect(await codeOf(node.payInvoice(invoice(now, 1_000_000n)))).toBe('INSUFFICIENT_BALANCE');
    expect(await codeOf(node.payInvoice('lnbcrt1garbage'))).toBe('INVALID_INVOICE');
    expect(await codeOf(node.payInvoice('x'.repeat(10_000)))).toBe('INVALID_INVOICE');
    // a final CLTV delta past LDK's u32 must be refused, not wrapped to a small one
    const hugeDelta = encodeBolt11(
      {
        network: 'regtest',
        amountMsat: 1_000n,
        timestamp: now,
        paymentHash: '11'.repeat(32),
        paymentSecret: '22'.repeat(32),
        description: 'bad input',
        minFinalCltvExpiryDelta: 2 ** 33,
        features: [8, 14],
      },
      payee,
    );
    expect(await codeOf(node.payInvoice(hugeDelta))).toBe('INVALID_INVOICE');
    expect(snapshot()).toEqual(before);
  });

  it('unknown or malformed peers are typed errors', async () => {
    const before = snapshot();
    const stranger = `03${'ab'.repeat(32)}`;
    expect(() => node.openChannel({ peerId: stranger, capacitySat: 100_000n })).toThrow(
      expect.objectContaining({ code: 'PEER_NOT_CONNECTED' }),
    );
    // not a point on the curve: must never reach LDK (it would panic the WASM instance)
    expect(await codeOf(node.keysend(`02${'11'.repeat(32)}`, 1_000n))).toBe('INVALID_INPUT');
    expect(await codeOf(node.keysend('zz', 1_000n))).toBe('INVALID_INPUT');
    expect(snapshot()).toEqual(before);
  });
});
