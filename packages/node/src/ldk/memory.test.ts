// The WASM memory guard: the real instance's size and limit, and warnings at 70% then every 5%.
import { beforeAll, describe, expect, it } from 'vitest';
import { initLdkNode } from './init-node.ts';
import { type WasmMemoryUsage, wasmMemoryUsage, wasmMemoryWatch } from './memory.ts';

describe('LDK WASM memory', () => {
  beforeAll(() => initLdkNode());

  it('reads the live instance: at least its initial 16 MiB, limited by the module to 1 GiB', () => {
    const usage = wasmMemoryUsage()!;
    expect(usage.usedBytes).toBeGreaterThanOrEqual(16 * 1_048_576);
    expect(usage.limitBytes).toBe(1_073_741_824);
  });

  it('warns once on passing 70% of the limit, then once per further 5%', () => {
    let used = 0;
    const limitBytes = 1_000;
    const warnings: WasmMemoryUsage[] = [];
    const check = wasmMemoryWatch(
      (u) => warnings.push(u),
      () => ({ usedBytes: used, limitBytes }),
    );
    for (used of [100, 699, 700, 720, 749, 750, 751, 900, 900, 1_000]) check();
    expect(warnings.map((w) => w.usedBytes)).toEqual([700, 750, 900, 1_000]);
  });
});
