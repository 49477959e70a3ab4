import { longBolt11 } from '@lpw/devnet/long-invoice';
import { encodeBolt11, type LnurlFetch, type PayRequest } from '@lpw/payment-request';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  earlierPayment,
  invoiceFromLnurl,
  lnurlAmountMsat,
  maxRoutingFeeMsat,
  readSendInput,
  resolveLnurl,
  SendInputError,
  type SendTarget,
} from './send-input.ts';

const key = new Uint8Array(32).fill(3);
const NOW = 1_800_000_000;
const NOW_MS = NOW * 1000;
function invoice(
  network: 'regtest' | 'bitcoin',
  amountMsat?: bigint,
  expirySeconds = 3600,
  descriptionHash?: string,
): string {
  return encodeBolt11(
    {
      network,
      amountMsat,
      timestamp: NOW,
      paymentHash: '11'.repeat(32),
      paymentSecret: '22'.repeat(32),
      ...(descriptionHash === undefined ? { description: 'coffee' } : { descriptionHash }),
      expirySeconds,
      features: [8, 14],
    },
    key,
  );
}
const MAINNET_ADDRESS = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
// BOLT 12 spec vector "with description (but no amount)" (bitcoin)
const OFFER = 'lno1pgx9getnwss8vetrw3hhyuckyypwa3eyt44h6txtxquqh7lz5djge4afgfjn7k4rgrkuag0jsd5xvxg';

function failure(f: () => unknown): SendInputError {
  try {
    f();
  } catch (e) {
    if (e instanceof SendInputError) return e;
    throw e;
  }
  throw new Error('did not throw');
}
async function asyncFailure(f: () => Promise<unknown>): Promise<SendInputError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof SendInputError) return e;
    throw e;
  }
  throw new Error('did not throw');
}
const read = (text: string, network: string | undefined = 'regtest') => readSendInput(text, network, NOW_MS);
const invoiceOf = (target: SendTarget) => {
  if (target.kind !== 'invoice') throw new Error(`not an invoice: ${target.kind}`);
  return target.invoice;
};

