// Restarts only: the LSP started again and again from a store the `lsp-channels` group kept
// (`BENCH_LSP_CHANNELS_KEEP=DIR`: its SQLite file and the devnet's blocks), so a try at the restart
// costs seconds instead of the minutes of opening 1,000 channels. Each start gets a fresh copy of the
// kept store (every run restores the same state) and a devnet replayed block by block (each block's
// hash checked against the kept one: the LSP finds the chain it left).
// `tsx src/lsp-restart-run.ts DIR [--runs=3] [--server=LSP_SERVER_DIR]...` — several --server
// alternate run by run (before/after on the same store); default: this checkout's lsp-server.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Devnet, startDevnet } from '@lpw/devnet';
import { cpuMsOf, lspServerDir, rssOf, spawnLsp } from './lsp.ts';

export const STORE_DIR = 'store';
const CHAIN_FILE = 'chain.json';
const PREMINE = 101;

interface ChainJournal {
  seed: string;
  /** Blocks above the premine (genesis and PREMINE more): hash and raw non-coinbase transactions. */
  blocks: { hash: string; txs: string[] }[];
}

/** Copies a stopped LSP's data directory and the devnet's blocks to `keepDir`. */
export function keepChannelStore(keepDir: string, dataDir: string, devnet: Devnet, seed: string): void {
  mkdirSync(keepDir, { recursive: true });
  rmSync(join(keepDir, STORE_DIR), { recursive: true, force: true });
  cpSync(dataDir, join(keepDir, STORE_DIR), { recursive: true });
  const blocks: ChainJournal['blocks'] = [];
  for (let h = PREMINE + 1; h <= devnet.chain.tipHeight; h++) {
    const block = devnet.chain.getBlock(h)!;
    blocks.push({ hash: block.hash, txs: block.txs.slice(1).map((t) => Buffer.from(t.raw).toString('hex')) });
  }
  writeFileSync(join(keepDir, CHAIN_FILE), JSON.stringify({ seed, blocks } satisfies ChainJournal));
}

/** The kept chain again: same seed, the same transactions mined into the same blocks. */
export async function replayChain(keepDir: string): Promise<Devnet> {
  const journal = JSON.parse(readFileSync(join(keepDir, CHAIN_FILE), 'utf8')) as ChainJournal;
  const devnet = await startDevnet({ seed: journal.seed, premine: PREMINE });
  for (const [i, { hash, txs }] of journal.blocks.entries()) {
    for (const raw of txs) devnet.chain.submitTransaction(raw);
    const [mined] = devnet.mine(1);
    if (mined!.hash !== hash) {
      await devnet.stop();
      throw new Error(`bench: replayed block ${PREMINE + 1 + i} is ${mined!.hash}, kept ${hash}`);
    }
  }
  return devnet;
}

export async function measureLspRestarts(keepDir: string, runs: number, serverDirs: string[]) {
  const devnet = await replayChain(keepDir);
  const results = [];
  try {
    for (let run = 0; run < runs; run++) {
      const serverDir = serverDirs[run % serverDirs.length]!;
      const dir = mkdtempSync(join(tmpdir(), 'lpw-bench-restart-'));
      try {
        cpSync(join(keepDir, STORE_DIR), dir, { recursive: true });
        const load = loadavg()[0]!;
        const lsp = await spawnLsp({
          databasePath: join(dir, 'lsp.sqlite'),
          dataDir: dir,
          esploraUrl: devnet.esploraUrl,
          serverDir,
          timeoutMs: 900_000, // 10,000 channels restore in minutes
        });
        results.push({
          server: serverDir,
          lsp_restart_ms: lsp.restoreMs,
          lsp_restart_cpu_ms: lsp.restoreCpuMs,
          restore_steps_ms: lsp.restoreSteps,
          spawn_to_listening_ms: Math.round(lsp.spawnToListeningMs),
          process_cpu_ms_at_listening: cpuMsOf(lsp.child.pid!),
          rss_mb: Math.round(rssOf(lsp.child.pid!) / 1048576),
          channels: lsp.channels,
          load_before: load,
          load_after: loadavg()[0]!,
        });
        await lsp.stop();
        // warnings and errors (a rescan from scratch, a failed check) explain an odd figure
        for (const line of lsp.logs) if (/"level":[4-6]\d/.test(line)) process.stderr.write(`${line}\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await devnet.stop();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const keepDir = args.find((a) => !a.startsWith('--'));
  if (!keepDir) throw new Error('usage: lsp-restart-run.ts DIR [--runs=3] [--server=LSP_SERVER_DIR]...');
  const runs = Number(args.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 3);
  const servers = args.filter((a) => a.startsWith('--server=')).map((a) => resolve(a.split('=')[1]!));
  for (const result of await measureLspRestarts(keepDir, runs, servers.length ? servers : [lspServerDir]))
    console.log(JSON.stringify(result));
}
