// LDK's WASM linear memory: one per JS realm, shared by every node in it. It grows with Rust's heap
// and never shrinks, and the module caps it (1 GiB for lightningdevkit 0.1.0); past the cap the next
// allocation panics and the instance is dead for every node. The bindings keep the instance to
// themselves, so its memory is caught while it is instantiated.

/** Pages of 64 KiB; used when the module's own maximum cannot be read (a streamed instantiation). */
const PAGE = 65_536;
const DEFAULT_MAX_PAGES = 16_384; // what lightningdevkit 0.1.0 declares

/**
 * The parts of WebAssembly used here, typed locally: packages that import the node type-check
 * without DOM or Node typings (`types: []`), where the global WebAssembly namespace is unknown.
 */
interface WasmMemoryLike {
  buffer: ArrayBuffer;
}
type WasmInstanceLike = { exports?: Record<string, unknown> };
const wasm = (globalThis as unknown as { WebAssembly: { Memory: abstract new () => WasmMemoryLike } })
  .WebAssembly;

let memory: WasmMemoryLike | undefined;
let limitBytes = DEFAULT_MAX_PAGES * PAGE;

export interface WasmMemoryUsage {
  /** Bytes of linear memory now: the high-water mark of LDK's heap (it never shrinks). */
  usedBytes: number;
  /** The most it can grow to; an allocation beyond it kills the instance. */
  limitBytes: number;
}

/** LDK's WASM memory now, or undefined before LDK is initialised. */
export function wasmMemoryUsage(): WasmMemoryUsage | undefined {
  return memory ? { usedBytes: memory.buffer.byteLength, limitBytes } : undefined;
}

/**
 * Runs `load` (the bindings' initialiser) with WebAssembly's instantiate functions wrapped to catch
 * the instance's exported memory; `binary`, when given, supplies the declared maximum.
 */
export async function capturingWasmMemory<T>(load: () => Promise<T>, binary?: Uint8Array): Promise<T> {
  const maxPages = binary ? declaredMaxPages(binary) : undefined;
  if (maxPages !== undefined) limitBytes = maxPages * PAGE;
  const api = wasm as unknown as Record<'instantiate' | 'instantiateStreaming', unknown>;
  const originals = { instantiate: api.instantiate, instantiateStreaming: api.instantiateStreaming };
  for (const name of ['instantiate', 'instantiateStreaming'] as const) {
    const original = originals[name];
    if (typeof original !== 'function') continue;
    api[name] = async (...args: unknown[]) => {
      const result = await original.apply(wasm, args);
      const instance = (result as { instance?: WasmInstanceLike }).instance ?? result;
      const exported = (instance as WasmInstanceLike).exports?.memory;
      if (exported instanceof wasm.Memory) memory = exported;
      // instantiate(module) resolves to the instance itself, and the bindings read `{ instance }`
      return result === instance ? { module: args[0], instance } : result;
    };
  }
  try {
    return await load();
  } finally {
    api.instantiate = originals.instantiate;
    api.instantiateStreaming = originals.instantiateStreaming;
  }
}

/** The maximum of the module's own memory (memory section, id 5), in pages; undefined if none. */
function declaredMaxPages(binary: Uint8Array): number | undefined {
  let at = 8; // magic and version
  const leb = () => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = binary[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80 && at < binary.length);
    return value;
  };
  while (at < binary.length) {
    const id = binary[at++];
    const size = leb();
    const end = at + size;
    if (id === 5) {
      if (leb() < 1) return undefined;
      const flags = binary[at++] ?? 0;
      leb(); // minimum
      return flags & 1 ? leb() : undefined;
    }
    at = end;
  }
  return undefined;
}

/** Above this share of the limit the node warns: room is left to drain and restart calmly. */
export const WASM_MEMORY_WARN_FRACTION = 0.7;

/**
 * A check to run periodically: calls `warn` when usage first reaches 70% of the limit, then again
 * at every further 5% (memory never shrinks, so each step is worth one warning, not one per check).
 */
export function wasmMemoryWatch(
  warn: (usage: WasmMemoryUsage) => void,
  usage: () => WasmMemoryUsage | undefined = wasmMemoryUsage,
): () => void {
  let nextFraction = WASM_MEMORY_WARN_FRACTION;
  return () => {
    const now = usage();
    if (!now) return;
    const fraction = now.usedBytes / now.limitBytes;
    if (fraction < nextFraction) return;
    nextFraction = Math.floor(fraction * 20) / 20 + 0.05;
    warn(now);
  };
}
