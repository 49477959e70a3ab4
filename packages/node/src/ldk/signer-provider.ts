// LDK's SignerProvider with the on-chain wallet's scripts: channel keys come from the KeysManager,
// but cooperative-close outputs (shutdown script) and on-chain claims (destination script) pay a
// fresh address of the BIP 84 wallet, so closed-channel money lands where the wallet sees it
// without a second sweep transaction (ldk-node's WalletKeysManager does the same).
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from './callbacks.ts';
import { u128FromLdk } from './values.ts';

const U128_ENCODABLE = 1n << 124n;
const U120_MASK = (1n << 120n) - 1n;

/** What the wallet provides: a fresh P2WPKH script, synchronously (called from inside LDK). */
export interface ScriptSource {
  newChangeScriptSync(): Uint8Array;
}

function isP2wpkh(script: Uint8Array): boolean {
  return script.length === 22 && script[0] === 0x00 && script[1] === 0x14;
}

export function createWalletSignerProvider(
  keys: ldk.KeysManager,
  wallet: ScriptSource,
  retainer: Retainer,
  onError: CallbackErrorSink,
): ldk.SignerProvider {
  const inner = retainer.keep(keys.as_SignerProvider());
  const impl: ldk.SignerProviderInterface = {
    // the id arrives byte-reversed (values.ts u128FromLdk) and the bindings refuse to send back
    // values ≥ 2^124; the keys id only needs to be unique, which KeysManager's counter and start
    // time guarantee, so an out-of-range id is masked rather than refused
    generate_channel_keys_id: (inbound, valueSat, userChannelId) => {
      const id = u128FromLdk(userChannelId);
      return inner.generate_channel_keys_id(inbound, valueSat, id < U128_ENCODABLE ? id : id & U120_MASK);
    },
    derive_channel_signer: (valueSat, keysId) => inner.derive_channel_signer(valueSat, keysId),
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
