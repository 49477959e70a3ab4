// Test harness: nodes on an in-process devnet chain (@lpw/devnet-chain) served over its Esplora API, each with its
// own on-chain wallet funded by the devnet faucet. Test code only.
import { type Devnet, type DevnetOptions, startDevnet, waitUntil } from '@lpw/devnet-chain';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { createNode } from '../src/builder.ts';
import { createJitInvoice } from '../src/invoice/jit.ts';
import { initLdkNode } from '../src/ldk/init-node.ts';
import { toHex } from '../src/ldk/values.ts';
import type { LightningNode, NodeOptions } from '../src/node.ts';
import { MemoryStore } from '../src/persist/memory.ts';
import type { Store } from '../src/persist/store.ts';
import { inMemory } from '../src/transport/memory.ts';

export interface TestNet {
  devnet: Devnet;
  errors: unknown[];
  /** A node on the devnet (role 'router', chain sync only when the test asks). */
  make(
    name: string,
    seedByte: number,
    options?: Partial<NodeOptions>,
  ): Promise<{ node: LightningNode; store: Store; wallet: { address: string } }>;
  /** Mine `n` blocks, then sync every node in `nodes`. */
  mine(n: number, nodes: LightningNode[]): Promise<void>;
  /** Faucet `sat` to a fresh address of the node's wallet, confirm it, sync the node; returns the txid. */
  fund(node: LightningNode, sat: bigint): Promise<string>;
  stop(): Promise<void>;
}

export async function testNet(seed = 'node-tests', devnetOptions: DevnetOptions = {}): Promise<TestNet> {
  await initLdkNode();
  const devnet = await startDevnet({ seed, ...devnetOptions });
  const errors: unknown[] = [];
  return {
    devnet,
    errors,
    async make(name, seedByte, options = {}) {
      const store = options.store ?? new MemoryStore();
      const node = await createNode({
        seed: new Uint8Array(32).fill(seedByte),
        network: 'regtest',
        role: 'router',
        store,
        chain: { esploraUrl: devnet.esploraUrl },
        chainSyncIntervalMs: 0,
        logLevel: 'error',
        log: (e) => console.log(`[${name} ${e.level}] ${e.module}:${e.line} ${e.message}`),
        ...options,
      });
      node.on('error', (e) => errors.push(e));
      // a fresh address of the node's own wallet, for tests that fund it with devnet.fund
      return { node, store, wallet: { address: await node.newAddress() } };
    },
    async mine(n, nodes) {
      devnet.mine(n);
      for (const node of nodes) await node.syncChain();
    },
    async fund(node, sat) {
      const txid = devnet.fund(await node.newAddress(), sat, { confirmations: 1 });
      await node.syncChain();
      return txid;
    },
    stop: () => devnet.stop(),
  };
}

/** `to` connects in memory and `from` opens a 1M-sat zero-conf channel to it (pushing `pushMsat`), usable. */
export async function zeroConf(from: LightningNode, to: LightningNode, pushMsat = 0n): Promise<void> {
  await to.connect(from.nodeId, inMemory(from));
  await waitUntil(`${from.nodeId} sees peer`, () => from.isConnected(to.nodeId), 20_000);
  const ready = to.waitFor('channel-ready');
  from.openChannel({ peerId: to.nodeId, capacitySat: 1_000_000n, zeroConf: true, pushMsat });
  await ready;
  await waitUntil(
    'channel usable',
    () => to.listChannels().some((c) => c.peerId === from.nodeId && c.isUsable),
    20_000,
  );
}

/**
 * An HTLC of `amountMsat` from `node` that `lsp` intercepts and holds: an invoice over an intercept
 * SCID it never forwards, to a payee nobody runs. `paying` settles with the payment's error once the
 * LSP fails the HTLC back.
 */
export async function heldHtlc(lsp: LightningNode, node: LightningNode, amountMsat: bigint) {
  const payeeKey = secp256k1.utils.randomSecretKey();
  const bolt11 = createJitInvoice({
    amountMsat,
    description: 'held',
    expirySecs: 600,
    paymentHash: toHex(randomBytes(32)),
    paymentSecret: toHex(randomBytes(32)),
    minFinalCltvExpiryDelta: 80,
    payeeNodeId: toHex(secp256k1.getPublicKey(payeeKey, true)),
    lspNodeId: lsp.nodeId,
    interceptScid: lsp.newInterceptScid(),
    lspCltvExpiryDelta: 72,
    network: 'regtest',
    sign: payeeKey,
  });
  const intercepted = lsp.waitFor('htlc-intercepted', undefined, 15_000);
  const paying = node.payInvoice(bolt11).catch((e: unknown) => e);
  const held = await intercepted;
  return { held, paying };
}
