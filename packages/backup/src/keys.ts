// The two backup keys, derived from the BIP 39 seed (the 64 bytes of mnemonicToSeed) under labels no
// other use shares: HMAC-SHA256(key = label, message = seed). The encryption key is the one the PWA
// has always used ("lpw/backup-key/v1"), the signing key is a BIP 340 (secp256k1 Schnorr) key of its
// own ("lpw/backup-signing-key/v2"): not the node key, so a backup signature can never be replayed
// as a Lightning message or login.
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { BackupError } from './errors.ts';

export interface BackupKeys {
  /** AES-256-GCM key of the body. */
  encryptionKey: Uint8Array;
  /** BIP 340 secret key that signs the header. */
  signingKey: Uint8Array;
  /** Its x-only public key (32 bytes), written in the header and checked on every decode. */
  signingPublicKey: Uint8Array;
}

const label = (text: string, seed: Uint8Array) => hmac(sha256, new TextEncoder().encode(text), seed);

/** The backup keys of the wallet whose BIP 39 seed (64 bytes) is `seed`. */
export function deriveBackupKeys(seed: Uint8Array): BackupKeys {
  if (!(seed instanceof Uint8Array) || seed.length !== 64) {
    throw new BackupError(
      'INVALID_INPUT',
      `"seed" expected the 64-byte BIP 39 seed, got ${seed?.length} bytes`,
    );
  }
  return backupKeysFrom(label('lpw/backup-key/v1', seed), label('lpw/backup-signing-key/v2', seed));
}

/** Keys from their two 32-byte secrets (tests, and wallets that keep the secrets rather than the seed). */
export function backupKeysFrom(encryptionKey: Uint8Array, signingKey: Uint8Array): BackupKeys {
  if (encryptionKey.length !== 32)
    throw new BackupError('INVALID_INPUT', '"encryptionKey" expected 32 bytes');
  // an HMAC output outside 1..n-1 has probability ~2^-128; refuse it rather than reduce it silently
  if (signingKey.length !== 32 || !secp256k1.utils.isValidSecretKey(signingKey)) {
    throw new BackupError('INVALID_INPUT', '"signingKey" expected a 32-byte secp256k1 secret key');
  }
  return { encryptionKey, signingKey, signingPublicKey: schnorr.getPublicKey(signingKey) };
}
