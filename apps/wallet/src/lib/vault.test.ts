import { describe, expect, it } from 'vitest';
import {
  createMnemonic,
  deriveSecrets,
  normaliseMnemonic,
  openVault,
  PBKDF2_ITERATIONS,
  sealMnemonic,
  VaultError,
} from './vault.ts';

// BIP 39 test vector (Trezor): entropy 0x00…00
const VECTOR =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('vault', () => {
  it('seals the words under the PIN with ≥ 600,000 PBKDF2 iterations and opens them again', async () => {
    const words = createMnemonic();
    expect(words.split(' ')).toHaveLength(12);
    const record = await sealMnemonic(words, '246810');
    expect(record.iterations).toBeGreaterThanOrEqual(600_000);
    expect(JSON.stringify(record)).not.toContain(`${words.split(' ')[0]!} `);
    expect(await openVault(record, '246810')).toBe(words);
  });

  it('refuses a wrong PIN, a tampered record and a downgraded iteration count', async () => {
    const record = await sealMnemonic(VECTOR, '246810');
    await expect(openVault(record, '246811')).rejects.toMatchObject({ code: 'WRONG_PIN' });
    await expect(openVault({ ...record, walletId: 'other' }, '246810')).rejects.toMatchObject({
      code: 'WRONG_PIN',
    });
    await expect(openVault({ ...record, iterations: PBKDF2_ITERATIONS - 1 }, '246810')).rejects.toMatchObject(
      { code: 'CORRUPT_VAULT' },
    );
  });

  it('refuses short PINs and words that are not a recovery phrase', async () => {
    await expect(sealMnemonic(VECTOR, '12345')).rejects.toMatchObject({ code: 'WEAK_PIN' });
    expect(() => normaliseMnemonic('abandon abandon')).toThrow(VaultError);
    expect(() => normaliseMnemonic(VECTOR.replace('about', 'abandon'))).toThrow(/checksum/);
    expect(() => normaliseMnemonic(VECTOR.replace('about', 'bitcoinz'))).toThrow(/"bitcoinz"/);
    expect(normaliseMnemonic(`  ${VECTOR.toUpperCase()}  `)).toBe(VECTOR);
  });

  it('derives distinct, stable secrets from the words', () => {
    const a = deriveSecrets(VECTOR);
    const b = deriveSecrets(VECTOR);
    expect(a.nodeSeed).toHaveLength(32);
    expect(a.nodeSeed).toEqual(b.nodeSeed);
    expect(a.nodeSeed).not.toEqual(a.backupKeys.encryptionKey);
    expect(a.backupKeys.encryptionKey).not.toEqual(a.backupKeys.signingKey);
    expect(deriveSecrets(createMnemonic()).nodeSeed).not.toEqual(a.nodeSeed);
  });
});
