// ChainSync against the devnet, over both sources. The confirmable is a recording
// `ldk.Confirm.new_impl` that behaves like LDK's bookkeeping (it answers get_relevant_txids from
// what it was told), because a real ChannelManager/ChainMonitor needs a whole node: that wiring is
// tested with createNode. Checked here: order of calls, headers/heights/positions, spends of
// watched outputs, reorgs (unconfirm, then confirm in the new block), idempotent re-syncs.

import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import * as btc from '@scure/btc-signer';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initLdkNode } from '../ldk/init-node.ts';
import { bitcoindSource } from './bitcoind.ts';
import { hashFromDisplay, hashToDisplay, headerHash, parseTxIo } from './bytes.ts';
import { esploraSource } from './esplora.ts';
import type { ChainSource } from './source.ts';
import { BLOCK_HISTORY, ChainSync } from './sync.ts';

type Call =
  | { op: 'confirmed'; height: number; block: string; txs: [number, string][] }
  | { op: 'unconfirmed'; txid: string }
  | { op: 'best'; height: number; block: string };

function recorder() {
  const calls: Call[] = [];
  const confirmed = new Map<string, { height: number; block: Uint8Array }>();
  const confirm = ldk.Confirm.new_impl({
    transactions_confirmed(header, txdata, height) {
      const block = headerHash(header);
      const txs = txdata.map((t): [number, string] => [t.get_a(), btc.Transaction.fromRaw(t.get_b()).id]);
      for (const [, txid] of txs) confirmed.set(txid, { height, block: hashFromDisplay(block) });
      calls.push({ op: 'confirmed', height, block, txs });
    },
    transaction_unconfirmed(txid) {
      confirmed.delete(hashToDisplay(txid));
      calls.push({ op: 'unconfirmed', txid: hashToDisplay(txid) });
    },
    best_block_updated(header, height) {
      calls.push({ op: 'best', height, block: headerHash(header) });
    },
    get_relevant_txids() {
      return [...confirmed].map(([txid, at]) =>
        ldk.ThreeTuple_ThirtyTwoBytesu32COption_ThirtyTwoBytesZZ.constructor_new(
          hashFromDisplay(txid),
          at.height,
          ldk.Option_ThirtyTwoBytesZ.constructor_some(at.block),
        ),
      );
    },
  });
  return { confirm, calls, confirmed };
}

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const key = sha256(new TextEncoder().encode('sync-test'));
const spk = btc.p2wpkh(secp256k1.getPublicKey(key, true), REGTEST);

let devnet: Devnet;
beforeAll(async () => {
  await initLdkNode();
  devnet = await startDevnet({ seed: 'sync-test' });
});
afterAll(() => devnet?.stop());

async function fundedOutput(source: ChainSource, sats: bigint) {
  const txid = devnet.fund(spk.address!, sats);
  const vout = parseTxIo((await source.rawTx(txid))!).outputs.findIndex(
    (o) => hex.encode(o.script) === hex.encode(spk.script),
  );
  return { txid, vout };
}

function spend(txid: string, vout: number, valueSat: bigint): Uint8Array {
  const tx = new btc.Transaction();
  tx.addInput({
    txid,
    index: vout,
    witnessUtxo: { script: spk.script, amount: valueSat },
    sequence: 0xfffffffd,
  });
  tx.addOutput({ script: spk.script, amount: valueSat - 1_000n });
  tx.sign(key);
  tx.finalize();
  return tx.extract();
}

