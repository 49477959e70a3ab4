// Test harness: nodes on an in-process @lpw/devnet chain, fed through LDK's Confirm interface, with a
// throwaway P2WPKH funding wallet. Test code only.
import { type Chain, type Devnet, REGTEST, startDevnet } from '@lpw/devnet';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as btc from '@scure/btc-signer';
import * as ldk from 'lightningdevkit';
import { initLdkNode } from '../src/ldk/init-node.ts';
import { type ChainAccess, createNode, type LightningNode, type NodeOptions } from '../src/node.ts';
import type { FundingWallet } from '../src/node-events.ts';
import { MemoryStore } from '../src/persist/memory.ts';
import type { Store } from '../src/persist/store.ts';

export const sha256d = (b: Uint8Array) => sha256(sha256(b));

/** Confirm-based sync from a devnet Chain (no reorg handling: tests only mine forward). */
export class DevnetChainAccess implements ChainAccess {
  constructor(
    readonly chain: Chain,
    public syncedHeight: number,
  ) {}
  bestBlock() {
    const tip = this.chain.tip();
    return { hash: sha256d(tip.header), height: tip.height };
  }
  async sync(confirmables: ldk.Confirm[]): Promise<void> {
    const tip = this.chain.tipHeight;
    for (let h = this.syncedHeight + 1; h <= tip; h++) {
      const block = this.chain.getBlock(h)!;
      for (const c of confirmables) {
        if (block.txs.length > 0) {
          const txdata = block.txs.map((t, i) => ldk.TwoTuple_usizeTransactionZ.constructor_new(i, t.raw));
          c.transactions_confirmed(block.header, txdata, h);
        }
        c.best_block_updated(block.header, h);
      }
    }
    this.syncedHeight = tip;
  }
}

export class TestWallet implements FundingWallet {
  readonly privateKey: Uint8Array;
  readonly script: Uint8Array;
  readonly address: string;
  private readonly reserved = new Set<string>();
  constructor(
    readonly devnet: Devnet,
    seedByte: number,
  ) {
    this.privateKey = sha256(new Uint8Array([seedByte, 0x77]));
    const p = btc.p2wpkh(secp256k1.getPublicKey(this.privateKey, true), REGTEST);
    this.script = p.script;
    this.address = p.address!;
  }
  fundChannel(request: { valueSat: bigint; outputScript: Uint8Array }): Uint8Array {
    const coins = this.devnet.chain
      .unspentFor(this.script)
      .filter((c) => !this.reserved.has(`${c.txid}:${c.vout}`));
    const fee = 1_000n;
    const coin = coins.find((c) => c.value >= request.valueSat + fee + 1_000n);
    if (!coin) throw new Error('test wallet: no coin big enough');
    this.reserved.add(`${coin.txid}:${coin.vout}`);
    const tx = new btc.Transaction();
    tx.addInput({
      txid: coin.txid,
      index: coin.vout,
      witnessUtxo: { script: this.script, amount: coin.value },
    });
    tx.addOutput({ script: request.outputScript, amount: request.valueSat });
    tx.addOutput({ script: this.script, amount: coin.value - request.valueSat - fee });
    tx.sign(this.privateKey);
    tx.finalize();
    return tx.extract();
  }
}

export interface TestNet {
  devnet: Devnet;
  broadcasts: Uint8Array[];
  errors: unknown[];
  make(
    name: string,
    seedByte: number,
    options?: Partial<NodeOptions> & { syncedHeight?: number },
  ): Promise<{ node: LightningNode; chain: DevnetChainAccess; store: Store; wallet: TestWallet }>;
  mine(n: number, nodes: LightningNode[]): Promise<void>;
}

export async function testNet(): Promise<TestNet> {
  await initLdkNode();
  const devnet = await startDevnet({ servers: false, seed: 'node-tests' });
  const broadcasts: Uint8Array[] = [];
  const errors: unknown[] = [];
  return {
    devnet,
    broadcasts,
    errors,
    async make(name, seedByte, options = {}) {
      const chain = new DevnetChainAccess(devnet.chain, options.syncedHeight ?? devnet.chain.tipHeight);
      const store = options.store ?? new MemoryStore();
      const wallet = new TestWallet(devnet, seedByte);
      const node = await createNode({
        seed: new Uint8Array(32).fill(seedByte),
        network: 'regtest',
        role: 'router',
        store,
        chain,
        feeEstimator: {
          satPerKw: (t) => (t === 'MaximumFeeEstimate' || t === 'UrgentOnChainSweep' ? 2500 : 500),
        },
        broadcaster: {
          broadcast(txs) {
            for (const tx of txs) {
              broadcasts.push(tx);
              try {
                devnet.chain.submitTransaction(tx);
              } catch (e) {
                // already known or conflicting: fine in tests, recorded for inspection
                errors.push(e);
              }
            }
          },
        },
        wallet,
        chainSyncIntervalMs: 0,
        logLevel: 'error',
        log: (e) => console.log(`[${name} ${e.level}] ${e.module}:${e.line} ${e.message}`),
        ...options,
      });
      node.on('error', (e) => errors.push(e));
      return { node, chain, store, wallet };
    },
    async mine(n, nodes) {
      devnet.mine(n);
      await Promise.all(nodes.map((node) => node.syncChain()));
    },
  };
}

/** Polls `cond` until true (tests). */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
