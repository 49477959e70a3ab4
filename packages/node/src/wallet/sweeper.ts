// Sweeps every SpendableOutputDescriptor LDK hands over after a close (to_self after the CSV
// delay, static remote outputs, HTLC outputs) into the on-chain wallet.
//
// Why LDK's OutputSweeper rather than KeysManager.spend_spendable_outputs by hand: the sweeper is
// in the bindings and works, and it already does the hard parts — it waits for each descriptor's
// delay, builds the spend at OutputSpendingFee, rebroadcasts and re-signs at a higher fee every
// block until confirmed, handles reorgs through Confirm, and forgets outputs only ANTI_REORG_DELAY
// blocks after their spend confirmed. What it needs from us is a KVStore, implemented here as an
// in-memory mirror with every write committed to the node's Store.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import * as ldk from 'lightningdevkit';
import type { ChainBroadcaster } from '../chain/broadcaster.ts';
import { hashFromDisplay } from '../chain/bytes.ts';
import type { ChainFeeEstimator } from '../chain/fees.ts';
import type { BlockRef, ChainLog } from '../chain/source.ts';
import { silentLog } from '../chain/source.ts';
import type { ChainFilter } from '../chain/sync.ts';
import { channelIdHex, isNullPointer } from '../ldk/values.ts';
import type { Store, StoreWrite } from '../persist/store.ts';
import { WalletError } from './errors.ts';
import type { OnchainWallet } from './onchain.ts';

/** Store keys of the sweeper's KVStore: `sweeper/kv/<primary>/<secondary>/<key>`. */
const KV_PREFIX = 'sweeper/kv/';
/** Where LDK 0.1's OutputSweeper persists itself (namespaces "" and "", key "output_sweeper"). */
const SWEEPER_KV_KEY = `${KV_PREFIX}//output_sweeper`;

export interface SweeperOptions {
  /** The node's KeysManager: it signs the spends (`as_OutputSpender`). */
  keysManager: ldk.KeysManager;
  /** Change destination: swept funds land on a fresh internal address of this wallet. */
  wallet: OnchainWallet;
  broadcaster: ChainBroadcaster;
  fees: ChainFeeEstimator;
  /** The ChainSync filter, so the sweeper's spends are watched. */
  filter: ChainFilter;
  logger: ldk.Logger;
  /** The chain tip when no sweeper state is stored yet (a fresh node). */
  bestBlock: BlockRef;
  store?: Pick<Store, 'commit'>;
  stored?: Map<string, Uint8Array>;
  /**
   * Leave StaticOutput descriptors alone: true when the node's SignerProvider makes shutdown and
   * destination scripts wallet addresses (they already pay the wallet, and the KeysManager could
   * not sign for them). Default false: they pay the KeysManager's destination key and are swept.
   */
  excludeStaticOutputs?: boolean;
  log?: ChainLog;
}

export interface SweptOutput {
  /** Outpoint being swept, `txid:vout` (display hex). */
  outpoint: string;
  /** The channel it comes from, when LDK says. */
  channelId: string | undefined;
  valueSat: bigint;
  status: 'waiting' | 'broadcast' | 'confirming';
}

/**
 * @example
 * const sweeper = Sweeper.open({ keysManager, wallet, broadcaster, fees, filter: chainSync.filter, logger, bestBlock, store, stored });
 * // confirmables: [cm.as_Confirm(), chainMonitor.as_Confirm(), sweeper.confirm]
 * // Event_SpendableOutputs: sweeper.track(event.outputs, event.channel_id)
 */
export class Sweeper {
  /** Add to the confirmables of every ChainSync.sync. */
  readonly confirm: ldk.Confirm;
  private readonly sweeper: ldk.OutputSweeper;
  private readonly mirror: Map<string, Uint8Array>;
  private readonly log: ChainLog;
  /** Strong references to everything handed to LDK (it holds them weakly). */
  private readonly kept: unknown[] = [];
  private committing: Promise<void> = Promise.resolve();
  private pendingCommits = 0;

