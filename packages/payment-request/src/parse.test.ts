// parsePaymentRequest: every form a QR code or a paste may take (BOLT 11, `lightning:`, BIP 21 with
// BIP 321's unified QR, Lightning Address (LUD-16), LNURL (LUD-01, LUD-17), BOLT 12 offers,
// addresses), the network and expiry checks, and what a person sees for anything else.

import { readFileSync } from 'node:fs';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import {
  type Bolt11Fields,
  encodeBolt11,
  type Network,
  type ParseOptions,
  PaymentRequestError,
  type PaymentRequestErrorCode,
  parseBtcAmount,
  parsePaymentRequest,
} from './index.ts';

const KEY = new Uint8Array(32).fill(1);
const NOW = 1_700_000_000;
const invoiceFields: Bolt11Fields = {
  network: 'regtest',
  amountMsat: 250_000_000n,
  timestamp: NOW - 60,
  paymentHash: 'aa'.repeat(32),
  paymentSecret: 'bb'.repeat(32),
  description: 'coffee',
  features: [8, 14],
};
const invoice = (fields: Partial<Bolt11Fields> = {}) => encodeBolt11({ ...invoiceFields, ...fields }, KEY);
const REGTEST: ParseOptions = { network: 'regtest', nowSec: NOW };
const on = (network: Network) => ({ network, nowSec: NOW });
const REGTEST_ADDRESS = bech32.encode('bcrt', [0, ...bech32.toWords(new Uint8Array(20).fill(7))]);
const MAINNET_ADDRESS = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
/** A spec vector file from the repository's vectors/ (see its README for each file's source). */
const vectors = <T>(file: string): T =>
  JSON.parse(readFileSync(new URL(`../../../vectors/${file}`, import.meta.url), 'utf8')) as T;
const lnurl = (url: string) => bech32.encode('lnurl', bech32.toWords(utf8ToBytes(url)), false).toUpperCase();

