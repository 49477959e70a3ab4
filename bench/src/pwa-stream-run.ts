// A long per-second stream from the wallet PWA in headless Chromium (`npm run bench -- --pwa-stream[=MINUTES]`,
// 30 by default): the wallet is created and funded through a JIT channel as a person does it, starts a
// stream of 60 sats a minute paid every second to the devnet merchant from the Streams screen, and
// the worker's LDK WASM memory and JS heaps (worker and page) are sampled every ~30 s. LDK's linear
// memory never shrinks and kills the worker at its cap, so what must hold is that it stops growing:
// `pwa_stream_wasm_growth`, the growth over the last half as a fraction of the value at the half.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@lpw/devnet';
import { openProfile } from '../../e2e/harness/browser.ts';
import { type Stack, startStack } from '../../e2e/harness/stack.ts';
import {
  buildWallet,
  createWallet,
  DIST,
  receiveThroughJit,
  waitConnected,
} from '../../e2e/harness/wallet.ts';

type Context = Awaited<ReturnType<typeof openProfile>>;
type Page = Awaited<ReturnType<Context['newPage']>>;

const MB = 1048576;
const SATS_PER_MINUTE = 60; // 1 sat a second
/**
 * Budget per minute of stream: 1 sat a second plus its routing fees, which at this size are most of
 * it (two hops' base fees; a 3-minute run paid ~3.7 sats per 1-sat payment all told).
 */
const BUDGET_SAT_PER_MINUTE = 60 * 5;
const SAMPLE_EVERY_MS = 30_000;

interface Sample {
  /** Seconds since the stream started. */
  s: number;
  payments: number;
  wasm_mb: number;
  worker_heap_mb: number;
  page_heap_mb: number;
}

const mb = (bytes: number) => Math.round((bytes / MB) * 100) / 100;

/**
 * The live JS heaps of the page and of the node's worker (after a full GC: what a leak would hold),
 * through DevTools' protocol, as performance.memory is not in workers: the worker is reached by
 * auto-attaching to the page's targets in the protocol's older message-wrapping mode, which a page
 * session can use alongside Playwright's own.
 */
async function heapWatch(context: Context, page: Page) {
  const cdp = await context.newCDPSession(page);
  let workerSession: string | undefined;
  const pending = new Map<number, (result: { usedSize?: number }) => void>();
  let nextId = 1;
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker' && e.targetInfo.url.includes('node.worker'))
      workerSession = e.sessionId;
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const reply = JSON.parse(e.message) as { id?: number; result?: { usedSize?: number } };
    if (reply.id === undefined) return;
    pending.get(reply.id)?.(reply.result ?? {});
    pending.delete(reply.id);
  });
  const inWorker = async (method: string) => {
    const id = nextId++;
    const reply = new Promise<{ usedSize?: number }>((resolve) => pending.set(id, resolve));
    const message = JSON.stringify({ id, method });
    await cdp.send('Target.sendMessageToTarget', { sessionId: workerSession!, message });
    return reply;
  };
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await waitUntil('DevTools to attach to the node worker', () => workerSession !== undefined, 30_000);
  return {
    async page(): Promise<number> {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    },
    async worker(): Promise<number> {
      await inWorker('HeapProfiler.collectGarbage');
      return (await inWorker('Runtime.getHeapUsage')).usedSize ?? Number.NaN;
    },
  };
}

/** LDK's linear memory in the node's worker (its global `lpwWasmMemory`, apps/wallet node.worker.ts). */
async function workerWasmBytes(page: Page): Promise<number> {
  const worker = page.workers().find((w) => w.url().includes('node.worker'));
  if (!worker) throw new Error('bench: the wallet page has no node worker');
  const bytes = await worker.evaluate(
    () =>
      (self as unknown as { lpwWasmMemory?: () => { usedBytes: number } | undefined }).lpwWasmMemory?.()
        ?.usedBytes,
  );
  if (bytes === undefined) throw new Error('bench: the worker reports no LDK WASM memory');
  return bytes;
}

/** The stream card's figures, as the Streams screen has them. */
async function streamCard(page: Page) {
  const card = page.getByTestId('stream-card').first();
  const [state, count, failed, feeMsat, ended] = await Promise.all([
    card.getAttribute('data-state'),
    card.getAttribute('data-count'),
    card.getAttribute('data-failed'),
    card.getAttribute('data-fee-msat'),
    card.getByTestId('stream-time-left').textContent(),
  ]);
  return { state, payments: Number(count), failed: Number(failed), feeMsat: BigInt(feeMsat ?? '0'), ended };
}

