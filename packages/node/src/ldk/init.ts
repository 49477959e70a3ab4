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
  loading ??= capturingWasmMemory(load, binary).then(() => {
    ready = true;
  });
  return loading;
}

export function isLdkReady(): boolean {
  return ready;
}

export function assertLdkReady(): void {
  if (!ready) throw new NodeError('NOT_INITIALIZED', 'LDK WASM is not initialised: call initLdk first');
}
