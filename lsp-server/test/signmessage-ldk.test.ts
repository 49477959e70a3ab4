// Our signmessage (packages/api) against LDK's own (UtilMethods.constructor_sign / verify): each
// verifies the other's signatures, and deterministic (RFC 6979) signing gives the same string.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { signNodeMessage, verifyNodeMessage } from '@lpw/api';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as ldk from 'lightningdevkit';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  const wasm = createRequire(import.meta.url)
    .resolve('lightningdevkit')
    .replace(/index\.mjs$/, 'liblightningjs.wasm');
  try {
    await ldk.initializeWasmFromBinary(new Uint8Array(await readFile(wasm)));
  } catch (e) {
    if (!String(e).includes('already')) throw e;
  }
});

const messages = ['', 'hello', 'lpw-lsp-login:'.padEnd(78, 'a'), 'ünïcødé ⚡', 'x'.repeat(5000)];

describe('signmessage compatibility with LDK', () => {
  for (const [i, message] of messages.entries()) {
    it(`message #${i}`, () => {
      const sk = new Uint8Array(32).fill(i + 1);
      const pk = secp256k1.getPublicKey(sk, true);
      const nodeId = Buffer.from(pk).toString('hex');
      const bytes = new TextEncoder().encode(message);
      const theirs = ldk.UtilMethods.constructor_sign(bytes, sk);
      const ours = signNodeMessage(message, sk);
      expect(ours).toBe(theirs);
      expect(verifyNodeMessage(message, theirs, nodeId)).toBe(true);
      // the bindings return bool as 0/1
      expect(Boolean(ldk.UtilMethods.constructor_verify(bytes, ours, pk))).toBe(true);
      const other = secp256k1.getPublicKey(new Uint8Array(32).fill(99), true);
      expect(Boolean(ldk.UtilMethods.constructor_verify(bytes, ours, other))).toBe(false);
    });
  }
});
