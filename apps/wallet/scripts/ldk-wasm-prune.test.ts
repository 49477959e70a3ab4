// The WASM prune in a real Vite build of a small worker: it ships only the exports the bundle names
// (with the code they reach), LDK initialises from that module, and a bundle naming an export the
// pruned module lacks fails the build.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ldk from 'lightningdevkit';
import { build, type Rolldown } from 'vite';
import { describe, expect, it } from 'vitest';
import { assertExportsCover, pruneLdkWasm, WasmPruneError, wasmExportNames } from './ldk-wasm-prune.ts';

const WALLET_DIR = fileURLToPath(new URL('..', import.meta.url));
const FULL_WASM = readFileSync(new URL(import.meta.resolve('lightningdevkit/liblightningjs.wasm')));
/** What the bindings' init calls (`finishInitializeWasm`, `decodeString`). */
const INIT_EXPORTS = [
  'memory',
  'test_bigint_pass_deadbeef0badf00d',
  'TS_get_lib_version_string',
  'TS_get_ldk_c_bindings_version',
  'TS_get_ldk_version',
  'TS_free',
];

/** Builds a one-file worker whose code names `exportNames` on the module it loads, with the prune. */
async function buildWorker(exportNames: string[]) {
  const entry = [
    "import url from 'lightningdevkit/liblightningjs.wasm?url';",
    'const { instance } = await WebAssembly.instantiateStreaming(fetch(url), {});',
    'const wasm = instance.exports;',
    ...exportNames.map((name) => `console.log(wasm.${name});`),
  ].join('\n');
  const output = (await build({
    configFile: false,
    root: WALLET_DIR,
    logLevel: 'silent',
    plugins: [
      {
        name: 'test-entry',
        resolveId: (id) => (id === 'test-entry' ? '\0test-entry' : undefined),
        load: (id) => (id === '\0test-entry' ? entry : undefined),
      },
      pruneLdkWasm(),
    ],
    build: { write: false, rolldownOptions: { input: 'test-entry' } },
  })) as Rolldown.RolldownOutput;
  const [chunk] = output.output.filter((file) => file.type === 'chunk');
  const wasm = output.output.filter((file) => file.type === 'asset' && file.fileName.endsWith('.wasm'));
  if (!chunk || wasm.length !== 1 || wasm[0]?.type !== 'asset') throw new Error('unexpected build output');
  return { chunk, wasmFile: wasm[0].fileName, wasm: wasm[0].source as Uint8Array };
}

// binaryen reads LDK's 12 MB module in ~7 s on a quiet machine; a build with it, several times that under load
describe('LDK WASM prune', { timeout: 300_000 }, () => {
  it('ships only the exports the bundle names, and LDK initialises from that module', async () => {
    const named = [...INIT_EXPORTS, 'TS_malloc', 'TS_KeysManager_new'];
    const { chunk, wasmFile, wasm } = await buildWorker(named);

    expect(new Set(wasmExportNames(wasm))).toEqual(new Set(named));
    // binaryen's round trip alone gives 94%; the function table and the data keep about half
    expect(wasm.length).toBeLessThan(FULL_WASM.length * 0.6);
    // the chunk loads the pruned module under its own content's name, not the full module's
    expect(chunk.code).toContain(wasmFile);
    expect(wasmFile).toMatch(/^assets\/liblightningjs-[\w-]{8}\.wasm$/);

    await ldk.initializeWasmFromBinary(wasm); // runs the version checks through the kept exports
    // an export the full module has but this bundle never named is gone, and the check says so
    expect(wasmExportNames(FULL_WASM)).toContain('TS_ChannelManager_new');
    expect(() => assertExportsCover(wasm, new Set([...named, 'TS_ChannelManager_new']))).toThrow(
      /lacks: TS_ChannelManager_new/,
    );
  });

  it('fails the build when the bundle calls an export the module lacks', async () => {
    const failure = await buildWorker([...INIT_EXPORTS, 'TS_NoSuchFunction_new']).catch((error) => error);
    expect(String(failure)).toMatch(/lacks: TS_NoSuchFunction_new/);
    // the bundler hands on the plugin's own error among its errors (its `code` set to PLUGIN_ERROR)
    expect(failure.errors?.[0]).toBeInstanceOf(WasmPruneError);
  });
});