describe('readSendInput: what the Send screen does with the text', () => {
  it('reviews a plain, lightning: and BIP 21 wrapped invoice', () => {
    const inv = invoice('regtest', 20_000_000n);
    for (const text of [
      inv,
      ` ${inv}\n`,
      `lightning:${inv}`,
      `LIGHTNING:${inv.toUpperCase()}`,
      `bitcoin:?lightning=${inv}`,
      `bitcoin:?amount=0.0002&lightning=${inv}`,
    ]) {
      const p = invoiceOf(read(text));
      expect(p.amountMsat).toBe(20_000_000n);
      expect(p.description).toBe('coffee');
      expect(p.bolt11).toBe(inv);
      expect(p.expiresAt).toBe((NOW + 3600) * 1000);
    }
  });

  it.each([1_024, 2_000, 7_000])(
    'reviews an invoice of %i characters (long description, many hints)',
    (chars) => {
      const long = longBolt11(
        {
          network: 'regtest',
          amountMsat: 21_000n,
          timestamp: NOW,
          paymentHash: '33'.repeat(32),
          paymentSecret: '44'.repeat(32),
          features: [8, 14],
        },
        chars,
        key,
      );
      expect(long).toHaveLength(chars);
      for (const text of [long, `lightning:${long.toUpperCase()}`, `bitcoin:?lightning=${long}`]) {
        const p = invoiceOf(read(text));
        expect(p).toMatchObject({ bolt11: long, amountMsat: 21_000n, paymentHash: '33'.repeat(32) });
        expect(p.description).toMatch(/^A long invoice/);
      }
    },
  );

  it('lets the person choose the amount of an invoice without one', () => {
    expect(invoiceOf(read(invoice('regtest'))).amountMsat).toBeUndefined();
  });

  it('checks no network while the wallet has not told its own', () => {
    expect(invoiceOf(readSendInput(invoice('bitcoin', 1000n), undefined, NOW_MS)).amountMsat).toBe(1000n);
  });

  it('asks a Lightning Address or LNURL-pay service for an invoice', () => {
    for (const text of ['alice@example.com', 'Alice@Example.com', 'lightning:alice@example.com']) {
      expect(read(text)).toEqual({
        kind: 'lnurl',
        target: {
          url: 'https://example.com/.well-known/lnurlp/alice',
          name: 'alice@example.com',
          host: 'example.com',
        },
      });
    }
    expect(read('lnurlp://pay.example.com/p/42')).toEqual({
      kind: 'lnurl',
      target: { url: 'https://pay.example.com/p/42', name: 'pay.example.com', host: 'pay.example.com' },
    });
  });

  it('opens a web link (it may ask for an L402 payment); a link with ?lightning= is that payment request', () => {
    expect(read('https://api.example.com/quote?x=1')).toEqual({
      kind: 'url',
      url: 'https://api.example.com/quote?x=1',
      host: 'api.example.com',
    });
    expect(read(' http://127.0.0.1:8090/api/quote ')).toEqual({
      kind: 'url',
      url: 'http://127.0.0.1:8090/api/quote',
      host: '127.0.0.1:8090',
    });
    expect(read(`https://example.com/pay?lightning=${invoice('regtest', 1000n)}`).kind).toBe('invoice');
    expect(failure(() => read('https://user:pw@example.com/')).code).toBe('NOT_AN_INVOICE');
  });

  it('says this wallet pays Lightning only for on-chain addresses', () => {
    for (const [text, network] of [
      [MAINNET_ADDRESS, 'bitcoin'],
      [MAINNET_ADDRESS, 'regtest'],
      [`bitcoin:${MAINNET_ADDRESS}?amount=0.001`, 'bitcoin'],
    ] as const) {
      const error = failure(() => read(text, network));
      expect(error.code).toBe('LIGHTNING_ONLY');
      expect(error.message).toMatch(/pays Lightning/);
    }
    expect(failure(() => read(MAINNET_ADDRESS, 'bitcoin')).message).toMatch(/on-chain/);
  });

  it('reads a BOLT 12 offer for review: its description and amount first, no payee or hash before paying', () => {
    for (const text of [OFFER, `lightning:${OFFER}`, OFFER.toUpperCase()]) {
      const target = read(text, 'bitcoin');
      expect(target).toEqual({
        kind: 'invoice',
        invoice: {
          bolt11: OFFER,
          amountMsat: undefined,
          description: 'Test vectors',
          payeeNodeId: '',
          expiresAt: Number.MAX_SAFE_INTEGER,
          paymentHash: '',
          offer: true,
        },
      });
    }
    const wrong = failure(() => read(OFFER, 'regtest'));
    expect(wrong.code).toBe('WRONG_NETWORK');
    expect(wrong.message).toMatch(/This offer is for Bitcoin mainnet/);
  });

  it('names what is wrong: empty, garbage, broken, wrong network, expired, unsupported', () => {
    expect(failure(() => read('')).code).toBe('EMPTY');
    const garbage = failure(() => read('hello, this is not money'));
    expect(garbage.code).toBe('NOT_AN_INVOICE');
    expect(garbage.message).toMatch(/not a Lightning invoice/);
    expect(failure(() => read('x'.repeat(8000))).code).toBe('NOT_AN_INVOICE');

    const inv = invoice('regtest', 1000n);
    const broken = failure(() => read(`${inv.slice(0, -6)}qqqqqq`));
    expect(broken.code).toBe('INVALID');
    expect(broken.message).toMatch(/not valid/);

    const wrong = failure(() => read(invoice('bitcoin', 1000n)));
    expect(wrong.code).toBe('WRONG_NETWORK');
    expect(wrong.message).toBe(
      'This invoice is for Bitcoin mainnet, but this wallet uses regtest (a test network).',
    );

    const expired = failure(() => readSendInput(invoice('regtest', 1000n, 60), 'regtest', (NOW + 61) * 1000));
    expect(expired.code).toBe('EXPIRED');
    expect(expired.message).toMatch(/expired/);

    expect(failure(() => read('lnurlw://example.com/w')).code).toBe('UNSUPPORTED');
    expect(failure(() => read('bitcoin:?lightning=hello')).code).toBe('INVALID');
    expect(failure(() => read('lnurlp://user:pw@example.com/p')).code).toBe('INVALID');
  });
});

