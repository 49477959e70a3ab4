// A stream under a ×100 fee spike, on real LDK nodes and the devnet's fee weather: a wallet streams
// 1-sat keysends to its LSP over the channel the LSP funded. When the LSP's update_fee puts the
// channel at the spike's feerate, each period's HTLC would be dust (burnt as fees if the channel ever
// closed with it): the stream waits with the node's typed FEES_TOO_HIGH reason, reserves nothing,
// fails no period and closes nothing; when fees crash back and the LSP lowers the feerate, it pays
// again. Every period is paid once or skipped (not billed), to the msat.
import { type Devnet, fundingBroadcast, startDevnet, waitUntil } from '@lpw/devnet';
import { createNode, inMemory, type LightningNode, MemoryStore } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamEngine } from '../src/engine.ts';
import { periodCount } from '../src/periods.ts';
import type { StreamProgress } from '../src/runner.ts';
import { StoreStreamLedger } from '../src/store-ledger.ts';
import { directRoute } from './direct-route.ts';

/** What the LSP's commitment carries at the devnet's 2 sat/vB, and at ×100. */
const FAIR_SAT_PER_KW = 500;
const SPIKE_SAT_PER_KW = 50_000;

let devnet: Devnet;
let lsp: LightningNode;
let wallet: LightningNode;
const received: bigint[] = [];
const closes: string[] = [];

const syncBoth = async () => {
  for (const node of [lsp, wallet]) await node.syncChain();
};
/** One block of the scripted weather, then the LSP's minute tick, where LDK sends update_fee. */
const nextBlockAndTick = async () => {
  devnet.mine(1);
  await syncBoth();
  lsp.ldk.channelManager.timer_tick_occurred();
};
const channelFeerate = () => wallet.feeWeather().channelSatPerKw;

beforeAll(async () => {
  await initLdkNode();
  devnet = await startDevnet({ seed: 'stream-fee-spike' });
  const make = (seedByte: number, role: 'lsp' | 'wallet', trustedPeers?: string[]) =>
    createNode({
      seed: new Uint8Array(32).fill(seedByte),
      network: 'regtest',
      role,
      store: new MemoryStore(),
      chain: { esploraUrl: devnet.esploraUrl },
      chainSyncIntervalMs: 0,
      logLevel: 'error',
      log: (e) => console.log(`[${role} ${e.level}] ${e.message}`),
      ...(trustedPeers ? { trustedPeers } : {}),
    });
  lsp = await make(0x61, 'lsp');
  wallet = await make(0x62, 'wallet', [lsp.nodeId]);
  lsp.on('payment-received', (e) => received.push(e.amountMsat));
  for (const node of [lsp, wallet]) node.on('channel-closed', (e) => closes.push(e.reason));
  devnet.fund(await lsp.newAddress(), 1_000_000n, { confirmations: 1 });
  await lsp.syncChain();
  await wallet.connect(lsp.nodeId, inMemory(lsp));
  const pending = lsp.waitFor('channel-pending', undefined, 15_000);
  lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 500_000n, pushMsat: 250_000_000n });
  const { fundingTxo } = await pending;
  await fundingBroadcast(devnet.chain, fundingTxo);
  devnet.mine(6);
  await syncBoth();
  await waitUntil(
    'channel usable',
    () => [lsp, wallet].every((n) => n.listChannels().length === 1 && n.listChannels()[0]!.isUsable),
    20_000,
  );
}, 120_000);

afterAll(async () => {
  await wallet?.stop();
  await lsp?.stop();
  await devnet?.stop();
});

describe('a stream under a ×100 fee spike', () => {
  it('waits with FEES_TOO_HIGH while the spike lasts, fails and closes nothing, pays again after the crash', async () => {
    const ledger = await StoreStreamLedger.open(new MemoryStore());
    const progress: StreamProgress[] = [];
    const engine = new StreamEngine({
      ledger,
      node: wallet,
      findRoute: directRoute, // the LSP is the payee: one hop over the wallet's channel
      streamKey: new Uint8Array(32).fill(7),
      log: () => {},
      onProgress: (p) => progress.push(p),
    });
    const off = engine.listen();
    const handle = await engine.start(
      {
        to: lsp.nodeId,
        satsPerMinute: 300n, // 1 sat every 200 ms
        periodMs: 200,
        budgetMsat: 1_000_000n,
        untilMs: Date.now() + 40_000,
      },
      { catchUpPeriods: 5 },
    ); // a lag of a second is caught up; a longer wait is skipped
    await waitUntil('5 payments in fair weather', () => received.length >= 5, 20_000);

    devnet.chain.weather.spike(100);
    await nextBlockAndTick();
    await waitUntil('the channel at the spike', () => channelFeerate() === SPIKE_SAT_PER_KW, 10_000);
    await waitUntil('the stream waits', () => progress.some((p) => p.kind === 'waiting'), 10_000);
    expect(progress.find((p) => p.kind === 'waiting')).toMatchObject({
      code: 'FEES_TOO_HIGH',
      reason: 'network fees are high right now; payments under 35504 sats wait',
    });
    // payments in flight when the spike landed settle; then nothing leaves and nothing is reserved
    await waitUntil('nothing in flight', async () => (await ledger.openPeriods(handle.id)).length === 0);
    const atSpike = received.length;
    await new Promise((r) => setTimeout(r, 3_000)); // longer than the stream's own 2 s look again
    expect(received.length).toBe(atSpike);
    expect(await ledger.get(handle.id)).toMatchObject({ state: 'running', failedAttempts: 0 });

    devnet.chain.weather.crash();
    await nextBlockAndTick();
    await waitUntil('the channel back in fair weather', () => channelFeerate() === FAIR_SAT_PER_KW, 10_000);
    await waitUntil('paying again', () => received.length >= atSpike + 5, 20_000);
    expect(progress.some((p) => p.kind === 'going')).toBe(true);

    handle.stop();
    const done = await handle.done;
    off();
    expect(done).toMatchObject({ state: 'stopped', failedAttempts: 0 });
    expect(closes).toEqual([]);
    expect(wallet.listChannels()[0]?.isUsable).toBe(true);
    // every period paid once or skipped; the spike's periods were skipped, not billed
    expect(received.length).toBe(done.paidCount);
    expect(received.reduce((n, a) => n + a, 0n)).toBe(done.paidMsat);
    expect(done.paidMsat).toBe(BigInt(done.paidCount) * 1000n);
    expect(done.skippedPeriods).toBeGreaterThan(5);
    expect(done.paidCount + done.skippedPeriods).toBe(done.nextPeriod);
    expect(done.nextPeriod).toBeLessThanOrEqual(periodCount(done));
    expect(await ledger.openPeriods(handle.id)).toEqual([]);
  }, 120_000);
});
