// Trait implementations the node hands to LDK, built from plain JS interfaces. Each callback is
// guarded (never throws into WASM) and retained (never collected while Rust may call it). The fee
// estimator, broadcaster and chain filter live in chain/ (one fee policy, one rebroadcast policy).
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from './callbacks.ts';
import { freeFunctionOf, freeLdk } from './free.ts';

export type LogLevel = 'gossip' | 'trace' | 'debug' | 'info' | 'warn' | 'error';
const LEVELS: LogLevel[] = ['gossip', 'trace', 'debug', 'info', 'warn', 'error'];

export interface LogEntry {
  level: LogLevel;
  module: string;
  line: number;
  message: string;
}
export type LogSink = (entry: LogEntry) => void;

/**
 * Logger filtered by level before anything is read out of the record (~229 calls per payment; 173
 * per forward at the LSP). Each record is ours and carries its formatted message in WASM memory:
 * freed at once, not by a finalizer. Records below the level never get a JS wrapper (`rawLevelFilter`).
 */
export function createLogger(
  minLevel: LogLevel,
  sink: LogSink,
  retainer: Retainer,
  onError: CallbackErrorSink,
) {
  const min = LEVELS.indexOf(minLevel);
  const impl: ldk.LoggerInterface = {
    log: guard(
      'Logger.log',
      (record: ldk.Record) => {
        try {
          const level = record.get_level() as number;
          if (level < min) return;
          sink({
            level: LEVELS[level] ?? 'error',
            module: record.get_module_path(),
            line: record.get_line(),
            message: record.get_args(),
          });
        } finally {
          freeLdk(record);
        }
      },
      undefined,
      onError,
    ),
  };
  retainer.keep(impl);
  const logger = retainer.keep(ldk.Logger.new_impl(impl));
  rawLevelFilter(logger, min, onError);
  return logger;
}

/**
 * The bindings wrap every record in a `Record` registered with a FinalizationRegistry before our
 * `log` sees it: 2.3 ms of the LSP's CPU per forward (13 µs a call), nearly all for records the level
 * drops. They look the method up by name on the object they were handed, at each call (bindings.mjs
 * `js_invoke`), so that object's `log` is replaced by one that reads the level off the raw pointer,
 * frees a dropped record at once, and hands a kept one to the bindings' own wrapping path (and so to
 * `impl.log`). Bindings of another shape keep the wrapping path for every record.
 */
function rawLevelFilter(logger: ldk.Logger, min: number, onError: CallbackErrorSink): void {
  const instance = (logger as unknown as { bindings_instance?: { log?: unknown } }).bindings_instance;
  const wrapping = instance?.log;
  const freeRecord = freeFunctionOf(ldk.Record);
  if (!instance || typeof wrapping !== 'function' || !freeRecord) return;
  const levelOf = ldk.Record.prototype.get_level;
  instance.log = guard(
    'Logger.log',
    (ptr: bigint) => {
      // a stand-in `this`: get_level reads only `this.ptr`
      if ((levelOf.call({ ptr } as unknown as ldk.Record) as number) < min) freeRecord(ptr);
      else wrapping.call(instance, ptr);
    },
    undefined,
    onError,
  );
}
