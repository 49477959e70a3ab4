// Leaving without the peer: the on-chain payment handle on the devnet. Two channels of one node
// closed (cooperatively, then by force), the cooperative one a wallet coin at once, the forced
// one's claimable amount and CSV countdown reported, the sweep into the wallet, bad sends refused
// with nothing spent, and everything sent to an outside address that the chain's UTXO set then
// holds, less the fee shown first.

import { fundingBroadcast, waitUntil } from '@lpw/devnet-chain';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hex } from '@scure/base';
import * as btc from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNodeError } from '../src/errors.ts';
import type { LightningNode } from '../src/node.ts';
import { inMemory } from '../src/transport/memory.ts';
import { REGTEST_NETWORK } from '../src/wallet/onchain.ts';
import { type TestNet, testNet } from './harness.ts';

const CAPACITY_SAT = 100_000n;
// an address of nobody in the test: where the wallet's coins leave to
const outside = btc.p2wpkh(secp256k1.getPublicKey(new Uint8Array(32).fill(0x42)), REGTEST_NETWORK);

describe('on-chain exit: close, sweep, send out', () => {
  let net: TestNet;
  let f: LightningNode;
  let g: LightningNode;
  const mine = (n: number) => net.mine(n, [f, g]);

  beforeAll(async () => {
    net = await testNet('onchain-exit-tests');
    f = (await net.make('f', 0xe1)).node;
    g = (await net.make('g', 0xe2)).node;
    // two confirmed coins: each channel is funded from one
    await net.fund(f, 150_000n);
    await net.fund(f, 150_000n);
    await f.connect(g.nodeId, inMemory(g));
    for (let i = 0; i < 2; i++) {
      const pending = f.waitFor('channel-pending', undefined, 15_000);
      f.openChannel({ peerId: g.nodeId, capacitySat: CAPACITY_SAT });
      // channel-pending comes as the funding tx is handed over; it reaches the devnet just after
      await fundingBroadcast(net.devnet.chain, (await pending).fundingTxo);
    }
    await mine(6);
    await waitUntil(
      'two usable channels',
      () => f.listChannels().filter((c) => c.isUsable).length === 2,
      15_000,
    );
  }, 60_000);

  afterAll(async () => {
    await f?.stop();
    await g?.stop();
    await net?.stop();
  });

  it('reports each closing channel apart, with its CSV countdown, then sweeps it into the wallet', async () => {
    const [coop, forced] = f.listChannels();
    const toSelfDelay = forced!.toSelfDelay!;
    const closedCoop = f.waitFor('channel-closed', (e) => e.channelId === coop!.channelId, 20_000);
    f.closeChannel(coop!.channelId);
    await closedCoop;
    const closedForced = f.waitFor('channel-closed', (e) => e.channelId === forced!.channelId, 20_000);
    f.closeChannel(forced!.channelId, { force: true });
    await closedForced;
    await waitUntil('both closing txs broadcast', () => net.devnet.chain.mempool.ordered().length === 2);
    await mine(1);

    const closing = f.onchainPayment.closingChannels();
    const byId = new Map(closing.map((c) => [c.channelId, c]));
    // the cooperative close pays the wallet directly: a wallet coin at once, not money on its way
    expect([...byId.keys()]).toEqual([forced!.channelId]);
    expect(f.balances().onchainConfirmedMsat).toBeGreaterThan(CAPACITY_SAT * 1000n - 5_000_000n);
    const forcedView = byId.get(forced!.channelId)!;
    // the funder pays the commitment fee: a little below the channel's whole capacity
    expect(forcedView.claimableMsat).toBeLessThan(CAPACITY_SAT * 1000n);
    expect(forcedView.claimableMsat).toBeGreaterThan(CAPACITY_SAT * 1000n - 5_000_000n);
    expect(forcedView.outputs[0]).toMatchObject({
      kind: 'awaiting-confirmations',
      source: 'our-force-close',
    });
    // confirmed one block ago: the CSV delay minus that block, in hours at 10 min a block
    expect(forcedView.blocksLeft).toBe(toSelfDelay - 1);
    expect(forcedView.hoursLeft).toBe(Math.round(((toSelfDelay - 1) * 10) / 6) / 10);

    await mine(toSelfDelay - 1);
    await waitUntil(
      'the to_self output is being swept',
      () => net.devnet.chain.mempool.ordered().length === 1,
      15_000,
    );
    // once the wallet sees the sweep it is an unconfirmed coin of the wallet, no longer a pending sweep
    const sweep = net.devnet.chain.mempool.ordered()[0]!;
    await f.syncChain();
    expect(f.onchainPayment.pendingSweeps()).toEqual([]);
    expect(f.onchainPayment.balance().unconfirmedMsat).toBe(forcedView.claimableMsat - sweep.fee * 1000n);
    await mine(1);
    expect(f.onchainPayment.pendingSweeps()).toEqual([]);
    expect(f.onchainPayment.closingChannels()).toEqual([]);
    const wallet = f.onchainPayment.balance();
    expect(wallet.unconfirmedMsat).toBe(0n);
    // both channels' money is back on chain, less the closing and sweep fees
    expect(wallet.confirmedMsat).toBeGreaterThan(2n * CAPACITY_SAT * 1000n - 10_000_000n);
  }, 120_000);

  it('refuses bad sends with typed errors and spends nothing', async () => {
    const before = f.onchainPayment.balance();
    const mempool = net.devnet.chain.mempool.ordered().length;
    const refused = (destination: string, amountMsat?: bigint | 'all') => {
      try {
        f.onchainPayment.prepareSend({ destination, ...(amountMsat !== undefined ? { amountMsat } : {}) });
      } catch (e) {
        if (isNodeError(e)) return e.code;
        throw e;
      }
      return 'accepted';
    };
    expect(refused('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 10_000_000n)).toBe('WRONG_NETWORK');
    expect(refused(`bitcoin:${outside.address}?amount=1.2.3`)).toBe('INVALID_URI');
    expect(refused('bitcoin:?amount=0.001')).toBe('INVALID_URI');
    expect(refused('bcrt1qnotanaddress', 10_000_000n)).toBe('INVALID_ADDRESS');
    expect(refused(outside.address!, 100_000n)).toBe('AMOUNT_BELOW_DUST');
    expect(refused(outside.address!, before.confirmedMsat)).toBe('INSUFFICIENT_FUNDS');
    expect(refused(outside.address!, 1_500n)).toBe('INVALID_INPUT'); // not whole sats
    expect(refused(`bitcoin:${outside.address}?amount=0.001`, 50_000_000n)).toBe('INVALID_INPUT');
    expect(f.onchainPayment.balance()).toEqual(before);
    expect(net.devnet.chain.mempool.ordered()).toHaveLength(mempool);
  });

  it('sends everything to an outside address (BIP 21), the fee known before signing', async () => {
    const before = f.onchainPayment.balance().confirmedMsat;
    const prepared = f.onchainPayment.prepareSend({
      destination: `bitcoin:${outside.address}?label=savings`,
      amountMsat: 'all',
    });
    expect(prepared).toMatchObject({ address: outside.address, sendsAll: true, label: 'savings' });
    expect(prepared.amountMsat + prepared.feeMsat).toBe(before);
    expect(net.devnet.chain.mempool.ordered()).toEqual([]); // nothing signed or sent yet
    const txid = await f.onchainPayment.send(prepared);
    await expect(f.onchainPayment.send(prepared)).rejects.toThrow(/SEND_OUTDATED/);
    await mine(1);
    const coins = net.devnet.chain.unspentFor(outside.script, false);
    expect(coins.map((c) => [c.txid, c.value])).toEqual([[txid, prepared.amountMsat / 1000n]]);
    expect(net.devnet.chain.getTransaction(txid)!.fee).toBe(prepared.feeMsat / 1000n);
    expect(f.onchainPayment.balance()).toEqual({ confirmedMsat: 0n, unconfirmedMsat: 0n });
    expect(hex.encode(outside.script)).toMatch(/^0014/);
  });
});
