// The wallet PWA as a person gets it: what it ships (gzip of the built JS and of the WASM), how long a
// cold start of an existing wallet takes in Debian's Chromium until it can pay (unlocked, node
// started, linked to the LSP), and a payment from the browser next to the same payment from a Node
// wallet in the same run (both: LSP route lookup, then pay through the LSP to the merchant). The stack
// and the page steps are the e2e harness's (e2e/harness), so the figures follow what the journeys test.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { waitUntil } from '@lpw/devnet';
import type { LightningNode, PayTrace, WebSocketConstructor } from '@lpw/node';
import WebSocket from 'ws';
import { initWallet, openWallet, type Wallet } from '../../apps/cli/src/wallet.ts';
import { openProfile } from '../../e2e/harness/browser.ts';
import { type Stack, startStack } from '../../e2e/harness/stack.ts';
import {
  buildWallet,
  createWallet,
  DIST,
  receiveThroughJit,
  unlock,
  waitConnected,
} from '../../e2e/harness/wallet.ts';
import { createLspClient } from '../../lsp-server/src/client/index.ts';
import { walletNode } from './lsp.ts';
import { initWasm } from './product.ts';
import { percentile } from './stats.ts';

type Context = Awaited<ReturnType<typeof openProfile>>;
type Page = Awaited<ReturnType<Context['newPage']>>;

const KB = 1024;
const RECEIVE_SAT = 20_000;
const PAY_MSAT = 1_000_000n; // 1,000 sats a payment

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** gzip -9 size of every .js and of every .wasm file in the built wallet (what a phone downloads). */
export function measureBundle(distDir: string) {
  let js = 0;
  let wasm = 0;
  const kb = (bytes: number) => Math.round((bytes / KB) * 10) / 10;
  /** Each JS file's share, by its name without the content hash (index, node.worker, Scanner, sw…). */
  const files: Record<string, number> = {};
  for (const file of listFiles(distDir)) {
    const size = gzipSync(readFileSync(file), { level: 9 }).length;
    if (file.endsWith('.js')) {
      js += size;
      files[basename(file).replace(/-[A-Za-z0-9_-]{8}\.js$/, '.js')] = kb(size);
    } else if (file.endsWith('.wasm')) wasm += size;
  }
  return { pwa_js_gzip_kb: kb(js), pwa_wasm_gzip_kb: kb(wasm), pwa_js_gzip_kb_files: files };
}

/**
 * The steps of a start, from the worker's `lpw:` marks (packages/node start-marks.ts), as ms since
 * `t0Epoch` (the navigation): each mark's epoch time is the worker's timeOrigin plus its startTime.
 */
async function startSteps(page: Page, t0Epoch: number): Promise<Record<string, number>> {
  const worker = page.workers().find((w) => w.url().includes('node.worker'));
  if (!worker) return {};
  const marks = await worker.evaluate(() => ({
    origin: performance.timeOrigin,
    marks: performance
      .getEntriesByType('mark')
      .filter((m) => m.name.startsWith('lpw:'))
      .map((m) => [m.name.slice(4), m.startTime] as const),
  }));
  return Object.fromEntries(marks.marks.map(([name, at]) => [name, marks.origin + at - t0Epoch]));
}

/** Per step, the p50 of its time since navigation, in the order the steps happen. */
function stepsP50(runs: Record<string, number>[]): Record<string, number> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const p50s = names.map((name) => {
    const at = runs.map((r) => r[name]).filter((v): v is number => v !== undefined);
    return [name, Math.round(percentile(at, 50))] as const;
  });
  return Object.fromEntries(p50s.sort((a, b) => a[1] - b[1]));
}

/** Drop the HTTP cache, the service worker and its caches: the next launch loads from the network. */
async function clearCaches(context: Context, page: Page, origin: string) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.clearBrowserCache');
  await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'cache_storage,service_workers' });
  await cdp.detach();
}

/** A payment's trace: `payTrace` steps (packages/node start-marks.ts) as [step, ms since the tap or call]. */
type PayMarks = Array<[string, number]>;

