// Broadcaster: LDK's callback never throws and sends in the background; rejected txs are logged
// with the reject string; a tx dropped by a reorg is sent again; buried txs are forgotten.

import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet-chain';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import * as btc from '@scure/btc-signer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initLdkNode } from '../ldk/init-node.ts';
import { ChainBroadcaster } from './broadcaster.ts';
import { parseTxIo } from './bytes.ts';
import { esploraSource } from './esplora.ts';
import type { ChainLog } from './source.ts';

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const key = sha256(new TextEncoder().encode('broadcaster-test'));
const spk = btc.p2wpkh(secp256k1.getPublicKey(key, true), REGTEST);

let devnet: Devnet;
beforeAll(async () => {
  await initLdkNode();
  devnet = await startDevnet({ seed: 'broadcaster-test' });
});
afterAll(() => devnet?.stop());

const settle = () => new Promise((r) => setTimeout(r, 100));

it('rebroadcasts a tx a reorg dropped, logs rejects, forgets buried txs', async () => {
  const source = esploraSource({ url: devnet.esploraUrl });
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log: ChainLog = (level, message, fields) => logs.push({ level, message, fields });
  const broadcaster = new ChainBroadcaster({ source, log });

  const fundTxid = devnet.fund(spk.address!, 50_000n, { confirmations: 1 });
  const vout = parseTxIo((await source.rawTx(fundTxid))!).outputs.findIndex(
    (o) => hex.encode(o.script) === hex.encode(spk.script),
  );
  const tx = new btc.Transaction();
  tx.addInput({ txid: fundTxid, index: vout, witnessUtxo: { script: spk.script, amount: 50_000n } });
  tx.addOutput({ script: spk.script, amount: 49_000n });
  tx.sign(key);
  tx.finalize();
  const raw = tx.extract();

  // through LDK's interface: returns at once, sends in the background
  broadcaster.ldk.broadcast_transactions([raw, new Uint8Array([1, 2, 3])]);
  const rejected = () =>
    logs.some(
      (l) => l.message === 'broadcast rejected' && /^TX decode failed/.test(String(l.fields?.reason)),
    );
  // both answers come back in the background: wait for them (bounded) rather than a fixed pause,
  // which a loaded machine outlasts
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await settle())
    if (rejected() && (await source.txStatus(tx.id)) !== null) break;
  expect(await source.txStatus(tx.id)).toEqual({ confirmed: false });
  expect(rejected()).toBe(true);

  const [block] = devnet.mine(1);
  expect((await broadcaster.rebroadcast()).sent).toEqual([]);
  // the block is reorged out and its tx does not come back by itself
  devnet.chain.invalidateBlock(block!.hash);
  devnet.chain.mempool.remove(tx.id);
  devnet.mine(1);
  expect(await source.txStatus(tx.id)).toBeNull();
  expect((await broadcaster.rebroadcast()).sent).toContain(tx.id);
  expect(await source.txStatus(tx.id)).toEqual({ confirmed: false });

  devnet.mine(6);
  const report = await broadcaster.rebroadcast();
  expect(report.forgotten).toContain(tx.id);
  expect(broadcaster.pending()).not.toContain(tx.id);
});

it("does not post a tx LDK hands over again while the source's acceptance is fresh", async () => {
  const inner = esploraSource({ url: devnet.esploraUrl });
  let posts = 0;
  let answered = 0;
  const source: typeof inner = Object.assign(Object.create(inner) as typeof inner, {
    broadcast: async (raw: Uint8Array) => {
      posts++;
      try {
        return await inner.broadcast(raw);
      } finally {
        answered++;
      }
    },
  });
  // the post happens in the background: wait for the source's answer (bounded), which a fixed pause
  // on a loaded machine can miss — the acceptance it records is what the next call is judged by
  const answeredAll = () => waitUntil('the source to answer every post', () => answered === posts, 10_000);
  let now = 1_000_000;
  const broadcaster = new ChainBroadcaster({ source, now: () => now });
  const fundTxid = devnet.fund(spk.address!, 40_000n, { confirmations: 1 });
  const vout = parseTxIo((await inner.rawTx(fundTxid))!).outputs.findIndex(
    (o) => hex.encode(o.script) === hex.encode(spk.script),
  );
  const tx = new btc.Transaction();
  tx.addInput({ txid: fundTxid, index: vout, witnessUtxo: { script: spk.script, amount: 40_000n } });
  tx.addOutput({ script: spk.script, amount: 39_000n });
  tx.sign(key);
  tx.finalize();
  const raw = tx.extract();

  broadcaster.ldk.broadcast_transactions([raw]);
  await waitUntil('the first post', () => posts === 1, 10_000);
  await answeredAll();
  // LDK resends an unconfirmed funding tx on every completed monitor update
  for (let i = 0; i < 5; i++) broadcaster.ldk.broadcast_transactions([raw]);
  await settle();
  expect(posts).toBe(1);
  // a minute on, it is sent again; the source dropping it is rebroadcast()'s job meanwhile
  now += 60_000;
  broadcaster.ldk.broadcast_transactions([raw]);
  await waitUntil('the post a minute on', () => posts === 2, 10_000);
  await answeredAll();
  devnet.chain.mempool.remove(tx.id);
  expect((await broadcaster.rebroadcast()).sent).toContain(tx.id);
  expect(posts).toBe(3);
});

it("never sends a transaction a veto names (a restored channel's commitment), nor later", async () => {
  const source = esploraSource({ url: devnet.esploraUrl });
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  const broadcaster = new ChainBroadcaster({
    source,
    log: (_l, message, fields) => logs.push({ message, fields }),
  });
  const fundTxid = devnet.fund(spk.address!, 40_000n, { confirmations: 1 });
  const vout = parseTxIo((await source.rawTx(fundTxid))!).outputs.findIndex(
    (o) => hex.encode(o.script) === hex.encode(spk.script),
  );
  broadcaster.addVeto((inputs) =>
    inputs.some((i) => i.txid === fundTxid && i.vout === vout) ? 'restored channel' : undefined,
  );
  const tx = new btc.Transaction();
  tx.addInput({ txid: fundTxid, index: vout, witnessUtxo: { script: spk.script, amount: 40_000n } });
  tx.addOutput({ script: spk.script, amount: 39_000n });
  tx.sign(key);
  tx.finalize();

  broadcaster.ldk.broadcast_transactions([tx.extract()]);
  await settle();
  await broadcaster.rebroadcast();
  await settle();
  expect(devnet.chain.getTransaction(tx.id)).toBeUndefined();
  expect(logs).toContainEqual({
    message: 'refused to broadcast',
    fields: { txid: tx.id, reason: 'restored channel' },
  });
});
