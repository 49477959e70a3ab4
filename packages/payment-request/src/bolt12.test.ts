// BOLT 12 offers (12-offer-encoding.md): every valid and invalid offer of the spec's test vectors,
// from the shared vector file, field by field; plus network and expiry checks.

import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { assertOfferPayable, decodeOffer, PaymentRequestError } from './index.ts';

interface OfferVector {
  description: string;
  valid: boolean;
  bolt12: string;
  fields?: { type: number; length: number; hex: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../vectors/bolt12-offers.json', import.meta.url), 'utf8'),
) as OfferVector[];

describe('BOLT 12 offer vectors', () => {
  for (const vector of vectors.filter((v) => v.valid)) {
    it(`accepts: ${vector.description}`, () => {
      const offer = decodeOffer(vector.bolt12);
      expect(offer.records.map((r) => ({ type: r.type, length: r.value.length / 2, hex: r.value }))).toEqual(
        vector.fields,
      );
    });
  }
  for (const vector of vectors.filter((v) => !v.valid)) {
    it(`rejects: ${vector.description}`, () => {
      expect(() => decodeOffer(vector.bolt12)).toThrow(PaymentRequestError);
      try {
        decodeOffer(vector.bolt12);
      } catch (error) {
        expect((error as PaymentRequestError).code).toBe('INVALID_OFFER');
      }
    });
  }
});

const byDescription = (description: string) => vectors.find((v) => v.description === description)!.bolt12;

describe('BOLT 12 offer fields', () => {
  it('reads description, issuer id and the default chain', () => {
    const offer = decodeOffer(byDescription('with description (but no amount)'));
    expect(offer.description).toBe('Test vectors');
    expect(offer.issuerId).toBe('02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619');
    expect(offer.networks).toEqual(['bitcoin']);
    expect(offer.amountMsat).toBeUndefined();
  });
  it('reads amounts in msat and in a currency', () => {
    expect(decodeOffer(byDescription('with amount')).amountMsat).toBe(10_000n);
    const usd = decodeOffer(byDescription('with currency'));
    expect([usd.currency, usd.amount, usd.amountMsat]).toEqual(['USD', 10_000n, undefined]);
  });
  it('reads chains, expiry, issuer, quantity and features', () => {
    expect(decodeOffer(byDescription('for testnet')).networks).toEqual(['testnet']);
    expect(decodeOffer(byDescription('for bitcoin or liquidv1')).networks).toEqual(['bitcoin']);
    // "2035-01-01" in the spec writer's time zone (UTC+10:30): the field holds 2034-12-31T13:30Z.
    expect(decodeOffer(byDescription('with expiry')).absoluteExpiry).toBe(2_051_184_600);
    expect(decodeOffer(byDescription('with issuer')).issuer).toBe('https://bolt12.org BOLT12 industries');
    expect(decodeOffer(byDescription('with quantity')).quantityMax).toBe(5n);
    expect(decodeOffer(byDescription('with unlimited (or unknown) quantity')).quantityMax).toBe(0n);
    expect(decodeOffer(byDescription('with feature')).features).toEqual([99]);
    expect(decodeOffer(byDescription('with metadata')).metadata).toBe('00'.repeat(16));
  });
  it('reads blinded paths entered by node id or by channel', () => {
    const [path] = decodeOffer(
      byDescription('with blinded path via Bob (0x424242...), path_key 020202...'),
    ).paths;
    expect(path?.introduction).toEqual({
      nodeId: '0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c',
    });
    expect(path?.pathKey).toBe('02'.repeat(33));
    expect(path?.hops.map((hop) => hop.encryptedRecipientData)).toEqual(['00'.repeat(16), '11'.repeat(8)]);
    const [viaChannel] = decodeOffer(
      byDescription('same, with blinded path first_node_id using sciddir'),
    ).paths;
    expect(viaChannel?.introduction).toEqual({ shortChannelId: 42n, direction: 0 });
    const two = decodeOffer(
      byDescription('... and with second blinded path via 1x2x3 (direction 1), path_key 020202...'),
    );
    expect(two.paths[1]?.introduction).toEqual({
      shortChannelId: (1n << 40n) | (2n << 16n) | 3n,
      direction: 1,
    });
  });
  it('keeps unknown odd fields, experimental ones included', () => {
    const offer = decodeOffer(byDescription('unknown odd experimental field'));
    expect(offer.records.at(-1)).toEqual({ type: 1_000_000_033, value: '68656c6c6f776f726c64' });
  });
  it('accepts uppercase and "+" line joins, and rejects a dangling "+"', () => {
    const text = byDescription('with description (but no amount)');
    const split = `${text.slice(0, 30)}+\n  ${text.slice(30, 60)}+${text.slice(60)}`;
    expect(decodeOffer(split).offer).toBe(text);
    expect(decodeOffer(text.toUpperCase()).description).toBe('Test vectors');
    expect(() => decodeOffer(`${text}+`)).toThrow(/starts or ends/);
    expect(() => decodeOffer(`${text.slice(0, 10).toUpperCase()}${text.slice(10)}`)).toThrow(/mixes/);
  });
});

describe('assertOfferPayable', () => {
  const expiring = decodeOffer(byDescription('with expiry'));
  it('refuses another network and an expired offer', () => {
    expect(() => assertOfferPayable(expiring, { network: 'regtest', nowSec: 0 })).toThrow(
      expect.objectContaining({ code: 'WRONG_NETWORK' }),
    );
    const expiry = expiring.absoluteExpiry!;
    expect(() => assertOfferPayable(expiring, { network: 'bitcoin', nowSec: expiry })).toThrow(
      expect.objectContaining({ code: 'OFFER_EXPIRED' }),
    );
    expect(() => assertOfferPayable(expiring, { network: 'bitcoin', nowSec: expiry - 1 })).not.toThrow();
  });
});

// Some invalid spec vectors break an earlier rule than the one they are named after (their TLV
// lengths are off), so each reader rule also gets an offer built here that breaks only that rule.
function bigSize(value: bigint): string {
  if (value < 0xfdn) return value.toString(16).padStart(2, '0');
  if (value <= 0xffffn) return `fd${value.toString(16).padStart(4, '0')}`;
  if (value <= 0xffffffffn) return `fe${value.toString(16).padStart(8, '0')}`;
  return `ff${value.toString(16).padStart(16, '0')}`;
}
function offerFrom(records: readonly (readonly [bigint, string])[]): string {
  const hex = records
    .map(([type, value]) => bigSize(type) + bigSize(BigInt(value.length / 2)) + value)
    .join('');
  return encodeNoChecksum(hex);
}
function encodeNoChecksum(hex: string): string {
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  return `lno1${bech32
    .toWords(hexToBytes(hex))
    .map((word) => alphabet[word])
    .join('')}`;
}
const utf8 = (text: string) => bytesToHex(new TextEncoder().encode(text));
const NODE = '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619';
const POINT = '02'.repeat(33);
const NOT_A_POINT = `03${'03'.repeat(32)}`;
const DESCRIPTION = [10n, utf8('Test vectors')] as const;
const ISSUER = [22n, NODE] as const;
const hop = (id: string, data: string) => id + (data.length / 2).toString(16).padStart(4, '0') + data;
const path = (entry: string, key: string, hops: string[]) =>
  entry + key + hops.length.toString(16).padStart(2, '0') + hops.join('');

describe('BOLT 12 reader rules, one at a time', () => {
  const code = (text: string) => {
    try {
      decodeOffer(text);
      return 'accepted';
    } catch (error) {
      return `${(error as PaymentRequestError).code}: ${(error as Error).message}`;
    }
  };
  it('the builder makes offers the decoder accepts', () => {
    expect(code(offerFrom([DESCRIPTION, ISSUER]))).toBe('accepted');
    expect(offerFrom([DESCRIPTION, ISSUER])).toBe(byDescription('with description (but no amount)'));
    expect(code(offerFrom([DESCRIPTION, [16n, path(POINT, POINT, [hop(POINT, 'aa')])]]))).toBe('accepted');
  });
  it('refuses unknown even types and types outside the offer ranges; keeps unknown odd ones', () => {
    expect(code(offerFrom([DESCRIPTION, ISSUER, [78n, '00']]))).toMatch(/field 78, which is required/);
    expect(code(offerFrom([DESCRIPTION, ISSUER, [79n, '00']]))).toBe('accepted');
    expect(code(offerFrom([DESCRIPTION, ISSUER, [80n, '00']]))).toMatch(/outside the ranges/);
    expect(code(offerFrom([DESCRIPTION, ISSUER, [999_999_999n, '00']]))).toMatch(/outside the ranges/);
    expect(code(offerFrom([DESCRIPTION, ISSUER, [1_000_000_002n, '00']]))).toMatch(
      /1000000002, which is required/,
    );
    expect(code(offerFrom([DESCRIPTION, ISSUER, [1_999_999_999n, '00']]))).toBe('accepted');
    expect(code(offerFrom([DESCRIPTION, ISSUER, [2_000_000_001n, '00']]))).toMatch(/outside the ranges/);
    expect(code(offerFrom([[0n, ''], DESCRIPTION, ISSUER]))).toMatch(/outside the ranges/);
  });
  it('refuses repeated fields and non-minimal numbers', () => {
    expect(code(offerFrom([DESCRIPTION, DESCRIPTION, ISSUER]))).toMatch(/out of order/);
    expect(code(encodeNoChecksum(`fd000a0c${utf8('Test vectors')}1621${NODE}`))).toMatch(
      /not minimally encoded/,
    );
    expect(code(offerFrom([[8n, '0064'], DESCRIPTION, ISSUER]))).toMatch(/amount is not minimally encoded/);
    expect(code(offerFrom([[8n, '010000000000000000'], DESCRIPTION, ISSUER]))).toMatch(/longer than 8 bytes/);
  });
  it('checks every point and the shape of every blinded path', () => {
    const withPath = (value: string) => code(offerFrom([DESCRIPTION, [16n, value]]));
    expect(withPath(path(POINT, POINT, []))).toMatch(/has no hops/);
    expect(withPath(path(NOT_A_POINT, POINT, [hop(POINT, '')]))).toMatch(
      /path entry node is not a valid public key/,
    );
    expect(withPath(path(`04${'02'.repeat(32)}`, POINT, [hop(POINT, '')]))).toMatch(/path entry node/);
    expect(withPath(path(POINT, NOT_A_POINT, [hop(POINT, '')]))).toMatch(/path key is not a valid/);
    expect(withPath(path(POINT, POINT, [hop(NOT_A_POINT, '')]))).toMatch(/blinded node id is not a valid/);
    expect(withPath(path(POINT, POINT, [hop(POINT, 'aabb')]).slice(0, -2))).toMatch(/cut short/);
    expect(withPath('')).toMatch(/list of paths is empty/);
    expect(code(offerFrom([DESCRIPTION, [22n, NOT_A_POINT]]))).toMatch(/issuer id is not a valid/);
  });
  it('refuses a bare "lno1", other prefixes and bad characters', () => {
    expect(code('lno1')).toMatch(/INVALID_OFFER/);
    expect(code(byDescription('with amount').replace('lno1', 'lni1'))).toMatch(/does not start with "lno1"/);
    expect(code(`${byDescription('with amount')}b`)).toMatch(/"b", which bech32 does not use/);
  });
});
