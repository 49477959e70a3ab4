// Compiles LDK's WASM from the URL the page sends and posts the module back (ldk-module.ts); a
// failure posts nothing usable. It imports nothing, so it starts as soon as its few bytes arrive.
const scope = self as unknown as {
  addEventListener(type: 'message', fn: (event: MessageEvent<string>) => void, options: { once: true }): void;
  postMessage(message: WebAssembly.Module | undefined): void;
};
scope.addEventListener(
  'message',
  (event) => {
    WebAssembly.compileStreaming(fetch(event.data)).then(
      (module) => scope.postMessage(module),
      () => scope.postMessage(undefined),
    );
  },
  { once: true },
);
