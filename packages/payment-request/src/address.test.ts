// Bitcoin addresses: the valid and invalid segwit addresses of BIP 350 (which include BIP 173's,
// corrected), base58check addresses (BIP 13), and the networks each belongs to.

import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, createBase58check } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { decodeAddress, PaymentRequestError } from './index.ts';

// BIP 350, "Test vectors for v0-v16 native segregated witness addresses": address → scriptPubKey.
const BIP350_VALID: readonly (readonly [string, string])[] = [
  ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', '0014751e76e8199196d454941c45d1b3a323f1433bd6'],
  [
    'tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7',
    '00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262',
  ],
  [
    'bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y',
    '5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6',
  ],
  ['BC1SW50QGDZ25J', '6002751e'],
  ['bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs', '5210751e76e8199196d454941c45d1b3a323'],
  [
    'tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy',
    '0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433',
  ],
  [
    'tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c',
    '5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433',
  ],
  [
    'bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
    '512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
  ],
];

// BIP 350's invalid addresses, minus the one with an unknown prefix (tc1…, not an address here at all).
const BIP350_INVALID: readonly (readonly [string, RegExp])[] = [
  ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd', /must use bech32m/],
  ['tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf', /must use bech32m/],
  ['BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL', /must use bech32m/],
  ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh', /must use bech32, not bech32m/],
  ['tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47', /must use bech32, not bech32m/],
  ['bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4', /checksum/],
  ['BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R', /witness version 17/],
  ['bc1pw5dgrnzv', /cannot be 1 bytes/],
  ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav', /cannot be 41 bytes/],
  ['BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P', /version 0 witness program cannot be 16 bytes/],
  ['tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq', /mixes upper and lower/],
  ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf', /padding/],
  ['tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j', /padding/],
  ['bc1gmk9yu', /witness version undefined/],
];

describe('BIP 350 segwit addresses', () => {
  for (const [address, script] of BIP350_VALID) {
    it(`accepts ${address}`, () => {
      const decoded = decodeAddress(address);
      expect(decoded.scriptPubKey).toBe(script);
      expect(decoded.address).toBe(address.toLowerCase());
      expect(decoded.networks).toEqual(
        address.toLowerCase().startsWith('bc1') ? ['bitcoin'] : ['testnet', 'signet'],
      );
    });
  }
  for (const [address, reason] of BIP350_INVALID) {
    it(`rejects ${address}`, () => {
      expect(() => decodeAddress(address)).toThrow(reason);
      expect(() => decodeAddress(address)).toThrow(PaymentRequestError);
    });
  }
  it('names the address types and knows regtest', () => {
    expect(decodeAddress('BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4').type).toBe('p2wpkh');
    expect(decodeAddress(BIP350_VALID[1]![0]).type).toBe('p2wsh');
    expect(decodeAddress(BIP350_VALID[7]![0]).type).toBe('p2tr');
    expect(decodeAddress('BC1SW50QGDZ25J').type).toBe('witness-future');
    const regtest = decodeAddress(bech32.encode('bcrt', [0, ...bech32.toWords(new Uint8Array(20).fill(7))]));
    expect(regtest.networks).toEqual(['regtest']);
    expect(regtest.scriptPubKey).toBe(`0014${'07'.repeat(20)}`);
  });
});

describe('base58check addresses', () => {
  it('accepts P2PKH and P2SH on mainnet and test networks', () => {
    expect(decodeAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa')).toEqual({
      address: '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',
      type: 'p2pkh',
      scriptPubKey: '76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac',
      networks: ['bitcoin'],
    });
    expect(decodeAddress('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy').scriptPubKey).toBe(
      'a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87',
    );
    expect(decodeAddress('mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn').networks).toEqual([
      'testnet',
      'signet',
      'regtest',
    ]);
  });
  it('rejects a changed character, a wrong length and characters outside base58', () => {
    expect(() => decodeAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb')).toThrow(/checksum/);
    expect(() => decodeAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a')).toThrow(/base58 does not use/);
    const base58check = createBase58check(sha256);
    expect(() => decodeAddress(base58check.encode(new Uint8Array(22)))).toThrow(/not a 20-byte hash/);
    const unknownVersion = new Uint8Array(21);
    unknownVersion[0] = 0x30; // Litecoin P2PKH
    expect(() => decodeAddress(base58check.encode(unknownVersion))).toThrow(/version byte 0x30/);
  });
});
