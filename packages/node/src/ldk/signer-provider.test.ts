// The static payment key scheme: new channels get KeysManager's keys but the wallet's static payment
// key, the same keys on every derivation and after a restart; ids made before the scheme keep
// KeysManager's signer unchanged, so stores written before it read back as they were.

import * as ldk from 'lightningdevkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { esploraSource } from '../chain/esplora.ts';
import { OnchainWallet } from '../wallet/onchain.ts';
import { Retainer } from './callbacks.ts';
import { initLdkNode } from './init-node.ts';
import {
  createWalletSignerProvider,
  RestoredChannelKeys,
  staticKeySigner,
  usesStaticPaymentKey,
} from './signer-provider.ts';

const seed = new Uint8Array(32).fill(0x42);
const keysManager = (startSecs: bigint) => ldk.KeysManager.constructor_new(seed, startSecs, 7);

describe('signer provider: the wallet static payment key', () => {
  let wallet: OnchainWallet;
  beforeAll(async () => {
    await initLdkNode();
    // never contacted: deriving keys reads nothing from the chain
    wallet = await OnchainWallet.open({
      seed,
      network: 'regtest',
      source: esploraSource({ url: 'http://127.0.0.1:9' }),
    });
  });

  it('marks new keys ids, and derives their keys deterministically with the static payment key', () => {
    const keys = keysManager(1_700_000_000n);
    const errors: unknown[] = [];
    const provider = createWalletSignerProvider(
      keys,
      wallet,
      new Retainer(),
      (_w, e) => errors.push(e),
      () => new Uint8Array(32).fill(1),
    );
    const keysId = provider.generate_channel_keys_id(false, 100_000n, 5n);
    expect(usesStaticPaymentKey(keysId)).toBe(true);
    expect(provider.generate_channel_keys_id(false, 100_000n, 5n)).not.toEqual(keysId);

    const paymentKey = wallet.staticPaymentKey();
    const ours = staticKeySigner(
      keys.derive_channel_keys(100_000n, keysId),
      paymentKey.privateKey,
      100_000n,
      keysId,
      new Uint8Array(32),
    );
    const plain = keys.derive_channel_keys(100_000n, keysId);
    expect(ours.get_payment_key()).toEqual(paymentKey.privateKey);
    expect(plain.get_payment_key()).not.toEqual(paymentKey.privateKey);
    for (const key of [
      'get_funding_key',
      'get_revocation_base_key',
      'get_delayed_payment_base_key',
      'get_htlc_base_key',
      'get_commitment_seed',
    ] as const)
      expect(ours[key]()).toEqual(plain[key]());
    // a restart: another KeysManager from the same seed, another start time, the same keys
    const again = staticKeySigner(
      keysManager(1_800_000_000n).derive_channel_keys(100_000n, keysId),
      paymentKey.privateKey,
      100_000n,
      keysId,
      new Uint8Array(32),
    );
    expect(again.write()).toEqual(ours.write());
    // the static key's script is a wallet script, and a channel signer exists for the id
    expect(wallet.isMine(paymentKey.script)).toBe(true);
    expect(provider.derive_channel_signer(100_000n, keysId)).toBeInstanceOf(ldk.EcdsaChannelSigner);
    expect(errors).toEqual([]);
  });

  it('at a restart, builds each channel signer from the keys its monitor read derived, once', () => {
    const keys = keysManager(1_700_000_000n);
    const errors: unknown[] = [];
    const restored = new RestoredChannelKeys(keys, new Retainer(), (_w, e) => errors.push(e));
    const provider = createWalletSignerProvider(
      keys,
      wallet,
      new Retainer(),
      (_w, e) => errors.push(e),
      () => new Uint8Array(32).fill(1),
      restored,
    );
    const keysId = provider.generate_channel_keys_id(false, 100_000n, 9n);
    // the monitor read gets KeysManager's signer, as with KeysManager's own provider
    expect(restored.monitorSignerProvider.derive_channel_signer(100_000n, keysId)).toBeInstanceOf(
      ldk.EcdsaChannelSigner,
    );
    const kept = restored.take(100_000n, keysId)!;
    const plain = keys.derive_channel_keys(100_000n, keysId);
    for (const key of [
      'get_funding_key',
      'get_revocation_base_key',
      'get_payment_key',
      'get_delayed_payment_base_key',
      'get_htlc_base_key',
      'get_commitment_seed',
    ] as const)
      expect(kept[key]()).toEqual(plain[key]());
    // taken once; another channel value is another channel's keys
    expect(restored.take(100_000n, keysId)).toBeUndefined();
    restored.monitorSignerProvider.derive_channel_signer(100_000n, keysId);
    expect(restored.take(200_000n, keysId)).toBeUndefined();
    expect(provider.derive_channel_signer(100_000n, keysId)).toBeInstanceOf(ldk.EcdsaChannelSigner);
    expect(restored.take(100_000n, keysId)).toBeUndefined();
    restored.monitorSignerProvider.derive_channel_signer(100_000n, keysId);
    restored.clear();
    expect(restored.take(100_000n, keysId)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('leaves ids from before the scheme to KeysManager (their payment key is where old stores expect it)', () => {
    const keys = keysManager(1_700_000_000n);
    const oldId = keys.as_SignerProvider().generate_channel_keys_id(false, 100_000n, (1n << 123n) + 5n);
    expect(usesStaticPaymentKey(oldId)).toBe(false);
    const zeroTop = keys.as_SignerProvider().generate_channel_keys_id(true, 1n, 0n);
    expect(usesStaticPaymentKey(zeroTop)).toBe(false);
  });
});
