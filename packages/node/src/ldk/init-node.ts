// Node-only: read LDK's .wasm from node_modules and instantiate it. Exported as `@lpw/node/node-wasm`.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { initLdkFromBinary } from './init.ts';

/** Initialises the LDK bindings from the package's own liblightningjs.wasm. Idempotent. */
export async function initLdkNode(): Promise<void> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('lightningdevkit');
  const wasmPath = entry.replace(/index\.mjs$/, 'liblightningjs.wasm');
  await initLdkFromBinary(new Uint8Array(await readFile(wasmPath)));
}
