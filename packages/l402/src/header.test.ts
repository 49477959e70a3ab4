// The L402 headers: challenges among other challenges, credentials in the encodings clients use.
import { base64, base64nopad, base64url, base64urlnopad } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { L402Error } from './errors.ts';
import { decodeBase64, formatChallenge, parseAuthorization, parseChallenge } from './header.ts';

const hex = 'ab'.repeat(32);

describe('WWW-Authenticate challenge', () => {
  it('round-trips and is found among other challenges, in any parameter order, LSAT too', () => {
    const c = { macaroon: 'AgJC+/8=', invoice: 'lnbcrt100n1xyz' };
    expect(parseChallenge(formatChallenge(c))).toEqual(c);
    expect(parseChallenge(`Bearer realm="x", ${formatChallenge(c)}`)).toEqual(c);
    expect(parseChallenge(`LSAT invoice="${c.invoice}", macaroon="${c.macaroon}", Basic realm="y"`)).toEqual(
      c,
    );
    expect(parseChallenge('l402 macaroon=AgJC, invoice=lnbcrt1')).toEqual({
      macaroon: 'AgJC',
      invoice: 'lnbcrt1',
    });
  });

  it('is undefined when there is no complete L402 challenge', () => {
    for (const h of [
      null,
      '',
      'Bearer realm="x"',
      'L402 macaroon="AgJC"',
      'L402',
      'L402 invoice=""',
      'XL402 macaroon="a", invoice="b"',
    ])
      expect(parseChallenge(h), String(h)).toBeUndefined();
  });
});

describe('Authorization credentials', () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff);

  it('accepts L402 and LSAT, standard and URL-safe base64, padded or not', () => {
    for (const encode of [base64.encode, base64nopad.encode, base64url.encode, base64urlnopad.encode]) {
      for (const scheme of ['L402', 'LSAT', 'l402']) {
        expect(parseAuthorization(`${scheme} ${encode(bytes)}:${hex.toUpperCase()}`)).toEqual({
          macaroon: bytes,
          preimage: hex,
        });
      }
    }
  });

  it('is undefined for other schemes and an absent header (an unpaid request)', () => {
    expect(parseAuthorization(undefined)).toBeUndefined();
    expect(parseAuthorization('Bearer abc')).toBeUndefined();
    expect(parseAuthorization('L402x abc:def')).toBeUndefined();
  });

  it('throws MALFORMED_AUTHORIZATION (401) for a broken L402 header', () => {
    for (const h of [
      'L402',
      'L402 abc',
      `L402 :${hex}`,
      'L402 AgJC:12',
      `L402 A*B:${hex}`,
      `L402 a,b:${hex}`,
      `L402 ${'A'.repeat(9000)}:${hex}`,
    ]) {
      try {
        parseAuthorization(h);
        expect.unreachable(h);
      } catch (error) {
        expect(error).toBeInstanceOf(L402Error);
        expect((error as L402Error).code).toBe('MALFORMED_AUTHORIZATION');
        expect((error as L402Error).status).toBe(401);
      }
    }
  });

  it('decodeBase64 refuses what is not base64', () => {
    for (const t of ['', '=', 'A', 'AB=C', 'A-B+', '!!!!']) expect(decodeBase64(t), t).toBeUndefined();
  });
});
