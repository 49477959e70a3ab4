// LDK's WASM, compiled by the page as the app loads. The worker's own code (~145 KB gzip) arrives and
// runs ~0.5 s later, and the compile is the longest step of a start; a compiled module can be posted
// to a worker, which then only instantiates it (`loadLdk`).
import wasmUrl from 'lightningdevkit/liblightningjs.wasm?url';

let compiling: Promise<WebAssembly.Module | undefined> | undefined;

/** Starts the compile once. Undefined when it failed: the worker then loads the file itself and reports why. */
export function compileLdk(): Promise<WebAssembly.Module | undefined> {
  compiling ??= WebAssembly.compileStreaming(fetch(wasmUrl)).catch(() => undefined);
  return compiling;
}
