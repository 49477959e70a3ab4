// Loading LDK's WASM once per JS realm. Runtime-neutral: callers hand over bytes or a URL;
// `init-node.ts` reads the bytes from disk for Node. The instance's linear memory is kept in sight
// (memory.ts): the bindings do not export it.
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { capturingWasmMemory } from './memory.ts';

let loading: Promise<void> | null = null;
let ready = false;

/** Instantiates the bindings from the raw .wasm bytes; later calls return the first promise. */
export function initLdkFromBinary(wasm: Uint8Array): Promise<void> {
  return loadOnce(() => ldk.initializeWasmFromBinary(wasm), wasm);
}

/** Browser variant: fetch the .wasm from a URL (served beside the app). */
export function initLdkFromUrl(url: string): Promise<void> {
  return loadOnce(() => ldk.initializeWasmWebFetch(url));
}

/**
 * Browser variant for a `WebAssembly.Module` compiled elsewhere: the wallet's page starts the compile
 * as the app loads, before its worker's own code has arrived, and posts the module over.
 */
export function initLdkFromModule(module: object): Promise<void> {
  // the bindings hand their argument to WebAssembly.instantiate, which takes a module as well as bytes
  return loadOnce(() => ldk.initializeWasmFromBinary(module as Uint8Array));
}

function loadOnce(load: () => Promise<void>, binary?: Uint8Array): Promise<void> {
  loading ??= capturingWasmMemory(() => withoutBanner(load), binary).then(() => {
    ready = true;
  });
  return loading;
}

/**
 * The bindings print "Loaded LDK-Java Bindings with LDK …" on every load: a line in each CLI
 * command's output and a line that is not JSON in the LSP's JSON log. That one line is dropped.
 */
async function withoutBanner(load: () => Promise<void>): Promise<void> {
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Loaded LDK-Java Bindings')) return;
    log(...args);
  };
  try {
    await load();
  } finally {
    console.log = log;
  }
}

export function isLdkReady(): boolean {
  return ready;
}

export function assertLdkReady(): void {
  if (!ready) throw new NodeError('NOT_INITIALIZED', 'LDK WASM is not initialised: call initLdk first');
}
