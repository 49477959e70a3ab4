// Fee weather on the devnet with real LDK nodes (test/fee-stack.ts: a wallet behind its LSP, a
// merchant on the LSP). For every scenario — spike ×10, ×100, a slow climb, each with a crash back,
// the wallet's source disagreeing ×10 either way, the wallet offline through a ×100 spike —
// payments flow both ways, nothing closes (no channel-closed event, nothing spends a funding
// output), every failed payment has a typed reason, and the msat ledgers of the three balance
// exactly. The last test shows LDK's default dust limit force-closing the wallet's channel.

import { fundingBroadcast, waitUntil } from '@lpw/devnet-chain';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMemory } from '../src/transport/memory.ts';
import {
  FAIR_SAT_PER_KW,
  FEE_SCENARIOS,
  type FeeStack,
  startFeeStack,
  tickableScheduler,
  WALLET_CHANNEL_SAT,
} from './fee-stack.ts';
import { testNet } from './harness.ts';

describe('fee weather: spikes and disagreements close nothing, ledgers balance', () => {
  let stack: FeeStack;
  beforeAll(async () => {
    stack = await startFeeStack('fee-weather-tests');
  }, 60_000);
  afterAll(() => stack?.stop());

  /** What the wallet shows at a ×100 peak: small payments wait, and what a close costs it now. */
  const atPeak = (name: string) => () => {
    if (name !== 'spike ×100') return;
    const { wallet, lsp } = stack.parties;
    const weather = wallet.node.feeWeather();
    expect(weather).toMatchObject({
      high: true,
      channelSatPerKw: FAIR_SAT_PER_KW * 100,
      smallPaymentMinMsat: 35_504_000n, // 354 sat + 703 WU × 50 sat/WU
      notice: 'network fees are high right now; payments under 35504 sats wait',
    });
    // the LSP funds the channel: a cooperative close costs the wallet nothing, a force close its sweep
    expect(weather.closeCostMsat).toEqual({ cooperative: 0n, force: 24_442_000n }); // 484 WU × 50.5 sat/WU (+1%, fees.ts)
    expect(lsp.node.feeWeather().closeCostMsat.force).toBeGreaterThan(36_200_000n); // + the 724 WU commitment
  };

  for (const scenario of FEE_SCENARIOS) {
    it(`${scenario.name}: payments both ways, no close, ledgers to the msat`, async () => {
      await scenario.run(stack, atPeak(scenario.name));
      expect(stack.forceCloses()).toEqual([]);
      expect(await stack.ledgerMismatchMsat()).toEqual({ wallet: 0n, lsp: 0n, merchant: 0n });
      expect(stack.netMovedMsat()).toBe(0n);
      const mine = stack.outcomes.filter((o) => o.scenario === scenario.name);
      // big payments go through once the wallet is online; small ones from the wallet wait at peaks
      expect(mine.filter((o) => o.ok && o.amountMsat === 60_000_000n).length).toBeGreaterThanOrEqual(4);
      for (const failed of mine.filter((o) => !o.ok)) {
        expect(['FEES_TOO_HIGH', 'ROUTE_NOT_FOUND']).toContain(failed.code);
        if (failed.code === 'FEES_TOO_HIGH') {
          expect(failed.direction).toBe('wallet→merchant');
          expect(failed.message).toMatch(/network fees are high right now; payments under \d+ sats wait$/);
        }
      }
      expect(stack.parties.wallet.node.feeWeather()).toMatchObject({ high: false, notice: undefined });
    }, 180_000);
  }
});

describe("without the wallet's fee policy, LDK's defaults force-close", () => {
  it("the wallet offline through a ×100 spike closes on the LSP's update_fee (dust exposure from its stale estimate)", async () => {
    const net = await testNet('fee-weather-defaults');
    const schedulers = [tickableScheduler(), tickableScheduler()];
    const { node: lsp } = await net.make('lsp', 0x4a, { role: 'lsp', scheduler: schedulers[0]! });
    const { node: wallet } = await net.make('wallet', 0x4b, {
      role: 'wallet',
      trustedPeers: [lsp.nodeId],
      scheduler: schedulers[1]!,
      // LDK's default dust limit instead of the wallet's fixed one (config.ts, FEE POLICY)
      configure: (config) => {
        const channelConfig = config.get_channel_config();
        channelConfig.set_max_dust_htlc_exposure(
          ldk.MaxDustHTLCExposure.constructor_fee_rate_multiplier(10_000n),
        );
        config.set_channel_config(channelConfig);
      },
    });
    try {
      const closes: string[] = [];
      wallet.on('channel-closed', (e) => closes.push(e.reason));
      await net.fund(lsp, 1_000_000n);
      await wallet.connect(lsp.nodeId, inMemory(lsp));
      const pending = lsp.waitFor('channel-pending', undefined, 15_000);
      lsp.openChannel({ peerId: wallet.nodeId, capacitySat: WALLET_CHANNEL_SAT, pushMsat: 100_000_000n });
      // channel-pending comes as the funding tx is handed over; it reaches the devnet just after
      await fundingBroadcast(net.devnet.chain, (await pending).fundingTxo);
      await net.mine(6, [lsp, wallet]);
      await waitUntil(
        'usable',
        () => wallet.listChannels().length === 1 && wallet.listChannels().every((c) => c.isUsable),
      );

      wallet.disconnect(lsp.nodeId);
      await waitUntil('disconnected', () => !lsp.isConnected(wallet.nodeId));
      net.devnet.chain.weather.spike(100);
      await net.mine(1, [lsp]);
      await wallet.connect(lsp.nodeId, inMemory(lsp));
      await waitUntil('usable again', () => lsp.listChannels().every((c) => c.isUsable), 10_000);
      for (const s of schedulers) s.tick();
      await waitUntil('the wallet force-closes', () => closes.length > 0, 10_000);
      // (50,000 − 2,500 sat/kW) × 724 WU = 34,390 sat over the 10,000 × 2,500 msat cap
      expect(closes[0]).toMatch(
        /update_fee with a feerate \(50000\) which may over-expose us to dust-in-flight/,
      );
    } finally {
      await wallet.stop();
      await lsp.stop();
      await net.stop();
    }
  }, 60_000);
});
