// Loading LDK's WASM once per JS realm. Runtime-neutral: callers hand over bytes or a URL;
// `init-node.ts` reads the bytes from disk for Node.
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';

let loading: Promise<void> | null = null;
let ready = false;

/** Instantiates the bindings from the raw .wasm bytes; later calls return the first promise. */
export function initLdkFromBinary(wasm: Uint8Array): Promise<void> {
  loading ??= ldk.initializeWasmFromBinary(wasm).then(() => {
    ready = true;
  });
  return loading;
}

/** Browser variant: fetch the .wasm from a URL (served beside the app). */
export function initLdkFromUrl(url: string): Promise<void> {
  loading ??= ldk.initializeWasmWebFetch(url).then(() => {
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
