// What the LSP's per-request work costs with the channels of a kept store (BENCH_LSP_CHANNELS_KEEP,
// e.g. the 10,000-channel run's): listing every channel (what a usable-channel list costs with every
// wallet connected) and listing one wallet's, each timed alone in the LSP as it starts from that
// store. No peer connects here, so no channel is usable and routes.find is not timed.
// `tsx src/lsp-scale-probe.ts DIR [--runs=20]`
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../lsp-server/src/config.ts';
import { createLsp } from '../../lsp-server/src/lsp.ts';
import { LSP_SEED_HEX } from './lsp.ts';
import { replayChain, STORE_DIR } from './lsp-restart-run.ts';
import { percentile } from './stats.ts';

function timed(runs: number, fn: () => unknown) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall_ms_p50: percentile(wall, 50), cpu_ms_p50: percentile(cpu, 50) };
}

const args = process.argv.slice(2);
const keepDir = args.find((a) => !a.startsWith('--'));
if (!keepDir) throw new Error('usage: lsp-scale-probe.ts DIR [--runs=20]');
const runs = Number(args.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 20);
const devnet = await replayChain(keepDir);
const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-probe-'));
try {
  cpSync(join(keepDir, STORE_DIR), dir, { recursive: true });
  const config = loadConfig({
    DATA_DIR: dir,
    DATABASE_URL: join(dir, 'lsp.sqlite'),
    ESPLORA_URL: devnet.esploraUrl,
    LSP_SEED: LSP_SEED_HEX,
    PORT: '0',
    HOST: '127.0.0.1',
    PEER_LISTEN: '127.0.0.1:0',
    PUBLIC_PEERS: '',
    LOG_LEVEL: 'warn',
  });
  const t0 = performance.now();
  const lsp = await createLsp(config);
  const startMs = performance.now() - t0;
  try {
    const { node } = lsp;
    const all = node.listChannels();
    // the merchant's is the one large channel; a wallet's, any other
    const merchant = all.reduce((a, b) => (b.capacityMsat > a.capacityMsat ? b : a));
    const wallet = all.find((c) => c.peerId !== merchant.peerId)!;
    const load = loadavg()[0]!;
    const result = {
      channels: all.length,
      start_ms: Math.round(startMs),
      list_all: timed(Math.min(runs, 5), () => node.listChannels()),
      list_one_wallet: timed(runs, () => node.listChannels(wallet.peerId)),
      load_before: load,
      load_after: loadavg()[0]!,
    };
    console.log(JSON.stringify(result));
  } finally {
    await lsp.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await devnet.stop();
}
