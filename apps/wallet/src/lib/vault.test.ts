import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  createMnemonic,
  deriveSecrets,
  newVaultSalt,
  normaliseMnemonic,
  openVault,
  PBKDF2_ITERATIONS,
  sealMnemonic,
  type UnlockSecret,
  VaultError,
  type VaultRecord,
} from './vault.ts';

const pin = (text: string): UnlockSecret => ({ kind: 'pin', text });
const passphrase = (text: string): UnlockSecret => ({ kind: 'passphrase', text });
const passkey = (prfOutput: Uint8Array, credentialId = 'cred-1'): UnlockSecret => ({
  kind: 'passkey',
  credentialId,
  prfOutput,
});
const iterationsOf = (record: VaultRecord) => (record.kdf === 'PBKDF2-SHA256' ? record.iterations : 0);

// BIP 39 test vector (Trezor): entropy 0x00…00
const VECTOR =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('vault', () => {
  it('seals the words under the PIN with ≥ 600,000 PBKDF2 iterations and opens them again', async () => {
    const words = createMnemonic();
    expect(words.split(' ')).toHaveLength(12);
    const record = await sealMnemonic(words, pin('246810'));
    expect(iterationsOf(record)).toBeGreaterThanOrEqual(600_000);
    expect(record.lock).toBe('pin');
    expect(JSON.stringify(record)).not.toContain(`${words.split(' ')[0]!} `);
    expect(await openVault(record, pin('246810'))).toBe(words);
  });

  it('a new lock for the same wallet keeps its id; the old lock does not open the new vault', async () => {
    const old = await sealMnemonic(VECTOR, pin('246810'));
    const relocked = await sealMnemonic(
      VECTOR,
      passphrase('kettle amber north'),
      newVaultSalt(),
      old.walletId,
    );
    expect(relocked.walletId).toBe(old.walletId);
    expect(await openVault(relocked, passphrase('kettle amber north'))).toBe(VECTOR);
    await expect(openVault(relocked, pin('246810'))).rejects.toBeInstanceOf(VaultError);
  }, 30_000); // three PBKDF2 stretches on a shared machine

  it('opens a vault written before locks had kinds as a PIN vault', async () => {
    const { lock: _, ...old } = await sealMnemonic(VECTOR, pin('246810'));
    expect(await openVault(old as VaultRecord, pin('246810'))).toBe(VECTOR);
  });

  it('seals under a passphrase, and tells a wrong one apart from a wrong PIN', async () => {
    const record = await sealMnemonic(VECTOR, passphrase('correct horse battery'));
    expect(record.lock).toBe('passphrase');
    expect(await openVault(record, passphrase('correct horse battery'))).toBe(VECTOR);
    await expect(openVault(record, passphrase('correct horse battery!'))).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
    });
    await expect(sealMnemonic(VECTOR, passphrase('short words'))).rejects.toMatchObject({
      code: 'WEAK_PASSPHRASE',
    });
  });

  it('seals under a passkey’s PRF output for the vault’s salt, with no stretching', async () => {
    const output = crypto.getRandomValues(new Uint8Array(32));
    const salt = newVaultSalt();
    const record = await sealMnemonic(VECTOR, passkey(output), salt);
    expect(record).toMatchObject({ kdf: 'WebAuthn-PRF', lock: 'passkey', credentialId: 'cred-1' });
    expect(await openVault(record, passkey(output))).toBe(VECTOR);
    const other = crypto.getRandomValues(new Uint8Array(32));
    await expect(openVault(record, passkey(other))).rejects.toMatchObject({ code: 'WRONG_PASSKEY' });
    await expect(openVault(record, passkey(output, 'cred-2'))).rejects.toMatchObject({
      code: 'WRONG_PASSKEY',
    });
    await expect(openVault(record, pin('246810'))).rejects.toMatchObject({ code: 'WRONG_PASSKEY' });
    // the PRF output for another salt is another key
    const resealed = await sealMnemonic(VECTOR, passkey(output), newVaultSalt());
    expect(resealed.ciphertext).not.toBe(record.ciphertext);
  });

  it('refuses a wrong PIN, a tampered record and a downgraded iteration count', async () => {
    const record = await sealMnemonic(VECTOR, pin('246810'));
    await expect(openVault(record, pin('246811'))).rejects.toMatchObject({ code: 'WRONG_PIN' });
    await expect(openVault({ ...record, walletId: 'other' }, pin('246810'))).rejects.toMatchObject({
      code: 'WRONG_PIN',
    });
    const downgraded = { ...record, iterations: PBKDF2_ITERATIONS - 1 } as VaultRecord;
    await expect(openVault(downgraded, pin('246810'))).rejects.toMatchObject({ code: 'CORRUPT_VAULT' });
    await expect(
      openVault({ ...record, kdf: 'scrypt' } as unknown as VaultRecord, pin('246810')),
    ).rejects.toMatchObject({ code: 'CORRUPT_VAULT' });
  });

  it('refuses short PINs and words that are not a recovery phrase', async () => {
    await expect(sealMnemonic(VECTOR, pin('12345'))).rejects.toMatchObject({ code: 'WEAK_PIN' });
    expect(() => normaliseMnemonic('abandon abandon')).toThrow(VaultError);
    expect(() => normaliseMnemonic(VECTOR.replace('about', 'abandon'))).toThrow(/checksum/);
    expect(() => normaliseMnemonic(VECTOR.replace('about', 'bitcoinz'))).toThrow(/"bitcoinz"/);
    expect(normaliseMnemonic(`  ${VECTOR.toUpperCase()}  `)).toBe(VECTOR);
  });

  it('derives distinct, stable secrets from the words', async () => {
    const a = await deriveSecrets(VECTOR);
    const b = await deriveSecrets(VECTOR);
    // the same node key as every earlier version: the BIP 39 seed of this vector (Trezor's list, no
    // passphrase) under the node-seed label, whatever computes the PBKDF2
    const bip39Seed = hexToBytes(
      '5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4',
    );
    expect(a.nodeSeed).toEqual(hmac(sha256, new TextEncoder().encode('lpw/node-seed/v1'), bip39Seed));
    expect(a.nodeSeed).toHaveLength(32);
    expect(a.nodeSeed).toEqual(b.nodeSeed);
    expect(a.nodeSeed).not.toEqual(a.backupKeys.encryptionKey);
    expect(a.backupKeys.encryptionKey).not.toEqual(a.backupKeys.signingKey);
    expect((await deriveSecrets(createMnemonic())).nodeSeed).not.toEqual(a.nodeSeed);
  });
});
