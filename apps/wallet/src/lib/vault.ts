// The key vault: 12 BIP 39 words are the wallet; at rest they exist only encrypted (AES-256-GCM) under a
// key from one of three locks the person chooses: a PIN or a passphrase (PBKDF2-SHA256, ≥ 600,000
// iterations, WebCrypto), or a passkey whose WebAuthn PRF output is the key material (HKDF). Every
// other secret (node seed, backup key) derives from the words, so the words restore it all.
// The worker, not the UI thread, seals and opens the vault (worker/node.worker.ts): the words reach
// the page only when the person types them in or asks to see them.
import { type BackupKeys, deriveBackupKeys } from '@lpw/backup';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { generateMnemonic, mnemonicToSeedWebcrypto, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';

export const PBKDF2_ITERATIONS = 600_000;
export const MIN_PIN_LENGTH = 6;
export const MIN_PASSPHRASE_LENGTH = 12;

/** How the vault is locked: what the lock screen asks for. */
export type LockKind = 'pin' | 'passphrase' | 'passkey';

/** What opens the vault: typed text, or a passkey's PRF output for the vault's salt. */
export type UnlockSecret =
  | { kind: 'pin' | 'passphrase'; text: string }
  | { kind: 'passkey'; credentialId: string; prfOutput: Uint8Array };

interface VaultBase {
  v: 1;
  /** Base64; for a passkey also the PRF input, so a new salt means a new key. */
  salt: string;
  iv: string;
  ciphertext: string;
  /** Names this wallet's databases and its Web Lock; random, not derived from any key. */
  walletId: string;
  createdAt: number;
}

export type VaultRecord = VaultBase &
  (
    | {
        kdf: 'PBKDF2-SHA256';
        iterations: number;
        /** Absent in vaults written before passphrases existed: a PIN. */
        lock?: 'pin' | 'passphrase';
      }
    | { kdf: 'WebAuthn-PRF'; lock: 'passkey'; credentialId: string }
  );

export type VaultErrorCode =
  | 'WRONG_PIN'
  | 'WRONG_PASSPHRASE'
  | 'WRONG_PASSKEY'
  | 'WEAK_PIN'
  | 'WEAK_PASSPHRASE'
  | 'INVALID_WORDS'
  | 'CORRUPT_VAULT'
  | 'PASSKEY_FAILED'
  | 'PASSKEY_UNSUPPORTED';

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** 12 fresh words (128 bits of entropy from the platform's CSPRNG). */
export function createMnemonic(): string {
  return generateMnemonic(wordlist, 128);
}

/** Lowercased, single-spaced words; throws INVALID_WORDS naming the problem. */
export function normaliseMnemonic(input: string): string {
  const words = input.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length !== 12 && words.length !== 24) {
    throw new VaultError('INVALID_WORDS', `Expected 12 words, got ${words.length}`);
  }
  const unknown = words.find((w) => !wordlist.includes(w));
  if (unknown !== undefined) throw new VaultError('INVALID_WORDS', `"${unknown}" is not a recovery word`);
  const phrase = words.join(' ');
  if (!validateMnemonic(phrase, wordlist)) {
    throw new VaultError('INVALID_WORDS', 'These words do not form a valid recovery phrase (checksum)');
  }
  return phrase;
}

export function lockOf(record: VaultRecord): LockKind {
  return record.lock ?? 'pin';
}

/** Refuses a PIN or passphrase too short to be worth the name (WEAK_PIN / WEAK_PASSPHRASE). */
export function checkSecret(secret: UnlockSecret): void {
  if (secret.kind === 'pin' && secret.text.length < MIN_PIN_LENGTH)
    throw new VaultError('WEAK_PIN', `Use at least ${MIN_PIN_LENGTH} digits`);
  if (secret.kind === 'passphrase' && secret.text.length < MIN_PASSPHRASE_LENGTH)
    throw new VaultError('WEAK_PASSPHRASE', `Use at least ${MIN_PASSPHRASE_LENGTH} characters`);
}

async function textKey(text: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(text), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

// A PRF output is 32 uniformly random bytes held by the authenticator: no stretching is needed,
// HKDF only binds the key to this vault's salt and purpose.
async function passkeyKey(prfOutput: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', prfOutput as BufferSource, 'HKDF', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: salt as BufferSource,
      info: new TextEncoder().encode('lpw-vault-prf'),
    },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

const aad = (walletId: string) => new TextEncoder().encode(`lpw-vault-v1:${walletId}`);

/** The vault's salt: for a passkey, the PRF input to ask it for. */
export function vaultSalt(record: VaultRecord): Uint8Array {
  return base64.decode(record.salt);
}

/** A fresh vault salt; for a passkey it is also the PRF input, so take it before asking the passkey. */
export function newVaultSalt(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * Encrypts the words under the chosen lock. `salt`: the PRF input a passkey's output was taken for;
 * `walletId`: the wallet's id on this device when these words are its own (a new lock for it).
 */
export async function sealMnemonic(
  mnemonic: string,
  secret: UnlockSecret,
  salt: Uint8Array = newVaultSalt(),
  walletId: string = hex(crypto.getRandomValues(new Uint8Array(16))),
): Promise<VaultRecord> {
  checkSecret(secret);
  const phrase = normaliseMnemonic(mnemonic);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key =
    secret.kind === 'passkey'
      ? await passkeyKey(secret.prfOutput, salt)
      : await textKey(secret.text, salt, PBKDF2_ITERATIONS);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(walletId) },
      key,
      new TextEncoder().encode(phrase),
    ),
  );
  const base = {
    v: 1 as const,
    salt: base64.encode(salt),
    iv: base64.encode(iv),
    ciphertext: base64.encode(ciphertext),
    walletId,
    createdAt: Date.now(),
  };
  return secret.kind === 'passkey'
    ? { ...base, kdf: 'WebAuthn-PRF', lock: 'passkey', credentialId: secret.credentialId }
    : { ...base, kdf: 'PBKDF2-SHA256', iterations: PBKDF2_ITERATIONS, lock: secret.kind };
}

