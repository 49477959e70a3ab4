// Backups: what the LSP's copy of a wallet's channel state costs. A pays B over one channel (createNode
// + SQLite); A's store is @lpw/backup's BackedUpStore uploading to a real LSP (the lsp-server app over
// HTTP, SQLite, B as its node). Payment latency with the gate off (uploads in the background) and on
// (a commit waits until the LSP holds it), in the same run; the PUT time; and the size of the backup
// after `payments` payments, with what dominates it.
import { serve } from '@hono/node-server';
import {
  BackedUpStore,
  type BackupTransport,
  BackupUploader,
  decodeBackup,
  deriveBackupKeys,
  httpBlobClient,
} from '@lpw/backup';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as ldk from 'lightningdevkit';
import { createLspClient } from '../../lsp-server/src/client/index.ts';
import type { Deps } from '../../lsp-server/src/deps.ts';
import { createApp, loadConfig, Metrics, openStore } from '../../lsp-server/src/index.ts';
import { deriveSecrets } from '../../lsp-server/src/secrets.ts';
import { BenchNet, initWasm, sleep } from './product.ts';
import { percentile, windowed } from './stats.ts';

/** The LSP's logger, silenced (its log lines are not what is measured). */
const silent = {
  level: 'silent',
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child: () => silent,
} as unknown as Deps['log'];

const TICK_MS = 1_000;
const WINDOW = 25;

