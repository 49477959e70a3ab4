// Our node as the product ships it (createNode, SQLite store: WAL, synchronous=FULL, its own on-chain
// wallet, chain over the devnet's Esplora API) on an in-process devnet, plus the counters the
// benchmark reads: commits, bytes and time spent in the store. With `persistence: 'memory'` the same
// nodes commit to memory and nothing else changes: that is the floor (floor-run.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import {
  createNode,
  inMemory,
  type LightningNode,
  MemoryStore,
  type NodeRole,
  type Store,
  type StoreWrite,
} from '@lpw/node';
import { SqliteStore } from '@lpw/node/sqlite';
import { MANAGER_CHUNK_PREFIX, MANAGER_KEY, MANAGER_ROOT_KEY } from '../../packages/node/src/persist/keys.ts';
import { benchNodeOptions } from './options.ts';

export { initWasm, wasmMemoryBytes } from './wasm.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Store counters: what a payment costs in durable writes. */
export interface StoreCounters {
  commits: number;
  /** Commits carrying a manager snapshot and no monitor or payment write (e.g. after acknowledgements). */
  managerOnlyCommits: number;
  writes: number;
  bytes: number;
  managerWrites: number;
  managerBytes: number;
  monitorFullWrites: number;
  monitorFullBytes: number;
  monitorUpdateWrites: number;
  monitorUpdateBytes: number;
  paymentWrites: number;
  commitMs: number;
  lastManagerBytes: number;
  lastMonitorFullBytes: number;
}

const zeroCounters = (): StoreCounters => ({
  commits: 0,
  managerOnlyCommits: 0,
  writes: 0,
  bytes: 0,
  managerWrites: 0,
  managerBytes: 0,
  monitorFullWrites: 0,
  monitorFullBytes: 0,
  monitorUpdateWrites: 0,
  monitorUpdateBytes: 0,
  paymentWrites: 0,
  commitMs: 0,
  lastManagerBytes: 0,
  lastMonitorFullBytes: 0,
});

/** Wraps a store and counts every commit (the store itself is unchanged). */
export class CountingStore implements Store {
  counters = zeroCounters();
  constructor(readonly inner: Store) {}
  load() {
    return this.inner.load();
  }
  commit(writes: StoreWrite[]): void | Promise<void> {
    const c = this.counters;
    c.commits++;
    let manager = false;
    let managerBytes = 0;
    let other = false;
    for (const w of writes) {
      const size = w.value?.length ?? 0;
      c.writes++;
      c.bytes += size;
      // the plain snapshot, or a router's/LSP's chunked one (its root and the chunks it adds)
      if (w.key === MANAGER_KEY || w.key === MANAGER_ROOT_KEY || w.key.startsWith(MANAGER_CHUNK_PREFIX)) {
        manager = true;
        managerBytes += size;
      } else if (w.key.startsWith('ldk/monitor/') && w.value) {
        other = true;
        c.monitorFullWrites++;
        c.monitorFullBytes += size;
        c.lastMonitorFullBytes = size;
      } else if (w.key.startsWith('ldk/monitor-update/') && w.value) {
        other = true;
        c.monitorUpdateWrites++;
        c.monitorUpdateBytes += size;
      } else if (!w.key.startsWith('ldk/')) {
        other = true;
        if (w.key.startsWith('payment/')) c.paymentWrites++;
      }
    }
    if (manager) {
      c.managerWrites++;
      c.managerBytes += managerBytes;
      c.lastManagerBytes = managerBytes;
    }
    if (manager && !other) c.managerOnlyCommits++;
    const t0 = performance.now();
    const durable = this.inner.commit(writes);
    c.commitMs += performance.now() - t0; // an asynchronous store's wait is not in it
    return durable;
  }
  close() {
    return this.inner.close();
  }
  /** Counters since the last call. */
  take(): StoreCounters {
    const c = this.counters;
    this.counters = {
      ...zeroCounters(),
      lastManagerBytes: c.lastManagerBytes,
      lastMonitorFullBytes: c.lastMonitorFullBytes,
    };
    return c;
  }
}

export interface BenchNode {
  name: string;
  node: LightningNode;
  store: CountingStore;
  path: string;
  seed: Uint8Array;
  role: NodeRole;
}

/**
 * Where the nodes commit: SQLite files (the product) or memory that is "durable" at once (the floor:
 * the same nodes, pump and batching with no I/O).
 */
export type Persistence = 'sqlite' | 'memory';

/** One devnet and a temp dir of SQLite files; `close()` stops the nodes and removes the files. */
export class BenchNet {
  readonly nodes: BenchNode[] = [];
  readonly errors: string[] = [];
  private constructor(
    readonly devnet: Devnet,
    readonly dir: string,
    readonly persistence: Persistence,
  ) {}

  static async start(seed: string, persistence: Persistence = 'sqlite'): Promise<BenchNet> {
    const devnet = await startDevnet({ seed }); // Esplora on a loopback port: the nodes' chain source
    return new BenchNet(devnet, mkdtempSync(join(tmpdir(), 'lpw-bench-')), persistence);
  }

  /** `wrap`: what the node commits through, around the counted SQLite store (e.g. a backup gate). */
  async node(
    name: string,
    seedByte: number,
    role: NodeRole,
    wrap?: (store: Store) => Store,
  ): Promise<BenchNode> {
    const path = join(this.dir, `${name}.sqlite`);
    const store = new CountingStore(
      this.persistence === 'sqlite' ? new SqliteStore(path) : new MemoryStore(),
    );
    const seed = new Uint8Array(32).fill(seedByte);
    const node = await createNode({
      seed,
      network: 'regtest',
      role,
      store: wrap ? wrap(store) : store,
      chain: { esploraUrl: this.devnet.esploraUrl },
      ...benchNodeOptions(),
      log: (e) => this.errors.push(`[${name}] ${e.module}: ${e.message}`),
    });
    node.on('error', (e) => this.errors.push(`[${name}] ${e.code}: ${e.message}`));
    const made = { name, node, store, path, seed, role };
    this.nodes.push(made);
    return made;
  }

  /** `from` opens a confirmed channel to `to` (connected first), usable on both sides. */
  async channel(from: BenchNode, to: BenchNode, capacitySat: bigint): Promise<void> {
    this.devnet.fund(await from.node.newAddress(), capacitySat + 100_000n, { confirmations: 1 });
    await from.node.syncChain();
    if (!from.node.isConnected(to.node.nodeId)) await from.node.connect(to.node.nodeId, inMemory(to.node));
    const before = this.devnet.chain.mempool.ordered().length;
    from.node.openChannel({ peerId: to.node.nodeId, capacitySat });
    await waitUntil('funding broadcast', () => this.devnet.chain.mempool.ordered().length > before, 20_000);
    this.devnet.mine(6);
    for (const n of this.nodes) await n.node.syncChain();
    const usable = (n: BenchNode, peer: BenchNode) =>
      n.node.listChannels().some((c) => c.peerId === peer.node.nodeId && c.isUsable);
    await waitUntil('channel usable', () => usable(from, to) && usable(to, from), 20_000);
  }

  async stopNodes(): Promise<void> {
    for (const n of this.nodes) {
      await n.node.stop();
      await n.store.close();
    }
    this.nodes.length = 0;
  }

  async close(): Promise<void> {
    await this.stopNodes();
    await this.devnet.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
