// LDK's WASM initialised the product's way, with its linear memory kept in sight for the report.
import { initLdkNode } from '@lpw/node/node-wasm';

// The lib settings carry no WebAssembly types: the little used here, structurally.
interface WasmApi {
  instantiate: (...args: unknown[]) => Promise<unknown>;
}
interface WasmMemory {
  buffer: ArrayBuffer;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let wasmMemory: WasmMemory | undefined;

/** Initialises LDK (idempotent) and captures the instance's memory; returns the milliseconds taken. */
export async function initWasm(): Promise<number> {
  const instantiate = wasmApi.instantiate;
  wasmApi.instantiate = async (...args: unknown[]) => {
    const result = (await instantiate(...args)) as { instance?: { exports: Record<string, unknown> } };
    const exports = (result.instance ?? (result as { exports: Record<string, unknown> })).exports;
    const memory = exports.memory as WasmMemory | undefined;
    if (memory?.buffer instanceof ArrayBuffer) wasmMemory = memory;
    return result;
  };
  const t0 = performance.now();
  try {
    await initLdkNode();
  } finally {
    wasmApi.instantiate = instantiate;
  }
  return performance.now() - t0;
}

/** Bytes of LDK's WASM linear memory now (it grows under load and never shrinks). */
export const wasmMemoryBytes = (): number | undefined => wasmMemory?.buffer.byteLength;
