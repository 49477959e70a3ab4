// Summarises V8 .cpuprofile files (from `npm run bench -- --profile`): self time by function and
// by bucket (LDK's WASM, SQLite, JS of the node, GC, idle).
// `tsx src/profile-summary.ts [--from=0.8 --to=1 --top=25] <file>...` (from/to: slice of wall time)
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function bucketOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  if (url.startsWith('wasm://')) return 'ldk wasm';
  if (url.includes('lightningdevkit')) return 'ldk js glue';
  if (url.includes('better-sqlite3') || functionName === 'run' || functionName.includes('transaction'))
    return 'sqlite';
  if (url.includes('packages/node/')) return 'node (ours)';
  if (url.includes('packages/devnet') /* devnet and devnet-chain */) return 'devnet';
  if (url.includes('bench/')) return 'bench';
  if (url.includes('@noble') || url.includes('@scure')) return 'noble/scure';
  if (url.startsWith('node:') || url === '') return 'node runtime / native';
  return 'other js';
}

/** `from`/`to`: the slice of the profile's wall time to read, as fractions (0..1). */
export function summarise(file: string, top = 25, from = 0, to = 1): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const span = profile.timeDeltas.reduce((s, d) => s + d, 0);
  let clock = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    clock += profile.timeDeltas[i] ?? 0;
    if (clock < from * span || clock > to * span) continue;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byBucket = new Map<string, number>();
  const wasmByEntry = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let total = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const url = frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/[^/]+\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const bucket = bucketOf(frame);
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + us);
    if (bucket === 'ldk wasm') {
      const entry = wasmEntryOf(id, byId, parent);
      wasmByEntry.set(entry, (wasmByEntry.get(entry) ?? 0) + us);
    }
    total += us;
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`${file} [${from}..${to}]: ${(total / 1e6).toFixed(1)} s sampled`, 'by bucket (self time):'];
  for (const [b, us] of [...byBucket].sort((x, y) => y[1] - x[1])) lines.push(`  ${pct(us)}  ${b}`);
  lines.push(`top ${top} functions (self time):`);
  for (const [f, us] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, top))
    lines.push(`  ${pct(us)}  ${f}`);
  lines.push('LDK WASM time by entry point (the bindings function that called into it; share of all):');
  for (const [f, us] of [...wasmByEntry].sort((x, y) => y[1] - x[1]).slice(0, top))
    lines.push(`  ${pct(us)}  ${f}`);
  return lines.join('\n');
}

/**
 * The WASM build has no function names: WASM time is told apart by where JS entered it, the nearest
 * caller in the bindings' glue (`PeerManager_read_event`, `ChannelManager_write`, …). A JS callback
 * that LDK called (a Persist, a Logger) shows as the entry that led to it.
 */
function wasmEntryOf(id: number, byId: Map<number, ProfileNode>, parent: Map<number, number>): string {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)!.callFrame;
    if (frame.url.endsWith('lightningdevkit/bindings.mjs')) return frame.functionName || '(anonymous)';
  }
  return '(no JS caller)';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flag = (name: string, fallback: number) =>
    Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
  for (const file of process.argv.slice(2).filter((a) => !a.startsWith('--')))
    console.log(summarise(file, flag('top', 25), flag('from', 0), flag('to', 1)));
}
