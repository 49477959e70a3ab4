// LDK's SignerProvider with the on-chain wallet's scripts: channel keys come from the KeysManager,
// but cooperative-close outputs (shutdown script) and on-chain claims (destination script) pay a
// fresh address of the BIP 84 wallet, so closed-channel money lands where the wallet sees it
// without a second sweep transaction (ldk-node's WalletKeysManager does the same).
//
// The payment key is the one exception to KeysManager derivation. In LDK 0.1 KeysManager derives it
// from the channel_keys_id, which holds the start time and a counter: a wallet restored from its
// words alone cannot find it, so the to_remote output of the LSP's closing commitment would be
// lost (LDK 0.2 fixes this upstream, rust-lightning PR 4117). Our channels are static_remote_key,
// where that output pays the payment key's P2WPKH directly, with no delay and no per-commitment
// tweak: so every channel gets the wallet's fixed static payment key, and the counterparty's
// commitment pays a plain output of our own wallet.
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from './callbacks.ts';
import { toHex, u128FromLdk } from './values.ts';

const U128_ENCODABLE = 1n << 124n;
const U120_MASK = (1n << 120n) - 1n;
/**
 * Marks a channel_keys_id whose signer uses the static payment key: bytes 16..19 of KeysManager's
 * id hold the user channel id's top bytes, which are below 0x10 for every id it accepts (< 2^124),
 * so ids made before this scheme never carry 0xff there and keep KeysManager's payment key.
 */
const STATIC_KEY_MARK = Uint8Array.of(0xff, 0x6c, 0x70, 0x77); // 0xff 'lpw'
const MARK_AT = 16;

/** What the wallet provides: fresh P2WPKH scripts and the static payment key, synchronously. */
export interface ScriptSource {
  newChangeScriptSync(): Uint8Array;
  staticPaymentKey(): { privateKey: Uint8Array };
}

function isP2wpkh(script: Uint8Array): boolean {
  return script.length === 22 && script[0] === 0x00 && script[1] === 0x14;
}

/** Whether channels with this keys id pay our balance to the wallet's static payment key. */
export function usesStaticPaymentKey(keysId: Uint8Array): boolean {
  return STATIC_KEY_MARK.every((b, i) => keysId[MARK_AT + i] === b);
}

/** The channel keys KeysManager derived (`derive_channel_keys`), with `paymentKey` as the payment key. */
export function staticKeySigner(
  derived: ldk.InMemorySigner,
  paymentKey: Uint8Array,
  valueSat: bigint,
  keysId: Uint8Array,
  nonceSeed: Uint8Array,
): ldk.InMemorySigner {
  return ldk.InMemorySigner.constructor_new(
    derived.get_funding_key(),
    derived.get_revocation_base_key(),
    paymentKey,
    derived.get_delayed_payment_base_key(),
    derived.get_htlc_base_key(),
    derived.get_commitment_seed(),
    valueSat,
    keysId,
    nonceSeed,
  );
}

/**
 * A restart derives every channel's keys twice: LDK asks for a signer for each ChannelMonitor it
 * reads, then again for each channel of the manager read after them, and KeysManager's derivation
 * (a BIP 32 step and six point multiplications) costs ~1 ms in WASM. The monitors are read through
 * `monitorSignerProvider`, which gives them KeysManager's signer as before and keeps its keys; the
 * manager's static-payment-key signer for the same channel is then built from those (`take`, once
 * each) instead of deriving them again. `clear()` when the restore is over drops the rest.
 */
export class RestoredChannelKeys {
  readonly monitorSignerProvider: ldk.SignerProvider;
  private readonly derived = new Map<string, ldk.InMemorySigner>();

  constructor(keys: ldk.KeysManager, retainer: Retainer, onError: CallbackErrorSink) {
    const inner = retainer.keep(keys.as_SignerProvider());
    const impl: ldk.SignerProviderInterface = {
      generate_channel_keys_id: (inbound, valueSat, userChannelId) =>
        inner.generate_channel_keys_id(inbound, valueSat, userChannelId),
      // what KeysManager's own derive_channel_signer returns: derive_channel_keys' signer
      derive_channel_signer: guard(
        'SignerProvider.derive_channel_signer (monitor read)',
        (valueSat: bigint, keysId: Uint8Array) => {
          const derived = keys.derive_channel_keys(valueSat, keysId);
          this.derived.set(channelKeysKey(valueSat, keysId), derived);
          return derived.as_EcdsaChannelSigner();
        },
        (valueSat: bigint, keysId: Uint8Array) => inner.derive_channel_signer(valueSat, keysId),
        onError,
      ),
      read_chan_signer: (reader) => inner.read_chan_signer(reader),
      get_destination_script: (keysId) => inner.get_destination_script(keysId),
      get_shutdown_scriptpubkey: () => inner.get_shutdown_scriptpubkey(),
    };
    retainer.keep(impl);
    this.monitorSignerProvider = retainer.keep(ldk.SignerProvider.new_impl(impl));
  }

