// The state the crash test found, made on purpose: the wallet "dies" right after the commit that
// carries a claim's preimage monitor update (and the manager snapshot cut with it, which lists the
// payment as being claimed and that update in flight), before any later snapshot. LDK 0.1.0
// refuses to read that manager with that monitor (DecodeError_InvalidValue); restore must take its
// fallback path (monitors without the in-flight updates, LDK replays them), finish the claim, and
// keep the channel open with exact balances. A Store wrapper stops committing at that point; a
// fresh node then starts from exactly what was durable.

import { waitUntil } from '@lpw/devnet-chain';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/ldk/values.ts';
import type { LightningNode } from '../../src/node.ts';
import { MANAGER_KEY, MONITOR_FALLBACK_PREFIX, MONITOR_INFLIGHT_PREFIX } from '../../src/persist/keys.ts';
import { MemoryStore } from '../../src/persist/memory.ts';
import type { Store, StoreWrite } from '../../src/persist/store.ts';
import { inMemory } from '../../src/transport/memory.ts';
import { type TestNet, testNet } from '../harness.ts';
import { balanceOf } from './ledger.ts';
import { nodeView } from './view.ts';

/** A MemoryStore that stops making anything durable after the batch `diesAfter` picks. */
class DyingStore implements Store {
  readonly inner = new MemoryStore();
  /** What was durable when it died. */
  durable: Map<string, Uint8Array> | undefined;
  diesAfter: ((writes: StoreWrite[]) => boolean) | undefined;
  private held: Array<() => void> = [];
  private dropping = false;

  load(): Promise<Map<string, Uint8Array>> {
    return this.inner.load();
  }

  commit(writes: StoreWrite[]): void | Promise<void> {
    // dead: the commit never completes, so nothing more is acknowledged to LDK
    if (this.dropping) return;
    if (this.durable) return new Promise((resolve) => this.held.push(resolve));
    this.inner.commit(writes);
    if (this.diesAfter?.(writes)) this.durable = this.inner.snapshot();
  }

  /** Lets the dead node's queue finish (writes dropped) so it can be stopped; it is offline by then. */
  release(): void {
    this.dropping = true;
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
    this.diesAfter = undefined;
  }

  async close(): Promise<void> {}
}

/** True when some 32-byte window of `bytes` hashes to `hash` (the preimage is in there). */
function holdsPreimage(bytes: Uint8Array, hash: Uint8Array): boolean {
  const hex = toHex(hash);
  for (let i = 0; i + 32 <= bytes.length; i++) {
    const h = sha256(bytes.subarray(i, i + 32));
    if (h[0] === hash[0] && h[1] === hash[1] && toHex(h) === hex) return true;
  }
  return false;
}