function failure(text: string, options = REGTEST): { code: PaymentRequestErrorCode; message: string } {
  try {
    parsePaymentRequest(text, options);
  } catch (error) {
    if (!(error instanceof PaymentRequestError)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error(`accepted: ${text}`);
}

describe('BOLT 11', () => {
  const text = invoice();
  it('reads a bare invoice, in either case, with whitespace around it', () => {
    for (const form of [text, text.toUpperCase(), `  ${text}\n`]) {
      const request = parsePaymentRequest(form, REGTEST);
      expect(request.kind).toBe('bolt11');
      if (request.kind === 'bolt11') expect(request.invoice.amountMsat).toBe(250_000_000n);
    }
  });
  it('reads lightning: links in any case, with or without //', () => {
    for (const form of [`lightning:${text}`, `LIGHTNING:${text.toUpperCase()}`, `Lightning://${text}`]) {
      expect(parsePaymentRequest(form, REGTEST).kind).toBe('bolt11');
    }
  });
  it('refuses another network, an expired invoice and a damaged one', () => {
    expect(failure(text, on('bitcoin'))).toEqual({
      code: 'WRONG_NETWORK',
      message: 'This invoice is for regtest, but this wallet is on bitcoin',
    });
    expect(failure(invoice({ timestamp: NOW - 3600 })).code).toBe('INVOICE_EXPIRED');
    expect(failure(invoice({ timestamp: NOW - 3601, expirySeconds: 3600 })).code).toBe('INVOICE_EXPIRED');
    expect(failure(`${text.slice(0, -1)}${text.endsWith('q') ? 'p' : 'q'}`).code).toBe('INVALID_CHECKSUM');
  });
  it('reads the spec vectors on mainnet', () => {
    const bolt11 = vectors<{ vectors: { invoice: string; valid: boolean; network?: string }[] }>(
      'bolt11.json',
    );
    const mainnet = bolt11.vectors.filter((v) => v.valid && v.network === 'bitcoin');
    expect(mainnet.length).toBeGreaterThan(3);
    for (const vector of mainnet) {
      const request = parsePaymentRequest(`lightning:${vector.invoice}`, {
        network: 'bitcoin',
        nowSec: 1_496_314_658,
      });
      expect(request.kind).toBe('bolt11');
    }
  });
});

describe('BIP 21', () => {
  it("reads the BIP's own examples on mainnet, and refuses the examples' bad address", () => {
    const bip21 = vectors<{
      vectors: {
        title: string;
        uri: string;
        valid: boolean;
        address?: string;
        amountSat?: string;
        label?: string;
        message?: string;
      }[];
    }>('bip21.json');
    expect(bip21.vectors).toHaveLength(6);
    const SPEC_ADDRESS = '175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W';
    for (const vector of bip21.vectors) {
      // the BIP's address fails its checksum: as printed, only the address is wrong
      if (vector.valid) expect(failure(vector.uri, on('bitcoin')).code, vector.title).toBe('INVALID_ADDRESS');
      const uri = vector.uri.replace(SPEC_ADDRESS, MAINNET_ADDRESS);
      if (!vector.valid) {
        expect(failure(uri, on('bitcoin')).code, vector.title).toBe('INVALID_URI');
        continue;
      }
      expect(parsePaymentRequest(uri, on('bitcoin')), vector.title).toEqual({
        kind: 'onchain',
        address: MAINNET_ADDRESS,
        addressType: 'p2wpkh',
        ...(vector.amountSat === undefined ? {} : { amountSat: BigInt(vector.amountSat) }),
        ...(vector.label === undefined ? {} : { label: vector.label }),
        ...(vector.message === undefined ? {} : { message: vector.message }),
      });
    }
  });
  it('prefers the Lightning invoice of a unified QR and keeps the on-chain fallback', () => {
    const text = invoice();
    const uri = `BITCOIN:${REGTEST_ADDRESS.toUpperCase()}?AMOUNT=0.0025&label=Caf%C3%A9%20Nord&lightning=${text.toUpperCase()}`;
    const request = parsePaymentRequest(uri, REGTEST);
    expect(request).toMatchObject({
      kind: 'bolt11',
      fallbackAddress: REGTEST_ADDRESS,
      fallbackAmountSat: 250_000n,
      label: 'Café Nord',
    });
    if (request.kind === 'bolt11') expect(request.invoice.paymentRequest).toBe(text.toUpperCase());
  });
  it('reads an on-chain request with amount, label and message', () => {
    expect(
      parsePaymentRequest(
        `bitcoin:${REGTEST_ADDRESS}?amount=20.3&message=Donation%20for%20project%20xyz`,
        REGTEST,
      ),
    ).toEqual({
      kind: 'onchain',
      address: REGTEST_ADDRESS,
      addressType: 'p2wpkh',
      amountSat: 2_030_000_000n,
      message: 'Donation for project xyz',
    });
    expect(parsePaymentRequest(`bitcoin:${REGTEST_ADDRESS}`, REGTEST)).toEqual({
      kind: 'onchain',
      address: REGTEST_ADDRESS,
      addressType: 'p2wpkh',
    });
  });
  it('accepts a URI with only a Lightning invoice (BIP 321) and ignores unknown optional keys', () => {
    const request = parsePaymentRequest(
      `bitcoin:?lightning=${invoice()}&pj=https://example.com/pj&sp=x`,
      REGTEST,
    );
    expect(request.kind).toBe('bolt11');
    expect(request).not.toHaveProperty('fallbackAddress');
  });
  it('refuses unknown req- parameters, repeated amounts, bad amounts and no address', () => {
    expect(failure(`bitcoin:${REGTEST_ADDRESS}?req-somethingyoudontunderstand=50`)).toEqual({
      code: 'INVALID_URI',
      message: 'This bitcoin: link requires "somethingyoudontunderstand", which this wallet does not support',
    });
    expect(failure(`bitcoin:${REGTEST_ADDRESS}?amount=1&amount=2`).code).toBe('INVALID_URI');
    expect(failure(`bitcoin:${REGTEST_ADDRESS}?amount=1e-3`).code).toBe('INVALID_URI');
    expect(failure(`bitcoin:${REGTEST_ADDRESS}?label=%E0%A4%A`).code).toBe('INVALID_URI');
    expect(failure('bitcoin:?label=nothing').code).toBe('INVALID_URI');
    expect(failure(`bitcoin:${REGTEST_ADDRESS}?lightning=hello`).code).toBe('INVALID_URI');
  });
  it('refuses an address or an invoice of another network', () => {
    expect(failure(`bitcoin:${MAINNET_ADDRESS}?amount=1`)).toEqual({
      code: 'WRONG_NETWORK',
      message: 'This is a bitcoin address, but this wallet is on regtest',
    });
    expect(failure(`bitcoin:${MAINNET_ADDRESS}?lightning=${invoice()}`).code).toBe('WRONG_NETWORK');
    expect(failure(`bitcoin:${REGTEST_ADDRESS}?lightning=${invoice({ network: 'bitcoin' })}`).code).toBe(
      'WRONG_NETWORK',
    );
    expect(failure(`bitcoin:${REGTEST_ADDRESS}?lightning=${invoice({ timestamp: NOW - 7200 })}`).code).toBe(
      'INVOICE_EXPIRED',
    );
  });
  it('converts BTC amounts to sats exactly', () => {
    const cases: [string, bigint][] = [
      ['1', 100_000_000n],
      ['0.00000001', 1n],
      ['20.3', 2_030_000_000n],
      ['.5', 50_000_000n],
      ['0.1', 10_000_000n],
      ['21000000', 2_100_000_000_000_000n],
      ['00012.34500000', 1_234_500_000n],
    ];
    for (const [text, sats] of cases) expect(parseBtcAmount(text)).toBe(sats);
    for (const bad of ['', '.', '0', '0.000000001', '-1', '1e-8', '1,5', ' 1', '21000000.00000001', '0x10']) {
      expect(() => parseBtcAmount(bad), bad).toThrow(PaymentRequestError);
    }
  });
});

describe('Lightning Address and LNURL', () => {
  it("reads the LNURL documents' own examples", () => {
    const luds = vectors<{
      lud01: { lnurl: string; url: string }[];
      lud16: { address: string; url: string }[];
      lud17: { link: string; url: string; supported: boolean }[];
    }>('lnurl.json');
    for (const { lnurl: text, url } of luds.lud01) {
      expect(parsePaymentRequest(text, REGTEST)).toEqual({ kind: 'lnurl-pay', url });
      expect(parsePaymentRequest(text.toLowerCase(), REGTEST)).toEqual({ kind: 'lnurl-pay', url });
    }
    for (const { address, url } of luds.lud16) {
      expect(parsePaymentRequest(address, REGTEST)).toMatchObject({ kind: 'lightning-address', url });
    }
    for (const { link, url, supported } of luds.lud17) {
      if (supported) expect(parsePaymentRequest(link, REGTEST)).toEqual({ kind: 'lnurl-pay', url });
      else expect(failure(link).code).toBe('UNSUPPORTED');
    }
  });
  it('reads user@domain, bare or after lightning:, lowercased', () => {
    expect(parsePaymentRequest('Satoshi@Example.com', REGTEST)).toEqual({
      kind: 'lightning-address',
      user: 'satoshi',
      domain: 'example.com',
      url: 'https://example.com/.well-known/lnurlp/satoshi',
    });
    expect(parsePaymentRequest('lightning:alice@127.0.0.1:8080', REGTEST)).toMatchObject({
      url: 'http://127.0.0.1:8080/.well-known/lnurlp/alice',
    });
    expect(parsePaymentRequest('bob@xyz.onion', REGTEST)).toMatchObject({
      url: 'http://xyz.onion/.well-known/lnurlp/bob',
    });
    expect(failure('alice@intranet').code).toBe('UNRECOGNIZED');
    expect(failure('lightning:alice@').code).toBe('UNRECOGNIZED');
  });
  it('decodes bech32 LNURLs to their URL', () => {
    const url = 'https://service.com/api?q=3fc3645b439ce8e7f2553a69e5267081d96dcd340693afabe04be7b0ccd178df';
    for (const form of [lnurl(url), lnurl(url).toLowerCase(), `lightning:${lnurl(url)}`]) {
      expect(parsePaymentRequest(form, REGTEST)).toEqual({ kind: 'lnurl-pay', url });
    }
    expect(parsePaymentRequest(`https://site.com/pay?lightning=${lnurl(url)}`, REGTEST)).toEqual({
      kind: 'lnurl-pay',
      url,
    });
  });
  it('requires https except for .onion and loopback', () => {
    expect(failure(lnurl('http://service.com/pay'))).toEqual({
      code: 'INVALID_LNURL',
      message: 'The LNURL points to http://service.com, but only https is safe',
    });
    expect(parsePaymentRequest(lnurl('http://abc.onion/pay'), REGTEST)).toEqual({
      kind: 'lnurl-pay',
      url: 'http://abc.onion/pay',
    });
    expect(parsePaymentRequest(lnurl('http://localhost:3000/pay'), REGTEST)).toMatchObject({
      kind: 'lnurl-pay',
    });
    expect(failure(lnurl('ftp://service.com/pay')).code).toBe('INVALID_LNURL');
    expect(failure(lnurl('https://user:pw@service.com/pay')).code).toBe('INVALID_LNURL');
  });
  it('refuses LNURL-auth and damaged LNURLs', () => {
    expect(failure(lnurl('https://site.com/auth?tag=login&k1=00')).code).toBe('UNSUPPORTED');
    const damaged = lnurl('https://service.com/pay').replace(/.$/, (c) => (c === 'Q' ? 'P' : 'Q'));
    expect(failure(damaged).code).toBe('INVALID_LNURL');
  });
  it('reads LUD-17 lnurlp:// links and refuses the other LNURL kinds', () => {
    expect(parsePaymentRequest('lnurlp://service.com/pay?x=1', REGTEST)).toEqual({
      kind: 'lnurl-pay',
      url: 'https://service.com/pay?x=1',
    });
    expect(parsePaymentRequest('LNURLP://abc.onion/p', REGTEST)).toEqual({
      kind: 'lnurl-pay',
      url: 'http://abc.onion/p',
    });
    expect(parsePaymentRequest('lightning:lnurlp://service.com/pay', REGTEST)).toEqual({
      kind: 'lnurl-pay',
      url: 'https://service.com/pay',
    });
    expect(failure('lnurlw://service.com/withdraw')).toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/withdraw/),
    });
    expect(failure('keyauth://service.com/login').code).toBe('UNSUPPORTED');
  });
});

