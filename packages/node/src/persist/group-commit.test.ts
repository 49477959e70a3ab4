// Group commit on real LDK nodes: what queues while a commit is in flight goes out as one commit
// with one manager snapshot and reaches no peer before it is durable; the manager snapshot that
// acknowledgements alone ask for waits for the next batch, and the store in between restores.

import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, describe, expect, it } from 'vitest';
import { type TestNet, testNet } from '../../test/harness.ts';
import type { LightningNode } from '../node.ts';
import { inMemory } from '../transport/memory.ts';
import { MANAGER_KEY, MANAGER_ROOT_KEY, MONITOR_PREFIX, MONITOR_UPDATE_PREFIX } from './keys.ts';
import { MemoryStore } from './memory.ts';
import type { Store, StoreWrite } from './store.ts';

/** A MemoryStore that records every batch and, while `holding`, keeps commits in flight until released. */
class GatedStore implements Store {
  readonly inner = new MemoryStore();
  readonly batches: StoreWrite[][] = [];
  holding = false;
  private held: Array<() => void> = [];

  load(): Promise<Map<string, Uint8Array>> {
    return this.inner.load();
  }

  commit(writes: StoreWrite[]): void | Promise<void> {
    this.batches.push(writes);
    if (!this.holding) return this.inner.commit(writes);
    return new Promise((resolve) =>
      this.held.push(() => {
        this.inner.commit(writes);
        resolve();
      }),
    );
  }

  get inFlight(): number {
    return this.held.length;
  }

  /** Makes the oldest held commit durable. */
  releaseOne(): void {
    this.held.shift()?.();
  }

  open(): void {
    this.holding = false;
    while (this.held.length > 0) this.releaseOne();
  }

  async close(): Promise<void> {}
}

const channelsUpdatedIn = (batch: StoreWrite[]) =>
  new Set(
    batch
      .filter((w) => w.key.startsWith(MONITOR_UPDATE_PREFIX) && w.value)
      .map((w) => w.key.slice(MONITOR_UPDATE_PREFIX.length, w.key.lastIndexOf('/'))),
  );
/** Snapshots in a batch: each writes the plain key (a wallet) or the chunked manager's root (the LSP). */
const managerWrites = (batch: StoreWrite[]) =>
  batch.filter((w) => (w.key === MANAGER_KEY || w.key === MANAGER_ROOT_KEY) && w.value).length;
/** A monitor or monitor update written (the in-flight record and deletions travel with snapshots). */
const hasMonitorWrite = (batch: StoreWrite[]) =>
  batch.some((w) => w.value && (w.key.startsWith(MONITOR_PREFIX) || w.key.startsWith(MONITOR_UPDATE_PREFIX)));
/** A manager snapshot with nothing but its own bookkeeping (no monitor, no payment record). */
const managerOnly = (batch: StoreWrite[]) =>
  managerWrites(batch) === 1 && !hasMonitorWrite(batch) && batch.every((w) => w.key.startsWith('ldk/'));