/**
 * One payment's steps by name, numbered when they repeat (`commit:start#2`), as ms since its start,
 * plus what repeats: commits, backup uploads, peer messages out and in, and the ms spent waiting on
 * the device's commits and on the LSP's backup (time inside commit:start → commit:local, and
 * commit:local → commit:backed-up).
 */
function payTimeline(marks: PayMarks): Record<string, number> {
  const seen = new Map<string, number>();
  const run: Record<string, number> = {};
  let openedAt: number | undefined;
  let localAt: number | undefined;
  let commitMs = 0;
  let backupWaitMs = 0;
  for (const [step, at] of marks) {
    const n = (seen.get(step) ?? 0) + 1;
    seen.set(step, n);
    run[n === 1 ? step : `${step}#${n}`] = at;
    if (step === 'commit:start') openedAt = at;
    if (step === 'commit:local' && openedAt !== undefined) {
      commitMs += at - openedAt;
      localAt = at;
    }
    if (step === 'commit:backed-up' && localAt !== undefined) backupWaitMs += at - localAt;
  }
  const count = (step: string) => seen.get(step) ?? 0;
  return {
    ...run,
    'count:commits': count('commit:start'),
    'count:uploads': count('backup:put'),
    'count:peer-out': count('peer:out'),
    'count:peer-in': count('peer:in'),
    'ms:in-device-commits': commitMs,
    'ms:waiting-for-backup': backupWaitMs,
  };
}
const DUMP = process.env.LPW_PAY_DUMP === '1';
function dump(label: string, marks: PayMarks) {
  if (DUMP) console.error(`${label}: ${marks.map(([s, t]) => `${s}@${Math.round(t)}`).join(' ')}`);
}

/** Runs `pay` with `lpwPayTrace` on this process's global, keeping only the wallet node's peer steps. */
async function tracedNodePay(
  peerHost: unknown,
  pay: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const marks: PayMarks = [];
  const t0 = performance.now();
  const g = globalThis as { lpwPayTrace?: PayTrace };
  g.lpwPayTrace = (step, owner) => {
    if (owner === undefined || owner === peerHost) marks.push([step, performance.now() - t0]);
  };
  try {
    await pay();
  } finally {
    delete g.lpwPayTrace;
  }
  dump('node', [...marks, ['done', performance.now() - t0]]);
  return { ...payTimeline(marks), 'pay:done': performance.now() - t0 };
}

