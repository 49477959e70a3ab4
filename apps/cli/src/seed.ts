// The machine wallet's key: BIP 39 words in `<dir>/seed.txt`, mode 0600. Whoever reads that file
// can spend the wallet; whoever loses it (with no other copy) loses the wallet.
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type BackupKeys, deriveBackupKeys } from '@lpw/backup';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { CliError } from './errors.ts';

export const SEED_FILE = 'seed.txt';

export interface WalletSecrets {
  /** 32-byte node seed: the same derivation as the PWA's, so the words restore in either. */
  nodeSeed: Uint8Array;
  /** Channel-state backup keys (encryption, signing): the PWA's derivation, so either restores the other's. */
  backupKeys: BackupKeys;
  /** HMAC key that makes stream payment ids and preimages reproducible after a crash. */
  streamKey: Uint8Array;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export function deriveSecrets(words: string): WalletSecrets {
  const normalised = words.trim().toLowerCase().split(/\s+/).join(' ');
  if (!validateMnemonic(normalised, wordlist))
    throw new CliError('INVALID_INPUT', 'seed file does not hold valid BIP 39 words');
  const seed = mnemonicToSeedSync(normalised);
  return {
    nodeSeed: hmac(sha256, utf8('lpw/node-seed/v1'), seed),
    backupKeys: deriveBackupKeys(seed),
    streamKey: hkdf(sha256, seed, utf8('lpw-cli'), utf8('lpw/cli-stream-key/v1'), 32),
  };
}

/** Writes fresh words (or the given ones) with mode 0600; refuses to overwrite an existing seed. */
export function createSeedFile(dir: string, words?: string): string {
  const mnemonic = words ?? generateMnemonic(wordlist, 256);
  deriveSecrets(mnemonic); // validates given words
  const path = join(dir, SEED_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new CliError('ALREADY_INITIALIZED', `${path} exists: this directory already holds a wallet`);
    throw e;
  }
  try {
    writeSync(fd, `${mnemonic}\n`);
  } finally {
    closeSync(fd);
  }
  return mnemonic;
}

export function readSeedFile(dir: string): WalletSecrets {
  const path = join(dir, SEED_FILE);
  if (!existsSync(path))
    throw new CliError('NOT_INITIALIZED', `no wallet in ${dir} (run \`lpw-wallet init\` first)`);
  const fd = openSync(path, 'r');
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if (mode & 0o077)
      throw new CliError(
        'INVALID_INPUT',
        `${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it, and consider the wallet exposed`,
      );
  } finally {
    closeSync(fd);
  }
  return deriveSecrets(readFileSync(path, 'utf8'));
}
