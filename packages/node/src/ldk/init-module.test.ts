// A module compiled elsewhere (the wallet's page compiles LDK's WASM and posts it to its worker):
// instantiating it gives working bindings with their memory in sight, prints nothing, and later
// loads reuse it.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { expect, it, vi } from 'vitest';
import { nodeIdentity } from '../identity.ts';
import { initLdkFromBinary, initLdkFromModule, isLdkReady } from './init.ts';
import { wasmMemoryUsage } from './memory.ts';

it('runs LDK from a WebAssembly.Module compiled before it was asked for', async () => {
  const wasmPath = createRequire(import.meta.url)
    .resolve('lightningdevkit')
    .replace(/index\.mjs$/, 'liblightningjs.wasm');
  const module = await WebAssembly.compile(await readFile(wasmPath));
  expect(isLdkReady()).toBe(false);
  const log = vi.spyOn(console, 'log');
  await initLdkFromModule(module);
  expect(isLdkReady()).toBe(true);
  // the bindings' banner is not printed (the CLI's output, the LSP's JSON log)
  expect(log.mock.calls.flat().join(' ')).not.toContain('Loaded LDK');
  log.mockRestore();
  expect(wasmMemoryUsage()?.usedBytes).toBeGreaterThanOrEqual(16 * 1_048_576);
  // a node key from LDK's key manager: the instance answers
  expect(nodeIdentity(new Uint8Array(32).fill(7)).nodeId).toMatch(/^0[23][0-9a-f]{64}$/);
  // a second load (the worker's fallback, Node's reader) is the same instance, not a second one
  await initLdkFromBinary(new Uint8Array([0, 1, 2]));
  expect(isLdkReady()).toBe(true);
});