export async function measurePwaStream(minutes: number) {
  if (!(minutes > 0)) throw new Error(`--pwa-stream: minutes must be a positive number, got ${minutes}`);
  const budgetSat = Math.ceil(minutes * BUDGET_SAT_PER_MINUTE) + 500;
  // the JIT channel's fee comes out of the first receive: room for the budget and then some
  const receiveSat = Math.max(20_000, Math.ceil(budgetSat * 1.5));
  buildWallet();
  let stack: Stack | undefined;
  let context: Context | undefined;
  const profile = mkdtempSync(join(tmpdir(), 'lpw-bench-pwa-stream-'));
  try {
    stack = await startStack({ distDir: DIST, seed: 'bench-pwa-stream' });
    const merchant = stack.net.merchant;
    const router = stack.net.router.node;
    context = await openProfile(profile);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    // created and funded as in the wallet group: a JIT channel the router pays into
    await page.goto(stack.front.url);
    await page.getByTestId('screen-welcome').waitFor({ timeout: 60_000 });
    await createWallet(page);
    await waitConnected(page);
    await receiveThroughJit(page, receiveSat, (bolt11) => router.payInvoice(bolt11, { timeoutMs: 90_000 }));

    let merchantReceived = 0;
    const unsubscribe = merchant.node.on('payment-received', () => {
      merchantReceived++;
    });

    // the stream, from the Streams screen: its end well past the run, a budget it never reaches
    await page.getByRole('button', { name: 'Streams' }).click();
    await page.getByTestId('screen-streams').waitFor();
    await page.locator('textarea[name=to]').fill(merchant.nodeId);
    await page.locator('input[name=rate]').fill(String(SATS_PER_MINUTE));
    await page.locator('input[name=budget]').fill(String(budgetSat));
    await page.locator('input[name=minutes]').fill(String(Math.ceil(minutes) + 10));
    await page.getByLabel('Every second').check();
    await page.getByRole('button', { name: 'Start stream' }).click();
    await page.getByTestId('stream-card').waitFor();
    await waitUntil(
      'the first payment of the stream',
      async () => (await streamCard(page)).payments >= 1,
      60_000,
    );

    const heaps = await heapWatch(context, page);
    const t0 = performance.now();
    const samples: Sample[] = [];
    const sample = async () => {
      // WASM first: the forced GC behind the heap figures may free Rust memory that waits on
      // finalizers, so each WASM sample follows ~30 s of the worker's own collections
      const wasm = await workerWasmBytes(page);
      const card = await streamCard(page);
      const workerHeap = await heaps.worker();
      const pageHeap = await heaps.page();
      samples.push({
        s: Math.round((performance.now() - t0) / 1000),
        payments: card.payments,
        wasm_mb: mb(wasm),
        worker_heap_mb: mb(workerHeap),
        page_heap_mb: mb(pageHeap),
      });
      process.stderr.write(`bench: pwa-stream ${JSON.stringify(samples.at(-1))}\n`);
      if (card.state !== 'running')
        throw new Error(`bench: the stream is ${card.state} (${card.ended}), not running`);
    };
    await sample();
    const endAt = t0 + minutes * 60_000;
    while (performance.now() < endAt) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(SAMPLE_EVERY_MS, endAt - performance.now())),
      );
      await sample();
    }
    const seconds = (performance.now() - t0) / 1000;

    await page.getByRole('button', { name: 'Stop' }).click();
    await waitUntil('the stream to stop', async () => (await streamCard(page)).state === 'stopped', 60_000);
    const final = await streamCard(page);
    // what the wallet counts as paid, the merchant received (payments in flight at the stop settle first)
    await waitUntil('the merchant to see every payment', () => merchantReceived >= final.payments, 30_000);
    unsubscribe();

    const start = samples[0]!;
    const end = samples.at(-1)!;
    const half = samples.reduce((best, x) =>
      Math.abs(x.s - end.s / 2) < Math.abs(best.s - end.s / 2) ? x : best,
    );
    return {
      pwa_stream_minutes: Math.round((seconds / 60) * 100) / 100,
      pwa_stream_payments: final.payments,
      /** Attempts the stream saw fail (it retries a failed period). */
      pwa_stream_failures: final.failed,
      /** Periods of the run with no payment: a slow browser or LSP skips, never doubles. */
      pwa_stream_missed_periods: Math.max(0, Math.round(seconds) - (end.payments - start.payments)),
      pwa_stream_merchant_received: merchantReceived,
      pwa_stream_fee_msat_per_payment: Number(final.feeMsat) / Math.max(1, final.payments),
      pwa_stream_wasm_mb_start: start.wasm_mb,
      pwa_stream_wasm_mb_half: half.wasm_mb,
      pwa_stream_wasm_mb_end: end.wasm_mb,
      /** (end − half) / half of the worker's LDK WASM memory; goal ≤ 0.05. */
      pwa_stream_wasm_growth: Math.round(((end.wasm_mb - half.wasm_mb) / half.wasm_mb) * 1000) / 1000,
      pwa_stream_heap_mb_start: start.worker_heap_mb,
      pwa_stream_heap_mb_end: end.worker_heap_mb,
      pwa_stream_page_heap_mb_end: end.page_heap_mb,
      pwa_stream_page_errors: pageErrors.slice(0, 5),
      pwa_stream_samples: samples,
    };
  } finally {
    await context?.close().catch(() => {});
    await stack?.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}