describe('BOLT 12 offers', () => {
  const offers = vectors<{ description: string; bolt12: string }[]>('bolt12-offers.json');
  const offer = offers.find((v) => v.description === 'with amount')!.bolt12;
  it('reads an offer, bare, after lightning: and in a unified QR', () => {
    expect(parsePaymentRequest(offer, on('bitcoin'))).toMatchObject({
      kind: 'bolt12-offer',
      offer: { amountMsat: 10_000n },
    });
    expect(parsePaymentRequest(`lightning:${offer.toUpperCase()}`, on('bitcoin')).kind).toBe('bolt12-offer');
    expect(parsePaymentRequest(`bitcoin:${MAINNET_ADDRESS}?lno=${offer}`, on('bitcoin'))).toMatchObject({
      kind: 'bolt12-offer',
      fallbackAddress: MAINNET_ADDRESS,
    });
  });
  it('refuses an offer for another chain, BOLT 12 invoices and invalid offers', () => {
    expect(failure(offer).code).toBe('WRONG_NETWORK');
    const testnet = offers.find((v) => v.description === 'for testnet')!.bolt12;
    expect(parsePaymentRequest(testnet, on('testnet')).kind).toBe('bolt12-offer');
    expect(failure('lni1qqqqqq', on('bitcoin')).code).toBe('UNSUPPORTED');
    expect(failure('lno1pg', on('bitcoin')).code).toBe('INVALID_OFFER');
  });
});