// ---------------------------------------------------------------------------------------------------
// LNURL-pay: resolve → amount → invoice

const METADATA = JSON.stringify([
  ['text/plain', 'Tip for Alice'],
  ['text/identifier', 'alice@example.com'],
]);
const TARGET = {
  url: 'https://example.com/.well-known/lnurlp/alice',
  name: 'alice@example.com',
  host: 'example.com',
};
const answer = (body: unknown) => ({ ok: true, status: 200, text: async () => JSON.stringify(body) });

/** A service that takes 1–100,000 sats and answers `invoiceFor(amountMsat)` to the callback. */
const metadataHash = bytesToHex(sha256(utf8ToBytes(METADATA)));
function service(invoiceFor = (amountMsat: bigint) => invoice('regtest', amountMsat, 600, metadataHash)) {
  const fetch: LnurlFetch = async (url) => {
    const u = new URL(url);
    if (u.pathname === '/.well-known/lnurlp/alice') {
      return answer({
        tag: 'payRequest',
        callback: 'https://example.com/cb',
        minSendable: 1_000,
        maxSendable: 100_000_000,
        metadata: METADATA,
      });
    }
    return answer({ pr: invoiceFor(BigInt(u.searchParams.get('amount') ?? '0')), routes: [] });
  };
  return fetch;
}
const blocked: LnurlFetch = async () => {
  throw new TypeError('Failed to fetch');
};

