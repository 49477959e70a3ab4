// Fee estimator: floors, the dust-exposure caveat of MaximumFeeEstimate, ceilings, caching, and
// that LDK's synchronous callback answers from the cache.
import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initLdkNode } from '../ldk/init-node.ts';
import { esploraSource } from './esplora.ts';
import { ChainFeeEstimator, FEERATE_FLOOR_SAT_PER_KW } from './fees.ts';

const CT = ldk.ConfirmationTarget;
let devnet: Devnet;
beforeAll(async () => {
  await initLdkNode();
  devnet = await startDevnet({ seed: 'fees-test', feeRate: 1 });
});
afterAll(() => devnet?.stop());

describe('ChainFeeEstimator', () => {
  it('never answers below 253 sat/kW, and keeps MaximumFeeEstimate high enough for dust exposure', async () => {
    const fees = new ChainFeeEstimator({ source: esploraSource({ url: devnet.esploraUrl }) });
    await fees.refresh(); // devnet: 1 sat/vB = 250 sat/kW for every target
    for (const target of Object.values(CT).filter((v) => typeof v === 'number'))
      expect(fees.ldk.get_est_sat_per_1000_weight(target as ldk.ConfirmationTarget)).toBeGreaterThanOrEqual(
        FEERATE_FLOOR_SAT_PER_KW,
      );
    // 10,000 × 2,500 msat = 25k sat of dust HTLCs in flight, not 2.5k
    expect(fees.ldk.get_est_sat_per_1000_weight(CT.LDKConfirmationTarget_MaximumFeeEstimate)).toBe(2_500);
    expect(fees.satPerKw('MinAllowedNonAnchorChannelRemoteFee')).toBe(253);
    expect(fees.satPerKw('NonAnchorChannelFee')).toBe(253);
  });

  it('follows the source, capped, and keeps the cache when the source is down', async () => {
    devnet.chain.feeRate = 50; // 12,500 sat/kW
    const fees = new ChainFeeEstimator({
      source: esploraSource({ url: devnet.esploraUrl }),
      ceilingSatPerKw: 10_000,
    });
    expect(fees.satPerKw('NonAnchorChannelFee')).toBe(2_000); // fallback before the first refresh
    await fees.refresh();
    expect(fees.satPerKw('NonAnchorChannelFee')).toBe(10_000);
    // half the lowest slow estimate seen, 250 below (fees.ts): 12,500 / 2 − 250
    expect(fees.satPerKw('MinAllowedNonAnchorChannelRemoteFee')).toBe(6_000);
    devnet.chain.feeRate = 10;
    await fees.refresh();
    expect(fees.satPerKw('NonAnchorChannelFee')).toBe(2_500);
    expect(fees.satPerKw('MinAllowedNonAnchorChannelRemoteFee')).toBe(1_000);

    // a funder that saw the market crash before our next refresh is no reason to close: the
    // lowest slow estimate of the last day still rules after a spike
    devnet.chain.feeRate = 1000;
    await fees.refresh();
    expect(fees.satPerKw('MinAllowedNonAnchorChannelRemoteFee')).toBe(1_000);
    let nowMs = 0;
    const later = new ChainFeeEstimator({
      source: esploraSource({ url: devnet.esploraUrl }),
      now: () => nowMs,
    });
    devnet.chain.feeRate = 10;
    await later.refresh();
    devnet.chain.feeRate = 100;
    nowMs += 25 * 3600_000; // a day later the fair-weather figure is forgotten
    await later.refresh();
    expect(later.satPerKw('MinAllowedNonAnchorChannelRemoteFee')).toBe(12_250);
    // a wallet takes what its LSP (the funder) sends, down to the relay floor
    const wallet = new ChainFeeEstimator({
      source: esploraSource({ url: devnet.esploraUrl }),
      trustFunderFeerate: true,
    });
    await wallet.refresh();
    expect(wallet.satPerKw('MinAllowedNonAnchorChannelRemoteFee')).toBe(FEERATE_FLOOR_SAT_PER_KW);

    const down = new ChainFeeEstimator({
      source: esploraSource({ url: 'http://127.0.0.1:1', timeoutMs: 1000 }),
    });
    await down.refresh(); // logs, does not throw
    expect(down.satPerKw('UrgentOnChainSweep')).toBe(5_050); // + 1% for whole-vbyte pricing
    const overridden = new ChainFeeEstimator({
      source: esploraSource({ url: devnet.esploraUrl }),
      overrides: { OutputSpendingFee: 1 },
    });
    expect(overridden.satPerKw('OutputSpendingFee')).toBe(253);
  });
});
