// The key vault: 12 BIP 39 words are the wallet; at rest they exist only encrypted under a key that
// PBKDF2-SHA256 (≥ 600,000 iterations, WebCrypto) derives from the user's PIN, with AES-256-GCM.
// Every other secret (node seed, backup key) derives from the words, so the words restore it all.
import { type BackupKeys, deriveBackupKeys } from '@lpw/backup';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';

export const PBKDF2_ITERATIONS = 600_000;
export const MIN_PIN_LENGTH = 6;

export interface VaultRecord {
  v: 1;
  kdf: 'PBKDF2-SHA256';
  iterations: number;
  salt: string;
  iv: string;
  ciphertext: string;
  /** Names this wallet's databases and its Web Lock; random, not derived from any key. */
  walletId: string;
  createdAt: number;
}

export type VaultErrorCode = 'WRONG_PIN' | 'WEAK_PIN' | 'INVALID_WORDS' | 'CORRUPT_VAULT';

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
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

export function checkPin(pin: string): void {
  if (pin.length < MIN_PIN_LENGTH) {
    throw new VaultError('WEAK_PIN', `Use at least ${MIN_PIN_LENGTH} digits or characters`);
  }
}

async function pinKey(pin: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, [
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

const aad = (walletId: string) => new TextEncoder().encode(`lpw-vault-v1:${walletId}`);

/** Encrypts the words under the PIN. */
export async function sealMnemonic(mnemonic: string, pin: string): Promise<VaultRecord> {
  checkPin(pin);
  const phrase = normaliseMnemonic(mnemonic);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const walletId = hex(crypto.getRandomValues(new Uint8Array(16)));
  const key = await pinKey(pin, salt, PBKDF2_ITERATIONS);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(walletId) },
      key,
      new TextEncoder().encode(phrase),
    ),
  );
  return {
    v: 1,
    kdf: 'PBKDF2-SHA256',
    iterations: PBKDF2_ITERATIONS,
    salt: b64(salt),
    iv: b64(iv),
    ciphertext: b64(ciphertext),
    walletId,
    createdAt: Date.now(),
  };
}

/** The words, or VaultError WRONG_PIN (AES-GCM authenticates: a wrong key cannot decrypt). */
export async function openVault(record: VaultRecord, pin: string): Promise<string> {
  if (record?.v !== 1 || record.kdf !== 'PBKDF2-SHA256' || record.iterations < PBKDF2_ITERATIONS) {
    throw new VaultError('CORRUPT_VAULT', 'The stored wallet is not in a format this app reads');
  }
  const key = await pinKey(pin, unb64(record.salt), record.iterations);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: unb64(record.iv) as BufferSource, additionalData: aad(record.walletId) },
      key,
      unb64(record.ciphertext) as BufferSource,
    );
  } catch {
    throw new VaultError('WRONG_PIN', 'Wrong PIN');
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

/** Everything derives from the BIP 39 seed under distinct labels, so one secret never serves two uses. */
export function deriveSecrets(mnemonic: string): WalletSecrets {
  const seed = mnemonicToSeedSync(normaliseMnemonic(mnemonic));
  const label = (l: string) => hmac(sha256, new TextEncoder().encode(l), seed);
  return {
    nodeSeed: label('lpw/node-seed/v1'),
    backupKeys: deriveBackupKeys(seed),
    streamKey: label('lpw/stream-key/v1'),
  };
}