describe('LNURL-pay on the Send screen', () => {
  it('shows the service limits and description, then reviews its invoice for the amount typed', async () => {
    const fetch = service();
    const payRequest = await resolveLnurl(TARGET, fetch);
    expect(payRequest.description).toBe('Tip for Alice');
    expect(payRequest.minSendableMsat).toBe(1_000n);
    expect(payRequest.maxSendableMsat).toBe(100_000_000n);

    const amountMsat = lnurlAmountMsat('2 100', 'sat', payRequest);
    expect(amountMsat).toBe(2_100_000n);
    const payable = await invoiceFromLnurl(TARGET, payRequest, amountMsat, fetch, {
      network: 'regtest',
      nowMs: NOW_MS,
    });
    expect(payable.amountMsat).toBe(2_100_000n);
    expect(payable.payeeName).toBe('alice@example.com');
    expect(payable.description).toBe('Tip for Alice');
    expect(payable.bolt11).toMatch(/^lnbcrt/);
  });

  it('refuses amounts outside what the service takes, in its unit', () => {
    const payRequest = { minSendableMsat: 1_000n, maxSendableMsat: 100_000_000n } as PayRequest;
    expect(failure(() => lnurlAmountMsat('200000', 'sat', payRequest)).message).toBe(
      'Enter between 1 sat and 100\u202f000 sats.',
    );
    expect(failure(() => lnurlAmountMsat('', 'sat', payRequest)).code).toBe('OUT_OF_RANGE');
    const fixed = { minSendableMsat: 5_000_000n, maxSendableMsat: 5_000_000n } as PayRequest;
    expect(failure(() => lnurlAmountMsat('1', 'sat', fixed)).message).toMatch(/exactly 5\u202f000 sats/);
  });

  it('tells an unreachable site from one the relay refuses to contact', async () => {
    const error = await asyncFailure(() => resolveLnurl(TARGET, blocked));
    expect(error.code).toBe('SERVICE_UNREACHABLE');
    expect(error.message).toBe("example.com can't be reached right now. Try again in a moment.");
    // the worker's error for a relay refusal: code and the LSP's words
    const refusedByRelay: LnurlFetch = async () => {
      throw Object.assign(new Error('RELAY_REFUSED: example.com is at a private address (10.0.0.7)'), {
        code: 'RELAY_REFUSED',
      });
    };
    const refused = await asyncFailure(() => resolveLnurl(TARGET, refusedByRelay));
    expect(refused.code).toBe('RELAY_REFUSED');
    expect(refused.message).toBe(
      "Your service provider won't contact example.com for you: example.com is at a private address (10.0.0.7). Nothing was paid.",
    );
  });

  it('says what the service did wrong', async () => {
    const refusing: LnurlFetch = async () => answer({ status: 'ERROR', reason: 'User not found' });
    expect((await asyncFailure(() => resolveLnurl(TARGET, refusing))).message).toBe(
      'example.com refused: User not found',
    );
    const withdraw: LnurlFetch = async () => answer({ tag: 'withdrawRequest' });
    expect((await asyncFailure(() => resolveLnurl(TARGET, withdraw))).code).toBe('UNSUPPORTED');
    const junk: LnurlFetch = async () => ({ ok: true, status: 200, text: async () => '<html>' });
    expect((await asyncFailure(() => resolveLnurl(TARGET, junk))).code).toBe('SERVICE_ERROR');

    const payRequest = await resolveLnurl(TARGET, service());
    const options = { network: 'regtest', nowMs: NOW_MS };
    const greedy = service((amountMsat) => invoice('regtest', amountMsat + 1000n, 600, metadataHash));
    const mismatch = await asyncFailure(() => invoiceFromLnurl(TARGET, payRequest, 5_000n, greedy, options));
    expect([mismatch.code, mismatch.message]).toEqual([
      'INVOICE_MISMATCH',
      "example.com sent an invoice that doesn't match what it showed, so it was not paid.",
    ]);
    const plain = service((amountMsat) => invoice('regtest', amountMsat));
    expect(
      (await asyncFailure(() => invoiceFromLnurl(TARGET, payRequest, 5_000n, plain, options))).code,
    ).toBe('INVOICE_MISMATCH');
    const mainnet = service((amountMsat) => invoice('bitcoin', amountMsat, 600, metadataHash));
    expect(
      (await asyncFailure(() => invoiceFromLnurl(TARGET, payRequest, 5_000n, mainnet, options))).code,
    ).toBe('WRONG_NETWORK');
    const offline = await asyncFailure(() =>
      invoiceFromLnurl(TARGET, payRequest, 5_000n, service(), { ...options, network: undefined }),
    );
    expect(offline.code).toBe('NOT_READY');
  });
});

describe('maxRoutingFeeMsat', () => {
  it('caps routing fees at 1% with a 10 sat floor', () => {
    expect(maxRoutingFeeMsat(100_000n)).toBe(10_000n);
    expect(maxRoutingFeeMsat(50_000_000n)).toBe(500_000n);
  });
});

describe('an invoice already in the history', () => {
  const row = (paymentHash: string | undefined, status: 'succeeded' | 'pending' | 'failed') => ({
    id: paymentHash ?? 'old',
    ...(paymentHash ? { paymentHash } : {}),
    direction: 'outbound' as const,
    status,
    amountMsat: 5_000_000n,
    feeMsat: undefined,
    description: 'Coffee',
    preimage: undefined,
    failureReason: undefined,
    createdAt: 1,
    updatedAt: 2,
  });
  const hash = 'ab'.repeat(32);

  it('is found when paid or being paid, so no second payment is offered', () => {
    expect(earlierPayment([row('cd'.repeat(32), 'succeeded'), row(hash, 'succeeded')], hash)?.status).toBe(
      'succeeded',
    );
    expect(earlierPayment([row(hash, 'pending')], hash)?.status).toBe('pending');
  });

  it('is not, after a failed attempt, for another hash, or in a snapshot without hashes', () => {
    expect(earlierPayment([row(hash, 'failed')], hash)).toBeUndefined();
    expect(earlierPayment([row('cd'.repeat(32), 'succeeded')], hash)).toBeUndefined();
    expect(earlierPayment([row(undefined, 'succeeded')], hash)).toBeUndefined();
    expect(earlierPayment(undefined, hash)).toBeUndefined();
  });
});
