import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, describe, expect, it } from 'vitest';
import { type TestNet, testNet } from '../../test/harness.ts';
import type { LightningNode } from '../node.ts';
import { inMemory } from '../transport/memory.ts';
import { MemoryStore } from './memory.ts';
import { SqliteStore } from './sqlite.ts';

describe('persistence: async InProgress path and restart from SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lpw-node-'));
  let net: TestNet;
  const live: LightningNode[] = [];
  afterAll(async () => {
    for (const n of live) await n.stop();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hundreds of payments over a slow async store, then a restart mid-life keeps paying', async () => {
    net = await testNet();
    const path = join(dir, 'lsp.sqlite');
    let store = new SqliteStore(path);
    const a = await net.make('lsp', 11, { role: 'lsp', store, compactMonitorEvery: 16 });
    let lsp = a.node;
    await net.fund(lsp, 2_000_000n);
    const slow = new MemoryStore({ delayMs: 3 });
    const b = await net.make('wallet', 12, { role: 'wallet', trustedPeers: [lsp.nodeId], store: slow });
    const wallet = b.node;
    live.push(wallet);
    const closed: string[] = [];
    wallet.on('channel-closed', (e) => closed.push(e.reason));
    await wallet.connect(lsp.nodeId, inMemory(lsp));
    const ready = wallet.waitFor('channel-ready');
    lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 1_000_000n });
    await ready;
    await waitUntil(
      'usable',
      () => wallet.listChannels()[0]?.isUsable === true && lsp.listChannels()[0]?.isUsable === true,
    );

    const startOutbound = lsp.listChannels()[0]!.outboundMsat;
    const fundingTxo = lsp.listChannels()[0]!.fundingTxo!;
    const monitorAtOpen = lsp.monitorBytes().get(fundingTxo)!;
    expect(monitorAtOpen).toBeGreaterThan(0);
    // 200 payments, 20 in flight at a time, the receiver's every monitor update acknowledged late
    let receivedMsat = 0n;
    wallet.on('payment-received', (e) => {
      receivedMsat += e.amountMsat;
    });
    const total = 200;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const inv = wallet.createInvoice({
          amountMsat: 10_000n + BigInt(i),
          description: `p${i}`,
          expirySecs: 600,
        });
        await lsp.payInvoice(inv.bolt11, { timeoutMs: 60_000 });
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    let expected = 0n;
    for (let i = 0; i < total; i++) expected += 10_000n + BigInt(i);
    await waitUntil('all received', () => receivedMsat === expected, 20_000);
    expect(wallet.listPayments().filter((p) => p.status === 'succeeded').length).toBe(total);
    // exact accounting: the payer's channel balance dropped by exactly what was received (direct, no fees)
    await waitUntil(
      'settled',
      () => lsp.listChannels()[0]!.outboundMsat === startOutbound - expected,
      20_000,
    );

    // the monitor keeps every revoked state's HTLC data: it grew with the payments (~130 B each; the
    // stored one lags by up to 16 updates, the compaction interval)
    expect(lsp.monitorBytes().get(fundingTxo)! - monitorAtOpen).toBeGreaterThan(total * 50);

    // restart the LSP from its SQLite file mid-life
    const outboundBefore = lsp.listChannels()[0]!.outboundMsat;
    await lsp.stop();
    await store.close();
    store = new SqliteStore(path);
    const restarted = await net.make('lsp', 11, { role: 'lsp', store });
    lsp = restarted.node;
    live.push(lsp);
    expect(lsp.nodeId).toBe(a.node.nodeId);
    expect(lsp.listChannels()[0]!.outboundMsat).toBe(outboundBefore);
    expect(lsp.listPayments().filter((p) => p.status === 'succeeded').length).toBe(total);
    await waitUntil('old connection gone', () => !wallet.isConnected(lsp.nodeId));
    await wallet.connect(lsp.nodeId, inMemory(lsp));
    await waitUntil(
      'usable again',
      () => lsp.listChannels()[0]?.isUsable === true && wallet.listChannels()[0]?.isUsable === true,
    );
    const inv = wallet.createInvoice({
      amountMsat: 3_000_000n,
      description: 'after restart',
      expirySecs: 600,
    });
    await lsp.payInvoice(inv.bolt11);
    expect(closed).toEqual([]);
    // no commitment was ever broadcast: nothing spends the funding output, not even in the mempool
    const [txid, vout] = lsp.listChannels()[0]!.fundingTxo!.split(':');
    expect(net.devnet.chain.outspend(txid!, Number(vout))).toBeUndefined();
  }, 120_000);
});