describe.each(['esplora', 'esplora block scan', 'bitcoind'] as const)('ChainSync over %s', (kind) => {
  it('confirms watched txs and spends in block order, then the tip; unconfirms on reorg', async () => {
    const source =
      kind === 'bitcoind'
        ? bitcoindSource({ url: devnet.rpcUrl })
        : esploraSource({ url: devnet.esploraUrl });
    const sync = new ChainSync({
      source,
      startHeight: (await source.tip()).height,
      blockScan: kind === 'esplora block scan',
    });
    const { confirm, calls, confirmed } = recorder();
    // a first sync with nothing watched: a block scan then remembers a block below the reorgs
    await sync.sync([confirm]);
    calls.length = 0;

    // LDK registers a tx (funding) and an output (to see its spend) through the Filter
    const watched = await fundedOutput(source, 30_000n);
    const other = await fundedOutput(source, 40_000n);
    sync.filter.ldk.register_tx(hashFromDisplay(watched.txid), spk.script);
    sync.filter.ldk.register_output(
      ldk.WatchedOutput.constructor_new(
        ldk.Option_ThirtyTwoBytesZ.constructor_none(),
        ldk.OutPoint.constructor_new(hashFromDisplay(other.txid), other.vout),
        spk.script,
      ),
    );
    const [b1] = devnet.mine(1);
    const spender = await source.broadcast(spend(other.txid, other.vout, 40_000n));
    const [b2] = devnet.mine(1);

    let report = await sync.sync([confirm]);
    const t1 = await source.txConfirmation(watched.txid);
    const t2 = await source.txConfirmation(spender);
    expect(calls).toEqual([
      { op: 'confirmed', height: b1!.height, block: b1!.hash, txs: [[t1!.position, watched.txid]] },
      { op: 'confirmed', height: b2!.height, block: b2!.hash, txs: [[t2!.position, spender]] },
      { op: 'best', height: b2!.height, block: b2!.hash },
    ]);
    expect(report.tip).toEqual({ hash: b2!.hash, height: b2!.height });

    // nothing new: LDK hears nothing (a repeated tip would be a block again to it, and e.g. make
    // it rebroadcast channel announcements at every sync while the tip sits at a due height)
    calls.length = 0;
    await sync.sync([confirm]);
    expect(calls).toEqual([]);

    // reorg: b2 is replaced; the spend goes back to the mempool and into the new block
    calls.length = 0;
    devnet.chain.invalidateBlock(b2!.hash);
    const [c2, c3] = devnet.mine(2);
    report = await sync.sync([confirm]);
    const t2b = await source.txConfirmation(spender);
    expect(t2b?.blockHash).toBe(c2!.hash);
    expect(calls).toEqual([
      { op: 'unconfirmed', txid: spender },
      { op: 'confirmed', height: c2!.height, block: c2!.hash, txs: [[t2b!.position, spender]] },
      { op: 'best', height: c3!.height, block: c3!.hash },
    ]);
    expect(report.unconfirmed).toEqual([spender]);
    expect(confirmed.get(spender)?.height).toBe(c2!.height);

    // reorg that drops the spend entirely: unconfirmed, and not confirmed again
    calls.length = 0;
    devnet.chain.invalidateBlock(c2!.hash);
    devnet.chain.mempool.remove(spender);
    const [d2] = devnet.mine(1);
    await sync.sync([confirm]);
    expect(calls).toEqual([
      { op: 'unconfirmed', txid: spender },
      { op: 'best', height: d2!.height, block: d2!.hash },
    ]);
  });
});