describe('on-chain addresses and everything else', () => {
  it('reads a bare address of the wallet network', () => {
    expect(parsePaymentRequest(` ${REGTEST_ADDRESS.toUpperCase()} `, REGTEST)).toEqual({
      kind: 'onchain',
      address: REGTEST_ADDRESS,
      addressType: 'p2wpkh',
    });
    expect(parsePaymentRequest('mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', REGTEST).kind).toBe('onchain');
    expect(failure('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa').code).toBe('WRONG_NETWORK');
    expect(failure(MAINNET_ADDRESS, on('testnet')).code).toBe('WRONG_NETWORK');
  });
  it('says which rule a damaged address breaks', () => {
    expect(failure('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', on('bitcoin')).code).toBe('INVALID_ADDRESS');
    expect(failure('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', on('bitcoin')).code).toBe('INVALID_ADDRESS');
  });
  it('tells a person plainly when the text is none of these', () => {
    for (const garbage of [
      '',
      '   ',
      'hello world',
      'https://example.com/menu',
      '12345',
      'lightning:',
      'WIFI:S:cafe;;',
    ]) {
      const { code, message } = failure(garbage);
      expect(code, garbage).toBe('UNRECOGNIZED');
      expect(message).toMatch(
        /not a Lightning invoice, Lightning address or bitcoin address|holds no Lightning/,
      );
    }
    expect(failure('hello').message).toBe(
      'This QR code or text is not a Lightning invoice, Lightning address or bitcoin address',
    );
    expect(failure(undefined as unknown as string).code).toBe('UNRECOGNIZED');
  });
});
