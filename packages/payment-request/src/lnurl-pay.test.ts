// LNURL-pay (LUD-06, LUD-16, LUD-12) against a real HTTP server on 127.0.0.1: the happy path from a
// scanned Lightning Address to a checked invoice, and every way a service can answer badly.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeBolt11,
  encodeBolt11,
  fetchInvoice,
  type Network,
  PaymentRequestError,
  type PayRequest,
  parsePaymentRequest,
  resolvePayRequest,
} from './index.ts';

const KEY = new Uint8Array(32).fill(3);
const NOW = Math.floor(Date.now() / 1000);
const REGTEST = { network: 'regtest', nowSec: NOW } as const;

let server: Server;
let base: string;
// The same service on another loopback address, which is not one where plain HTTP is accepted.
let otherServer: Server;
let elsewhere: string;
const comments: string[] = [];

function metadataFor(user: string): string {
  return JSON.stringify([
    ['text/plain', `Pay ${user} on the devnet`],
    ['text/identifier', `${user}@127.0.0.1`],
  ]);
}

function payRequestBody(user: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tag: 'payRequest',
    callback: `${base}/callback/${user}`,
    minSendable: 1_000,
    maxSendable: 100_000_000,
    metadata: metadataFor(user),
    commentAllowed: 20,
    ...overrides,
  };
}

function invoiceFor(
  amountMsat: bigint,
  descriptionHashOf: string,
  network: Network = 'regtest',
  timestamp = NOW,
): string {
  return encodeBolt11(
    {
      network,
      amountMsat,
      timestamp,
      paymentHash: 'cc'.repeat(32),
      paymentSecret: 'dd'.repeat(32),
      descriptionHash: bytesToHex(sha256(utf8ToBytes(descriptionHashOf))),
      features: [8, 14],
    },
    KEY,
  );
}

// The service: /.well-known/lnurlp/<user> answers the first request; /callback/<user> the second.
// Users named after a misbehaviour answer with it.
function route(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', base);
  const json = (body: unknown, status = 200) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const [, area, user = ''] = url.pathname.match(/^\/(\.well-known\/lnurlp|callback)\/([^/]+)$/) ?? [];
  if (user === 'slow') return; // never answers
  if (area === '.well-known/lnurlp') {
    if (user === 'refuses') return json({ status: 'ERROR', reason: 'This user is on holiday' }, 404);
    if (user === 'html') {
      response.writeHead(200, { 'content-type': 'text/html' });
      return response.end('<html>hello</html>');
    }
    if (user === 'broken') return json({ tag: 'payRequest' }, 500);
    if (user === 'withdraw') return json({ tag: 'withdrawRequest', callback: `${base}/x`, k1: '00' });
    if (user === 'inverted') return json(payRequestBody(user, { minSendable: 10_000, maxSendable: 1_000 }));
    if (user === 'float') return json(payRequestBody(user, { minSendable: 1000.5 }));
    if (user === 'plainless')
      return json(payRequestBody(user, { metadata: JSON.stringify([['text/identifier', 'x']]) }));
    if (user === 'notjson') return json(payRequestBody(user, { metadata: '[[' }));
    if (user === 'insecure') return json(payRequestBody(user, { callback: 'http://example.com/cb' }));
    if (user === 'redirect') {
      response.writeHead(302, { location: `${elsewhere}/.well-known/lnurlp/alice` });
      return response.end();
    }
    return json(payRequestBody(user));
  }
  if (area === 'callback') {
    const amountMsat = BigInt(url.searchParams.get('amount') ?? '0');
    const comment = url.searchParams.get('comment');
    if (comment !== null) comments.push(comment);
    const metadata = metadataFor(user);
    if (user === 'no-route') return json({ status: 'ERROR', reason: 'Could not find a route' });
    if (user === 'greedy') return json({ pr: invoiceFor(amountMsat + 1n, metadata), routes: [] });
    if (user === 'other-hash') return json({ pr: invoiceFor(amountMsat, 'something else'), routes: [] });
    if (user === 'mainnet') return json({ pr: invoiceFor(amountMsat, metadata, 'bitcoin'), routes: [] });
    if (user === 'garbled') return json({ pr: 'lnbcrt1garbage', routes: [] });
    // made two hours ago with the default hour of expiry
    if (user === 'stale')
      return json({ pr: invoiceFor(amountMsat, metadata, 'regtest', NOW - 7200), routes: [] });
    if (user === 'silent') return json({ routes: [] });
    return json({ pr: invoiceFor(amountMsat, metadata), routes: [] });
  }
  return json({ status: 'ERROR', reason: 'not found' }, 404);
}

beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  otherServer = createServer(route);
  await new Promise<void>((resolve) => otherServer.listen(0, '127.0.0.2', resolve));
  elsewhere = `http://127.0.0.2:${(otherServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const each of [server, otherServer]) {
    each.closeAllConnections();
    await new Promise((resolve) => each.close(resolve));
  }
});

const addressUrl = (user: string) => `${base}/.well-known/lnurlp/${user}`;
async function failure(promise: Promise<unknown>): Promise<PaymentRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PaymentRequestError) return error;
    throw error;
  }
  throw new Error('expected a PaymentRequestError');
}

describe('LNURL-pay over HTTP', () => {
  it('goes from a scanned Lightning Address to a checked invoice', async () => {
    const host = base.slice('http://'.length);
    const scanned = parsePaymentRequest(`lightning:Alice@${host}`, REGTEST);
    expect(scanned).toMatchObject({ kind: 'lightning-address', user: 'alice', url: addressUrl('alice') });
    if (scanned.kind !== 'lightning-address') return;

    const payRequest = await resolvePayRequest(scanned.url, fetch);
    expect(payRequest).toEqual({
      url: addressUrl('alice'),
      callback: `${base}/callback/alice`,
      minSendableMsat: 1_000n,
      maxSendableMsat: 100_000_000n,
      metadata: metadataFor('alice'),
      description: 'Pay alice on the devnet',
      longDescription: undefined,
      identifier: 'alice@127.0.0.1',
      commentAllowed: 20,
    });

    const bolt11 = await fetchInvoice(payRequest, 21_000n, fetch, {
      ...REGTEST,
      comment: 'thanks for the tea',
    });
    const invoice = decodeBolt11(bolt11);
    expect(invoice.amountMsat).toBe(21_000n);
    expect(invoice.descriptionHash).toBe(bytesToHex(sha256(utf8ToBytes(payRequest.metadata))));
    expect(comments).toContain('thanks for the tea');
  });

  it("carries the service's own reason when it refuses (LNURL_ERROR)", async () => {
    const refused = await failure(resolvePayRequest(addressUrl('refuses'), fetch));
    expect([refused.code, refused.reason]).toEqual(['LNURL_ERROR', 'This user is on holiday']);
    const payRequest = await resolvePayRequest(addressUrl('no-route'), fetch);
    const noRoute = await failure(fetchInvoice(payRequest, 5_000n, fetch, REGTEST));
    expect([noRoute.code, noRoute.reason]).toEqual(['LNURL_ERROR', 'Could not find a route']);
  });

  it('refuses answers that break LUD-06 (LNURL_BAD_RESPONSE)', async () => {
    const cases: [string, RegExp][] = [
      ['html', /not JSON/],
      ['broken', /HTTP 500/],
      ['inverted', /minSendable \(10000\) is above its maxSendable \(1000\)/],
      ['float', /minSendable is not a whole/],
      ['plainless', /0 text\/plain entries/],
      ['notjson', /metadata is not JSON/],
      ['insecure', /callback points to http:\/\/example.com/],
    ];
    for (const [user, message] of cases) {
      const error = await failure(resolvePayRequest(addressUrl(user), fetch));
      expect(error.code, user).toBe('LNURL_BAD_RESPONSE');
      expect(error.message, user).toMatch(message);
    }
    expect((await failure(resolvePayRequest(addressUrl('withdraw'), fetch))).code).toBe('UNSUPPORTED');
  });

  it('refuses a redirect to a plain-HTTP address that is not loopback or .onion', async () => {
    // 127.0.0.2 stands in for any host reached without TLS; the service there answers fine.
    expect((await failure(resolvePayRequest(`${elsewhere}/.well-known/lnurlp/alice`, fetch))).code).toBe(
      'INVALID_LNURL',
    );
    const error = await failure(resolvePayRequest(addressUrl('redirect'), fetch));
    expect(error.code).toBe('INVALID_LNURL');
    expect(error.message).toMatch(/redirected, and the new address points to http:\/\/127.0.0.2/);
  });

  it('checks the invoice: amount, description hash, network, expiry, readability', async () => {
    const ask = async (user: string) => {
      const payRequest = await resolvePayRequest(addressUrl(user), fetch);
      return failure(fetchInvoice(payRequest, 5_000n, fetch, REGTEST));
    };
    expect((await ask('greedy')).code).toBe('AMOUNT_MISMATCH');
    expect((await ask('other-hash')).code).toBe('DESCRIPTION_HASH_MISMATCH');
    expect((await ask('mainnet')).code).toBe('WRONG_NETWORK');
    expect((await ask('stale')).code).toBe('INVOICE_EXPIRED');
    expect((await ask('garbled')).code).toBe('LNURL_BAD_RESPONSE');
    expect((await ask('silent')).message).toMatch(/no invoice/);
  });

  it('checks the amount and the comment before asking', async () => {
    const payRequest: PayRequest = await resolvePayRequest(addressUrl('alice'), fetch);
    expect((await failure(fetchInvoice(payRequest, 999n, fetch, REGTEST))).message).toBe(
      'This service accepts 1 sat to 100000 sat',
    );
    expect((await failure(fetchInvoice(payRequest, 100_000_001n, fetch, REGTEST))).code).toBe(
      'AMOUNT_OUT_OF_RANGE',
    );
    expect((await failure(fetchInvoice(payRequest, 0n, fetch, REGTEST))).code).toBe('AMOUNT_OUT_OF_RANGE');
    const longComment = 'x'.repeat(21);
    expect(
      (await failure(fetchInvoice(payRequest, 5_000n, fetch, { ...REGTEST, comment: longComment }))).code,
    ).toBe('COMMENT_TOO_LONG');
    const silent = { ...payRequest, commentAllowed: undefined };
    expect((await failure(fetchInvoice(silent, 5_000n, fetch, { ...REGTEST, comment: 'hi' }))).message).toBe(
      'This service does not take a comment',
    );
  });

  it('reports a service that does not answer or cannot be reached (LNURL_UNREACHABLE)', async () => {
    const slow = await failure(resolvePayRequest(addressUrl('slow'), fetch, { timeoutMs: 200 }));
    expect(slow.code).toBe('LNURL_UNREACHABLE');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failure(resolvePayRequest(`http://127.0.0.1:${port}/.well-known/lnurlp/x`, fetch));
    expect(refused.code).toBe('LNURL_UNREACHABLE');
  });

  it('refuses to fetch a URL that is not https', async () => {
    expect((await failure(resolvePayRequest('http://example.com/lnurlp', fetch))).code).toBe('INVALID_LNURL');
  });
});
