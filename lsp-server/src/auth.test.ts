import { signNodeMessage, verifyNodeMessage, zbase32Decode, zbase32Encode } from '@lpw/api';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { signedByNode } from './auth.ts';

describe('signedByNode (OpenSSL) agrees with verifyNodeMessage (noble)', () => {
  const key = new Uint8Array(32).fill(0x11);
  const nodeId = bytesToHex(secp256k1.getPublicKey(key, true));
  const other = bytesToHex(secp256k1.getPublicKey(new Uint8Array(32).fill(0x22), true));
  const sig = signNodeMessage('challenge', key);
  const flipped = (() => {
    const raw = zbase32Decode(sig)!;
    raw[40]! ^= 1;
    return zbase32Encode(raw);
  })();
  const cases: [string, string, string, boolean][] = [
    ['challenge', sig, nodeId, true],
    ['challenge!', sig, nodeId, false],
    ['challenge', sig, other, false],
    ['challenge', flipped, nodeId, false],
    ['challenge', 'not zbase32', nodeId, false],
    ['challenge', sig.slice(0, 103), nodeId, false],
    ['challenge', sig, `02${'ff'.repeat(32)}`, false], // not on the curve
    ['challenge', sig, 'zz', false],
  ];
  it.each(cases)('%s / %s / %s → %s', (message, signature, id, expected) => {
    expect(signedByNode(message, signature, id)).toBe(expected);
    expect(verifyNodeMessage(message, signature, id)).toBe(expected);
  });
  it('for many keys and messages', () => {
    for (let i = 0; i < 50; i++) {
      const k = secp256k1.utils.randomSecretKey();
      const m = `login ${i}`;
      expect(signedByNode(m, signNodeMessage(m, k), bytesToHex(secp256k1.getPublicKey(k, true)))).toBe(true);
    }
  });
});
