// The fee-weather stack on the devnet, shared by test/fee-weather.test.ts and the bench: a wallet
// behind its LSP and a merchant on the LSP, real LDK nodes. The LSP funds the wallet's channel (it
// sends update_fee there), the merchant funds its channel to the LSP. The wallet reads its own
// Esplora, whose fee weather can disagree with the LSP's by a factor. The once-a-minute
// ChannelManager tick (where LDK sends update_fee) runs when the scenario says.
import type { Devnet, FeeWeather } from '@lpw/devnet-chain';
import { waitUntil } from '@lpw/devnet-chain';
import { isNodeError } from '../src/errors.ts';
import { toHex } from '../src/ldk/values.ts';
import type { LightningNode, NodeOptions } from '../src/node.ts';
import { defaultScheduler, type Scheduler } from '../src/scheduler.ts';
import { inMemory } from '../src/transport/memory.ts';
import { type TestNet, testNet } from './harness.ts';

const MINUTE_MS = 60_000;
export const WALLET_CHANNEL_SAT = 500_000n;
const MERCHANT_CHANNEL_SAT = 1_000_000n;
/** Commitment feerates (sat/kW) the LSP applies at the devnet's 2 sat/vB, ×10 and ×100. */
export const FAIR_SAT_PER_KW = 500;

export type TickableScheduler = Scheduler & { tick(): void };