describe('group commit', () => {
  let net: TestNet;
  const live: LightningNode[] = [];
  afterAll(async () => {
    for (const n of live) await n.stop().catch(() => {});
    await net?.stop();
  });

  /** An LSP with channels to `count` wallets, each usable. */
  async function lspWithWallets(lspSeed: number, count: number, lspStore: Store) {
    net ??= await testNet('group-commit');
    const { node: lsp } = await net.make('lsp', lspSeed, { role: 'lsp', store: lspStore });
    live.push(lsp);
    for (let i = 0; i < count; i++) await net.fund(lsp, 1_500_000n); // a confirmed coin per channel
    const wallets: LightningNode[] = [];
    const closed: string[] = [];
    lsp.on('channel-closed', (e) => closed.push(`lsp: ${e.reason}`));
    for (let i = 0; i < count; i++) {
      const { node: wallet } = await net.make(`wallet${i}`, lspSeed + 1 + i, {
        role: 'wallet',
        trustedPeers: [lsp.nodeId],
      });
      live.push(wallet);
      wallet.on('channel-closed', (e) => closed.push(`wallet${i}: ${e.reason}`));
      await wallet.connect(lsp.nodeId, inMemory(lsp));
      const ready = wallet.waitFor('channel-ready');
      lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 1_000_000n });
      await ready;
      wallets.push(wallet);
    }
    const channelTo = (w: LightningNode) => lsp.listChannels().find((c) => c.peerId === w.nodeId);
    await waitUntil('usable', () => wallets.every((w) => channelTo(w)?.isUsable === true));
    return { lsp, wallets, closed, channelTo };
  }

  it('monitor updates queued during an in-flight commit become one commit with one manager, acknowledged only once it is durable', async () => {
    const store = new GatedStore();
    const { lsp, wallets, closed, channelTo } = await lspWithWallets(61, 3, store);
    const received = wallets.map(() => 0n);
    for (const [i, w] of wallets.entries())
      w.on('payment-received', (e) => {
        received[i]! += e.amountMsat;
      });
    const outboundBefore = wallets.map((w) => channelTo(w)!.outboundMsat);
    const pay = (w: LightningNode, amountMsat: bigint) =>
      lsp.payInvoice(w.createInvoice({ amountMsat, description: 'group', expirySecs: 600 }).bolt11, {
        timeoutMs: 60_000,
      });

    store.holding = true;
    // the first payment's update goes into a commit that stays in flight
    const first = pay(wallets[0]!, 1_000_000n);
    await waitUntil('first commit in flight', () => store.inFlight === 1);
    const firstBatch = store.batches.length - 1;
    // two more channels get monitor updates while it is in flight (their HTLCs are in the channels)
    const others = [pay(wallets[1]!, 2_000_000n), pay(wallets[2]!, 3_000_000n)];
    await waitUntil('HTLCs added on the other channels', () =>
      [1, 2].every((i) => channelTo(wallets[i]!)!.outboundMsat < outboundBefore[i]!),
    );
    expect(store.batches.length - 1, 'nothing else committed while one is in flight').toBe(firstBatch);

    // the first commit lands: everything queued meanwhile goes out as ONE commit, also held
    store.releaseOne();
    await waitUntil('grouped commit', () => store.inFlight === 1 && store.batches.length > firstBatch + 1);
    const grouped = store.batches[firstBatch + 1]!;
    const otherChannels = [1, 2].map((i) => channelTo(wallets[i]!)!.fundingTxo!);
    expect([...channelsUpdatedIn(grouped)]).toEqual(expect.arrayContaining(otherChannels));
    expect(managerWrites(grouped), 'one manager snapshot for the whole group').toBe(1);

    // not durable yet: LDK was not told, so the HTLCs never reached those wallets
    await new Promise((r) => setTimeout(r, 1_000));
    expect(received.slice(1)).toEqual([0n, 0n]);
    expect(store.batches.length, 'the grouped commit is still the last one').toBe(firstBatch + 2);

    store.open();
    await Promise.all([first, ...others]);
    await waitUntil('all received', () => received.join() === [1_000_000n, 2_000_000n, 3_000_000n].join());
    expect(closed).toEqual([]);
  }, 120_000);

  it('the manager snapshot after acknowledgements waits for the next batch, and the store in between restores', async () => {
    const store = new GatedStore(); // never held: a synchronous store
    const { lsp, wallets, closed, channelTo } = await lspWithWallets(71, 1, store);
    const wallet = wallets[0]!;
    await new Promise((r) => setTimeout(r, 1_500)); // set-up snapshots have landed
    const from = store.batches.length;
    const outboundBefore = channelTo(wallet)!.outboundMsat;
    const t0 = Date.now();
    const payments = 10;
    for (let i = 0; i < payments; i++) {
      const invoice = wallet.createInvoice({ amountMsat: 100_000n, description: 'seq', expirySecs: 600 });
      await lsp.payInvoice(invoice.bolt11);
    }
    const lspOutbound = outboundBefore - BigInt(payments) * 100_000n;
    await waitUntil('settled', () => channelTo(wallet)!.outboundMsat === lspOutbound);
    const elapsedMs = Date.now() - t0;
    const during = store.batches.slice(from);
    // every batch with monitor writes still carries a manager snapshot
    expect(during.filter(hasMonitorWrite).every((b) => managerWrites(b) === 1)).toBe(true);
    // at most one deferred snapshot per second went out alone (before: about three per payment)
    expect(during.filter(managerOnly).length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 1_000));

    // the store as it is now (last snapshot cut with the last monitor writes) restores: same
    // channel, same balance, and it pays again
    const durable = store.inner.snapshot();
    const idle = store.batches.length;
    await waitUntil(
      'the deferred snapshot lands when idle',
      () => store.batches.slice(idle).some((b) => managerWrites(b) === 1),
      5_000,
    );
    await lsp.stop();
    live.splice(live.indexOf(lsp), 1);
    const { node: restarted } = await net.make('lsp', 71, {
      role: 'lsp',
      store: new MemoryStore({ initial: durable }),
    });
    live.push(restarted);
    restarted.on('channel-closed', (e) => closed.push(`restarted: ${e.reason}`));
    expect(restarted.listChannels()[0]!.outboundMsat).toBe(lspOutbound);
    await waitUntil('old connection gone', () => !wallet.isConnected(restarted.nodeId));
    await wallet.connect(restarted.nodeId, inMemory(restarted));
    await waitUntil('usable after restore', () => restarted.listChannels()[0]?.isUsable === true);
    await restarted.payInvoice(
      wallet.createInvoice({ amountMsat: 100_000n, description: 'after', expirySecs: 600 }).bolt11,
    );
    expect(restarted.listChannels()[0]!.outboundMsat).toBe(lspOutbound - 100_000n);
    expect(closed).toEqual([]);
  }, 120_000);
});
