// An invoice's timestamp is when it was made, by the node's clock. LDK built without std dates its
// invoices, and the window in which it accepts their payment, by the manager's highest seen time:
// the manager's creation, then block header times only. Here the devnet's block at BLOCK_NOW_HEIGHT
// is dated now and the ones before it are older, like a chain whose newest block is some hours old.
import { waitUntil } from '@lpw/devnet-chain';
import { decodeBolt11 } from '@lpw/payment-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightningNode, NodeOptions } from '../src/node.ts';
import { MemoryStore } from '../src/persist/memory.ts';
import { type TestNet, testNet, zeroConf } from './harness.ts';

const HOUR_MS = 3600_000;
const BLOCK_SPACING_SECS = 600;
const BLOCK_NOW_HEIGHT = 200;

describe('invoice time', () => {
  let net: TestNet;
  let payer: LightningNode;
  let nowMs = Date.now();
  const clock = () => nowMs;

  beforeAll(async () => {
    const startTime = Math.floor(Date.now() / 1000) - BLOCK_NOW_HEIGHT * BLOCK_SPACING_SECS;
    net = await testNet('invoice-time', { startTime });
    payer = (await net.make('payer', 22, { role: 'lsp' })).node;
    // one coin per channel: a channel spends only confirmed coins
    await net.fund(payer, 2_000_000n);
    await net.fund(payer, 2_000_000n);
  });
  afterAll(async () => {
    await payer?.stop();
    await net?.stop();
  });

  /** A wallet node whose manager was made `ageMs` ago, opened again now, with a channel from the payer. */
  async function nodeMadeAgo(seedByte: number, ageMs: number): Promise<LightningNode> {
    const store = new MemoryStore();
    const options: Partial<NodeOptions> = { store, clock, role: 'wallet', trustedPeers: [payer.nodeId] };
    nowMs = Date.now() - ageMs;
    await (await net.make(`made-${seedByte}`, seedByte, options)).node.stop();
    nowMs = Date.now();
    const { node } = await net.make(`made-${seedByte}`, seedByte, options);
    await zeroConf(payer, node);
    return node;
  }

  it('a node made two hours ago dates its invoices now, and they are paid', async () => {
    const merchant = await nodeMadeAgo(21, 2 * HOUR_MS);
    try {
      const invoice = merchant.createInvoice({ amountMsat: 5_000_000n, description: 'tea', expirySecs: 600 });
      const decoded = decodeBolt11(invoice.bolt11);
      expect(decoded.timestamp).toBe(Math.floor(nowMs / 1000));
      expect(decoded.expirySeconds).toBe(600);
      expect(decoded.payeeNodeId).toBe(merchant.nodeId);
      expect(invoice.expiresAt).toBe((Math.floor(nowMs / 1000) + 600) * 1000);

      const received = merchant.waitFor('payment-received');
      await payer.payInvoice(invoice.bolt11);
      expect((await received).amountMsat).toBe(5_000_000n);
      await waitUntil(
        'merchant records it',
        () => merchant.payment(invoice.paymentHash)?.status === 'succeeded',
      );
    } finally {
      await merchant.stop();
    }
  }, 60_000);

  it('a block dated after an invoice was made does not make its payee refuse it while it is live', async () => {
    // LDK's time stands three hours behind the invoice's until the block dated now arrives; LDK
    // allows two hours for a header's time being off, not three
    const merchant = await nodeMadeAgo(23, 3 * HOUR_MS);
    try {
      const invoice = merchant.createInvoice({
        amountMsat: 6_000_000n,
        description: 'cake',
        expirySecs: 600,
      });
      await net.mine(BLOCK_NOW_HEIGHT - net.devnet.chain.tipHeight, [merchant, payer]);

      const received = merchant.waitFor('payment-received');
      await payer.payInvoice(invoice.bolt11);
      expect((await received).amountMsat).toBe(6_000_000n);
    } finally {
      await merchant.stop();
    }
  }, 60_000);
});
