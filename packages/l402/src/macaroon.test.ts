// Macaroon signatures against libmacaroons' published vectors (pymacaroons' test notes), and the v2
// binary format: round trip, layout, and every malformed input refused with a MacaroonError.
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import {
  addFirstPartyCaveat,
  decodeMacaroon,
  encodeMacaroon,
  MacaroonError,
  mintMacaroon,
  verifyMacaroonSignature,
} from './macaroon.ts';

const KEY = utf8ToBytes('this is our super secret key; only we should know it');
const ID = utf8ToBytes('we used our secret key');

describe('libmacaroons vectors', () => {
  it('signs the identifier with the personalised root key', () => {
    const m = mintMacaroon(KEY, ID, [], 'http://mybank/');
    expect(bytesToHex(m.signature)).toBe('e3d9e02908526c4c0039ae15114115d97fdd68bf2ba379b342aaf0f617d0552f');
  });

  it('chains a first-party caveat', () => {
    const m = addFirstPartyCaveat(mintMacaroon(KEY, ID, [], 'http://mybank/'), 'test = caveat');
    expect(bytesToHex(m.signature)).toBe('197bac7a044af33332865b9266e26d493bdd668a660e44d88ce1a998c23dbd67');
    expect(verifyMacaroonSignature(m, KEY)).toBe(true);
  });

  it("agrees with libmacaroons' v1 serialization of the same macaroon on every field", () => {
    // libmacaroons' v1 text (base64 of packets "location …", "identifier …", "cid …", "signature …")
    const v1 = new TextDecoder('latin1').decode(
      base64.decode(
        'MDAxY2xvY2F0aW9uIGh0dHA6Ly9teWJhbmsvCjAwMjZpZGVudGlmaWVyIHdlIHVzZWQgb3VyIHNlY3JldCBrZXkKMDAxNmNpZCB0ZXN0ID0gY2F2ZWF0CjAwMmZzaWduYXR1cmUgGXusegRK8zMyhluSZuJtSTvdZopmDkTYjOGpmMI9vWcK',
      ),
    );
    const sig = v1.slice(v1.indexOf('signature ') + 10, -1);
    const sigHex = [...sig].map((ch) => ch.charCodeAt(0).toString(16).padStart(2, '0')).join('');
    const m = mintMacaroon(KEY, ID, ['test = caveat'], 'http://mybank/');
    expect(sigHex).toBe(bytesToHex(m.signature));
    expect(v1).toContain('location http://mybank/\n');
    expect(v1).toContain('identifier we used our secret key\n');
    expect(v1).toContain('cid test = caveat\n');
  });
});

describe('macaroon signature chain', () => {
  const m = mintMacaroon(KEY, ID, ['a=1', 'b=2']);

  it('refuses another root key, a changed, dropped or reordered caveat, a changed identifier', () => {
    expect(verifyMacaroonSignature(m, utf8ToBytes('another key of the same service......'))).toBe(false);
    expect(verifyMacaroonSignature({ ...m, caveats: [utf8ToBytes('a=1'), utf8ToBytes('b=3')] }, KEY)).toBe(
      false,
    );
    expect(verifyMacaroonSignature({ ...m, caveats: [utf8ToBytes('a=1')] }, KEY)).toBe(false);
    expect(verifyMacaroonSignature({ ...m, caveats: [...m.caveats].reverse() }, KEY)).toBe(false);
    expect(verifyMacaroonSignature({ ...m, identifier: utf8ToBytes('we used our secret kez') }, KEY)).toBe(
      false,
    );
  });

  it('lets a holder attenuate without the key, and the result still verifies', () => {
    expect(verifyMacaroonSignature(addFirstPartyCaveat(m, 'c=3'), KEY)).toBe(true);
  });
});

describe('v2 binary format', () => {
  it('round-trips and has the libmacaroons v2 layout', () => {
    const m = mintMacaroon(KEY, ID, ['test = caveat'], 'http://mybank/');
    const bytes = encodeMacaroon(m);
    const expected = [
      '02',
      `010e${bytesToHex(utf8ToBytes('http://mybank/'))}`,
      `0216${bytesToHex(ID)}`,
      '00',
      `020d${bytesToHex(utf8ToBytes('test = caveat'))}`,
      '00',
      '00',
      `0620${bytesToHex(m.signature)}`,
    ].join('');
    expect(bytesToHex(bytes)).toBe(expected);
    const back = decodeMacaroon(bytes);
    expect(back.location).toBe('http://mybank/');
    expect(back.identifier).toEqual(ID);
    expect(back.caveats).toEqual([utf8ToBytes('test = caveat')]);
    expect(verifyMacaroonSignature(back, KEY)).toBe(true);
  });

  it('encodes lengths of 128 and more as multi-byte varints', () => {
    const long = new Uint8Array(300).fill(0x61);
    const bytes = encodeMacaroon(mintMacaroon(KEY, long));
    expect(bytesToHex(bytes.subarray(0, 4))).toBe('0202ac02'); // 300 = 0xac 0x02
    expect(decodeMacaroon(bytes).identifier).toEqual(long);
  });

  it('refuses every truncation, trailing bytes, v1, a third-party caveat and unknown fields', () => {
    const bytes = encodeMacaroon(mintMacaroon(KEY, ID, ['x=1'], 'loc'));
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeMacaroon(bytes.subarray(0, n)), `truncated to ${n}`).toThrow(MacaroonError);
    }
    expect(() => decodeMacaroon(Uint8Array.from([...bytes, 0]))).toThrow(/trailing/);
    expect(() => decodeMacaroon(utf8ToBytes('MDAxY2xvY2F0aW9u'))).toThrow(/version/);
    // version, identifier "id", EOS, caveat identifier "c" with vid "vid", EOS, EOS, signature
    const thirdParty = hexToBytes(
      `020202${bytesToHex(utf8ToBytes('id'))}0002016304037669640000` + `0620${'11'.repeat(32)}`,
    );
    expect(() => decodeMacaroon(thirdParty)).toThrow(/third-party/);
    expect(() => decodeMacaroon(hexToBytes('0203016100'))).toThrow(/unknown field type 3/);
    expect(() => decodeMacaroon(hexToBytes('0202ffffffffff01'))).toThrow(/varint/);
    expect(() => decodeMacaroon(new Uint8Array(5000).fill(2))).toThrow(/longer than/);
  });

  it('never throws anything but MacaroonError on random bytes', () => {
    let state = 12345;
    const rand = () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state & 0xff;
    };
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (rand() % 120) }, rand);
      bytes[0] = 2;
      try {
        decodeMacaroon(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(MacaroonError);
      }
    }
  });
});
