// Fee weather on the devnet with real LDK nodes: a wallet behind its LSP, and a merchant on the LSP.
// The LSP funds the wallet's channel (it sends update_fee there), the merchant funds its channel to
// the LSP. For every scenario — spike ×10, ×100, a slow climb, a crash back, the wallet's source
// disagreeing ×10, the wallet offline through a ×100 spike — payments flow both ways, nothing
// closes (no channel-closed event, no transaction spends a funding output), every payment succeeds
// or fails with a typed reason, and the msat ledgers of the three nodes balance exactly.
// The last test shows LDK's defaults force-closing the wallet's channel in the offline scenario.
import type { FeeWeather } from '@lpw/devnet';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNodeError } from '../src/errors.ts';
import type { LightningNode, NodeOptions } from '../src/node.ts';
import type { Scheduler } from '../src/scheduler.ts';
import { defaultScheduler } from '../src/scheduler.ts';
import { inMemory } from '../src/transport/memory.ts';
import { type TestNet, testNet, until } from './harness.ts';

const MINUTE_MS = 60_000;

/**
 * The node's scheduler, except that the once-a-minute ChannelManager tick (where LDK sends
 * update_fee) runs when the test says: a scenario is a sequence of blocks and ticks.
 */
function tickableScheduler(): Scheduler & { tick(): void } {
  const base = defaultScheduler();
  const minute: Array<() => void> = [];
  return {
    ...base,
    setInterval: (fn, ms) => {
      if (ms !== MINUTE_MS) return base.setInterval(fn, ms);
      minute.push(fn);
      return fn;
    },
    clearInterval: (handle) => {
      const i = minute.indexOf(handle as () => void);
      if (i >= 0) minute.splice(i, 1);
      else base.clearInterval(handle);
    },
    tick: () => {
      for (const fn of minute) fn();
    },
  };
}

interface Party {
  name: string;
  node: LightningNode;
  scheduler: ReturnType<typeof tickableScheduler>;
  /** msat this party's payments moved: + received, − sent and fees paid, + fees earned forwarding. */
  ledgerMsat: bigint;
  closes: string[];
}

export interface PaymentOutcome {
  scenario: string;
  direction: 'wallet→merchant' | 'merchant→wallet';
  amountMsat: bigint;
  ok: boolean;
  /** NodeError code of a failure (FEES_TOO_HIGH, PAYMENT_FAILED, ROUTE_NOT_FOUND, …). */
  code?: string;
  message?: string;
}

const WALLET_CHANNEL_SAT = 500_000n;
const MERCHANT_CHANNEL_SAT = 1_000_000n;

