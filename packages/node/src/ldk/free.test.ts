// Freeing LDK objects ourselves: the WASM heap stays flat however many temporaries are made, the
// values read out survive, and arguments freed after a call stay intact inside what LDK built.
import * as ldk from 'lightningdevkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { freeLdk, withLdk } from './free.ts';
import { initLdkNode } from './init-node.ts';
import { wasmMemoryUsage } from './memory.ts';
import { someOf } from './values.ts';

const ptrOf = (o: object) => (o as unknown as { ptr: bigint }).ptr;

describe('freeing LDK temporaries', () => {
  beforeAll(() => initLdkNode());

  it('keeps WASM memory flat over 200,000 temporaries freed in scope', () => {
    const make = () =>
      withLdk((own) => {
        const config = own(ldk.UserConfig.constructor_default());
        const handshake = own(config.get_channel_handshake_config());
        const fee = own(ldk.Option_u64Z.constructor_some(5n));
        return handshake.get_minimum_depth() + Number(someOf<bigint>(fee));
      });
    for (let i = 0; i < 1_000; i++) make(); // let the allocator reach its working size
    const before = wasmMemoryUsage()!.usedBytes;
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += make();
    expect(sum).toBe(100_000 * (6 + 5));
    // without freeing, 200,000 such objects would wait for finalizers: tens of MB in WASM
    expect(wasmMemoryUsage()!.usedBytes - before).toBeLessThan(1_048_576);
  });

  it('leaves what LDK built from a freed argument intact (the bindings copy arguments)', () => {
    const fee = ldk.Option_u64Z.constructor_some(1_234n);
    const params = ldk.RouteParameters.constructor_new(
      ldk.PaymentParameters.constructor_for_keysend(new Uint8Array(33).fill(2), 40, false),
      10_000n,
      fee,
    );
    freeLdk(fee);
    expect(ptrOf(fee)).toBe(0n);
    expect(someOf<bigint>(params.get_max_total_routing_fee_msat())).toBe(1_234n);
    expect(params.get_final_value_msat()).toBe(10_000n);
    freeLdk(params);
  });

  it('frees every owned object when the scope throws, and a second free does nothing', () => {
    let kept: ldk.Option_u64Z | undefined;
    expect(() =>
      withLdk((own) => {
        kept = own(ldk.Option_u64Z.constructor_some(7n));
        throw new Error('bad input');
      }),
    ).toThrow('bad input');
    expect(ptrOf(kept!)).toBe(0n);
    expect(() => freeLdk(kept, [kept], null, undefined)).not.toThrow();
  });

  it('frees enum variants and results through their base type', () => {
    const result = ldk.Result_NoneReplayEventZ.constructor_err(ldk.ReplayEvent.constructor_new());
    const option = ldk.Option_ThirtyTwoBytesZ.constructor_some(new Uint8Array(32).fill(9));
    expect(ptrOf(result)).not.toBe(0n);
    freeLdk([result, option]);
    expect([ptrOf(result), ptrOf(option)]).toEqual([0n, 0n]);
  });

  it('frees a type whose class a minifier renamed (as in the wallet bundle)', () => {
    const renamed = ldk.ChannelConfig; // a type no other test here frees (types are looked up once)
    const name = Object.getOwnPropertyDescriptor(renamed, 'name')!;
    Object.defineProperty(renamed, 'name', { value: 'e' });
    try {
      const config = renamed.constructor_default();
      freeLdk(config);
      expect(ptrOf(config)).toBe(0n);
    } finally {
      Object.defineProperty(renamed, 'name', name);
    }
  });
});
