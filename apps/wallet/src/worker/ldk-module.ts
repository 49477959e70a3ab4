// LDK's WASM, compiled as the app loads on a thread of its own (ldk-compile.worker.ts): Chrome feeds a
// streamed module's bytes to V8 on the thread that asked for it, so a compile the page ran held the
// page's thread and its first screen (~0.4 s later), and one the node worker ran held the loading of
// that worker's own code. A compiled module can be posted to a worker, which then only instantiates
// it (`loadLdk`).
import wasmUrl from 'lightningdevkit/liblightningjs.wasm?url';

let compiling: Promise<WebAssembly.Module | undefined> | undefined;

/** Starts the compile once. Undefined when it failed: the node worker then loads the file itself and reports why. */
export function compileLdk(): Promise<WebAssembly.Module | undefined> {
  compiling ??= new Promise((resolve) => {
    const compiler = new Worker(new URL('./ldk-compile.worker.ts', import.meta.url), {
      type: 'module',
      name: 'ldk-compile',
    });
    const done = (module: WebAssembly.Module | undefined) => {
      compiler.terminate();
      resolve(module);
    };
    compiler.addEventListener('message', (event: MessageEvent<unknown>) =>
      done(event.data instanceof WebAssembly.Module ? event.data : undefined),
    );
    compiler.addEventListener('error', () => done(undefined));
    compiler.postMessage(new URL(wasmUrl, location.href).href);
  });
  return compiling;
}
