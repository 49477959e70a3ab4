// The on-chain wallet against the devnet (whose mempool verifies every input script): faucet
// funding, balances, channel funding txs the network accepts, change, typed insufficient funds,
// RBF replacement, restart from the Store, and the bitcoind block-scan sync.

import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { mnemonicToSeedSync } from '@scure/bip39';
import * as btc from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitcoindSource } from '../chain/bitcoind.ts';
import { parseTxIo } from '../chain/bytes.ts';
import { type EsploraSource, esploraSource } from '../chain/esplora.ts';
import type { ChainSource } from '../chain/source.ts';
import { MemoryStore } from '../persist/memory.ts';
import { isWalletError } from './errors.ts';
import { bip84AccountPath, OnchainWallet, REGTEST_NETWORK as REGTEST_ADDRESSES } from './onchain.ts';

const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const seed = mnemonicToSeedSync(MNEMONIC);
const FEERATE = 1_000; // sat/kW = 4 sat/vB

let devnet: Devnet;
let esplora: ChainSource;
let bitcoind: ChainSource;

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'wallet-test' });
  esplora = esploraSource({ url: devnet.esploraUrl });
  bitcoind = bitcoindSource({ url: devnet.rpcUrl });
});
afterAll(() => devnet?.stop());

/** A P2WSH script like a channel's funding output. */
const fundingScript = (tag: string) =>
  btc.OutScript.encode({ type: 'wsh', hash: sha256(new TextEncoder().encode(tag)) });

