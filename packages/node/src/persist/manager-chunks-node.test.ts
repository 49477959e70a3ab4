// The chunked manager on real LDK nodes: an LSP whose store holds the plain key migrates to chunks in
// its first commit and keeps paying across restarts from chunks, without a close; a store missing
// one chunk does not start (never an older manager). The chunking itself is in manager-chunks.test.ts.
import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, describe, expect, it } from 'vitest';
import { type TestNet, testNet } from '../../test/harness.ts';
import { isNodeError } from '../errors.ts';
import type { LightningNode } from '../node.ts';
import { inMemory } from '../transport/memory.ts';
import { MANAGER_CHUNK_PREFIX, MANAGER_KEY, MANAGER_ROOT_KEY } from './keys.ts';
import { MemoryStore } from './memory.ts';

describe('chunked manager on LDK nodes', () => {
  let net: TestNet;
  const live: LightningNode[] = [];
  afterAll(async () => {
    for (const n of live) await n.stop().catch(() => {});
    await net?.stop();
  });

  it('plain key → chunks in the first commit, restarts from chunks keep the channel, a lost chunk stops the start', async () => {
    net = await testNet('manager-chunks');
    const lspOptions = { role: 'lsp' as const };
    const plainStore = new MemoryStore();
    let lsp = (await net.make('lsp', 61, { ...lspOptions, store: plainStore, managerChunks: false })).node;
    await net.fund(lsp, 2_000_000n);
    const { node: wallet } = await net.make('wallet', 62, { role: 'wallet', trustedPeers: [lsp.nodeId] });
    live.push(wallet);
    const closed: string[] = [];
    wallet.on('channel-closed', (e) => closed.push(`wallet: ${e.reason}`));
    const connect = async (node: LightningNode) => {
      node.on('channel-closed', (e) => closed.push(`lsp: ${e.reason}`));
      await waitUntil('old connection gone', () => !wallet.isConnected(node.nodeId));
      await wallet.connect(node.nodeId, inMemory(node));
      await waitUntil(
        'usable',
        () => wallet.listChannels()[0]?.isUsable === true && node.listChannels()[0]?.isUsable === true,
      );
    };
    await wallet.connect(lsp.nodeId, inMemory(lsp));
    const ready = wallet.waitFor('channel-ready');
    lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 1_000_000n });
    await ready;
    await waitUntil('usable', () => lsp.listChannels()[0]?.isUsable === true);
    let paidMsat = 0n;
    const pay = async (node: LightningNode, amountMsat: bigint) => {
      const invoice = wallet.createInvoice({ amountMsat, description: 'chunks', expirySecs: 600 });
      await node.payInvoice(invoice.bolt11, { timeoutMs: 60_000 });
      paidMsat += amountMsat;
    };
    await pay(lsp, 5_000_000n);
    await lsp.stop();
    expect(plainStore.data.has(MANAGER_KEY)).toBe(true);
    expect(plainStore.data.has(MANAGER_ROOT_KEY)).toBe(false);

    // the same store, now chunked: the first snapshot's commit migrates it
    const store = new MemoryStore({ initial: plainStore.snapshot() });
    lsp = (await net.make('lsp', 61, { ...lspOptions, store })).node;
    await connect(lsp);
    await pay(lsp, 6_000_000n);
    await waitUntil('migrated', () => !store.data.has(MANAGER_KEY) && store.data.has(MANAGER_ROOT_KEY));
    const outboundMsat = lsp.listChannels()[0]!.outboundMsat;
    await lsp.stop();

    // restarted from chunks alone: same balance, pays again
    const again = new MemoryStore({ initial: store.snapshot() });
    lsp = (await net.make('lsp', 61, { ...lspOptions, store: again })).node;
    live.push(lsp);
    expect(lsp.listChannels()[0]!.outboundMsat).toBe(outboundMsat);
    await connect(lsp);
    await pay(lsp, 7_000_000n);
    const receivedMsat = () =>
      wallet
        .listPayments()
        .filter((p) => p.direction === 'inbound' && p.status === 'succeeded')
        .reduce((n, p) => n + (p.amountMsat ?? 0n), 0n);
    await waitUntil('every payment received', () => receivedMsat() === paidMsat);
    expect(closed).toEqual([]);

    // one chunk lost: the node refuses to start rather than read anything else
    await lsp.stop();
    const broken = again.snapshot();
    const chunk = [...broken.keys()].find((k) => k.startsWith(MANAGER_CHUNK_PREFIX))!;
    broken.delete(chunk);
    const refused = await net
      .make('lsp', 61, { ...lspOptions, store: new MemoryStore({ initial: broken }) })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isNodeError(refused, 'RESTORE_FAILED')).toBe(true);
    expect((refused as Error).message).toContain(`${chunk.slice(MANAGER_CHUNK_PREFIX.length)} is missing`);
  }, 180_000);
});
