// Streams to the devnet merchant's Lightning Address (its LNURL-pay service over real HTTP, invoices
// from the merchant's LDK node), paid by the devnet router on the Store ledger the wallet PWA runs:
// exact accounting (what the merchant received is what the ledger says, each period paid once); a
// service whose invoice has the wrong amount or description hash is refused and nothing is paid; a
// period reserved before a crash is settled or failed from LDK's record by its derived payment id.
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import { type PaidApi, startPaidApi } from '@lpw/devnet/paid-api';
import { MemoryStore } from '@lpw/node';
import type { LnurlFetch } from '@lpw/payment-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamEngine, type StreamRequest } from '../src/engine.ts';
import { sendInvoice } from '../src/invoice.ts';
import { periodSecrets } from '../src/keysend.ts';
import { LnurlPayee } from '../src/lnurl.ts';
import { periodCount } from '../src/periods.ts';
import { StoreStreamLedger } from '../src/store-ledger.ts';
import { directRoute } from './direct-route.ts';

let devnet: Devnet;
let net: PublicNetwork;
let shop: PaidApi;
let address: string;
const received: Array<{ paymentHash: string; amountMsat: bigint }> = [];
const streamKey = new Uint8Array(32).fill(7);
/** Milliseconds each invoice request to the merchant's service took (callback round trips). */
const invoiceMs: number[] = [];

const timedFetch: LnurlFetch = async (url, init) => {
  const started = performance.now();
  const response = await fetch(url, init);
  const text = await response.text();
  if (url.includes('/callback')) invoiceMs.push(performance.now() - started);
  return { ok: response.ok, status: response.status, url: response.url, text: async () => text };
};

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'stream-lnurl-test' });
  net = await startPublicNetwork(devnet);
  shop = await startPaidApi(net.merchant.node);
  address = `merchant@127.0.0.1:${shop.port}`;
  net.merchant.node.on('payment-received', (e) =>
    received.push({ paymentHash: e.paymentHash, amountMsat: e.amountMsat }),
  );
}, 120_000);

afterAll(async () => {
  await shop?.close();
  await net?.stop();
  await devnet?.stop();
});

function engineOn(ledger: StoreStreamLedger, fetch: LnurlFetch = timedFetch) {
  const engine = new StreamEngine({
    ledger,
    node: net.router.node,
    findRoute: directRoute,
    streamKey,
    lnurl: { fetch, minPeriodMs: 100 },
    log: () => {},
  });
  return { engine, off: engine.listen() };
}

const request = (seconds: number, extra: Partial<StreamRequest> = {}): StreamRequest => ({
  to: address,
  satsPerMinute: 600n, // 2 sats per 200 ms period
  periodMs: 200,
  budgetMsat: 1_000_000n,
  untilMs: Date.now() + seconds * 1000,
  ...extra,
});

const since = (mark: number) => received.slice(mark);
const sum = (rs: Array<{ amountMsat: bigint }>) => rs.reduce((s, r) => s + r.amountMsat, 0n);