describe('OnchainWallet', () => {
  it('derives BIP 84 addresses (the spec test vector on mainnet, bcrt1 on regtest)', async () => {
    expect(bip84AccountPath('mainnet')).toBe("m/84'/0'/0'");
    expect(bip84AccountPath('regtest')).toBe("m/84'/1'/0'");
    const main = await OnchainWallet.open({ seed, network: 'mainnet', source: esplora });
    // BIP 84 test vector: first receive address of the "abandon … about" mnemonic
    expect(await main.newAddress()).toBe('bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu');
    const regtest = await OnchainWallet.open({ seed, network: 'regtest', source: esplora });
    expect(await regtest.newAddress()).toMatch(/^bcrt1q/);
  });

  it('a restore finds coins up to 20 unused addresses past the last used one, and none further', async () => {
    const seedB = new Uint8Array(64).fill(7);
    const giver = await OnchainWallet.open({ seed: seedB, network: 'regtest', source: esplora });
    const addresses: string[] = [];
    for (let i = 0; i <= 60; i++) addresses.push(await giver.newAddress());
    devnet.fund(addresses[19]!, 10_000n); // 19 unused before it: within the gap
    devnet.fund(addresses[39]!, 20_000n); // 19 unused since 19: within the gap
    devnet.fund(addresses[60]!, 40_000n); // 20 unused since 39: past the gap, not looked for
    // a wallet from the same seed and nothing else, as after a words-only restore
    const restored = await OnchainWallet.open({ seed: seedB, network: 'regtest', source: esplora });
    await restored.sync();
    expect(restored.balance().totalSat).toBe(30_000n);
    expect(await restored.newAddress()).toBe(addresses[40]);
  });

  it('a restart first asks about the handed-out scripts only; the next sync scans the gap and finds coins the same words got elsewhere', async () => {
    const seedC = new Uint8Array(64).fill(9);
    const store = new MemoryStore();
    const wallet = await OnchainWallet.open({ seed: seedC, network: 'regtest', source: esplora, store });
    devnet.fund(await wallet.newAddress(), 10_000n);
    await wallet.sync();
    // another device with these words hands out addresses this one never did, and is paid to one
    const other = await OnchainWallet.open({ seed: seedC, network: 'regtest', source: esplora });
    let elsewhere = '';
    for (let i = 0; i < 5; i++) elsewhere = await other.newAddress();
    devnet.fund(elsewhere, 20_000n);

    let asked = 0;
    const counted: EsploraSource = Object.assign(Object.create(esplora), {
      scriptHistory: (scripthash: string) => {
        asked++;
        return (esplora as EsploraSource).scriptHistory(scripthash);
      },
    });
    const reopened = await OnchainWallet.open({
      seed: seedC,
      network: 'regtest',
      source: counted,
      store,
      stored: await store.load(),
    });
    await reopened.sync();
    // one receive and one change script handed out (the channels' static key), 2 past each: one round trip
    expect(asked).toBe(6);
    expect(reopened.balance().totalSat).toBe(10_000n);
    await reopened.sync();
    expect(reopened.balance().totalSat).toBe(30_000n);
    // and it never hands out the address the other device was paid to
    expect(await reopened.newAddress()).not.toBe(elsewhere);
  });

  it('receives, funds a channel, keeps change, bumps a payment, survives a restart', async () => {
    const store = new MemoryStore();
    const wallet = await OnchainWallet.open({ seed, network: 'regtest', source: esplora, store });
    const a1 = await wallet.newAddress();
    const a2 = await wallet.newAddress();
    expect(a1).not.toBe(a2);
    devnet.fund(a1, 200_000n);
    devnet.fund(a2, 100_000n);
    await wallet.sync();
    expect(wallet.balance()).toEqual({ confirmedSat: 0n, unconfirmedSat: 300_000n, totalSat: 300_000n });
    devnet.mine(1);
    await wallet.sync();
    expect(wallet.balance()).toEqual({ confirmedSat: 300_000n, unconfirmedSat: 0n, totalSat: 300_000n });

    // more than there is: typed error with the numbers
    const err = await wallet.buildFundingTx(fundingScript('too-big'), 400_000n, FEERATE).catch((e) => e);
    expect(isWalletError(err, 'INSUFFICIENT_FUNDS')).toBe(true);
    expect(err.availableSat).toBe(300_000n);

    // channel funding: P2WSH output, segwit inputs only, change to us; the devnet verifies the scripts
    const script = fundingScript('channel-1');
    const funding = await wallet.buildFundingTx(script, 250_000n, FEERATE);
    const tx = btc.Transaction.fromRaw(funding.raw);
    expect(tx.inputsLength).toBe(2); // 200k alone is not enough
    for (let i = 0; i < tx.inputsLength; i++) expect(tx.getInput(i).finalScriptWitness?.length).toBe(2);
    expect(hex.encode(tx.getOutput(0).script!)).toBe(hex.encode(script));
    expect(funding.changeVout).toBe(1);
    const change = tx.getOutput(1).amount!;
    expect(change + 250_000n + funding.feeSat).toBe(300_000n);
    expect(wallet.isMine(tx.getOutput(1).script!)).toBe(true);
    // fee at least the asked rate, at most ~5% over (signature size estimate)
    const minFee = BigInt(Math.ceil((tx.weight * FEERATE) / 1000));
    expect(funding.feeSat >= minFee && funding.feeSat <= (minFee * 105n) / 100n).toBe(true);
    // reserved: the same coins are not handed out twice while LDK holds the funding tx
    expect(
      isWalletError(
        await wallet.buildFundingTx(script, 10_000n, FEERATE).catch((e) => e),
        'INSUFFICIENT_FUNDS',
      ),
    ).toBe(true);
    expect(await esplora.broadcast(funding.raw)).toBe(funding.txid);
    devnet.mine(1);
    await wallet.sync();
    expect(wallet.balance()).toEqual({ confirmedSat: change, unconfirmedSat: 0n, totalSat: change });

    // a payment, then a fee bump that replaces it in the devnet mempool
    const dest = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
    const paid = await wallet.send(dest, 10_000n, 253);
    expect(await esplora.txStatus(paid)).toEqual({ confirmed: false });
    const bumped = await wallet.bumpFee(paid, 2_000);
    expect(bumped).not.toBe(paid);
    expect(await esplora.txStatus(bumped)).toEqual({ confirmed: false });
    expect(await esplora.txStatus(paid)).toBeNull(); // evicted by the replacement
    const bumpedIo = parseTxIo((await esplora.rawTx(bumped))!);
    expect(bumpedIo.outputs.some((o) => o.valueSat === 10_000n)).toBe(true);
    // a funding tx is never bumped (its txid is the channel's)
    expect(isWalletError(await wallet.bumpFee(funding.txid, 5_000).catch((e) => e), 'NOT_REPLACEABLE')).toBe(
      true,
    );
    devnet.mine(1);
    await wallet.sync();
    const afterBump = wallet.balance();
    expect(afterBump.unconfirmedSat).toBe(0n);
    expect(afterBump.confirmedSat).toBeLessThan(change - 10_000n);
    expect(wallet.utxos().every((u) => u.txid === bumped)).toBe(true);

    // restart from the store: same balance before any sync, and addresses are not reused
    const reopened = await OnchainWallet.open({
      seed,
      network: 'regtest',
      source: esplora,
      store,
      stored: await store.load(),
    });
    expect(reopened.balance()).toEqual(afterBump);
    const a3 = await reopened.newAddress();
    expect([a1, a2]).not.toContain(a3);
    await reopened.sync();
    expect(reopened.balance()).toEqual(afterBump);
  });

  it('releases the coins of a funding tx that will never be broadcast', async () => {
    const wallet = await OnchainWallet.open({ seed: seed.slice(0, 32), network: 'regtest', source: esplora });
    devnet.fund(await wallet.newAddress(), 50_000n, { confirmations: 1 });
    await wallet.sync();
    const funding = await wallet.buildFundingTx(fundingScript('discarded'), 40_000n, FEERATE);
    expect(wallet.balance().confirmedSat).toBe(0n);
    await wallet.releaseTx(funding.txid);
    expect(wallet.balance().confirmedSat).toBe(50_000n);
  });

  it('finds the same coins by scanning blocks over bitcoind RPC', async () => {
    const birthHeight = (await bitcoind.tip()).height;
    const scanSeed = sha256(new TextEncoder().encode('scan-wallet'));
    const viaRpc = await OnchainWallet.open({
      seed: scanSeed,
      network: 'regtest',
      source: bitcoind,
      birthHeight,
    });
    const viaEsplora = await OnchainWallet.open({ seed: scanSeed, network: 'regtest', source: esplora });
    const address = await viaRpc.newAddress();
    await viaEsplora.newAddress();
    devnet.fund(address, 70_000n, { confirmations: 1 });
    await viaRpc.sync();
    await viaEsplora.sync();
    expect(viaRpc.balance().confirmedSat).toBe(70_000n);
    expect(viaRpc.utxos().map((u) => [u.txid, u.vout])).toEqual(
      viaEsplora.utxos().map((u) => [u.txid, u.vout]),
    );
    // spend it, see the spend confirmed by the scan
    const sent = await viaRpc.send('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 20_000n, 1_000);
    devnet.mine(1);
    await viaRpc.sync();
    expect(viaRpc.utxos().map((u) => u.txid)).toEqual([sent]);
    expect(viaRpc.balance().unconfirmedSat).toBe(0n);
    // a reorg takes the spend's block away: its change counts as unconfirmed until mined again
    const change = viaRpc.balance().confirmedSat;
    devnet.chain.invalidateBlock((await bitcoind.tip()).hash);
    await viaRpc.sync();
    expect(viaRpc.balance()).toEqual({ confirmedSat: 0n, unconfirmedSat: change, totalSat: change });
    devnet.mine(2);
    await viaRpc.sync();
    expect(viaRpc.balance()).toEqual({ confirmedSat: change, unconfirmedSat: 0n, totalSat: change });
  });

  it('an LSP wallet (block scan over Esplora) reads new blocks, not every script, also after a restart', async () => {
    const lspSeed = sha256(new TextEncoder().encode('lsp-wallet'));
    const store = new MemoryStore();
    const calls = new Map<string, number>();
    const counted = new Proxy(esplora as EsploraSource, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
          return value.apply(target, args);
        };
      },
    });
    const open = async () =>
      OnchainWallet.open({
        seed: lspSeed,
        network: 'regtest',
        source: counted,
        store,
        stored: await store.load(),
        blockScan: true,
      });
    const wallet = await open();
    const change: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) change.push(await wallet.newChangeScript()); // as channel opens do
    await wallet.sync(); // a store's first sync asks about every script
    expect(calls.get('scriptHistory')).toBeGreaterThan(50); // 31 revealed + 2 × 20 look-ahead, in batches

    calls.clear();
    devnet.fund(await wallet.newAddress(), 15_000n, { confirmations: 1 });
    await wallet.sync();
    expect(wallet.balance().confirmedSat).toBe(15_000n);
    expect(calls.get('scriptHistory')).toBeUndefined();
    expect(calls.get('block')).toBe(1);

    // down for two blocks, one of which pays a change script a channel close would use
    const closeTo = btc.Address(REGTEST_ADDRESSES).encode(btc.OutScript.decode(change[17]!));
    devnet.fund(closeTo, 25_000n, { confirmations: 1 });
    devnet.mine(1);
    calls.clear();
    const restarted = await open();
    expect(await restarted.newAddress()).toBe(await wallet.newAddress()); // the restart resumes where it was
    await restarted.sync();
    expect(restarted.balance().confirmedSat).toBe(40_000n);
    expect(calls.get('scriptHistory')).toBeUndefined();
    expect(calls.get('block')).toBe(2);
  });

  it('a damaged stored script never leaves the wallet: addresses are derived when handed out', async () => {
    const seedD = sha256(new TextEncoder().encode('stored-scripts'));
    const reference = await OnchainWallet.open({ seed: seedD, network: 'regtest', source: esplora });
    const addresses = [];
    for (let i = 0; i < 3; i++) addresses.push(await reference.newAddress());
    const store = new MemoryStore();
    const first = await OnchainWallet.open({ seed: seedD, network: 'regtest', source: esplora, store });
    await first.newAddress();
    await first.newAddress();
    const stored = await store.load();
    const key = 'wallet/onchain/scripts/0/0';
    const record = stored.get(key)!;
    expect(record.length).toBe(4 + 22 * 20 + 4); // two handed out and the 20-script look-ahead
    // the next receive script replaced by another key's hash, under a checksum that matches
    const body = record.slice(0, record.length - 4);
    const foreign = sha256(new TextEncoder().encode('not ours')).subarray(0, 20);
    body.set(foreign, 4 + 2 * 20);
    const damaged = new Uint8Array(record.length);
    damaged.set(body);
    damaged.set(sha256(body).subarray(0, 4), body.length);
    stored.set(key, damaged);

    const wallet = await OnchainWallet.open({ seed: seedD, network: 'regtest', source: esplora, stored });
    expect(await wallet.newAddress()).toBe(addresses[2]);
    expect(wallet.isMine(Uint8Array.of(0x00, 0x14, ...foreign))).toBe(false);
    // a record under another chain key (other words, another network) is not used at all
    const other = await OnchainWallet.open({
      seed: sha256(new TextEncoder().encode('other words')),
      network: 'regtest',
      source: esplora,
      stored: await store.load(),
    });
    expect(other.isMine(btc.OutScript.encode(btc.Address(REGTEST_ADDRESSES).decode(addresses[0]!)))).toBe(
      false,
    );
  });
  it('a save writes what changed, not the history before it; a failed one is written again; the old whole-state format still opens', async () => {
    const fundSeed = sha256(new TextEncoder().encode('many-fundings'));
    class CountingStore extends MemoryStore {
      bytes: number[] = [];
      override commit(writes: { key: string; value: Uint8Array | null }[]) {
        this.bytes.push(writes.reduce((n, w) => n + w.key.length + (w.value?.length ?? 0), 0));
        return super.commit(writes);
      }
    }
    const store = new CountingStore();
    const open = async (from: MemoryStore) =>
      OnchainWallet.open({
        seed: fundSeed,
        network: 'regtest',
        source: esplora,
        store: from,
        stored: await from.load(),
      });
    const wallet = await open(store);
    devnet.fund(await wallet.newAddress(), 30_000n, { outputs: 12, confirmations: 1 });
    await wallet.sync();

    // an LSP's channel opens: each funding tx spends a coin and pays change back to the wallet
    const recorded: number[] = [];
    for (let i = 0; i < 10; i++) {
      const funding = await wallet.buildFundingTx(fundingScript(`many-${i}`), 20_000n, FEERATE);
      recorded.push(store.bytes.at(-1)!); // the save of the new funding tx
      await esplora.broadcast(funding.raw);
      await wallet.sync();
    }
    // the whole-state format wrote every earlier tx again (~300 bytes each): 2,700 bytes more by the 10th
    expect(recorded[9]! - recorded[0]!).toBeLessThan(300);

    // a block confirms them all, but its save fails: the next save writes those statuses again
    devnet.mine(1);
    store.failNext = 1;
    await expect(wallet.sync()).rejects.toThrow();
    await wallet.sync();
    // in txid order: transactions() orders by height only
    const txsOf = (w: OnchainWallet) => w.transactions().sort((a, b) => a.txid.localeCompare(b.txid));
    const before = txsOf(wallet);
    expect(before.filter((t) => t.kind === 'funding' && t.status.confirmed)).toHaveLength(10);
    const reopened = await open(store);
    expect(txsOf(reopened)).toEqual(before);
    expect(reopened.balance()).toEqual(wallet.balance());

    // a store written before per-tx records (one state holding the history and kinds) opens the same
    const stored = await store.load();
    const legacy = new MemoryStore();
    const state = JSON.parse(new TextDecoder().decode(stored.get('wallet/onchain/state')));
    const history = [];
    const kinds = [];
    for (const [key, value] of stored) {
      const text = new TextDecoder().decode(value);
      if (key.startsWith('wallet/onchain/tx/')) history.push({ txid: key.slice(18), ...JSON.parse(text) });
      else if (key.startsWith('wallet/onchain/kind/')) kinds.push([key.slice(20), text]);
      else if (!key.startsWith('wallet/onchain/state')) legacy.data.set(key, value);
    }
    expect(history).toHaveLength(11);
    const v1 = { ...state, v: 1, history, kinds };
    legacy.data.set('wallet/onchain/state', new TextEncoder().encode(JSON.stringify(v1)));
    const migrated = await open(legacy);
    expect(txsOf(migrated)).toEqual(before);
    await migrated.newAddress(); // a save: the history moves to records of its own
    expect([...legacy.data.keys()].filter((k) => k.startsWith('wallet/onchain/tx/'))).toHaveLength(11);
    expect(txsOf(await open(legacy))).toEqual(before);
  });
});
