// createWalletNode builds wallets only: the PWA's worker calls it so that its bundle leaves out the
// gossip sync of nodes that keep a graph, so it must refuse to build one rather than build a node
// that silently ignores gossip it was asked to keep.
import { describe, expect, it } from 'vitest';
import { createWalletNode } from '../src/builder.ts';
import { isNodeError } from '../src/errors.ts';
import type { NodeOptions } from '../src/options.ts';
import { MemoryStore } from '../src/persist/memory.ts';

describe('createWalletNode', () => {
  it('refuses another role, gossip or countGossip with INVALID_INPUT, before reading the store or the chain', async () => {
    const store = new MemoryStore();
    let loads = 0;
    const load = store.load.bind(store);
    store.load = () => {
      loads += 1;
      return load();
    };
    const wallet: NodeOptions = {
      seed: new Uint8Array(32).fill(7),
      network: 'regtest',
      role: 'wallet',
      store,
      // nothing listens here: a node that got as far as the chain would fail with another error
      chain: { esploraUrl: 'http://127.0.0.1:9/' },
    };
    for (const options of [
      { ...wallet, role: 'lsp' as const },
      { ...wallet, gossip: true },
      { ...wallet, countGossip: true },
    ]) {
      const refused = await createWalletNode(options).catch((error: unknown) => error);
      expect(isNodeError(refused, 'INVALID_INPUT')).toBe(true);
      expect(String(refused)).toMatch(/use createNode/);
    }
    expect(loads).toBe(0);
    expect(store.commits).toBe(0);
  });
});