describe('fee weather: spikes and disagreements close nothing, ledgers balance', () => {
  let net: TestNet;
  let walletWeather: FeeWeather;
  let walletEsplora: string;
  const parties: Record<'wallet' | 'lsp' | 'merchant', Party> = {} as never;
  const outcomes: PaymentOutcome[] = [];
  const fundings: string[] = [];

  const make = async (
    name: 'wallet' | 'lsp' | 'merchant',
    seedByte: number,
    options: Partial<NodeOptions>,
  ): Promise<Party> => {
    const scheduler = tickableScheduler();
    const { node } = await net.make(name, seedByte, { scheduler, ...options });
    const party: Party = { name, node, scheduler, ledgerMsat: 0n, closes: [] };
    node.on('channel-closed', (e) => party.closes.push(e.reason));
    node.on('payment-forwarded', (e) => {
      party.ledgerMsat += e.feeEarnedMsat ?? 0n;
    });
    node.on('payment-received', (e) => {
      party.ledgerMsat += e.amountMsat;
    });
    return party;
  };
  const nodes = () => Object.values(parties).map((p) => p.node);
  /** What a node holds in its channels, fees of the commitment aside (LDK's value_to_self). */
  const channelBalanceMsat = (node: LightningNode): bigint =>
    node
      .listChannels()
      .reduce((n, ch) => n + (ch.outboundMsat === 0n ? 0n : ch.outboundMsat + (ch.ourReserveMsat ?? 0n)), 0n);
  const mineAndSync = async (n: number, who = nodes()) => {
    net.devnet.mine(n);
    for (const node of who) await node.syncChain();
  };
  const tick = () => {
    for (const p of Object.values(parties)) p.scheduler.tick();
  };
  const feerate = (node: LightningNode, peer: LightningNode): number | undefined =>
    node.ldk.channelManager
      .list_channels()
      .filter((c) => Buffer.from(c.get_counterparty().get_node_id()).toString('hex') === peer.nodeId)
      .map((c) => {
        const o = c.get_feerate_sat_per_1000_weight() as unknown as { some?: number };
        return o.some;
      })[0];

  const pay = async (scenario: string, from: Party, to: Party, amountMsat: bigint): Promise<void> => {
    const direction = from.name === 'wallet' ? 'wallet→merchant' : 'merchant→wallet';
    const invoice = to.node.createInvoice({ amountMsat, description: scenario, expirySecs: 600 });
    try {
      const sent = await from.node.payInvoice(invoice.bolt11, { maxFeeMsat: 50_000n, timeoutMs: 20_000 });
      from.ledgerMsat -= sent.amountMsat + sent.feeMsat;
      outcomes.push({ scenario, direction, amountMsat, ok: true });
    } catch (e) {
      if (!isNodeError(e)) throw e;
      outcomes.push({ scenario, direction, amountMsat, ok: false, code: e.code, message: e.message });
    }
  };
  /** Big and small payments both ways. */
  const paymentsBothWays = async (scenario: string) => {
    const { wallet, merchant } = parties;
    for (const amountMsat of [60_000_000n, 1_000_000n]) {
      await pay(scenario, wallet, merchant, amountMsat);
      await pay(scenario, merchant, wallet, amountMsat);
    }
  };
  const settled = () =>
    until(
      () =>
        nodes().every((n) =>
          n.ldk.channelManager
            .list_channels()
            .every((c) => c.get_pending_inbound_htlcs().length + c.get_pending_outbound_htlcs().length === 0),
        ),
      'no HTLC in flight',
      20_000,
    );

  const assertNothingClosed = () => {
    for (const p of Object.values(parties)) expect(p.closes, `${p.name} closes`).toEqual([]);
    for (const funding of fundings) {
      const [txid, vout] = funding.split(':');
      expect(net.devnet.chain.outspend(txid!, Number(vout)), `spend of ${funding}`).toBeUndefined();
    }
  };

  let start: Record<string, bigint> = {};
  const assertLedgersBalance = async () => {
    await settled();
    const moved: Record<string, bigint> = {};
    for (const p of Object.values(parties)) {
      moved[p.name] = channelBalanceMsat(p.node) - start[p.name]!;
      expect(moved[p.name], `${p.name} channel balance vs its ledger`).toBe(p.ledgerMsat);
    }
    expect(Object.values(moved).reduce((a, b) => a + b, 0n)).toBe(0n);
  };

  beforeAll(async () => {
    net = await testNet('fee-weather-tests');
    walletWeather = net.devnet.chain.weather.scaled(1);
    walletEsplora = await net.devnet.startEsplora({ weather: walletWeather });
    parties.lsp = await make('lsp', 0x1a, { role: 'lsp' });
    parties.merchant = await make('merchant', 0x3c, { role: 'router', gossip: false });
    parties.wallet = await make('wallet', 0x2b, {
      role: 'wallet',
      trustedPeers: [parties.lsp.node.nodeId],
      chain: { esploraUrl: walletEsplora },
    });
    const { lsp, merchant, wallet } = parties;
    await net.fund(lsp.node, 2_000_000n);
    await net.fund(merchant.node, 2_000_000n);
    await wallet.node.connect(lsp.node.nodeId, inMemory(lsp.node));
    await merchant.node.connect(lsp.node.nodeId, inMemory(lsp.node));
    for (const [from, to, capacitySat] of [
      [lsp, wallet, WALLET_CHANNEL_SAT],
      [merchant, lsp, MERCHANT_CHANNEL_SAT],
    ] as const) {
      const pending = from.node.waitFor('channel-pending', (e) => e.peerId === to.node.nodeId, 15_000);
      from.node.openChannel({ peerId: to.node.nodeId, capacitySat, pushMsat: (capacitySat * 1000n) / 2n });
      fundings.push((await pending).fundingTxo);
    }
    await until(
      () => fundings.every((f) => net.devnet.chain.getTransaction(f.split(':')[0]!) !== undefined),
      'fundings broadcast',
    );
    await mineAndSync(6);
    await until(
      () =>
        nodes().every((n) => n.listChannels().every((c) => c.isUsable)) &&
        channelBalanceMsat(wallet.node) > 0n,
      'channels usable',
      20_000,
    );
    start = Object.fromEntries(Object.values(parties).map((p) => [p.name, channelBalanceMsat(p.node)]));
  }, 60_000);

  afterAll(async () => {
    for (const p of Object.values(parties)) await p.node?.stop();
    await net?.stop();
  });

  /** Mine one block of the scripted weather, let every online node see it, then the minute tick. */
  const nextBlock = async (who = nodes()) => {
    await mineAndSync(1, who);
    tick();
  };
  /** Waits until the wallet's channel carries the LSP's commitment feerate for this market (or a close). */
  const feerateApplied = async (satPerKw: number) => {
    const { wallet, lsp } = parties;
    await until(
      () => feerate(wallet.node, lsp.node) === satPerKw || wallet.closes.length + lsp.closes.length > 0,
      `wallet channel at ${satPerKw} sat/kW`,
      10_000,
    );
  };
  const weather = () => net.devnet.chain.weather;
  const scenario = async (name: string, run: () => Promise<void>) => {
    await run();
    assertNothingClosed();
    await assertLedgersBalance();
    expect(outcomes.filter((o) => o.scenario === name && !o.ok).every((o) => o.code !== undefined)).toBe(
      true,
    );
  };

  it('spike ×10 in one block, payments both ways, then a crash back', async () => {
    await scenario('spike ×10', async () => {
      weather().spike(10);
      await nextBlock();
      await feerateApplied(5_000);
      await paymentsBothWays('spike ×10');
      weather().crash();
      await nextBlock();
      await feerateApplied(500);
      await paymentsBothWays('spike ×10');
    });
  }, 120_000);

  it('spike ×100 in one block, payments both ways, then a crash back', async () => {
    await scenario('spike ×100', async () => {
      weather().spike(100);
      await nextBlock();
      await feerateApplied(50_000);
      // what the wallet shows: small payments wait, and what a close would cost it now
      const high = parties.wallet.node.feeWeather();
      expect(high).toMatchObject({
        high: true,
        channelSatPerKw: 50_000,
        smallPaymentMinMsat: 35_504_000n, // 354 sat + 703 WU × 50 sat/WU
        notice: 'network fees are high right now; payments under 35504 sats wait',
      });
      // the LSP funds the channel: a cooperative close costs the wallet nothing, a force close its sweep
      expect(high.closeCostMsat.cooperative).toBe(0n);
      expect(high.closeCostMsat.force).toBe(24_250_000n); // 485 WU × 50,000 sat/kW
      expect(parties.lsp.node.feeWeather().closeCostMsat.force).toBeGreaterThan(36_200_000n); // + 724 WU commitment
      await paymentsBothWays('spike ×100');
      weather().crash();
      await nextBlock();
      await feerateApplied(500);
      expect(parties.wallet.node.feeWeather()).toMatchObject({ high: false, smallPaymentMinMsat: 0n });
      expect(parties.wallet.node.feeWeather().notice).toBeUndefined();
      await paymentsBothWays('spike ×100');
    });
  }, 120_000);

  it('a slow climb to ×10 over 5 blocks with payments at every block, then a crash', async () => {
    await scenario('climb ×10', async () => {
      weather().climb(10, 5);
      for (let i = 0; i < 5; i++) {
        await nextBlock();
        await paymentsBothWays('climb ×10');
      }
      await feerateApplied(5_000);
      weather().crash();
      await nextBlock();
      await feerateApplied(500);
      await paymentsBothWays('climb ×10');
    });
  }, 180_000);

  for (const factor of [10, 0.1]) {
    it(`the wallet's source reads ×${factor} the LSP's through a ×10 spike and the crash back`, async () => {
      const name = `disagree ×${factor}`;
      await scenario(name, async () => {
        walletWeather.rescale(factor);
        await parties.wallet.node.syncChain();
        weather().spike(10);
        await nextBlock();
        await feerateApplied(5_000);
        await paymentsBothWays(name);
        weather().crash();
        await nextBlock();
        await feerateApplied(500);
        await paymentsBothWays(name);
        walletWeather.rescale(1);
      });
    }, 120_000);
  }

  it('spike ×100 while the wallet is offline; it reconnects before it sees the new fees', async () => {
    await scenario('offline ×100', async () => {
      const { lsp, wallet, merchant } = parties;
      wallet.node.disconnect(lsp.node.nodeId);
      await until(() => !lsp.node.isConnected(wallet.node.nodeId), 'disconnected');
      weather().spike(100);
      await nextBlock([lsp.node, merchant.node]); // the wallet's estimates stay at fair weather
      await pay('offline ×100', merchant, wallet, 60_000_000n);
      await wallet.node.connect(lsp.node.nodeId, inMemory(lsp.node));
      await until(
        () => [wallet, lsp].every((p) => p.node.listChannels().every((c) => c.isUsable)),
        'usable again',
        10_000,
      );
      tick();
      await feerateApplied(50_000);
      await paymentsBothWays('offline ×100');
      await wallet.node.syncChain();
      weather().crash();
      await nextBlock();
      await feerateApplied(500);
      await paymentsBothWays('offline ×100');
    });
  }, 120_000);
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
      await pending;
      await net.mine(6, [lsp, wallet]);
      await until(
        () => wallet.listChannels().every((c) => c.isUsable) && wallet.listChannels().length === 1,
        'usable',
      );

      wallet.disconnect(lsp.nodeId);
      await until(() => !lsp.isConnected(wallet.nodeId), 'disconnected');
      net.devnet.chain.weather.spike(100);
      await net.mine(1, [lsp]);
      await wallet.connect(lsp.nodeId, inMemory(lsp));
      await until(() => lsp.listChannels().every((c) => c.isUsable), 'usable again', 10_000);
      for (const s of schedulers) s.tick();
      await until(() => closes.length > 0, 'the wallet force-closes', 10_000);
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