function wrongSecret(record: VaultRecord): VaultError {
  const lock = lockOf(record);
  if (lock === 'passkey') return new VaultError('WRONG_PASSKEY', 'That passkey does not open this wallet');
  if (lock === 'passphrase') return new VaultError('WRONG_PASSPHRASE', 'Wrong passphrase');
  return new VaultError('WRONG_PIN', 'Wrong PIN');
}

/** The words, or VaultError WRONG_PIN / WRONG_PASSPHRASE / WRONG_PASSKEY (AES-GCM authenticates: a wrong key cannot decrypt). */
export async function openVault(record: VaultRecord, secret: UnlockSecret): Promise<string> {
  const pbkdf2 = record?.v === 1 && record.kdf === 'PBKDF2-SHA256' && record.iterations >= PBKDF2_ITERATIONS;
  const prf = record?.v === 1 && record.kdf === 'WebAuthn-PRF';
  if (!pbkdf2 && !prf)
    throw new VaultError('CORRUPT_VAULT', 'The stored wallet is not in a format this app reads');
  const salt = base64.decode(record.salt);
  let key: CryptoKey;
  if (record.kdf === 'WebAuthn-PRF') {
    if (secret.kind !== 'passkey' || secret.credentialId !== record.credentialId) throw wrongSecret(record);
    key = await passkeyKey(secret.prfOutput, salt);
  } else {
    if (secret.kind === 'passkey') throw wrongSecret(record);
    key = await textKey(secret.text, salt, record.iterations);
  }
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: base64.decode(record.iv) as BufferSource, additionalData: aad(record.walletId) },
      key,
      base64.decode(record.ciphertext) as BufferSource,
    );
  } catch {
    throw wrongSecret(record);
  }
  return normaliseMnemonic(new TextDecoder().decode(plain));
}

export interface WalletSecrets {
  /** The Lightning node's 32-byte seed (node key, channel keys, on-chain wallet). */
  nodeSeed: Uint8Array;
  /** Encryption and signing keys of the channel-state backups (derivation in @lpw/backup keys.ts). */
  backupKeys: BackupKeys;
  /** HMAC key of stream payment ids and preimages (the same after a reload, so none is paid twice). */
  streamKey: Uint8Array;
}

/**
 * Everything derives from the BIP 39 seed under distinct labels, so one secret never serves two uses.
 * The seed's PBKDF2 runs in WebCrypto: in JS it took ~290 ms on a cold start (once per unlock, so never
 * warmed up), natively ~5 ms — on the unlock's critical path.
 */
export async function deriveSecrets(mnemonic: string): Promise<WalletSecrets> {
  const seed = await mnemonicToSeedWebcrypto(normaliseMnemonic(mnemonic));
  const label = (l: string) => hmac(sha256, new TextEncoder().encode(l), seed);
  return {
    nodeSeed: label('lpw/node-seed/v1'),
    backupKeys: deriveBackupKeys(seed),
    streamKey: label('lpw/stream-key/v1'),
  };
}