describe('restore after a crash between a claim commit and the next manager snapshot', () => {
  let net: TestNet;
  const live: LightningNode[] = [];
  afterAll(async () => {
    for (const n of live) await n.stop().catch(() => {});
    await net?.stop();
  });

  for (const variant of ['incremental update', 'compaction'] as const) {
    it(`${variant}: LDK 0.1.0 refuses the manager, the fallback restores, the claim completes, no close`, async () => {
      net ??= await testNet('claim-restore');
      const seedBase = variant === 'compaction' ? 40 : 30;
      const { node: lsp } = await net.make('lsp', seedBase + 1, { role: 'lsp' });
      live.push(lsp);
      await net.fund(lsp, 2_000_000n);
      const store = new DyingStore();
      const walletOptions = {
        role: 'wallet' as const,
        trustedPeers: [lsp.nodeId],
        // compaction variant: every second update rewrites the full monitor
        compactMonitorEvery: variant === 'compaction' ? 1 : 64,
      };
      const { node: wallet } = await net.make('wallet', seedBase + 2, { ...walletOptions, store });
      live.push(wallet);
      const closed: string[] = [];
      lsp.on('channel-closed', (e) => closed.push(`lsp: ${e.reason}`));
      wallet.on('channel-closed', (e) => closed.push(`wallet: ${e.reason}`));
      await wallet.connect(lsp.nodeId, inMemory(lsp));
      const ready = wallet.waitFor('channel-ready');
      lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 1_000_000n });
      await ready;
      await waitUntil(
        'usable',
        () => wallet.listChannels()[0]?.isUsable === true && lsp.listChannels()[0]?.isUsable === true,
      );
      const lspStart = balanceOf(nodeView(lsp, false).channels[0]!);
      let paid = 0n;
      const pay = async (amountMsat: bigint, watch: boolean) => {
        const invoice = wallet.createInvoice({ amountMsat, description: 'claim', expirySecs: 600 });
        const hash = Uint8Array.from(Buffer.from(invoice.paymentHash, 'hex'));
        if (watch) {
          // die after the batch holding the preimage update together with a manager snapshot (the
          // compaction variant: only when that batch also rewrites the full monitor)
          store.diesAfter = (writes) =>
            writes.some((w) => w.key === MANAGER_KEY) &&
            writes.some(
              (w) => w.key.startsWith('ldk/monitor-update/') && w.value && holdsPreimage(w.value, hash),
            ) &&
            (variant !== 'compaction' || writes.some((w) => w.key.startsWith('ldk/monitor/') && w.value));
        }
        const sent = lsp.payInvoice(invoice.bolt11, { timeoutMs: 60_000 });
        paid += amountMsat;
        return { sent, hash: invoice.paymentHash };
      };
      // a few payments first, so the monitor has history (and compactions) behind it and the
      // wallet's balance is above its channel reserve (10 000 sat): balances are then exact
      for (let i = 0; i < 3; i++) await (await pay(4_000_000n + BigInt(i), false)).sent;
      // the payment whose claim the wallet dies in (the compaction variant may need a few tries)
      let victim: { sent: Promise<unknown>; hash: string } | undefined;
      for (let i = 0; i < 6 && !store.durable; i++) {
        victim = await pay(2_000_000n + BigInt(i), true);
        await Promise.race([
          victim.sent.catch(() => {}),
          waitUntil('death', () => store.durable !== undefined, 20_000),
        ]);
        if (!store.durable) await waitUntil('idle', () => wallet.listChannels()[0]?.isUsable === true);
      }
      expect(store.durable, 'the wallet died in a claim').toBeDefined();
      const durable = store.durable!;
      // the dead wallet goes offline; the LSP keeps its state
      wallet.disconnect(lsp.nodeId);
      await waitUntil('lsp sees the wallet gone', () => !lsp.isConnected(wallet.nodeId));
      store.release();
      await wallet.stop();
      live.splice(live.indexOf(wallet), 1);

      // the exact state: a snapshot holding updates in flight, recorded with it
      const inflightKeys = [...durable.keys()].filter((k) => k.startsWith(MONITOR_INFLIGHT_PREFIX));
      expect(inflightKeys.length).toBe(1);
      if (variant === 'compaction')
        expect([...durable.keys()].some((k) => k.startsWith(MONITOR_FALLBACK_PREFIX))).toBe(true);
      // the claim had not completed: the durable record is not 'succeeded'
      const record = durable.get(`payment/${victim!.hash}`);
      expect(record && JSON.parse(new TextDecoder().decode(record)).status).not.toBe('succeeded');

      // restart from what was durable
      const logLines: string[] = [];
      const restartedStore = new MemoryStore({ initial: durable });
      const { node: restarted } = await net.make('wallet', seedBase + 2, {
        ...walletOptions,
        store: restartedStore,
        log: (e) => logLines.push(`${e.module} ${e.message}`),
      });
      live.push(restarted);
      // precondition: the normal path (every stored update, then the manager: the old code) failed
      // with LDK 0.1.0's DecodeError_InvalidValue, and the fallback path was taken
      const fallback = logLines.find((l) => l.includes('RESTORE FALLBACK'));
      expect(fallback, logLines.join('\n')).toBeDefined();
      expect(fallback).toContain('DecodeError_InvalidValue');
      restarted.on('channel-closed', (e) => closed.push(`wallet: ${e.reason}`));
      await restarted.connect(lsp.nodeId, inMemory(lsp));
      await victim!.sent; // the payer sees success
      // PaymentClaimed on the restarted wallet (its event may come before a listener could be added)
      await waitUntil('claimed', () => restarted.payment(victim!.hash)?.status === 'succeeded', 20_000);
      await waitUntil(
        'settled',
        () =>
          restarted.listChannels()[0]?.isUsable === true &&
          nodeView(restarted, false).channels[0]!.pendingInbound.length === 0 &&
          nodeView(lsp, false).channels[0]!.pendingOutbound.length === 0,
        20_000,
      );

      // exact balances: direct channel, no fees; the wallet started with nothing
      const lspBalance = balanceOf(nodeView(lsp, false).channels[0]!);
      const walletBalance = balanceOf(nodeView(restarted, false).channels[0]!);
      expect(lspStart - lspBalance).toBe(paid);
      expect(walletBalance).toBe(paid);

      // and it keeps working: both ways, then a normal restart (no fallback any more)
      const more = restarted.createInvoice({ amountMsat: 500_000n, description: 'after', expirySecs: 600 });
      await lsp.payInvoice(more.bolt11);
      const back = lsp.createInvoice({ amountMsat: 200_000n, description: 'back', expirySecs: 600 });
      await restarted.payInvoice(back.bolt11);
      // a clean restart now takes the normal path
      await restarted.stop();
      live.splice(live.indexOf(restarted), 1);
      await waitUntil('lsp sees the wallet gone', () => !lsp.isConnected(restarted.nodeId));
      const again: string[] = [];
      const { node: third } = await net.make('wallet', seedBase + 2, {
        ...walletOptions,
        store: new MemoryStore({ initial: restartedStore.snapshot() }),
        log: (e) => again.push(`${e.module} ${e.message}`),
      });
      live.push(third);
      expect(again.filter((l) => l.includes('RESTORE FALLBACK'))).toEqual([]);
      third.on('channel-closed', (e) => closed.push(`wallet: ${e.reason}`));
      await third.connect(lsp.nodeId, inMemory(lsp));
      await waitUntil(
        'usable after a normal restart',
        () => third.listChannels()[0]?.isUsable === true && lsp.listChannels()[0]?.isUsable === true,
      );
      const last = third.createInvoice({ amountMsat: 300_000n, description: 'last', expirySecs: 600 });
      await lsp.payInvoice(last.bolt11);

      expect(closed).toEqual([]);
      expect(net.errors).toEqual([]);
      const [txid, vout] = lsp.listChannels()[0]!.fundingTxo!.split(':');
      expect(net.devnet.chain.outspend(txid!, Number(vout))).toBeUndefined();
    }, 120_000);
  }
});