describe('streams to a Lightning Address', () => {
  it('pays an invoice per period: the merchant received exactly what the ledger says, each period once', async () => {
    const mark = received.length;
    const ledger = await StoreStreamLedger.open(new MemoryStore({ delayMs: 1 }));
    const { engine, off } = engineOn(ledger);
    const fetchesBefore = invoiceMs.length;
    const done = await (await engine.start(request(4))).done;
    off();
    const got = since(mark);
    expect(done).toMatchObject({ state: 'finished', stopReason: 'end time reached', payee: address });
    expect(done.paidCount).toBeGreaterThan(10);
    expect(got.length).toBe(done.paidCount);
    expect(new Set(got.map((r) => r.paymentHash)).size).toBe(got.length);
    expect(sum(got)).toBe(done.paidMsat);
    expect(got.every((r) => r.amountMsat === 2_000n)).toBe(true);
    expect(done.paidCount + done.skippedPeriods).toBe(periodCount(done));
    expect(ledger.openPeriods()).toEqual([]);
    const times = invoiceMs.slice(fetchesBefore).sort((a, b) => a - b);
    console.log(
      `invoice round trip to the devnet merchant (n=${times.length}): median ${times[times.length >> 1]?.toFixed(1)} ms, max ${times.at(-1)?.toFixed(1)} ms`,
    );
  });

  it('refuses a period amount the recipient does not take, before anything is stored', async () => {
    const ledger = await StoreStreamLedger.open(new MemoryStore());
    const { engine, off } = engineOn(ledger);
    // 1 sat a minute every 200 ms is 3 msat a period; the merchant takes 1 sat at least
    await expect(engine.start(request(4, { satsPerMinute: 1n }))).rejects.toMatchObject({
      code: 'AMOUNT_OUT_OF_RANGE',
      message: expect.stringContaining('does not take payments this small'),
    });
    off();
    expect(ledger.list()).toEqual([]);
  });

  for (const [what, forge] of [
    [
      'the wrong amount',
      (amountMsat: bigint) =>
        net.merchant.node.createInvoice({
          amountMsat: amountMsat + 1_000n,
          description: 'x',
          expirySecs: 600,
        }),
    ],
    [
      'the wrong description hash',
      (amountMsat: bigint) =>
        net.merchant.node.createInvoice({
          amountMsat,
          description: '[["text/plain","something else"]]',
          hashDescription: true,
          expirySecs: 600,
        }),
    ],
  ] as const) {
    it(`an invoice with ${what} is refused: nothing paid, the stream fails with the reason`, async () => {
      const mark = received.length;
      // the merchant's service, but its callback answers with an invoice that breaks LUD-06
      const forging: LnurlFetch = async (url, init) => {
        if (!url.includes('/callback')) return timedFetch(url, init);
        const amountMsat = BigInt(new URL(url).searchParams.get('amount') ?? '0');
        const body = JSON.stringify({ pr: forge(amountMsat).bolt11, routes: [] });
        return { ok: true, status: 200, url, text: async () => body };
      };
      const ledger = await StoreStreamLedger.open(new MemoryStore());
      const { engine, off } = engineOn(ledger, forging);
      const done = await (await engine.start(request(3))).done;
      off();
      expect(done).toMatchObject({ state: 'failed', paidCount: 0, paidMsat: 0n, failedAttempts: 0 });
      expect(done.stopReason).toMatch(
        what === 'the wrong amount' ? /invoice for \d+ msat, but \d+ msat was asked for/ : /description hash/,
      );
      expect(ledger.openPeriods()).toEqual([]);
      await new Promise((r) => setTimeout(r, 300));
      expect(since(mark)).toEqual([]);
    });
  }

  it('a service that does not answer for a while is waited out, nothing reserved; for too long, the stream fails with the reason', async () => {
    let downUntil = Date.now() + 1_000;
    let calls = 0;
    const flaky: LnurlFetch = async (url, init) => {
      // the pay request is fetched at start; the invoice requests fail while the service is down
      if (url.includes('/callback') && Date.now() < downUntil) {
        calls++;
        throw new Error('connection refused');
      }
      return timedFetch(url, init);
    };
    const ledger = await StoreStreamLedger.open(new MemoryStore());
    const { engine, off } = engineOn(ledger, flaky);
    const short = await (await engine.start(request(3))).done;
    expect(calls).toBeGreaterThan(0);
    expect(short).toMatchObject({ state: 'finished', failedAttempts: 0 });
    expect(short.paidCount).toBeGreaterThan(5);
    downUntil = Number.POSITIVE_INFINITY;
    const long = await (await engine.start(request(10), { routeOutageMs: 1_000 })).done;
    off();
    expect(long).toMatchObject({ state: 'failed', paidCount: 0, failedAttempts: 0 });
    expect(long.stopReason).toMatch(/could not be reached \(connection refused\)/);
  });

  it('after a crash, a reserved period is settled if LDK paid it and retried (once) if LDK never saw it', async () => {
    const mark = received.length;
    const store = new MemoryStore({ delayMs: 1 });
    const first = engineOn(await StoreStreamLedger.open(store));
    const handle = await first.engine.start(request(5));
    await waitUntil('3 periods paid to the merchant', () => since(mark).length >= 3, 20_000);
    await first.engine.close('reload', 'halt');
    first.off();

    // the crash: two periods reserved with invoices from the merchant; the first was handed to LDK
    // (and paid while nobody listened), the second never left
    const ledger = await StoreStreamLedger.open(new MemoryStore({ initial: store.data, delayMs: 1 }));
    const halted = ledger.get(handle.id);
    const payee = new LnurlPayee(
      `http://127.0.0.1:${shop.port}/.well-known/lnurlp/merchant`,
      timedFetch,
      'regtest',
    );
    const reserveWithInvoice = async (period: number) => {
      const invoice = await payee.invoice(2_000n, Math.floor(Date.now() / 1000));
      const secrets = periodSecrets(streamKey, halted.id, period, 0);
      await ledger.reserve({
        streamId: halted.id,
        period,
        attempt: 0,
        paymentId: secrets.paymentId,
        paymentHash: invoice.paymentHash,
        amountMsat: 2_000n,
        plannedFeeMsat: 0n,
        maxFeeMsat: halted.maxFeeMsat,
      });
      return { invoice, secrets };
    };
    const paid = await reserveWithInvoice(halted.nextPeriod);
    const lost = await reserveWithInvoice(halted.nextPeriod + 1);
    const route = await directRoute(paid.invoice.payeeNodeId, 2_000n);
    await sendInvoice(
      net.router.node,
      route,
      paid.invoice,
      2_000n,
      paid.secrets.paymentId,
      halted.maxFeeMsat,
    );
    await waitUntil(
      'the first reserved period paid',
      () => net.router.node.spontaneousPayment.recentState(paid.secrets.paymentId) === 'fulfilled',
      20_000,
    );

    const second = engineOn(ledger);
    await second.engine.reconcile();
    expect(ledger.openPeriods()).toMatchObject([{ period: halted.nextPeriod + 1, state: 'failed' }]);
    expect(ledger.get(halted.id).paidCount).toBe(halted.paidCount + 1);
    const [resumed] = await second.engine.resumeAll();
    const done = await resumed!.done;
    second.off();
    const got = since(mark);
    expect(done).toMatchObject({ state: 'finished', failedAttempts: 1 });
    expect(got.some((r) => r.paymentHash === lost.invoice.paymentHash)).toBe(false);
    expect(got.filter((r) => r.paymentHash === paid.invoice.paymentHash)).toHaveLength(1);
    expect(got.length).toBe(done.paidCount);
    expect(new Set(got.map((r) => r.paymentHash)).size).toBe(got.length);
    expect(sum(got)).toBe(done.paidMsat);
    expect(done.paidCount + done.skippedPeriods).toBe(periodCount(done));
    expect(ledger.openPeriods()).toEqual([]);
  });
});
