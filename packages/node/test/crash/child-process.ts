// The parent's handle on one run of the wallet process: spawn it, wait for its `ready` line, send
// commands and await their replies, SIGKILL it. Every line the child writes goes to `onLine`.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildConfig } from './child.ts';
import { type Command, decodeLine, encodeLine, lineReader, type NodeView, type Report } from './protocol.ts';

const CHILD_SCRIPT = fileURLToPath(new URL('./child.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

let childArgs: string[] | undefined;

/**
 * How to start the child: a restart is dominated by loading it, so it is bundled once per test run
 * with esbuild into node_modules/.cache — plain JS, no transpiling per start (tsx costs ~0.5 s of CPU
 * a start before it transpiles anything); LDK and better-sqlite3 stay external and resolve from the
 * package. esbuild is tsx's own dependency, so it is found through tsx (pnpm links no esbuild into
 * this package). Without it, tsx.
 */
function childCommand(): string[] {
  if (childArgs) return childArgs;
  childArgs = ['--import', 'tsx', CHILD_SCRIPT];
  try {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx'));
    const esbuild = fromTsx('esbuild') as { buildSync(options: Record<string, unknown>): unknown };
    const cache = join(PACKAGE_DIR, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const outDir = mkdtempSync(join(cache, 'crash-child-'));
    process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
    const out = join(outDir, 'child.mjs');
    esbuild.buildSync({
      entryPoints: [CHILD_SCRIPT],
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['lightningdevkit', 'better-sqlite3'],
      logLevel: 'error',
      outfile: out,
      absWorkingDir: PACKAGE_DIR,
    });
    childArgs = [out];
  } catch (e) {
    console.warn(`crash child: not bundled (${String(e)}); starting it with tsx`);
  }
  return childArgs;
}

type Reply = Extract<Report, { t: 'reply' }>;
type Ready = Extract<Report, { t: 'ready' }>;
// a command as sent, before it gets its id
type Ask = Command extends infer C ? (C extends Command ? Omit<C, 'id'> : never) : never;

export class ChildExited extends Error {
  constructor(readonly run: number) {
    super(`wallet run #${run} exited`);
  }
}

export class ChildWallet {
  readonly ready: Promise<Ready>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private alive = true;

  constructor(
    readonly run: number,
    config: ChildConfig,
    onLine: (source: 'out' | 'err', text: string, report?: Report) => void,
  ) {
    this.proc = spawn(process.execPath, [...childCommand(), encodeLine(config).trim()], {
      cwd: PACKAGE_DIR,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let readyResolve!: (r: Ready) => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => {}); // a run killed before it is ready is normal; callers await it
    this.proc.stdout!.on(
      'data',
      lineReader((line) => {
        let report: Report;
        try {
          report = decodeLine<Report>(line);
        } catch {
          onLine('out', line);
          return;
        }
        onLine('out', line, report);
        if (report.t === 'ready') readyResolve(report);
        else if (report.t === 'fatal') readyReject(new Error(`wallet run #${run} failed: ${report.message}`));
        else if (report.t === 'reply') {
          const waiter = this.waiting.get(report.id);
          this.waiting.delete(report.id);
          waiter?.resolve(report);
        }
      }),
    );
    this.proc.stderr!.on(
      'data',
      lineReader((line) => onLine('err', line)),
    );
    // a killed child's stdin may be closed under a pending write
    this.proc.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.alive = false;
        readyReject(new ChildExited(run));
        for (const waiter of this.waiting.values()) waiter.reject(new ChildExited(run));
        this.waiting.clear();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Sends a command; resolves with its reply, rejects (ChildExited) if the process dies first. */
  ask(command: Ask): Promise<Reply> {
    if (!this.alive) return Promise.reject(new ChildExited(this.run));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.stdin!.write(encodeLine({ ...command, id }));
    }).then((reply) => {
      if (reply.error) throw new Error(`wallet run #${this.run}: ${command.op}: ${reply.error}`);
      return reply;
    });
  }

  async view(full: boolean): Promise<NodeView> {
    const reply = await this.ask({ op: 'state', full });
    return reply.view!;
  }

  /** SIGKILL: no shutdown hook, no last flush — the store has what was committed, nothing else. */
  async kill(): Promise<void> {
    if (this.alive) this.proc.kill('SIGKILL');
    await this.exited;
  }
}
