// The Logger's level filter: records at or above the level reach the sink whole, records below it
// never do and are freed at once (WASM memory stays flat), whether LDK or the bindings' path sent them.
import * as ldk from 'lightningdevkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { Retainer } from './callbacks.ts';
import { freeLdk } from './free.ts';
import { initLdkNode } from './init-node.ts';
import { wasmMemoryUsage } from './memory.ts';
import { createLogger, type LogEntry } from './traits.ts';

/** How the WASM side calls a Logger: the method named `log` on the object it was given, with a pointer it hands over. */
function logThroughBindings(logger: ldk.Logger, level: ldk.Level, message: string, line: number): void {
  const record = ldk.Record.constructor_new(
    level,
    null,
    null,
    message,
    'lightning::ln::channelmanager',
    'channelmanager.rs',
    line,
    ldk.Option_ThirtyTwoBytesZ.constructor_none(),
  );
  const owned = record.clone_ptr(); // a copy whose ownership passes to the callback, as LDK's does
  freeLdk(record);
  (logger as unknown as { bindings_instance: { log(ptr: bigint): void } }).bindings_instance.log(owned);
}

describe('Logger', () => {
  beforeAll(() => initLdkNode());

  it('hands the sink whole records at or above its level and drops the rest', () => {
    const entries: LogEntry[] = [];
    const errors: unknown[] = [];
    const logger = createLogger(
      'info',
      (e) => entries.push(e),
      new Retainer(),
      (_w, e) => errors.push(e),
    );
    logThroughBindings(logger, ldk.Level.LDKLevel_Trace, 'trace line', 11);
    logThroughBindings(logger, ldk.Level.LDKLevel_Debug, 'debug line', 12);
    logThroughBindings(logger, ldk.Level.LDKLevel_Info, 'info line', 13);
    logThroughBindings(logger, ldk.Level.LDKLevel_Error, 'error line', 14);
    expect(errors).toEqual([]);
    // (the module path is a `&'static str` in Rust: one made from JS, as here, does not survive the
    // constructor, so only the fields a JS-made record keeps are compared)
    expect(entries.map(({ level, line, message }) => ({ level, line, message }))).toEqual([
      { level: 'info', line: 13, message: 'info line' },
      { level: 'error', line: 14, message: 'error line' },
    ]);
  });

  it('frees dropped records at once: 20,000 of them leave WASM memory flat', () => {
    const entries: LogEntry[] = [];
    const logger = createLogger(
      'warn',
      (e) => entries.push(e),
      new Retainer(),
      () => {},
    );
    const long = 'x'.repeat(200); // each record carries its message in WASM memory
    for (let i = 0; i < 1_000; i++) logThroughBindings(logger, ldk.Level.LDKLevel_Debug, long, i);
    const before = wasmMemoryUsage()!.usedBytes;
    for (let i = 0; i < 20_000; i++) logThroughBindings(logger, ldk.Level.LDKLevel_Trace, long, i);
    expect(entries).toEqual([]);
    // left to finalizers, 20,000 records of ~300 bytes would be several MB
    expect(wasmMemoryUsage()!.usedBytes - before).toBeLessThan(1_048_576);
  });
});
