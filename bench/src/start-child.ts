// Cold start in a fresh process: import the node, initialise LDK's WASM, restore a node from its
// SQLite store (channel manager + monitors + updates, then one chain sync against the parent's devnet
// Esplora, at the tip), then stop. Spawned by product-run.ts; prints one BENCH_RESULT line.
export {};

const t0 = performance.now();
const [path, seedByte, role, esploraUrl] = process.argv.slice(2);
if (!path || !seedByte || !role || !esploraUrl) {
  throw new Error('usage: start-child.ts <store.sqlite> <seedByte> <role> <esploraUrl>');
}
const { createNode } = await import('@lpw/node');
const { SqliteStore } = await import('@lpw/node/sqlite');
const { initWasm, wasmMemoryBytes } = await import('./wasm.ts');
const { benchNodeOptions } = await import('./options.ts');
const importMs = performance.now() - t0;

const wasmInitMs = await initWasm();

// count the chain source's HTTP requests: the start waits on them (chain, fee and wallet sync)
let chainRequests = 0;
let chainRequestMs = 0;
const fetchImpl = globalThis.fetch;
globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
  const t = performance.now();
  try {
    return await fetchImpl(...args);
  } finally {
    chainRequests++;
    chainRequestMs += performance.now() - t;
  }
};

const t1 = performance.now();
const store = new SqliteStore(path);
const node = await createNode({
  seed: new Uint8Array(32).fill(Number(seedByte)),
  network: 'regtest',
  role: role as 'router',
  store,
  chain: { esploraUrl },
  ...benchNodeOptions(),
});
const restoreMs = performance.now() - t1;
const channels = node.listChannels();
const result = {
  importMs,
  wasmInitMs,
  restoreMs,
  chainRequests,
  chainRequestMs,
  channels: channels.length,
  outboundMsat: String(channels[0]?.outboundMsat ?? 0n),
  sinceProcessStartMs: performance.now(),
  wasmMemoryBytes: wasmMemoryBytes(),
  rssBytes: process.memoryUsage().rss,
};
await node.stop();
await store.close();
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
process.exit(0);
