// LDK's WASM initialised the product's way; its linear memory is read through the node package.
import { wasmMemoryUsage } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';

/** Initialises LDK (idempotent); returns the milliseconds taken. */
export async function initWasm(): Promise<number> {
  const t0 = performance.now();
  await initLdkNode();
  return performance.now() - t0;
}

/** Bytes of LDK's WASM linear memory now (it grows under load and never shrinks). */
export const wasmMemoryBytes = (): number | undefined => wasmMemoryUsage()?.usedBytes;
