// Trait implementations the node hands to LDK, built from plain JS interfaces. Each callback is
// guarded (never throws into WASM) and retained (never collected while Rust may call it). The fee
// estimator, broadcaster and chain filter live in chain/ (one fee policy, one rebroadcast policy).
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from './callbacks.ts';
import { freeLdk } from './free.ts';

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
 * Logger filtered by level before anything is read out of the record (~229 calls per payment). Each
 * record is ours and carries its formatted message in WASM memory: freed at once, not by a finalizer.
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
  return retainer.keep(ldk.Logger.new_impl(impl));
}