  private constructor(private readonly opts: SweeperOptions) {
    this.log = opts.log ?? silentLog;
    this.mirror = new Map();
    for (const [k, v] of opts.stored ?? []) if (k.startsWith(KV_PREFIX)) this.mirror.set(k, v);

    const kvStore = ldk.KVStore.new_impl({
      read: (primary: string, secondary: string, key: string): ldk.Result_CVec_u8ZIOErrorZ => {
        const value = this.mirror.get(kvKey(primary, secondary, key));
        return value
          ? ldk.Result_CVec_u8ZIOErrorZ.constructor_ok(value)
          : ldk.Result_CVec_u8ZIOErrorZ.constructor_err(ldk.IOError.LDKIOError_NotFound);
      },
      write: (primary: string, secondary: string, key: string, buf: Uint8Array): ldk.Result_NoneIOErrorZ => {
        try {
          this.persist({ key: kvKey(primary, secondary, key), value: Uint8Array.from(buf) });
          return ldk.Result_NoneIOErrorZ.constructor_ok();
        } catch (e) {
          this.log('error', 'sweeper state write failed', { error: String(e) });
          return ldk.Result_NoneIOErrorZ.constructor_err(ldk.IOError.LDKIOError_Other);
        }
      },
      remove: (primary: string, secondary: string, key: string, _lazy: boolean): ldk.Result_NoneIOErrorZ => {
        try {
          this.persist({ key: kvKey(primary, secondary, key), value: null });
          return ldk.Result_NoneIOErrorZ.constructor_ok();
        } catch (e) {
          this.log('error', 'sweeper state remove failed', { error: String(e) });
          return ldk.Result_NoneIOErrorZ.constructor_err(ldk.IOError.LDKIOError_Other);
        }
      },
      list: (primary: string, secondary: string): ldk.Result_CVec_StrZIOErrorZ => {
        const prefix = kvKey(primary, secondary, '');
        const keys = [...this.mirror.keys()]
          .filter((k) => k.startsWith(prefix))
          .map((k) => k.slice(prefix.length));
        return ldk.Result_CVec_StrZIOErrorZ.constructor_ok(keys);
      },
    });
    const changeDestination = ldk.ChangeDestinationSource.new_impl({
      get_change_destination_script: (): ldk.Result_CVec_u8ZNoneZ => {
        try {
          return ldk.Result_CVec_u8ZNoneZ.constructor_ok(opts.wallet.newChangeScriptSync());
        } catch (e) {
          this.log('error', 'no change script for the sweeper', { error: String(e) });
          return ldk.Result_CVec_u8ZNoneZ.constructor_err();
        }
      },
    });
    const spender = opts.keysManager.as_OutputSpender();
    const filter = ldk.Option_FilterZ.constructor_some(opts.filter.ldk);
    this.kept.push(kvStore, changeDestination, spender, filter);

    const saved = this.mirror.get(SWEEPER_KV_KEY);
    if (saved) {
      const read = ldk.OutputSweeper.constructor_read(
        saved,
        opts.broadcaster.ldk,
        opts.fees.ldk,
        filter,
        spender,
        changeDestination,
        kvStore,
        opts.logger,
      );
      if (!(read instanceof ldk.Result_OutputSweeperDecodeErrorZ_OK))
        throw new WalletError('CORRUPT_STATE', 'stored OutputSweeper state does not decode');
      this.sweeper = read.res;
    } else {
      const best = ldk.BestBlock.constructor_new(hashFromDisplay(opts.bestBlock.hash), opts.bestBlock.height);
      this.sweeper = ldk.OutputSweeper.constructor_new(
        best,
        opts.broadcaster.ldk,
        opts.fees.ldk,
        filter,
        spender,
        changeDestination,
        kvStore,
        opts.logger,
      );
    }
    this.confirm = this.sweeper.as_Confirm();
    this.kept.push(this.sweeper, this.confirm);
  }

  static open(opts: SweeperOptions): Sweeper {
    return new Sweeper(opts);
  }

  private persist(write: StoreWrite): void {
    if (write.value === null) this.mirror.delete(write.key);
    else this.mirror.set(write.key, write.value);
    const store = this.opts.store;
    if (!store) return;
    const settle = (p: Promise<void>): void => {
      this.pendingCommits++;
      this.committing = p.then(
        () => {
          this.pendingCommits--;
        },
        (e) => {
          this.pendingCommits--;
          this.log('error', 'sweeper state commit failed', { key: write.key, error: String(e) });
        },
      );
    };
    // nothing in flight: commit now (a synchronous store is durable on return; a throw reaches LDK as an IOError)
    if (this.pendingCommits === 0) {
      const result = store.commit([write]);
      if (result) settle(result);
      return;
    }
    settle(this.committing.then(() => store.commit([write])));
  }

