// Three nodes A–B–C on the devnet, as on the public network: channels funded from each node's own
// on-chain wallet and announced, gossip carrying them to A, A paying C through B on a route LDK
// found from its graph; every node restarted from its SQLite file mid-life; then a cooperative
// close (A–B) and a force close (B–C) whose money must end up in the wallets, to the satoshi.
// A and B read the chain over Esplora, C over bitcoind RPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tx } from '@lpw/devnet-chain';
import { fundingBroadcast, waitUntil } from '@lpw/devnet-chain';
import { decodeBolt11 } from '@lpw/payment-request';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitcoindSource } from '../src/chain/bitcoind.ts';
import { someOf, toHex } from '../src/ldk/values.ts';
import type { ChannelSummary, LightningNode, NodeOptions } from '../src/node.ts';
import { SqliteStore } from '../src/persist/sqlite.ts';
import { inMemory } from '../src/transport/memory.ts';
import { type TestNet, testNet } from './harness.ts';

const CAPACITY_SAT = 1_000_000n;

describe('A–B–C: public channels from on-chain wallets, gossip, routing, restart, closes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lpw-network-'));
  let net: TestNet;
  let a: LightningNode;
  let b: LightningNode;
  let c: LightningNode;
  const stores = new Map<string, SqliteStore>();
  const closes: string[] = [];
  let abFunding = '';
  let bcFunding = '';

  const start = async (name: 'a' | 'b' | 'c', seedByte: number): Promise<LightningNode> => {
    const store = new SqliteStore(join(dir, `${name}.sqlite`));
    stores.set(name, store);
    const chain: NodeOptions['chain'] =
      name === 'c' ? bitcoindSource({ url: net.devnet.rpcUrl }) : { esploraUrl: net.devnet.esploraUrl };
    const { node } = await net.make(name, seedByte, { store, chain, alias: `node-${name}` });
    node.on('channel-closed', (e) => closes.push(`${name}: ${e.reason}`));
    return node;
  };
  const all = () => [a, b, c];
  const channelWith = (node: LightningNode, peer: LightningNode): ChannelSummary => {
    const ch = node.listChannels().find((x) => x.peerId === peer.nodeId);
    if (!ch) throw new Error(`${node.nodeId.slice(0, 8)} has no channel with ${peer.nodeId.slice(0, 8)}`);
    return ch;
  };
  const mine = (n: number) => net.mine(n, all());
  /** A balance above the reserve: what we can send plus what the peer makes us keep. */
  const balanceMsat = (node: LightningNode, peer: LightningNode): bigint => {
    const ch = channelWith(node, peer);
    return ch.outboundMsat === 0n ? 0n : ch.outboundMsat + ch.ourReserveMsat!;
  };

  /** Opens an announced channel funded by `from`'s wallet; resolves with its funding outpoint once broadcast. */
  const openPublic = async (from: LightningNode, to: LightningNode): Promise<string> => {
    const pending = from.waitFor('channel-pending', (e) => e.peerId === to.nodeId, 15_000);
    from.openChannel({ peerId: to.nodeId, capacitySat: CAPACITY_SAT, announce: true });
    const { fundingTxo } = await pending;
    await fundingBroadcast(net.devnet.chain, fundingTxo);
    return fundingTxo;
  };

  beforeAll(async () => {
    net = await testNet('network-tests');
    a = await start('a', 0xa1);
    b = await start('b', 0xb2);
    c = await start('c', 0xc3);
  }, 30_000);

  afterAll(async () => {
    for (const node of [a, b, c]) await node?.stop();
    for (const store of stores.values()) await store.close();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('funds public channels from the wallets, gossips them to A, and routes A → B → C with exact fees', async () => {
    const fundA = await net.fund(a, 2_000_000n);
    await net.fund(b, 2_000_000n);
    expect(a.balances().onchainConfirmedMsat).toBe(2_000_000_000n);
    expect(net.devnet.chain.getTransaction(fundA)?.location).toBeDefined();

    await a.connect(b.nodeId, inMemory(b));
    await c.connect(b.nodeId, inMemory(b));
    abFunding = await openPublic(a, b);
    bcFunding = await openPublic(b, c);

    // the funding transactions spend the wallets' coins: A's 2,000,000 sat became channel + change + fee
    const abTx = net.devnet.chain.getTransaction(abFunding.split(':')[0]!)!;
    expect(abTx.spent.map((o) => o.value)).toEqual([2_000_000n]);
    expect(abTx.tx.outputs.reduce((n, o) => n + o.value, 0n) + abTx.fee).toBe(2_000_000n);
    expect(abTx.tx.outputs[Number(abFunding.split(':')[1])]!.value).toBe(CAPACITY_SAT);
    await a.syncChain();
    expect(a.balances().onchainUnconfirmedMsat).toBe((2_000_000n - CAPACITY_SAT - abTx.fee) * 1000n);

    await mine(6); // six confirmations: channel_ready, then announcement_signatures
    await waitUntil(
      'channels usable',
      () => channelWith(a, b).isUsable && channelWith(b, c).isUsable && channelWith(c, b).isUsable,
      20_000,
    );
    expect(channelWith(a, b).isAnnounced).toBe(true);
    expect(channelWith(a, b).confirmations).toBe(6);

    // gossip: A learns B–C (which it is not part of) and B's and C's node announcements through B
    const abScid = channelWith(a, b).shortChannelId!;
    const bcScid = channelWith(b, c).shortChannelId!;
    await waitUntil(
      'gossip reaches A',
      () => {
        const g = a.graphSummary();
        const scids = g.channels.map((ch) => ch.shortChannelId);
        const announced = new Set(g.nodes.filter((n) => n.announced).map((n) => n.nodeId));
        return (
          scids.includes(abScid) &&
          scids.includes(bcScid) &&
          announced.has(b.nodeId) &&
          announced.has(c.nodeId)
        );
      },
      30_000,
    );
    const graph = a.graphSummary();
    expect(graph.nodes.find((n) => n.nodeId === c.nodeId)?.alias).toBe('node-c');
    expect(graph.nodes.find((n) => n.nodeId === b.nodeId)?.alias).toBe('node-b');
    const bc = graph.channels.find((ch) => ch.shortChannelId === bcScid)!;
    expect([bc.node1, bc.node2].sort()).toEqual([b.nodeId, c.nodeId].sort());

    // C's channels are public: its invoice carries no route hints, A must route from gossip. (LDK
    // still adds hints for public channels with fewer than 7 confirmations, not yet in graphs.)
    await mine(1);
    const amountMsat = 123_456_789n;
    const invoice = c.createInvoice({ amountMsat, description: 'via B', expirySecs: 600 });
    expect(decodeBolt11(invoice.bolt11).routeHints).toHaveLength(0);

    const before = { aOut: channelWith(a, b).outboundMsat, bOut: channelWith(b, c).outboundMsat };
    // B (on A–B) and C had nothing on their side yet: nothing pushed, nothing paid
    expect(channelWith(b, a).outboundMsat).toBe(0n);
    expect(channelWith(c, b).outboundMsat).toBe(0n);
    const forwarded = b.waitFor('payment-forwarded', undefined, 30_000);
    const received = c.waitFor('payment-received', (e) => e.paymentHash === invoice.paymentHash, 30_000);
    const sent = await a.payInvoice(invoice.bolt11, { maxFeeMsat: 10_000n });
    // B's fee per its channel config: base + proportional (LDK defaults: 1,000 msat + 0 ppm)
    const config = ldk.ChannelConfig.constructor_default();
    const expectedFee =
      BigInt(config.get_forwarding_fee_base_msat()) +
      (amountMsat * BigInt(config.get_forwarding_fee_proportional_millionths())) / 1_000_000n;
    expect(sent.feeMsat).toBe(expectedFee);
    expect((await received).amountMsat).toBe(amountMsat);
    expect((await forwarded).feeEarnedMsat).toBe(expectedFee);
    await waitUntil(
      'balances settle to the msat',
      () =>
        channelWith(a, b).outboundMsat === before.aOut - amountMsat - expectedFee &&
        balanceMsat(b, a) === amountMsat + expectedFee &&
        channelWith(b, c).outboundMsat === before.bOut - amountMsat &&
        balanceMsat(c, b) === amountMsat,
    );
    expect(closes).toEqual([]);
  }, 90_000);

  it('restarts A, B and C from their SQLite files: channels, graph and payments resume, nothing closes', async () => {
    const before = all().map((n) => ({
      id: n.nodeId,
      channels: n.listChannels().map((ch) => [ch.channelId, ch.outboundMsat, ch.inboundMsat]),
      payments: n.listPayments().length,
      onchainMsat: n.balances().onchainConfirmedMsat,
    }));
    const graphBefore = a.graphSummary();
    for (const node of all()) await node.stop();
    for (const store of stores.values()) await store.close();

    a = await start('a', 0xa1);
    b = await start('b', 0xb2);
    c = await start('c', 0xc3);
    expect(
      all().map((n) => ({
        id: n.nodeId,
        channels: n.listChannels().map((ch) => [ch.channelId, ch.outboundMsat, ch.inboundMsat]),
        payments: n.listPayments().length,
        onchainMsat: n.balances().onchainConfirmedMsat,
      })),
    ).toEqual(before);
    // the graph (and its announcements) came back from the store, before any peer is connected
    const restored = a.graphSummary();
    expect(restored.channels.map((ch) => ch.shortChannelId).sort()).toEqual(
      graphBefore.channels.map((ch) => ch.shortChannelId).sort(),
    );
    expect(restored.nodes.filter((n) => n.announced).length).toBe(
      graphBefore.nodes.filter((n) => n.announced).length,
    );

    await a.connect(b.nodeId, inMemory(b));
    await c.connect(b.nodeId, inMemory(b));
    await waitUntil(
      'usable after restart',
      () => channelWith(a, b).isUsable && channelWith(b, c).isUsable && channelWith(c, b).isUsable,
      20_000,
    );
    for (let i = 0; i < 3; i++) {
      const invoice = c.createInvoice({
        amountMsat: 5_000_000n + BigInt(i),
        description: `r${i}`,
        expirySecs: 600,
      });
      const sent = await a.payInvoice(invoice.bolt11, { maxFeeMsat: 10_000n });
      expect(sent.feeMsat).toBe(1_000n);
    }
    // and back the other way, C → B → A, over the channel updates gossiped to C
    const back = a.createInvoice({ amountMsat: 2_000_000n, description: 'back', expirySecs: 600 });
    await c.payInvoice(back.bolt11, { maxFeeMsat: 10_000n });
    expect(closes).toEqual([]);
    for (const outpoint of [abFunding, bcFunding]) {
      const [txid, vout] = outpoint.split(':');
      expect(net.devnet.chain.outspend(txid!, Number(vout))).toBeUndefined();
    }
  }, 90_000);

  it('cooperative close of A–B pays both wallets their balances, the funder paying the fee', async () => {
    await waitUntil('usable', () => channelWith(a, b).isUsable);
    const aOnchain = a.balances().onchainConfirmedMsat;
    const bOnchain = b.balances().onchainConfirmedMsat;
    const closedA = a.waitFor('channel-closed', (e) => e.peerId === b.nodeId, 20_000);
    const closedB = b.waitFor('channel-closed', (e) => e.peerId === a.nodeId, 20_000);
    a.closeChannel(channelWith(a, b).channelId);
    const [eventA, eventB] = await Promise.all([closedA, closedB]);
    const aMsat = eventA.lastLocalBalanceMsat!;
    const bMsat = eventB.lastLocalBalanceMsat!;
    expect(aMsat + bMsat).toBe(CAPACITY_SAT * 1000n);

    const [fundTxid, fundVout] = abFunding.split(':');
    await waitUntil(
      'closing tx broadcast',
      () => net.devnet.chain.outspend(fundTxid!, Number(fundVout)) !== undefined,
    );
    const closing = net.devnet.chain.getTransaction(
      net.devnet.chain.outspend(fundTxid!, Number(fundVout))!.txid,
    )!;
    await mine(1);

    const aOut = closing.tx.outputs.filter((o) => a.onchain.isMine(o.script));
    const bOut = closing.tx.outputs.filter((o) => b.onchain.isMine(o.script));
    expect(closing.tx.outputs).toHaveLength(2);
    expect(aOut).toHaveLength(1);
    expect(bOut).toHaveLength(1);
    // B (not the funder) gets its balance rounded down to the satoshi; A its balance minus the fee
    expect(bOut[0]!.value).toBe(bMsat / 1000n);
    const closingFee = aMsat / 1000n - aOut[0]!.value;
    expect(closingFee).toBeGreaterThan(100n);
    expect(closingFee).toBeLessThan(2_000n);
    expect(closing.fee).toBe(CAPACITY_SAT - aOut[0]!.value - bOut[0]!.value);
    // the outputs are in the devnet's UTXO set, confirmed, at the wallets' scripts
    for (const [node, out] of [
      [a, aOut[0]!],
      [b, bOut[0]!],
    ] as const) {
      const coins = net.devnet.chain.unspentFor(out.script, false);
      expect(coins.find((coin) => coin.txid === closing.tx.txid)?.value).toBe(out.value);
      await waitUntil(
        'wallet counts the closing output',
        () => node.balances().onchainConfirmedMsat === (node === a ? aOnchain : bOnchain) + out.value * 1000n,
      );
    }
    expect(closes).toEqual([
      expect.stringMatching(/^a: .*cooperatively closed by us/),
      expect.stringMatching(/^b: .*cooperatively closed by our peer/),
    ]);
    closes.length = 0;
  }, 60_000);

  it('force close of B–C by B: B sweeps its to_self after the CSV delay, C gets a wallet coin at once', async () => {
    await waitUntil('usable', () => channelWith(b, c).isUsable);
    const bc = channelWith(b, c);
    const toSelfDelay = bc.toSelfDelay!;
    const rawBc = rawChannel(b, bc.channelId);
    expect(toSelfDelay).toBeGreaterThanOrEqual(144);
    const bWallet = b.balances().onchainConfirmedMsat;
    const cWallet = c.balances().onchainConfirmedMsat;
    const closedB = b.waitFor('channel-closed', (e) => e.peerId === c.nodeId, 20_000);
    const closedC = c.waitFor('channel-closed', (e) => e.peerId === b.nodeId, 20_000);
    const spendableB = b.waitFor('spendable-outputs', undefined, 60_000);
    const spendableC = c.waitFor('spendable-outputs', undefined, 60_000);
    b.closeChannel(bc.channelId, { force: true });
    const [eventB, eventC] = await Promise.all([closedB, closedC]);
    const bMsat = eventB.lastLocalBalanceMsat!;
    const cMsat = eventC.lastLocalBalanceMsat!;
    expect(bMsat + cMsat).toBe(CAPACITY_SAT * 1000n);

    const [fundTxid, fundVout] = bcFunding.split(':');
    await waitUntil(
      'commitment broadcast',
      () => net.devnet.chain.outspend(fundTxid!, Number(fundVout)) !== undefined,
    );
    const commitment = net.devnet.chain.getTransaction(
      net.devnet.chain.outspend(fundTxid!, Number(fundVout))!.txid,
    )!.tx;
    await mine(1);
    const confirmedAt = net.devnet.chain.getTransaction(commitment.txid)!.location!.height;
    expect(b.balances().closingMsat).toBeGreaterThan(0n);

    // B's commitment: C's output is P2WPKH (static remote key), B's to_self is P2WSH behind the CSV
    const cOutput = commitment.outputs.findIndex((o) => o.script.length === 22 && o.script[0] === 0);
    const bOutput = commitment.outputs.findIndex((o) => o.script.length === 34 && o.script[0] === 0);
    expect(commitment.outputs).toHaveLength(2);
    expect(commitment.outputs[cOutput]!.value).toBe(cMsat / 1000n);
    // B, the funder, pays the commitment fee: weight 724 (no HTLCs, no anchors) at the channel's feerate
    const feerate = BigInt(someOf<number>(rawBc.get_feerate_sat_per_1000_weight())!);
    const ldkFee = (724n * feerate) / 1000n;
    expect(commitment.outputs[bOutput]!.value).toBe(bMsat / 1000n - ldkFee);
    // what the chain sees as fee also holds the sub-satoshi remainders of both balances
    const commitmentFee =
      CAPACITY_SAT - commitment.outputs[cOutput]!.value - commitment.outputs[bOutput]!.value;
    expect(commitmentFee - ldkFee).toBe(CAPACITY_SAT - bMsat / 1000n - cMsat / 1000n);

    // C: its output pays its wallet's static payment key (ldk/signer-provider.ts): a wallet coin from
    // the first confirmation, counted once; LDK's descriptor after ANTI_REORG_DELAY is not swept
    expect(commitment.outputs[cOutput]!.script).toEqual(c.onchain.staticPaymentKey().script);
    const cGain = commitment.outputs[cOutput]!.value;
    expect(c.balances().onchainConfirmedMsat).toBe(cWallet + cGain * 1000n);
    expect(c.balances().closingMsat).toBe(0n);
    expect(c.recoveryStatus()).toEqual([]); // a peer close of a channel C knows is no recovery
    await mine(5);
    await spendableC;
    await mine(1);
    expect(net.devnet.chain.outspend(commitment.txid, cOutput)).toBeUndefined();
    expect(c.pendingSweeps()).toEqual([]);

    // B: to_self only after toSelfDelay blocks; the sweep is refused by the chain before that
    await mine(toSelfDelay - 8);
    expect(net.devnet.chain.outspend(commitment.txid, bOutput)).toBeUndefined();
    for (let i = 0; i < 4 && net.devnet.chain.outspend(commitment.txid, bOutput) === undefined; i++) {
      await mine(1);
      await new Promise((r) => setTimeout(r, 100)); // the sweeper broadcasts in the background
    }
    await spendableB;
    const bSweep = await sweptBy(commitment.txid, bOutput);
    expect(bSweep.inputs[0]!.sequence).toBe(toSelfDelay);
    expect(net.devnet.chain.tipHeight + 1 - confirmedAt).toBeGreaterThanOrEqual(toSelfDelay);
    expect(b.onchain.isMine(bSweep.outputs[0]!.script)).toBe(true);
    await mine(1);

    const sweepFee = (tx: Tx, value: bigint) => value - tx.outputs.reduce((n, o) => n + o.value, 0n);
    const bGain = bSweep.outputs[0]!.value;
    await waitUntil(
      'sweeps land in the wallets',
      () =>
        b.balances().onchainConfirmedMsat === bWallet + bGain * 1000n &&
        c.balances().onchainConfirmedMsat === cWallet + cGain * 1000n,
    );
    // everything adds up: capacity = B's gain + C's gain + commitment fee + B's sweep fee
    const fees = commitmentFee + sweepFee(bSweep, commitment.outputs[bOutput]!.value);
    expect(bGain + cGain + fees).toBe(CAPACITY_SAT);
    expect(sweepFee(bSweep, commitment.outputs[bOutput]!.value)).toBeLessThan(2_000n);

    // once buried, nothing is left pending anywhere
    await mine(6);
    await waitUntil(
      'nothing pending',
      () => b.balances().closingMsat === 0n && c.balances().closingMsat === 0n,
    );
  }, 120_000);

  function rawChannel(node: LightningNode, channelId: string): ldk.ChannelDetails {
    const found = node.ldk.channelManager
      .list_channels()
      .find((ch) => toHex(ch.get_channel_id().get_a()) === channelId);
    if (!found) throw new Error(`no channel ${channelId}`);
    return found;
  }

  /** The tx spending `txid:vout`, once broadcast (mining a block at a time for the sweeper to act). */
  async function sweptBy(txid: string, vout: number): Promise<Tx> {
    for (let i = 0; i < 4; i++) {
      const spend = net.devnet.chain.outspend(txid, vout);
      if (spend) {
        await mine(1);
        return net.devnet.chain.getTransaction(spend.txid)!.tx;
      }
      await mine(1);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${txid}:${vout} was not swept`);
  }
});