  /** KeysManager's keys for the channel, when a monitor read derived them and nothing took them yet. */
  take(valueSat: bigint, keysId: Uint8Array): ldk.InMemorySigner | undefined {
    const key = channelKeysKey(valueSat, keysId);
    const derived = this.derived.get(key);
    this.derived.delete(key);
    return derived;
  }

  clear(): void {
    this.derived.clear();
  }
}

function channelKeysKey(valueSat: bigint, keysId: Uint8Array): string {
  return `${valueSat}:${toHex(keysId)}`;
}

export function createWalletSignerProvider(
  keys: ldk.KeysManager,
  wallet: ScriptSource,
  retainer: Retainer,
  onError: CallbackErrorSink,
  randomBytes: (length: number) => Uint8Array,
  /** At a restart: the keys the monitor reads derived, reused for the manager's channels. */
  restored?: RestoredChannelKeys,
): ldk.SignerProvider {
  const inner = retainer.keep(keys.as_SignerProvider());
  const impl: ldk.SignerProviderInterface = {
    // the id arrives byte-reversed (values.ts u128FromLdk) and the bindings refuse to send back
    // values ≥ 2^124; the keys id only needs to be unique, which KeysManager's counter and start
    // time (bytes 0..16) guarantee, so an out-of-range id is masked rather than refused
    generate_channel_keys_id: (inbound, valueSat, userChannelId) => {
      const id = u128FromLdk(userChannelId);
      const keysId = inner.generate_channel_keys_id(
        inbound,
        valueSat,
        id < U128_ENCODABLE ? id : id & U120_MASK,
      );
      keysId.set(STATIC_KEY_MARK, MARK_AT);
      return keysId;
    },
    // Deterministic in (value, keys id): LDK derives the signer of every channel and monitor it
    // reads back from these two, so a restart (or a restore) must get the very same keys.
    derive_channel_signer: guard(
      'SignerProvider.derive_channel_signer',
      (valueSat: bigint, keysId: Uint8Array) => {
        if (!usesStaticPaymentKey(keysId)) return inner.derive_channel_signer(valueSat, keysId);
        const paymentKey = wallet.staticPaymentKey().privateKey;
        const derived = restored?.take(valueSat, keysId) ?? keys.derive_channel_keys(valueSat, keysId);
        try {
          return staticKeySigner(
            derived,
            paymentKey,
            valueSat,
            keysId,
            randomBytes(32),
          ).as_EcdsaChannelSigner();
        } finally {
          paymentKey.fill(0);
        }
      },
      // never reached in practice; KeysManager's keys at least never pay someone else
      (valueSat: bigint, keysId: Uint8Array) => inner.derive_channel_signer(valueSat, keysId),
      onError,
    ),
    // InMemorySigner's bytes carry every key, the payment key included: KeysManager reads ours too
    read_chan_signer: (reader) => inner.read_chan_signer(reader),
    get_destination_script: guard(
      'SignerProvider.get_destination_script',
      (_keysId: Uint8Array) => ldk.Result_CVec_u8ZNoneZ.constructor_ok(wallet.newChangeScriptSync()),
      () => ldk.Result_CVec_u8ZNoneZ.constructor_err(),
      onError,
    ),
    get_shutdown_scriptpubkey: guard(
      'SignerProvider.get_shutdown_scriptpubkey',
      () => {
        const script = wallet.newChangeScriptSync();
        if (!isP2wpkh(script)) throw new Error('wallet change script is not P2WPKH');
        return ldk.Result_ShutdownScriptNoneZ.constructor_ok(
          ldk.ShutdownScript.constructor_new_p2wpkh(script.slice(2)),
        );
      },
      () => ldk.Result_ShutdownScriptNoneZ.constructor_err(),
      onError,
    ),
  };
  retainer.keep(impl);
  return retainer.keep(ldk.SignerProvider.new_impl(impl));
}