  /**
   * Hand descriptors from Event_SpendableOutputs to the sweeper (duplicates are ignored by LDK).
   * Returns true when the sweeper's state is already durable; false means a commit is in flight:
   * an event handler on an asynchronous store should return ReplayEvent and call again later
   * (or rely on the descriptors having been written durably by the event handler itself).
   */
  track(descriptors: ldk.SpendableOutputDescriptor[], channelId?: ldk.ChannelId | null): boolean {
    // A static payment output paying the wallet's own static payment key (signer-provider.ts) is
    // already a wallet coin: sweeping it would cost a fee, and KeysManager would sign it with the
    // key it derives, not ours.
    const toSweep = descriptors.filter(
      (d) =>
        !(
          d instanceof ldk.SpendableOutputDescriptor_StaticPaymentOutput &&
          this.opts.wallet.isMine(Uint8Array.from(d.static_payment_output.get_output().script_pubkey))
        ),
    );
    if (toSweep.length === 0) return true;
    const result = this.sweeper.track_spendable_outputs(
      toSweep,
      channelId ?? null,
      this.opts.excludeStaticOutputs ?? false,
      ldk.Option_u32Z.constructor_none(),
    );
    if (!result.is_ok()) throw new WalletError('INVALID_INPUT', 'OutputSweeper refused the descriptors');
    return this.pendingCommits === 0;
  }

  /** Same as `track`, from descriptors serialized with `descriptor.write()`. */
  trackSerialized(serialized: Uint8Array[], channelId?: ldk.ChannelId | null): boolean {
    const descriptors = serialized.map((bytes) => {
      const read = ldk.SpendableOutputDescriptor.constructor_read(bytes);
      if (!(read instanceof ldk.Result_SpendableOutputDescriptorDecodeErrorZ_OK))
        throw new WalletError(
          'INVALID_INPUT',
          `descriptor ${hex.encode(sha256(bytes)).slice(0, 16)} does not decode`,
        );
      return read.res;
    });
    return this.track(descriptors, channelId);
  }

  /** Outputs still being swept. */
  tracked(): SweptOutput[] {
    return this.sweeper.tracked_spendable_outputs().map((t) => {
      const d = t.get_descriptor();
      const { outpoint, valueSat } = describeDescriptor(d);
      const s = t.get_status();
      const status =
        s instanceof ldk.OutputSpendStatus_PendingInitialBroadcast
          ? 'waiting'
          : s instanceof ldk.OutputSpendStatus_PendingFirstConfirmation
            ? 'broadcast'
            : 'confirming';
      const channel = t.get_channel_id();
      return {
        outpoint,
        channelId: isNullPointer(channel) ? undefined : channelIdHex(channel),
        valueSat,
        status,
      };
    });
  }

  /** Resolves once every state write made so far is durable. */
  flushed(): Promise<void> {
    return this.committing;
  }
}

function kvKey(primary: string, secondary: string, key: string): string {
  return `${KV_PREFIX}${primary}/${secondary}/${key}`;
}

function describeDescriptor(d: ldk.SpendableOutputDescriptor): { outpoint: string; valueSat: bigint } {
  let outpoint: ldk.OutPoint;
  let output: ldk.TxOut;
  if (d instanceof ldk.SpendableOutputDescriptor_StaticOutput) {
    outpoint = d.outpoint;
    output = d.output;
  } else if (d instanceof ldk.SpendableOutputDescriptor_DelayedPaymentOutput) {
    outpoint = d.delayed_payment_output.get_outpoint();
    output = d.delayed_payment_output.get_output();
  } else if (d instanceof ldk.SpendableOutputDescriptor_StaticPaymentOutput) {
    outpoint = d.static_payment_output.get_outpoint();
    output = d.static_payment_output.get_output();
  } else {
    return { outpoint: 'unknown', valueSat: 0n };
  }
  const txid = hex.encode(Uint8Array.from(outpoint.get_txid()).reverse());
  return { outpoint: `${txid}:${outpoint.get_index()}`, valueSat: output.value };
}