export async function measureBackup(latencyPayments: number, payments: number) {
  await initWasm();
  const net = await BenchNet.start('backup');
  const lspStore = await openStore(`${net.dir}/lsp.sqlite`);
  let server: ReturnType<typeof serve> | undefined;
  try {
    const b = await net.node('b', 2, 'router');
    const config = loadConfig({ ADMIN_PASSWORD: 'bench bench bench', LOG_LEVEL: 'silent' });
    const app = createApp({
      config,
      store: lspStore,
      node: b.node,
      log: silent,
      metrics: new Metrics(),
      clock: Date.now,
      secrets: deriveSecrets(new Uint8Array(32).fill(3)),
    });
    const url = await new Promise<string>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      );
    });
    const lsp = createLspClient({ url });
    const trpc = lsp.trpc;
    const putMs: number[] = [];
    const blobs = httpBlobClient({ baseUrl: url, token: () => lsp.token ?? '' });
    const transport: BackupTransport = {
      acquireLease: async (r) => {
        const l = await trpc.backup.acquireLease.mutate(r);
        return { fencingToken: l.fencingToken, deviceId: l.deviceId, expiresAtMs: Date.parse(l.expiresAt) };
      },
      releaseLease: async (fencingToken) => {
        await trpc.backup.releaseLease.mutate({ fencingToken });
      },
      currentVersion: async (key) =>
        (await trpc.backup.list.query()).entries.find((e) => e.key === key)?.version ?? 0,
      put: async (key, blob, request) => {
        const t0 = performance.now();
        const put = await blobs.put(key, blob, request);
        putMs.push(performance.now() - t0);
        return put;
      },
      get: blobs.get,
    };
    const keys = deriveBackupKeys(new Uint8Array(64).fill(1));
    // the wallet's node id before its node exists, derived as createNode derives it (KeysManager)
    const walletSecret = ldk.KeysManager.constructor_new(
      hmac(sha256, new TextEncoder().encode('lpw/ldk-keys-manager/v1'), new Uint8Array(32).fill(1)),
      0n,
      0,
    ).get_node_secret_key();
    const walletId = bytesToHex(secp256k1.getPublicKey(walletSecret, true));
    const uploader = new BackupUploader({
      transport,
      nodeId: walletId,
      keys,
      deviceId: 'bench-wallet',
      takeOver: true,
    });
    let mode: 'off' | 'on' | 'bypass' = 'off';
    const a = await net.node('a', 1, 'router', (inner) => {
      const off = new BackedUpStore(inner, uploader, { gate: false });
      const on = new BackedUpStore(inner, uploader, { gate: true });
      // one store for the node, three ways to commit: gate off or on (one uploader and mirror), or
      // straight to SQLite while the payments pile up (the size is measured once, at the end)
      return {
        load: () => on.load(),
        commit: (writes) =>
          mode === 'on' ? on.commit(writes) : mode === 'off' ? off.commit(writes) : inner.commit(writes),
        close: () => on.close(),
      };
    });
    if (a.node.nodeId !== walletId) throw new Error('bench: node id derivation differs from createNode');
    await lsp.login(a.node); // the session is the wallet's own, as the LSP checks the backup's node id
    await uploader.start();
    await net.channel(a, b, 5_000_000n);
    await sleep(200);
    const ticker = setInterval(() => {
      for (const n of [a, b]) n.node.ldk.channelManager.timer_tick_occurred();
    }, TICK_MS);

    let paid = 0;
    const failures: string[] = [];
    const pay = async () => {
      const invoice = b.node.createInvoice({ amountMsat: 10_000n, description: 'backup', expirySecs: 3600 });
      await a.node.payInvoice(invoice.bolt11);
      paid++;
      return true;
    };
    const latencies = async () => {
      const ms: number[] = [];
      for (let i = 0; i < latencyPayments; i++) {
        const t0 = performance.now();
        try {
          await pay();
          ms.push(performance.now() - t0);
        } catch (error) {
          if (failures.length < 5) failures.push(String(error));
        }
      }
      await uploader.flush();
      return ms;
    };
    // alternate halves so a machine that gets busier does not favour one side
    const off: number[] = [];
    const on: number[] = [];
    const putsBefore = { n: 0 };
    const gatedPutMs: number[] = [];
    for (const phase of ['off', 'on', 'off', 'on'] as const) {
      mode = phase;
      process.stderr.write(`bench backup: ${latencyPayments} payments, gate ${phase} (paid ${paid})\n`);
      putsBefore.n = putMs.length;
      (phase === 'on' ? on : off).push(...(await latencies()));
      if (phase === 'on') gatedPutMs.push(...putMs.slice(putsBefore.n));
    }

    // the rest of the payments, WINDOW in flight, straight to SQLite; then one upload of the result
    mode = 'bypass';
    process.stderr.write(`bench backup: ${payments - paid} payments, ${WINDOW} in flight\n`);
    const bulk = await windowed(payments - paid, WINDOW, pay, { deadlineMs: 1_200_000 });
    failures.push(...bulk.failures);
    clearInterval(ticker);
    await sleep(1_000); // the last acknowledgements' manager snapshot
    uploader.seed(await a.store.inner.load());
    uploader.markDirty();
    const bigPut = putMs.length;
    await uploader.flush();
    const last = await uploader.fetch();
    const decoded = last && (await decodeBackup(last.blob, { nodeId: walletId, keys }));
    const parts = { manager: 0, monitor: 0, monitorUpdates: 0, sweeper: 0, other: 0 };
    for (const [key, value] of decoded?.entries ?? []) {
      if (key === 'ldk/manager') parts.manager += value.length;
      else if (key.startsWith('ldk/monitor/')) parts.monitor += value.length;
      else if (key.startsWith('ldk/monitor-update/')) parts.monitorUpdates += value.length;
      else if (key.startsWith('sweeper/')) parts.sweeper += value.length;
      else parts.other += value.length;
    }
    const plain = Object.values(parts).reduce((s, n) => s + n, 0);
    await uploader.close();
    return {
      backup_payments: paid,
      backup_bytes_after_payments: last?.blob.length,
      ...(paid >= 10_000 ? { backup_bytes_after_10000_payments: last?.blob.length } : {}),
      backup_plain_bytes: plain,
      backup_monitor_bytes: parts.monitor,
      backup_monitor_update_bytes: parts.monitorUpdates,
      backup_manager_bytes: parts.manager,
      backup_sweeper_bytes: parts.sweeper,
      backup_version: last?.version,
      backup_uploads: uploader.status.uploads,
      backup_put_ms_p50: percentile(gatedPutMs, 50),
      backup_put_ms_p90: percentile(gatedPutMs, 90),
      pay_latency_ms_p50_gate_off: percentile(off, 50),
      pay_latency_ms_p50_gate_on: percentile(on, 50),
      pay_latency_ms_p90_gate_off: percentile(off, 90),
      pay_latency_ms_p90_gate_on: percentile(on, 90),
      backup_latency_payments_per_side: off.length,
      backup_final_put_ms: putMs[bigPut],
      backup_bulk_per_s: Math.round(bulk.perSecond),
      backup_failures: failures,
      node_errors: net.errors.slice(0, 10),
    };
  } finally {
    await net.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await lspStore.close();
  }
}
