// Wallets get none of the LSP's gossip stream; its routing peers still get all of it. New public
// gossip flows through the LSP while two wallets with channels are connected: one built as the PWA
// builds it (createWalletNode: LDK's IgnoringMessageHandler, which counts nothing), and its twin,
// whose routing handler counts the gossip it ignores. The LSP sees the same init from both, and
// neither sends it anything gossip-related, so what the twin receives (zero) is what the wallet
// receives. The router counts what the LSP relays to it; the wallet still pays on the LSP's routes.
import { fundingBroadcast, waitUntil } from '@lpw/devnet';
import { spreadChannelGossip } from '@lpw/devnet/network';
import { tcp } from '@lpw/node/tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

const NONE = { channelAnnouncements: 0, nodeAnnouncements: 0, channelUpdates: 0, bytes: 0 };

describe('gossip to wallets', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(backends()[0]!, {}, 'gossip-wallets');
  }, 180_000);
  afterAll(() => s?.stop(), 60_000);

  it('the LSP relays new public gossip to the router and not one byte of it to a connected wallet', async () => {
    const { node: wallet, client } = await s.wallet(0x41);
    const { node: twin, client: twinClient } = await s.wallet(0x42, 'gossip-counting twin');
    for (const [node, lsp] of [
      [wallet, client],
      [twin, twinClient],
    ] as const) {
      const jit = await lsp.receiveJit(node, { amountMsat: 200_000_000n, description: 'float' });
      const received = node.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
      await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
      await received;
    }
    // what the LSP decides gossip by: the init each sent (gossip_queries in it, from custom-messages.ts)
    const initOf = (peerId: string) =>
      s.lsp.ldk.peerManager
        .list_peers()
        .find((p) => Buffer.from(p.get_counterparty_node_id()).toString('hex') === peerId)!
        .get_init_features();
    expect(Boolean(initOf(wallet.nodeId).supports_gossip_queries())).toBe(true);
    expect(Buffer.from(initOf(twin.nodeId).write())).toEqual(Buffer.from(initOf(wallet.nodeId).write()));
    expect(() => wallet.gossipReceived()).toThrow(/does not count gossip/);
    const before = s.net.router.node.gossipReceived(s.lsp.nodeId);

    // a new public channel LSP → merchant: its announcement, the updates and the LSP's new
    // node_announcement (its set of public channels changed) go out through the LSP to the router
    // (LDK sends a channel's announcement to every peer but the channel's own two)
    const { merchant } = s.net;
    await s.lsp.connect(merchant.nodeId, tcp(merchant.host, merchant.port));
    const pending = s.lsp.waitFor('channel-pending', (e) => e.peerId === merchant.nodeId, 15_000);
    s.lsp.openChannel({ peerId: merchant.nodeId, capacitySat: 1_000_000n, announce: true });
    const { fundingTxo } = await pending;
    await fundingBroadcast(s.devnet.chain, fundingTxo);
    await s.mine(6);
    const fresh = () =>
      s.lsp.listChannels().find((c) => c.fundingTxo === fundingTxo && c.isUsable && c.shortChannelId);
    await waitUntil('the new channel usable', () => fresh() !== undefined, 30_000);
    await spreadChannelGossip(
      s.devnet,
      [s.lsp, s.net.router.node, s.net.merchant.node],
      [fresh()!.shortChannelId!],
    );
    await waitUntil(
      'the router to get the LSP’s new node_announcement',
      () => s.net.router.node.gossipReceived(s.lsp.nodeId).nodeAnnouncements > before.nodeAnnouncements,
      60_000,
    );
    const relayed = s.net.router.node.gossipReceived(s.lsp.nodeId);
    expect(relayed.channelAnnouncements).toBeGreaterThan(before.channelAnnouncements);
    expect(relayed.channelUpdates).toBeGreaterThan(before.channelUpdates);
    expect(relayed.bytes).toBeGreaterThan(before.bytes);
    // the merchant's node_announcement may reach the LSP's graph after the LSP's own reached the router
    await waitUntil(
      'the LSP’s graph: router–merchant, 2 × router–LSP, LSP–merchant, and three announced nodes',
      () => {
        const graph = s.lsp.graphSummary();
        return graph.channels.length >= 4 && graph.nodes.filter((n) => n.announced).length >= 3;
      },
      30_000,
    );

    // the wallets, connected all along: nothing from the LSP, nothing from anyone
    expect(wallet.isConnected(s.lsp.nodeId)).toBe(true);
    expect(twin.isConnected(s.lsp.nodeId)).toBe(true);
    await s.server.lightning.idle();
    expect(twin.gossipReceived(s.lsp.nodeId)).toEqual(NONE);
    expect(twin.gossipReceived()).toEqual(NONE);

    // and it still pays the public network on a route the LSP finds for it
    const invoice = s.net.merchant.node.createInvoice({
      amountMsat: 10_000_000n,
      description: 'after the gossip',
      expirySecs: 600,
    });
    const paid = await client.payWithRoute(wallet, invoice.bolt11, { maxFeeMsat: 1_000_000n });
    expect(paid.amountMsat).toBe(10_000_000n);
    expect(s.net.merchant.node.payment(invoice.paymentHash)?.status).toBe('succeeded');
    expect(twin.gossipReceived()).toEqual(NONE);
  }, 240_000);
});
