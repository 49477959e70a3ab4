// `rates.get` over HTTP on a real LSP app: rates from the devnet's built-in source, one source
// request however many wallets ask, a bad answer from the source never served (before any good one
// the answer is RATES_UNAVAILABLE; after, the last good reading stays with its own time), an LSP
// without a source says so, and every call counts against the caller's per-IP request bucket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVNET_RATES, type DevnetRates, serveDevnetRates } from '../src/devnet-rates.ts';
import { refusal, startLightning, startServer, type TestLightning, type TestServer } from './server.ts';
import { backends } from './stores.ts';

const DEVNET = Object.entries(DEVNET_RATES).map(([currency, perBtc]) => ({ currency, perBtc }));

let lightning: TestLightning;
let source: DevnetRates;
let lsp: TestServer;
beforeAll(async () => {
  lightning = await startLightning();
  source = await serveDevnetRates();
  lsp = await startServer(backends()[0]!, lightning, { RATES_URL: source.url, RATES_MAX_AGE_SEC: '300' });
}, 120_000);
afterAll(async () => {
  await lsp?.close();
  await source?.close();
  await lightning?.stop();
});

describe('rates.get', () => {
  it('before any good reading, a bad source answer is RATES_UNAVAILABLE, and nothing is kept', async () => {
    const answers: [string, number?][] = [
      ['<html>rate limited</html>'],
      ['{"USD":"97000"}', 503],
      ['{"USD":"97000","EUR":"92000","GBP":"79000","JPY":"15000000"}'], // CHF missing
      ['{"USD":"0","EUR":"92000","GBP":"79000","JPY":"15000000","CHF":"88000"}'],
      ['{"USD":"-97000","EUR":"92000","GBP":"79000","JPY":"15000000","CHF":"88000"}'],
      ['{"USD":"97,000","EUR":"92000","GBP":"79000","JPY":"15000000","CHF":"88000"}'],
    ];
    for (const [body, status] of answers) {
      source.answer(body, status);
      lsp.now.ms += 31_000; // past the wait after a failed reading
      const before = source.requests;
      const refused = await refusal(lsp.client().rates.get.query());
      expect(source.requests, body).toBe(before + 1);
      expect(refused, body).toMatchObject({ http: 502, app: 'RATES_UNAVAILABLE' });
      expect(refused.message).toMatch(/not answered with rates/);
    }
    // a failed reading is not retried at once, whoever asks
    await refusal(lsp.client().rates.get.query());
    expect(source.requests).toBe(answers.length);
  });

  it('serves the source’s rates, reading it once for many wallets', async () => {
    source.answer(JSON.stringify(DEVNET_RATES));
    lsp.now.ms += 31_000;
    const readAt = lsp.now.ms;
    const before = source.requests;
    const answers = await Promise.all(Array.from({ length: 8 }, () => lsp.client().rates.get.query()));
    for (const answer of answers) expect(answer).toEqual({ atMs: readAt, rates: DEVNET });
    expect(source.requests).toBe(before + 1);
    lsp.now.ms += 299_000;
    expect(await lsp.client().rates.get.query()).toEqual({ atMs: readAt, rates: DEVNET });
    expect(source.requests).toBe(before + 1);
  });

  it('a browser or proxy may keep the answer for a minute', async () => {
    const response = await fetch(`${lsp.url}/trpc/rates.get`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('after a good reading, a bad answer changes nothing: the last good rates stay, with their time', async () => {
    const good = await lsp.client().rates.get.query();
    source.answer('{"USD":"1","EUR":"oops"}');
    lsp.now.ms += 301_000; // the reading is too old: the source is asked again
    const before = source.requests;
    expect(await lsp.client().rates.get.query()).toEqual(good);
    expect(source.requests).toBe(before + 1);
    // once the source is good again, the new reading replaces it
    source.answer(JSON.stringify({ ...DEVNET_RATES, USD: '101000.5' }));
    lsp.now.ms += 31_000;
    const fresh = await lsp.client().rates.get.query();
    expect(fresh.atMs).toBe(lsp.now.ms);
    expect(fresh.rates[0]).toEqual({ currency: 'USD', perBtc: '101000.5' });
  });
});

describe('rates.get on an LSP without a source, and under the per-IP limit', () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startServer(backends()[0]!, lightning, { RATE_REQUESTS_PER_MIN: '3' });
  });
  afterAll(() => plain?.close());

  it('says it serves no rates, then limits the caller like any call', async () => {
    const refused = await refusal(plain.client().rates.get.query());
    expect(refused).toMatchObject({ http: 502, app: 'RATES_UNAVAILABLE' });
    expect(refused.message).toMatch(/serves no exchange rates/);
    await refusal(plain.client().rates.get.query());
    await refusal(plain.client().rates.get.query());
    expect(await refusal(plain.client().rates.get.query())).toMatchObject({ http: 429 });
  });
});
