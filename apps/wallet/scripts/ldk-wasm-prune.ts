// Build plugin for the node's worker: ship LDK's WASM with only what the bundled JS can call. The
// bindings call the module through `wasm.NAME` (7,862 `TS_*` glue functions, `memory`, an init
// check), and a minifier keeps property names, so an export whose name is no word of the built JS
// is never called: those exports go, then binaryen's `remove-unused-module-elements` drops what no
// kept export, the function table or the data reaches. Dead code elimination only: the code left is
// LDK's as built. Node (the LSP, the CLI, tests) loads the package's whole module.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

const LDK_WASM = /[\\/]lightningdevkit[\\/]liblightningjs\.wasm$/;
const LDK_WASM_URL = /[\\/]lightningdevkit[\\/]liblightningjs\.wasm\?url$/;
/** The bindings' wrappers: each calls one export of the same name. */
const GLUE_NAME = /^TS_/;

export class WasmPruneError extends Error {
  constructor(
    readonly code: 'MALFORMED_MODULE' | 'INVALID_MODULE' | 'MISSING_EXPORTS' | 'UNEXPECTED_BUNDLE',
    message: string,
  ) {
    super(message);
    this.name = 'WasmPruneError';
  }
}

/** The names a module exports, in order; a module V8 does not accept is MALFORMED_MODULE. */
export function wasmExportNames(module: Uint8Array): string[] {
  let compiled: WebAssembly.Module;
  try {
    // V8 compiles lazily: this validates the module and reads its exports (~130 ms for LDK's)
    compiled = new WebAssembly.Module(module as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw new WasmPruneError('MALFORMED_MODULE', `not a valid WebAssembly module: ${String(error)}`);
  }
  return WebAssembly.Module.exports(compiled).map((entry) => entry.name);
}

/** Every identifier-like word in the code: a name among none of them is called by none of it. */
export function codeWords(code: Iterable<string>): Set<string> {
  const words = new Set<string>();
  for (const text of code) for (const word of text.match(/[A-Za-z_$][\w$]*/g) ?? []) words.add(word);
  return words;
}

/**
 * The exports the bundle may call: each of the module's exports it names, and each glue name
 * (`TS_*`) it holds even if the module lacks it, so that `assertExportsCover` reports that one.
 */
export function requiredExports(words: ReadonlySet<string>, exported: readonly string[]): Set<string> {
  const required = new Set(exported.filter((name) => words.has(name)));
  for (const word of words) if (GLUE_NAME.test(word)) required.add(word);
  return required;
}

/** Throws, naming them, unless the module exports every required name. */
export function assertExportsCover(module: Uint8Array, required: ReadonlySet<string>): void {
  const exported = new Set(wasmExportNames(module));
  const missing = [...required].filter((name) => !exported.has(name)).sort();
  if (missing.length > 0) {
    throw new WasmPruneError(
      'MISSING_EXPORTS',
      `the bundle calls ${missing.length} export(s) the WASM module lacks: ${missing.slice(0, 20).join(', ')}`,
    );
  }
}

/**
 * The module less every export not in `keep` and whatever is then unreachable (from the kept
 * exports, the start function, the table's and the data's contents). Same input, same bytes out.
 */
export async function pruneWasm(module: Uint8Array, keep: ReadonlySet<string>): Promise<Uint8Array> {
  // loaded on use: 15 MB of JS that the dev server and other builds' config loads need not parse
  const { default: binaryen } = await import('binaryen');
  const ir = binaryen.readBinary(module);
  try {
    // read with the MVP feature set: an instruction beyond it fails here, loudly, not in a phone
    if (!ir.validate())
      throw new WasmPruneError('INVALID_MODULE', "LDK's WASM does not validate before pruning");
    for (const name of wasmExportNames(module)) if (!keep.has(name)) ir.removeExport(name);
    ir.runPasses(['remove-unused-module-elements']);
    if (!ir.validate())
      throw new WasmPruneError('INVALID_MODULE', "LDK's WASM does not validate after pruning");
    return ir.emitBinary();
  } finally {
    ir.dispose();
  }
}

/**
 * Changes what the pruned module is for the same bundle (this file, binaryen's version): chunks that
 * load the module mix it into their hash, since its name is put in them after they were hashed.
 */
function prunerFingerprint(): string {
  const binaryen = readFileSync(new URL(import.meta.resolve('binaryen/package.json')), 'utf8');
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  return createHash('sha256').update(binaryen).update(source).digest('hex');
}

/** What Vite's asset names carry: 8 URL-safe characters of a hash of the content. */
const contentHash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64url').slice(0, 8);

/**
 * Replaces the built LDK WASM by its pruned copy, under a name from its own content, in every chunk
 * that names it; the build fails if the bundle calls an export the pruned module lacks.
 */
export function pruneLdkWasm(): Plugin {
  let fingerprint: string | undefined;
  return {
    name: 'lpw-prune-ldk-wasm',
    apply: 'build',
    augmentChunkHash(chunk) {
      if (!chunk.moduleIds.some((id) => LDK_WASM_URL.test(id))) return undefined;
      fingerprint ??= prunerFingerprint();
      return fingerprint;
    },
    async generateBundle(_options, bundle) {
      const outputs = Object.values(bundle);
      const assets = outputs.filter(
        (output) => output.type === 'asset' && output.originalFileNames.some((file) => LDK_WASM.test(file)),
      );
      const asset = assets[0];
      if (assets.length !== 1 || asset?.type !== 'asset' || typeof asset.source === 'string') {
        throw new WasmPruneError('UNEXPECTED_BUNDLE', `expected one LDK WASM asset, found ${assets.length}`);
      }
      const full = asset.source;
      const chunks = outputs.flatMap((output) => (output.type === 'chunk' ? [output] : []));
      const required = requiredExports(codeWords(chunks.map((chunk) => chunk.code)), wasmExportNames(full));
      assertExportsCover(full, required); // a bundle calling what LDK never had fails before the slow part
      const pruned = await pruneWasm(full, required);
      assertExportsCover(pruned, required);

      const fileName = asset.fileName.replace(/-[\w-]{8}\.wasm$/, `-${contentHash(pruned)}.wasm`);
      if (fileName === asset.fileName) {
        throw new WasmPruneError('UNEXPECTED_BUNDLE', `no content hash in ${asset.fileName}`);
      }
      const loaders = chunks.filter((chunk) => chunk.code.includes(asset.fileName));
      if (loaders.length === 0) {
        throw new WasmPruneError('UNEXPECTED_BUNDLE', `no chunk loads ${asset.fileName}`);
      }
      for (const chunk of loaders) chunk.code = chunk.code.replaceAll(asset.fileName, fileName);
      delete bundle[asset.fileName];
      this.emitFile({ type: 'asset', fileName, source: pruned });
      this.info(
        `LDK WASM pruned: ${full.length} → ${pruned.length} bytes, ` +
          `${required.size} of ${wasmExportNames(full).length} exports kept (${fileName})`,
      );
    },
  };
}