/** `source` with a count of each method called (how many questions a sync asked). */
function counting(source: ChainSource): { source: ChainSource; asked: Map<string, number> } {
  const asked = new Map<string, number>();
  const counted = new Proxy(source, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        asked.set(String(name), (asked.get(String(name)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return { source: counted, asked };
}

function watchOutputs(sync: ChainSync, outputs: { txid: string; vout: number }[]) {
  for (const o of outputs)
    sync.filter.ldk.register_output(
      ldk.WatchedOutput.constructor_new(
        ldk.Option_ThirtyTwoBytesZ.constructor_none(),
        ldk.OutPoint.constructor_new(hashFromDisplay(o.txid), o.vout),
        spk.script,
      ),
    );
}

describe('ChainSync block scan over Esplora (an LSP)', () => {
  it('a restart reads only the blocks since its last sync, however many outputs it watches', async () => {
    const plain = esploraSource({ url: devnet.esploraUrl });
    const watched = [];
    for (let i = 0; i < 12; i++) watched.push(await fundedOutput(plain, 20_000n + BigInt(i)));
    devnet.mine(1);
    const first = new ChainSync({ source: plain, blockScan: true, startHeight: (await plain.tip()).height });
    watchOutputs(first, watched);
    const before = recorder();
    await first.sync([before.confirm]);
    await first.sync([before.confirm]); // a block scan from here on: its history is saved
    const saved = first.saved();

    // while it is down: one watched output is spent and three blocks pass
    const spender = await plain.broadcast(spend(watched[3]!.txid, watched[3]!.vout, 20_003n));
    const [b1, , b3] = devnet.mine(3);
    const { source, asked } = counting(plain);
    const restarted = new ChainSync({
      source,
      blockScan: true,
      saved,
      startHeight: (await plain.tip()).height - 3,
    });
    watchOutputs(restarted, watched); // LDK registers its outputs again when its monitors are read
    const after = recorder();
    const report = await restarted.sync([after.confirm]);

    expect(report.confirmed).toEqual([spender]);
    expect(after.calls).toEqual([
      { op: 'confirmed', height: b1!.height, block: b1!.hash, txs: [[expect.any(Number), spender]] },
      { op: 'best', height: b3!.height, block: b3!.hash },
    ]);
    expect(asked.get('block')).toBe(3);
    expect(asked.get('outspend')).toBeUndefined();
    expect(asked.get('txConfirmation')).toBeUndefined();
    // the close's outputs are known after the next restart too (balances follow them)
    const again = new ChainSync({ source: plain, blockScan: true, saved: restarted.saved() });
    expect(again.confirmedSpend(`${watched[3]!.txid}:${watched[3]!.vout}`)?.txid).toBe(spender);
  });

  it('a reorg while it was down: unconfirmed from the saved history, confirmed in the new block', async () => {
    const source = esploraSource({ url: devnet.esploraUrl });
    const funded = await fundedOutput(source, 31_000n);
    const first = new ChainSync({ source, blockScan: true, startHeight: (await source.tip()).height });
    const ldkState = recorder();
    await first.sync([ldkState.confirm]);
    watchOutputs(first, [funded]);
    const spender = await source.broadcast(spend(funded.txid, funded.vout, 31_000n));
    const [x] = devnet.mine(1);
    await first.sync([ldkState.confirm]);
    expect(ldkState.confirmed.get(spender)?.height).toBe(x!.height);
    const saved = first.saved();

    devnet.chain.invalidateBlock(x!.hash); // the spend goes back to the mempool
    const [y1, y2] = devnet.mine(2);
    const restarted = new ChainSync({ source, blockScan: true, saved, startHeight: x!.height });
    watchOutputs(restarted, [funded]);
    ldkState.calls.length = 0;
    await restarted.sync([ldkState.confirm]);
    const moved = await source.txConfirmation(spender);
    expect(moved?.blockHash).toBe(y1!.hash);
    expect(ldkState.calls).toEqual([
      { op: 'unconfirmed', txid: spender },
      { op: 'confirmed', height: y1!.height, block: y1!.hash, txs: [[moved!.position, spender]] },
      { op: 'best', height: y2!.height, block: y2!.hash },
    ]);
  });

  it('further behind than its history: asks per item, then scans blocks again', async () => {
    const plain = esploraSource({ url: devnet.esploraUrl });
    const funded = await fundedOutput(plain, 32_000n);
    const first = new ChainSync({ source: plain, blockScan: true, startHeight: (await plain.tip()).height });
    await first.sync([recorder().confirm]);
    const saved = first.saved();

    const spender = await plain.broadcast(spend(funded.txid, funded.vout, 32_000n));
    const [s] = devnet.mine(1);
    devnet.mine(BLOCK_HISTORY + 5);
    const { source, asked } = counting(plain);
    const restarted = new ChainSync({ source, blockScan: true, saved, startHeight: s!.height - 1 });
    watchOutputs(restarted, [funded]);
    const ldkState = recorder();
    const report = await restarted.sync([ldkState.confirm]);
    expect(report.confirmed).toEqual([spender]);
    expect(ldkState.confirmed.get(spender)?.height).toBe(s!.height);
    expect(asked.get('block')).toBeUndefined();
    expect(asked.get('outspend')).toBe(1);

    asked.clear();
    devnet.mine(2);
    await restarted.sync([ldkState.confirm]);
    expect(asked.get('block')).toBe(2);
    expect(asked.get('outspend')).toBeUndefined();
  });

  it('a fresh node (nothing saved) asks per item first, then scans blocks', async () => {
    const plain = esploraSource({ url: devnet.esploraUrl });
    const { source, asked } = counting(plain);
    const fresh = new ChainSync({ source, blockScan: true });
    const funded = await fundedOutput(plain, 33_000n);
    fresh.filter.ldk.register_tx(hashFromDisplay(funded.txid), spk.script);
    const [f] = devnet.mine(1);
    const ldkState = recorder();
    await fresh.sync([ldkState.confirm]);
    expect(ldkState.confirmed.get(funded.txid)?.height).toBe(f!.height);
    expect(asked.get('txConfirmation')).toBe(1);
    expect(asked.get('block')).toBeUndefined();
    asked.clear();
    devnet.mine(1);
    await fresh.sync([ldkState.confirm]);
    expect(asked.get('block')).toBe(1);
    expect(asked.get('txConfirmation')).toBeUndefined();
  });

  it('an unreadable saved state costs a per-item sync, never a wrong one', async () => {
    const source = esploraSource({ url: devnet.esploraUrl });
    const funded = await fundedOutput(source, 34_000n);
    const [f] = devnet.mine(1);
    const sync = new ChainSync({
      source,
      blockScan: true,
      saved: new TextEncoder().encode('{"v":1,"blocks":[[1,"nothex"]]}'),
      startHeight: (await source.tip()).height,
    });
    sync.filter.ldk.register_tx(hashFromDisplay(funded.txid), spk.script);
    const ldkState = recorder();
    await sync.sync([ldkState.confirm]);
    expect(ldkState.confirmed.get(funded.txid)?.height).toBe(f!.height);
  });
});
