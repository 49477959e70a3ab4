// The operator's history on both stores: counts come from the LSP's own records (forwards, JIT
// channels) exactly once across a restart, raw points fold into hours past the raw window, and
// hours go past the retention. The node's levels (channels, balance) are fixed here: the devnet
// LSP test (admin-dashboard.test.ts) samples a real node.
import type { LightningNode } from '@lpw/node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { backends } from '../../test/stores.ts';
import { loadConfig } from '../config.ts';
import { Metrics } from '../metrics.ts';
import type { ForwardRecord, LspStore } from '../store/types.ts';
import { readHistory } from './read.ts';
import { HistorySampler } from './sampler.ts';
import { DAY_MS, HOUR_MS } from './series.ts';

const WALLET = `02${'a'.repeat(64)}`;
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const config = loadConfig({ DATA_DIR: '/nonexistent', HISTORY_RAW_HOURS: '2', HISTORY_KEEP_DAYS: '3' });

const node = {
  listChannels: () => [
    {
      channelId: 'c1'.repeat(32),
      peerId: WALLET,
      capacityMsat: 100_000_000n,
      outboundMsat: 60_000_000n,
      inboundMsat: 39_000_000n,
      isUsable: true,
      isAnnounced: false,
      shortChannelId: 1n,
    },
  ],
  listPeers: () => [{ peerId: WALLET, inbound: true }],
  balances: () => ({ onchainConfirmedMsat: 5_000_000_000n }),
  wasmMemory: () => ({ usedBytes: 50_000_000, limitBytes: 100_000_000 }),
  chainWatch: () => ({ lastSyncAtMs: T0 }),
} as unknown as LightningNode;

const sampler = (store: LspStore) =>
  new HistorySampler({
    store,
    node,
    config,
    metrics: new Metrics(),
    clock: () => T0,
    log: pino({ level: 'silent' }),
  });

const forward = (
  atMs: number,
  feeMsat: bigint,
  outcome: ForwardRecord['outcome'] = 'forwarded',
): ForwardRecord => ({
  nodeId: WALLET,
  inboundChannel: null,
  outboundChannel: null,
  inboundMsat: 1_000_000n + feeMsat,
  outboundMsat: 1_000_000n,
  feeMsat,
  outcome,
  latencyMs: 5,
  createdAtMs: atMs,
});

const total = (points: { series: string; value: bigint }[], series: string) =>
  points.filter((p) => p.series === series).reduce((a, p) => a + p.value, 0n);

for (const backend of backends()) {
  describe(`history on ${backend.name}`, () => {
    it('counts each forward and JIT open once across a restart, and keeps what it sampled', async () => {
      const open = backend.database();
      let store = await open();
      await store.touchWallet(WALLET, T0);
      await store.insertForwards([forward(T0 + 10_000, 1_000n), forward(T0 + 20_000, 0n, 'failed')]);
      await store.insertJitPurchase({
        scid: 7n,
        nodeId: WALLET,
        params: {
          min_fee_msat: 2_000_000n,
          proportional: 4_000,
          valid_until: '2030-01-01T00:00:00.000Z',
          min_lifetime: 4320,
          max_client_to_self_delay: 2016,
          min_payment_size_msat: 1_000n,
          max_payment_size_msat: 10_000_000_000n,
          promise: 'ab'.repeat(32),
        },
        paymentSizeMsat: 50_000_000n,
        openingFeeMsat: 2_000_000n,
        state: 'OPENED',
        createdAtMs: T0 + 25_000,
        updatedAtMs: T0 + 25_000,
      });
      await store.putJitChannel({
        scid: 7n,
        paymentHash: 'cd'.repeat(32),
        userChannelId: 42n,
        channelId: null,
        capacitySat: 100_000n,
        openingFeeMsat: 2_000_000n,
        createdAtMs: T0 + 30_000,
        updatedAtMs: T0 + 30_000,
      });

      const first = await sampler(store).sample(T0 + 60_000);
      expect(total(first, 'forwards')).toBe(1n);
      expect(total(first, 'forwards_failed')).toBe(1n);
      expect(total(first, 'forward_fees_msat')).toBe(1_000n);
      expect(total(first, 'jit_opens')).toBe(1n);
      expect(total(first, 'jit_fees_msat')).toBe(2_000_000n);
      expect(total(first, 'outbound_msat')).toBe(60_000_000n);
      expect(total(first, 'onchain_msat')).toBe(5_000_000_000n);
      expect(total(first, 'wallets')).toBe(1n);
      expect(total(first, 'wasm_bytes')).toBe(50_000_000n);
      expect(total(first, 'chain_sync_age_s')).toBe(60n);

      // restart: a new process starts its window where the stored history ends
      await store.close();
      store = await open();
      await store.insertForward(forward(T0 + 90_000, 3_000n));
      const second = await sampler(store).sample(T0 + 120_000);
      expect(total(second, 'forwards')).toBe(1n);
      expect(total(second, 'forward_fees_msat')).toBe(3_000n);
      expect(total(second, 'jit_opens')).toBe(0n);

      const hour = await readHistory(store, { fromMs: T0, toMs: T0 + HOUR_MS, stepMs: HOUR_MS });
      expect(total(hour, 'forwards')).toBe(2n);
      expect(total(hour, 'forward_fees_msat')).toBe(4_000n);
      expect(total(hour, 'jit_fees_msat')).toBe(2_000_000n);
      // a level keeps its latest value, it does not add up
      expect(total(hour, 'outbound_msat')).toBe(60_000_000n);
      const perChannel = await store.listHistory({
        resolutionMs: HOUR_MS,
        fromMs: T0,
        toMs: T0 + HOUR_MS,
        prefix: 'ch_out:',
      });
      expect(perChannel).toEqual([{ series: `ch_out:${'c1'.repeat(32)}`, atMs: T0, value: 60_000_000n }]);
      await store.close();
    });

    it('folds raw points into hours past the raw window, and drops hours past the retention', async () => {
      const open = backend.database();
      const store = await open();
      await store.touchWallet(WALLET, T0);
      const s = sampler(store);
      await store.insertForward(forward(T0 + 5_000, 500n));
      await s.sample(T0 + 60_000);
      await store.insertForward(forward(T0 + 70_000, 700n));
      await s.sample(T0 + 120_000);
      // 3 hours on: the 10:00 hour is past the 2 raw hours, so it is one hourly point now
      await s.sample(T0 + 3 * HOUR_MS + 60_000);
      expect(await store.listHistory({ resolutionMs: 0, fromMs: 0, toMs: T0 + HOUR_MS })).toEqual([]);
      const folded = await store.listHistory({ resolutionMs: HOUR_MS, fromMs: T0, toMs: T0 + HOUR_MS });
      expect(total(folded, 'forwards')).toBe(2n);
      expect(total(folded, 'forward_fees_msat')).toBe(1_200n);
      expect(folded.filter((p) => p.series === 'forwards')).toHaveLength(1);
      // the day's total reads the same across the boundary between hourly and raw points
      const day = await readHistory(store, {
        fromMs: T0 - 10 * HOUR_MS,
        toMs: T0 + 14 * HOUR_MS,
        stepMs: DAY_MS,
      });
      expect(total(day, 'forward_fees_msat')).toBe(1_200n);
      // 4 days on: past the 3 days kept
      await s.sample(T0 + 4 * DAY_MS);
      expect(await store.listHistory({ resolutionMs: HOUR_MS, fromMs: 0, toMs: T0 + DAY_MS })).toEqual([]);
      await store.close();
    });
  });
}