export async function measureWallet(readyRuns: number, payments: number) {
  buildWallet();
  const bundle = measureBundle(DIST);
  await initWasm();
  let stack: Stack | undefined;
  let context: Context | undefined;
  let node: LightningNode | undefined;
  let unfollow = () => {};
  const profile = mkdtempSync(join(tmpdir(), 'lpw-bench-profile-'));
  const cliDir = join(mkdtempSync(join(tmpdir(), 'lpw-bench-cli-')), 'wallet');
  let cli: Wallet | undefined;
  try {
    stack = await startStack({ distDir: DIST, seed: 'bench-wallet' });
    const { front, net } = stack;
    const router = net.router.node;
    const merchant = net.merchant.node;

    // the browser wallet: created, funded through a JIT channel (the router pays)
    context = await openProfile(profile);
    let page = await context.newPage();
    await page.goto(front.url);
    await page.getByTestId('screen-welcome').waitFor({ timeout: 60_000 });
    await createWallet(page);
    await waitConnected(page);
    await receiveThroughJit(page, RECEIVE_SAT, (bolt11) => router.payInvoice(bolt11, { timeoutMs: 90_000 }));

    // cold start of the existing wallet: caches dropped, a new browser process on the same profile
    const readyMs: number[] = [];
    const lockMs: number[] = [];
    const unlockClickMs: number[] = [];
    const steps: Record<string, number>[] = [];
    for (let i = 0; i < readyRuns; i++) {
      await clearCaches(context, page, front.url);
      await context.close();
      context = await openProfile(profile);
      page = await context.newPage();
      const t0 = performance.now();
      const t0Epoch = Date.now();
      await page.goto(front.url);
      await page.getByTestId('screen-lock').waitFor({ timeout: 30_000 });
      lockMs.push(performance.now() - t0);
      await unlock(page, () => unlockClickMs.push(performance.now() - t0));
      await waitConnected(page);
      readyMs.push(performance.now() - t0);
      // the peer link may come after "ready" (Home shows no notice once the node runs): its mark too
      let run: Record<string, number> = {};
      await waitUntil(
        'the PWA linked to the LSP peer',
        async () => {
          run = await startSteps(page, t0Epoch);
          return 'peer-linked' in run;
        },
        30_000,
        50,
      );
      steps.push(run);
    }

    // The same payments from a bare Node wallet (createNode, in memory, no backup) through the LSP
    // address and WebSocket link the browser uses, and from the product's Node wallet, the CLI's
    // (SQLite, and like the PWA every channel-state save is held until the LSP holds its backup).
    // All three are set up first and then pay in turn, payment by payment, with the browser open: a
    // ratio compares payments made in the same minutes. (One wallet's ten after another's compared
    // a machine whose load rose through the run, and the browser was closed for the Node wallets.)
    const lspNodeId = stack.lspNode.nodeId;
    node = await walletNode(0, lspNodeId, stack.devnet.esploraUrl!);
    const walletNodeRef = node;
    unfollow = stack.devnet.chain.onBlock(() => void walletNodeRef.syncChain().catch(() => {}));
    const client = createLspClient({
      url: front.lspUrl,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    await client.login(node);
    await client.connect(node);
    const jit = await client.receiveJit(node, {
      amountMsat: BigInt(RECEIVE_SAT) * 1000n,
      description: 'node',
    });
    const received = node.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 90_000);
    await Promise.all([router.payInvoice(jit.bolt11, { timeoutMs: 90_000 }), received]);
    initWallet(cliDir);
    cli = await openWallet({ dir: cliDir, lspUrl: front.lspUrl, logLevel: 'warn' });
    const cliWallet = cli;
    const cliJit = await cliWallet.receive({ amountMsat: BigInt(RECEIVE_SAT) * 1000n, description: 'cli' });
    await Promise.all([
      router.payInvoice(cliJit.bolt11, { timeoutMs: 90_000 }),
      cliWallet.waitForPayment(cliJit.paymentHash, 90_000),
    ]);

    const pwaPayMs: number[] = [];
    const pwaSteps: Record<string, number>[] = [];
    const nodePayMs: number[] = [];
    const nodeSteps: Record<string, number>[] = [];
    const cliPayMs: number[] = [];
    const cliSteps: Record<string, number>[] = [];
    const worker = page.workers().find((w) => w.url().includes('node.worker'));
    const merchantInvoice = (description: string) =>
      merchant.createInvoice({ amountMsat: PAY_MSAT, description, expirySecs: 900 });
    for (let i = 0; i < payments; i++) {
      // from the browser: Send → paste → review (the fee estimate is in) → Pay → proof shown
      const invoice = merchantInvoice(`pwa ${i}`);
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('textarea[name=invoice]').fill(invoice.bolt11);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByTestId('screen-send-review').waitFor({ timeout: 30_000 });
      const pay = page.getByRole('button', { name: 'Pay' }).and(page.locator(':enabled'));
      await pay.waitFor({ timeout: 30_000 });
      await page.waitForFunction(
        () => /about/.test(document.querySelector('[data-testid=review-fee]')?.textContent ?? ''),
        undefined,
        { timeout: 30_000 },
      );
      // the worker's steps of this payment, on its own clock (read back with its timeOrigin below)
      // (a string: tsx would wrap a function's inner closures in a helper the worker lacks)
      await worker?.evaluate(`self.lpwPayMarks = [];
        self.lpwPayTrace = (step) => self.lpwPayMarks.push([step, performance.now()]);`);
      // timed in the page, from the tap to the proof on screen: Playwright's own wait before a
      // click (two animation frames of a stable button) and its polling are not the wallet's time
      const shown = page.evaluate(
        () =>
          new Promise<{ ms: number; tapEpoch: number }>((resolve) => {
            let tappedAt = 0;
            document.addEventListener(
              'click',
              () => {
                tappedAt = performance.now();
              },
              { capture: true, once: true },
            );
            const seen = new MutationObserver(() => {
              if (tappedAt === 0 || !document.querySelector('[data-testid=screen-send-done]')) return;
              seen.disconnect();
              resolve({ ms: performance.now() - tappedAt, tapEpoch: performance.timeOrigin + tappedAt });
            });
            seen.observe(document.body, { childList: true, subtree: true });
          }),
      );
      await pay.click();
      await page.getByTestId('screen-send-done').waitFor({ timeout: 90_000 });
      const { ms, tapEpoch } = await shown;
      pwaPayMs.push(ms);
      if (worker) {
        const traced = await worker.evaluate(() => ({
          origin: performance.timeOrigin,
          marks: (self as unknown as { lpwPayMarks: Array<[string, number]> }).lpwPayMarks,
        }));
        const marks = traced.marks.map(([step, at]): [string, number] => [
          step,
          traced.origin + at - tapEpoch,
        ]);
        dump(`pwa ${i}`, [...marks, ['shown', ms]]);
        pwaSteps.push({ ...payTimeline(marks), 'pay:shown': ms });
      }
      if (merchant.payment(invoice.paymentHash)?.status !== 'succeeded') {
        throw new Error(`bench: the merchant did not record browser payment ${i} as received`);
      }
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByTestId('screen-home').waitFor();

      const nodeInvoice = merchantInvoice(`node ${i}`);
      const steps = await tracedNodePay(walletNodeRef.peerHost, () =>
        client.payWithRoute(walletNodeRef, nodeInvoice.bolt11, { timeoutMs: 90_000 }),
      );
      nodePayMs.push(steps['pay:done']!);
      nodeSteps.push(steps);

      const cliInvoice = merchantInvoice(`cli ${i}`);
      const cliTraced = await tracedNodePay(cliWallet.node.peerHost, () =>
        cliWallet.pay(cliInvoice.bolt11, { timeoutMs: 90_000 }),
      );
      cliPayMs.push(cliTraced['pay:done']!);
      cliSteps.push(cliTraced);
    }

    const round = (v: number) => Math.round(v);
    const pwaPay = percentile(pwaPayMs, 50);
    const nodePay = percentile(nodePayMs, 50);
    const cliPay = percentile(cliPayMs, 50);
    return {
      ...bundle,
      pwa_ready_ms_p50: round(percentile(readyMs, 50)),
      pwa_ready_ms_max: round(Math.max(...readyMs)),
      pwa_lock_screen_ms_p50: round(percentile(lockMs, 50)),
      pwa_unlock_click_ms_p50: round(percentile(unlockClickMs, 50)),
      // where a start's time goes: ms from navigation to each step (worker marks), p50 per step
      pwa_ready_steps_ms_p50: stepsP50(steps),
      pwa_ready_runs: readyMs.length,
      pwa_pay_latency_ms_p50: round(pwaPay),
      pwa_pay_latency_ms_p90: round(percentile(pwaPayMs, 90)),
      node_pay_latency_ms_p50: round(nodePay),
      node_pay_latency_ms_p90: round(percentile(nodePayMs, 90)),
      pwa_vs_node_pay_p50: Math.round((pwaPay / nodePay) * 100) / 100,
      cli_pay_latency_ms_p50: round(cliPay),
      cli_pay_latency_ms_p90: round(percentile(cliPayMs, 90)),
      // the same product path in both runtimes (durable store, backup gate): the browser's own cost
      pwa_vs_cli_pay_p50: Math.round((pwaPay / cliPay) * 100) / 100,
      wallet_payments: payments,
      // where a payment's time goes: ms since the tap (PWA) or the call (Node, CLI) to each traced
      // step (numbered when it repeats), p50 per step, with the counts and waits of payTimeline
      pwa_pay_steps_ms_p50: stepsP50(pwaSteps),
      node_pay_steps_ms_p50: stepsP50(nodeSteps),
      cli_pay_steps_ms_p50: stepsP50(cliSteps),
    };
  } finally {
    unfollow();
    unfollow = () => {};
    await context?.close().catch(() => {});
    await node?.stop().catch(() => {});
    await cli?.close().catch(() => {});
    await stack?.stop().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    rmSync(dirname(cliDir), { recursive: true, force: true });
  }
}
