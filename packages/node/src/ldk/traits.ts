// Trait implementations the node hands to LDK, built from plain JS interfaces. Each callback is
// guarded (never throws into WASM) and retained (never collected while Rust may call it).
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from './callbacks.ts';

export type LogLevel = 'gossip' | 'trace' | 'debug' | 'info' | 'warn' | 'error';
const LEVELS: LogLevel[] = ['gossip', 'trace', 'debug', 'info', 'warn', 'error'];

export interface LogEntry {
  level: LogLevel;
  module: string;
  line: number;
  message: string;
}
export type LogSink = (entry: LogEntry) => void;

/** Logger filtered by level before anything is read out of the record (~229 calls per payment). */
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
        const level = record.get_level() as number;
        if (level < min) return;
        sink({
          level: LEVELS[level] ?? 'error',
          module: record.get_module_path(),
          line: record.get_line(),
          message: record.get_args(),
        });
      },
      undefined,
      onError,
    ),
  };
  retainer.keep(impl);
  return retainer.keep(ldk.Logger.new_impl(impl));
}

export type FeeTarget =
  | 'MaximumFeeEstimate'
  | 'UrgentOnChainSweep'
  | 'MinAllowedAnchorChannelRemoteFee'
  | 'MinAllowedNonAnchorChannelRemoteFee'
  | 'AnchorChannelFee'
  | 'NonAnchorChannelFee'
  | 'ChannelCloseMinimum'
  | 'OutputSpendingFee';

/** A fee source in plain JS: sat per 1000 weight units for a confirmation target. */
export interface FeeSource {
  satPerKw(target: FeeTarget): number;
}

const FLOOR_SAT_PER_KW = 253;
/**
 * Used when a fee source throws before it ever answered. MaximumFeeEstimate also caps dust
 * exposure (10,000 × it): a floor value there makes small payments fail.
 */
const FALLBACK_SAT_PER_KW: Partial<Record<FeeTarget, number>> = {
  MaximumFeeEstimate: 2500,
  UrgentOnChainSweep: 2500,
};

export function createFeeEstimator(
  source: FeeSource | ldk.FeeEstimator,
  retainer: Retainer,
  onError: CallbackErrorSink,
): ldk.FeeEstimator {
  if (source instanceof ldk.FeeEstimator) return retainer.keep(source);
  const last = new Map<FeeTarget, number>();
  const nameOf = (target: ldk.ConfirmationTarget) =>
    (ldk.ConfirmationTarget[target] ?? 'MaximumFeeEstimate').replace(
      'LDKConfirmationTarget_',
      '',
    ) as FeeTarget;
  const impl: ldk.FeeEstimatorInterface = {
    get_est_sat_per_1000_weight: guard(
      'FeeEstimator.get_est_sat_per_1000_weight',
      (target: ldk.ConfirmationTarget) => {
        const name = nameOf(target);
        const rate = Math.max(FLOOR_SAT_PER_KW, Math.ceil(source.satPerKw(name)));
        if (!Number.isFinite(rate)) throw new Error(`fee source returned ${rate} for ${name}`);
        last.set(name, rate);
        return rate;
      },
      (target: ldk.ConfirmationTarget) => {
        const name = nameOf(target);
        return last.get(name) ?? FALLBACK_SAT_PER_KW[name] ?? FLOOR_SAT_PER_KW;
      },
      onError,
    ),
  };
  retainer.keep(impl);
  return retainer.keep(ldk.FeeEstimator.new_impl(impl));
}

export interface TxBroadcaster {
  broadcast(transactions: Uint8Array[]): void;
}

export function createBroadcaster(
  target: TxBroadcaster | ldk.BroadcasterInterface,
  retainer: Retainer,
  onError: CallbackErrorSink,
): ldk.BroadcasterInterface {
  if (target instanceof ldk.BroadcasterInterface) return retainer.keep(target);
  const impl: ldk.BroadcasterInterfaceInterface = {
    broadcast_transactions: guard(
      'BroadcasterInterface.broadcast_transactions',
      (txs: Uint8Array[]) => target.broadcast(txs.map((t) => Uint8Array.from(t))),
      undefined,
      onError,
    ),
  };
  retainer.keep(impl);
  return retainer.keep(ldk.BroadcasterInterface.new_impl(impl));
}

/** Chain Filter in plain JS (txid in internal byte order, scripts raw). */
export interface ChainFilter {
  registerTx(txid: Uint8Array, scriptPubkey: Uint8Array): void;
  registerOutput(outpoint: { txid: Uint8Array; index: number }, scriptPubkey: Uint8Array): void;
}

export function createFilter(
  filter: ChainFilter | ldk.Filter,
  retainer: Retainer,
  onError: CallbackErrorSink,
): ldk.Filter {
  if (filter instanceof ldk.Filter) return retainer.keep(filter);
  const impl: ldk.FilterInterface = {
    register_tx: guard(
      'Filter.register_tx',
      (txid: Uint8Array, script: Uint8Array) =>
        filter.registerTx(Uint8Array.from(txid), Uint8Array.from(script)),
      undefined,
      onError,
    ),
    register_output: guard(
      'Filter.register_output',
      (output: ldk.WatchedOutput) => {
        const outpoint = output.get_outpoint();
        filter.registerOutput(
          { txid: Uint8Array.from(outpoint.get_txid()), index: outpoint.get_index() },
          Uint8Array.from(output.get_script_pubkey()),
        );
      },
      undefined,
      onError,
    ),
  };
  retainer.keep(impl);
  return retainer.keep(ldk.Filter.new_impl(impl));
}
