// LDK's OutputSweeper, as wired by Sweeper, against the devnet: a StaticOutput descriptor paying
// the KeysManager's destination key is swept into the BIP 84 wallet by a tx the devnet's script
// interpreter accepts; the sweeper state survives a reopen from the Store.

import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import * as btc from '@scure/btc-signer';
import * as ldk from 'lightningdevkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChainBroadcaster } from '../chain/broadcaster.ts';
import { hashFromDisplay, parseTxIo } from '../chain/bytes.ts';
import { esploraSource } from '../chain/esplora.ts';
import { ChainFeeEstimator } from '../chain/fees.ts';
import { ChainSync } from '../chain/sync.ts';
import { initLdkNode } from '../ldk/init-node.ts';
import { MemoryStore } from '../persist/memory.ts';
import { OnchainWallet, REGTEST_NETWORK } from './onchain.ts';
import { Sweeper } from './sweeper.ts';

let devnet: Devnet;
beforeAll(async () => {
  await initLdkNode();
  devnet = await startDevnet({ seed: 'sweeper-test' });
});
afterAll(() => devnet?.stop());

it('sweeps a spendable output into the on-chain wallet', async () => {
  const source = esploraSource({ url: devnet.esploraUrl });
  const seed = sha256(new TextEncoder().encode('sweeper-node'));
  const keysManager = ldk.KeysManager.constructor_new(seed, 1_700_000_000n, 1);
  const logger = ldk.Logger.new_impl({ log: () => {} });
  const fees = new ChainFeeEstimator({ source });
  await fees.refresh();
  const broadcaster = new ChainBroadcaster({ source });
  const chainSync = new ChainSync({ source });
  const wallet = await OnchainWallet.open({ seed, network: 'regtest', source, broadcaster });
  const store = new MemoryStore();
  const sweeper = Sweeper.open({
    keysManager,
    wallet,
    broadcaster,
    fees,
    filter: chainSync.filter,
    logger,
    bestBlock: await source.tip(),
    store,
  });

  // an output paying the KeysManager's destination script, as a StaticOutput after a coop close
  const channelKeysId = new Uint8Array(32).fill(7);
  const destination = keysManager.as_SignerProvider().get_destination_script(channelKeysId);
  if (!(destination instanceof ldk.Result_CVec_u8ZNoneZ_OK)) throw new Error('no destination script');
  const script = destination.res;
  const address = btc.Address(REGTEST_NETWORK).encode(btc.OutScript.decode(script));
  const fundTxid = devnet.fund(address, 80_000n, { confirmations: 1 });
  const vout = parseTxIo((await source.rawTx(fundTxid))!).outputs.findIndex(
    (o) => hex.encode(o.script) === hex.encode(script),
  );
  const descriptor = ldk.SpendableOutputDescriptor.constructor_static_output(
    ldk.OutPoint.constructor_new(hashFromDisplay(fundTxid), vout),
    ldk.TxOut.constructor_new(80_000n, script),
    channelKeysId,
  );

  await chainSync.sync([sweeper.confirm]);
  expect(sweeper.track([descriptor], null)).toBe(true); // memory store: durable at once
  expect(sweeper.tracked()).toHaveLength(1);
  // the sweeper spends on the next block it sees
  devnet.mine(1);
  await chainSync.sync([sweeper.confirm]);
  await new Promise((r) => setTimeout(r, 100)); // the broadcaster sends in the background
  const spend = await source.outspend(fundTxid, vout);
  expect(spend.spent).toBe(true);
  expect(sweeper.tracked()[0]?.status).toBe('broadcast');

  devnet.mine(1);
  await chainSync.sync([sweeper.confirm]);
  await wallet.sync();
  const balance = wallet.balance();
  expect(balance.confirmedSat).toBeGreaterThan(79_000n);
  expect(balance.confirmedSat).toBeLessThan(80_000n);

  // reopen from the store: the sweeper remembers the output until its spend is buried
  const reopened = Sweeper.open({
    keysManager,
    wallet,
    broadcaster,
    fees,
    filter: chainSync.filter,
    logger,
    bestBlock: await source.tip(),
    store,
    stored: await store.load(),
  });
  expect(reopened.tracked()).toHaveLength(1);
  devnet.mine(6);
  await chainSync.sync([sweeper.confirm]);
  expect(sweeper.tracked()).toHaveLength(0);
});