/** The node's scheduler, except the minute tick, which runs on `tick()`. */
export function tickableScheduler(): TickableScheduler {
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

/** An LSP's forward delay whose timer `holdingScheduler` holds: forwards wait until released. */
export const HOLD_MS = 7_777;

/** A tickable scheduler that holds HOLD_MS timers (the LSP's forwards) until `release()`. */
export function holdingScheduler() {
  const base = tickableScheduler();
  const held: Array<() => void> = [];
  return {
    ...base,
    setTimeout: (fn: () => void, ms: number) => {
      if (ms !== HOLD_MS) return base.setTimeout(fn, ms);
      held.push(fn);
      return fn;
    },
    held: () => held.length,
    release: () => {
      for (const fn of held.splice(0)) fn();
    },
  };
}

/** Who owns an output script (an on-chain wallet's `isMine`). */
export type Owners = Record<string, (script: Uint8Array) => boolean>;

/**
 * Where every sat of a transaction went: follows spends from `txid` down to unspent coins, each
 * named by its owner ('unknown' when none claims it), with the fees paid along the way. Every
 * transaction on the way must be confirmed.
 */
export function spendTree(chain: Devnet['chain'], txid: string, owners: Owners) {
  const leaves: Array<{ owner: string; value: bigint; txid: string }> = [];
  const unconfirmed: string[] = [];
  let feesSat = 0n;
  const follow = (id: string) => {
    const tx = chain.getTransaction(id)!;
    if (!tx.location) unconfirmed.push(id);
    feesSat += tx.fee;
    for (const [vout, output] of tx.tx.outputs.entries()) {
      const spend = chain.outspend(id, vout);
      if (spend) {
        follow(spend.txid);
        continue;
      }
      const owner = Object.entries(owners).find(([, isMine]) => isMine(output.script))?.[0] ?? 'unknown';
      leaves.push({ owner, value: output.value, txid: id });
    }
  };
  follow(txid);
  const coinsSat = (owner: string) =>
    leaves.filter((l) => l.owner === owner).reduce((n, l) => n + l.value, 0n);
  const valueSat = leaves.reduce((n, l) => n + l.value, 0n);
  return { leaves, feesSat, unconfirmed, coinsSat, valueSat };
}

type PartyName = 'wallet' | 'lsp' | 'merchant';

export interface Party {
  name: PartyName;
  node: LightningNode;
  scheduler: TickableScheduler;
  /** msat this party's payments moved: + received, − sent and fees paid, + fees earned forwarding. */
  ledgerMsat: bigint;
  /** Channel balances when the stack was ready. */
  startMsat: bigint;
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

/** What a node holds in its channels, the commitment fee aside (LDK's value_to_self). */
export const channelBalanceMsat = (node: LightningNode): bigint =>
  node
    .listChannels()
    .reduce((n, ch) => n + (ch.outboundMsat === 0n ? 0n : ch.outboundMsat + (ch.ourReserveMsat ?? 0n)), 0n);

/** The commitment feerate of `node`'s channel with `peer`, as `node` has it. */
export const feerateWith = (node: LightningNode, peer: LightningNode): number | undefined => {
  const channel = node.ldk.channelManager
    .list_channels()
    .find((c) => toHex(c.get_counterparty().get_node_id()) === peer.nodeId);
  const rate = channel?.get_feerate_sat_per_1000_weight() as { some?: number } | undefined;
  return rate?.some;
};

export type FeeStack = Awaited<ReturnType<typeof startFeeStack>>;

export interface FeeStackOptions {
  /** The LSP node's options; a `scheduler` given must tick (tickableScheduler, holdingScheduler). */
  lsp?: Partial<NodeOptions> & { scheduler?: TickableScheduler };
}

export async function startFeeStack(seed = 'fee-weather', options: FeeStackOptions = {}) {
  const net: TestNet = await testNet(seed);
  const walletWeather: FeeWeather = net.devnet.chain.weather.scaled(1);
  const walletEsplora = await net.devnet.startEsplora({ weather: walletWeather });
  const outcomes: PaymentOutcome[] = [];
  const fundings: string[] = [];

  const make = async (
    name: PartyName,
    seedByte: number,
    nodeOptions: Partial<NodeOptions> & { scheduler?: TickableScheduler },
  ): Promise<Party> => {
    const scheduler = nodeOptions.scheduler ?? tickableScheduler();
    const { node } = await net.make(name, seedByte, { ...nodeOptions, scheduler });
    const party: Party = { name, node, scheduler, ledgerMsat: 0n, startMsat: 0n, closes: [] };
    node.on('channel-closed', (e) => party.closes.push(e.reason));
    node.on('payment-forwarded', (e) => {
      party.ledgerMsat += e.feeEarnedMsat ?? 0n;
    });
    node.on('payment-received', (e) => {
      party.ledgerMsat += e.amountMsat;
    });
    return party;
  };
  const lsp = await make('lsp', 0x1a, { role: 'lsp', ...options.lsp });
  const merchant = await make('merchant', 0x3c, { role: 'router', gossip: false });
  const wallet = await make('wallet', 0x2b, {
    role: 'wallet',
    trustedPeers: [lsp.node.nodeId],
    chain: { esploraUrl: walletEsplora },
  });
  const parties = { wallet, lsp, merchant };
  const all = [wallet, lsp, merchant];
  const nodes = () => all.map((p) => p.node);

  const mineAndSync = async (n: number, who = nodes()) => {
    net.devnet.mine(n);
    for (const node of who) await node.syncChain();
  };
  const tick = () => {
    for (const p of all) p.scheduler.tick();
  };

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
  await waitUntil('fundings broadcast', () =>
    fundings.every((f) => net.devnet.chain.getTransaction(f.split(':')[0]!) !== undefined),
  );
  await mineAndSync(6);
  await waitUntil(
    'channels usable',
    () =>
      nodes().every((n) => n.listChannels().every((c) => c.isUsable)) && channelBalanceMsat(wallet.node) > 0n,
    20_000,
  );
  for (const p of all) p.startMsat = channelBalanceMsat(p.node);

  const stack = {
    net,
    parties,
    walletWeather,
    outcomes,
    fundings,
    weather: () => net.devnet.chain.weather,
    mineAndSync,
    tick,
    /** Mine one block of the scripted weather, let `who` (every node) see it, then the minute tick. */
    async nextBlock(who = nodes()) {
      await mineAndSync(1, who);
      tick();
    },
    /** Until the wallet's channel carries `satPerKw` (the LSP's update_fee went through), or a close. */
    feerateApplied: (satPerKw: number) =>
      waitUntil(
        `wallet channel at ${satPerKw} sat/kW`,
        () => feerateWith(wallet.node, lsp.node) === satPerKw || all.some((p) => p.closes.length > 0),
        10_000,
      ),
    async pay(scenario: string, from: Party, to: Party, amountMsat: bigint): Promise<void> {
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
    },
    /** A big (60k sat) and a small (1k sat) payment each way. */
    async paymentsBothWays(scenario: string): Promise<void> {
      for (const amountMsat of [60_000_000n, 1_000_000n]) {
        await stack.pay(scenario, wallet, merchant, amountMsat);
        await stack.pay(scenario, merchant, wallet, amountMsat);
      }
    },
    /** Until no HTLC is in flight anywhere. */
    settled: () =>
      waitUntil(
        'no HTLC in flight',
        () =>
          nodes().every((n) =>
            n.ldk.channelManager
              .list_channels()
              .every(
                (c) => c.get_pending_inbound_htlcs().length + c.get_pending_outbound_htlcs().length === 0,
              ),
          ),
        20_000,
      ),
    /** Closes: channel-closed events and transactions spending a funding output (mempool or chain). */
    forceCloses(): string[] {
      const found = all.flatMap((p) => p.closes.map((reason) => `${p.name}: ${reason}`));
      for (const funding of fundings) {
        const [txid, vout] = funding.split(':');
        const spend = net.devnet.chain.outspend(txid!, Number(vout));
        if (spend) found.push(`${funding} spent by ${spend.txid}`);
      }
      return found;
    },
    /** Per party, channel balance moved minus its ledger (all 0n when the books balance). */
    async ledgerMismatchMsat(): Promise<Record<PartyName, bigint>> {
      await stack.settled();
      return Object.fromEntries(
        all.map((p) => [p.name, channelBalanceMsat(p.node) - p.startMsat - p.ledgerMsat]),
      ) as Record<PartyName, bigint>;
    },
    /** Sum of every party's channel balance change: what left the three (0n: nothing lost). */
    netMovedMsat: () => all.reduce((n, p) => n + channelBalanceMsat(p.node) - p.startMsat, 0n),
    async stop() {
      for (const p of all) await p.node.stop();
      await net.stop();
    },
  };
  return stack;
}

/** A scenario; `atPeak` runs once the wallet's channel carries the peak feerate. */
export interface FeeScenario {
  name: string;
  run(stack: FeeStack, atPeak?: () => void): Promise<void>;
}

const spikeAndCrash = (factor: number): FeeScenario => ({
  name: `spike ×${factor}`,
  async run(s, atPeak) {
    s.weather().spike(factor);
    await s.nextBlock();
    await s.feerateApplied(FAIR_SAT_PER_KW * factor);
    atPeak?.();
    await s.paymentsBothWays(this.name);
    s.weather().crash();
    await s.nextBlock();
    await s.feerateApplied(FAIR_SAT_PER_KW);
    await s.paymentsBothWays(this.name);
  },
});

const disagreeing = (walletFactor: number): FeeScenario => ({
  name: `disagree ×${walletFactor}`,
  async run(s) {
    s.walletWeather.rescale(walletFactor);
    try {
      await s.parties.wallet.node.syncChain();
      s.weather().spike(10);
      await s.nextBlock();
      await s.feerateApplied(FAIR_SAT_PER_KW * 10);
      await s.paymentsBothWays(this.name);
      s.weather().crash();
      await s.nextBlock();
      await s.feerateApplied(FAIR_SAT_PER_KW);
      await s.paymentsBothWays(this.name);
    } finally {
      s.walletWeather.rescale(1);
      await s.parties.wallet.node.syncChain();
    }
  },
});

export const FEE_SCENARIOS: FeeScenario[] = [
  spikeAndCrash(10),
  spikeAndCrash(100),
  {
    name: 'climb ×10',
    async run(s) {
      s.weather().climb(10, 5);
      for (let i = 0; i < 5; i++) {
        await s.nextBlock();
        await s.paymentsBothWays(this.name);
      }
      await s.feerateApplied(FAIR_SAT_PER_KW * 10);
      s.weather().crash();
      await s.nextBlock();
      await s.feerateApplied(FAIR_SAT_PER_KW);
      await s.paymentsBothWays(this.name);
    },
  },
  // the wallet's source 10× above the LSP's (a crash back is then below the wallet's own view)
  // and 10× below it (the LSP's feerate far above the wallet's estimates)
  disagreeing(10),
  disagreeing(0.1),
  {
    name: 'offline ×100',
    async run(s) {
      const { lsp, wallet, merchant } = s.parties;
      wallet.node.disconnect(lsp.node.nodeId);
      await waitUntil('disconnected', () => !lsp.node.isConnected(wallet.node.nodeId));
      s.weather().spike(100);
      await s.nextBlock([lsp.node, merchant.node]); // the wallet's estimates stay at fair weather
      await s.pay(this.name, merchant, wallet, 60_000_000n); // fails: the wallet is away
      await wallet.node.connect(lsp.node.nodeId, inMemory(lsp.node));
      await waitUntil(
        'usable again',
        () => [wallet, lsp].every((p) => p.node.listChannels().every((c) => c.isUsable)),
        10_000,
      );
      s.tick(); // the LSP's update_fee reaches a wallet that has not synced since
      await s.feerateApplied(FAIR_SAT_PER_KW * 100);
      await s.paymentsBothWays(this.name);
      await wallet.node.syncChain();
      s.weather().crash();
      await s.nextBlock();
      await s.feerateApplied(FAIR_SAT_PER_KW);
      await s.paymentsBothWays(this.name);
    },
  },
];
