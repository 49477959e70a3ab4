import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  recoverNodeId,
  signNodeMessage,
  verifyNodeMessage,
  zbase32Decode,
  zbase32Encode,
} from './signmessage.ts';

const sk = hexToBytes('11'.repeat(32));
const nodeId = bytesToHex(secp256k1.getPublicKey(sk, true));

describe('zbase32', () => {
  it('round-trips arbitrary lengths', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(zbase32Decode(zbase32Encode(bytes))).toEqual(bytes);
    }
  });
  it('matches the reference spelling ("yy" is one zero byte)', () => {
    expect(zbase32Encode(new Uint8Array([0]))).toBe('yy');
    expect(zbase32Encode(new Uint8Array([0xff]))).toBe('9h');
    expect(zbase32Decode('0')).toBeUndefined();
  });
});

describe('Lightning signmessage', () => {
  it('signs and verifies, recovering the node id', () => {
    const sig = signNodeMessage('hello', sk);
    expect(sig).toHaveLength(104);
    expect(recoverNodeId('hello', sig)).toBe(nodeId);
    expect(verifyNodeMessage('hello', sig, nodeId)).toBe(true);
  });
  it('fails on another message, another key, or tampering', () => {
    const sig = signNodeMessage('hello', sk);
    expect(verifyNodeMessage('hello!', sig, nodeId)).toBe(false);
    const other = bytesToHex(secp256k1.getPublicKey(hexToBytes('22'.repeat(32)), true));
    expect(verifyNodeMessage('hello', sig, other)).toBe(false);
    const flipped = (sig[50] === 'y' ? 'b' : 'y') + sig.slice(51);
    expect(verifyNodeMessage('hello', sig.slice(0, 50) + flipped, nodeId)).toBe(false);
    expect(verifyNodeMessage('hello', 'not zbase32', nodeId)).toBe(false);
    expect(verifyNodeMessage('hello', sig, 'zz')).toBe(false);
    expect(verifyNodeMessage('hello', sig.slice(0, 103), nodeId)).toBe(false);
  });
});
