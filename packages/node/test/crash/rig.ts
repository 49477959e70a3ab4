// The parent side of the crash test: a devnet with its Esplora server, the LSP node on its own
// SQLite file listening on TCP, the event log, and the wallet process it starts, drives and kills.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import { createNode } from '../../src/builder.ts';
import type { NodeEvent } from '../../src/events.ts';
import { initLdkNode } from '../../src/ldk/init-node.ts';
import type { LightningNode } from '../../src/node.ts';
import { SqliteStore } from '../../src/persist/sqlite.ts';
import { listenTcp, type TcpListener } from '../../src/transport/tcp.ts';
import type { ChildConfig } from './child.ts';
import { ChildWallet } from './child-process.ts';
import { big } from './ledger.ts';
import { FIXED_FEES, type NodeView, type Prng } from './protocol.ts';
import { nodeView } from './view.ts';

export interface ParentPayment {
  kind: 'bolt11' | 'keysend';
  amountMsat: bigint;
  run: number;
  outcome: 'pending' | 'sent' | 'failed';
  error?: string;
}

/** A timestamped log of everything both sides did, printed when a check fails. */
export class EventLog {
  readonly lines: string[] = [];
  private readonly t0 = Date.now();
  note(line: string): void {
    this.lines.push(`+${String(Date.now() - this.t0).padStart(7)}ms ${line}`);
  }
}

export class CrashRig {
  readonly lspEvents: NodeEvent[] = [];
  /** Payments the LSP started; `pending` = its promise has not settled (still in flight). */
  readonly parentPayments: ParentPayment[] = [];
  child: ChildWallet | undefined;
  childNodeId = '';
  runs = 0;
  private wakers: Array<() => void> = [];
  private trafficOn = false;
  private readonly events: AsyncIterableIterator<NodeEvent>;

  private constructor(
    readonly dir: string,
    readonly log: EventLog,
    readonly devnet: Devnet,
    readonly lsp: LightningNode,
    readonly listener: TcpListener,
    readonly walletConfig: Omit<ChildConfig, 'lspNodeId' | 'lspPort' | 'managerChunks'>,
  ) {
    this.events = lsp.events();
    void this.recordEvents();
  }

  static async start(seedName: string): Promise<CrashRig> {
    await initLdkNode();
    const dir = mkdtempSync(join(tmpdir(), 'lpw-crash-'));
    const log = new EventLog();
    const devnet = await startDevnet({ seed: seedName });
    const lsp = await createNode({
      seed: new Uint8Array(32).fill(0x51),
      network: 'regtest',
      role: 'lsp',
      store: new SqliteStore(join(dir, 'lsp.sqlite')),
      chain: { esploraUrl: devnet.esploraUrl },
      feeOverrides: FIXED_FEES,
      chainSyncIntervalMs: 0,
      logLevel: 'error',
      log: (e) => log.note(`lsp log-${e.level} ${e.module}:${e.line} ${e.message}`),
    });
    // coins for the channel's funding transaction, confirmed in the LSP's on-chain wallet
    devnet.fund(await lsp.newAddress(), 5_000_000n, { confirmations: 1 });
    await lsp.syncChain();
    const listener = await listenTcp(lsp);
    return new CrashRig(dir, log, devnet, lsp, listener, {
      dbPath: join(dir, 'wallet.sqlite'),
      esploraUrl: devnet.esploraUrl,
      seedHex: '52'.repeat(32),
      lspHost: '127.0.0.1',
      compactMonitorEvery: 10,
      chainSyncIntervalMs: 1_000,
    });
  }

  /** Every LSP event into the log (and the list the checks read). */
  private async recordEvents(): Promise<void> {
    for await (const event of this.events) {
      this.lspEvents.push(event);
      this.note(`lsp ${event.kind} ${JSON.stringify({ ...event, kind: undefined, cause: undefined }, big)}`);
      this.wake();
    }
  }

  note(line: string): void {
    this.log.note(line);
  }

  /** Resolves at the next LSP event or wallet line, or after `ms`, whichever is first. */
  nextSignal(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakers.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }

  /** Re-checks `cond` at each event (and at least every `pollMs`) until true; throws after `timeoutMs`. */
  async until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number, pollMs = 50) {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}`);
      await this.nextSignal(pollMs);
    }
  }

  /** Starts the wallet process (a new run on the same SQLite file). */
  spawnWallet(): ChildWallet {
    const run = ++this.runs;
    const config: ChildConfig = {
      ...this.walletConfig,
      lspNodeId: this.lsp.nodeId,
      lspPort: this.listener.port,
      // odd runs chunk the manager, even runs keep the plain key: every start after a kill migrates
      // the store one way or the other in its first snapshot's commit (persist/manager-chunks.ts)
      managerChunks: run % 2 === 1,
    };
    const child = new ChildWallet(run, config, (source, text, report) => {
      if (report?.t === 'reply' && report.view) this.note(`wallet#${run} reply ${report.id} (view)`);
      else this.note(`wallet#${run} ${source === 'err' ? 'stderr ' : ''}${text.slice(0, 2000)}`);
      this.wake();
    });
    this.note(`spawned wallet#${run} pid ${child.pid}`);
    this.child = child;
    return child;
  }

  lspView(full: boolean): NodeView {
    return nodeView(this.lsp, full);
  }

  /**
   * The LSP's share of the traffic: `workers` loops alternating BOLT 11 invoices (asked of the
   * wallet) and keysends, until `stopTraffic()`. Each payment's outcome is tracked.
   */
  startTraffic(child: ChildWallet, random: Prng, workers: number, maxMsat: bigint): void {
    this.trafficOn = true;
    const loop = async () => {
      while (this.trafficOn && child.isAlive) {
        const amountMsat = random.bigint(1_000n, maxMsat);
        const kind = random.next() < 0.5 ? 'bolt11' : 'keysend';
        const payment: ParentPayment = { kind, amountMsat, run: child.run, outcome: 'pending' };
        let sending: Promise<unknown>;
        try {
          if (kind === 'bolt11') {
            const { bolt11 } = await child.ask({ op: 'invoice', amountMsat });
            if (!this.trafficOn) return;
            sending = this.lsp.payInvoice(bolt11!, { timeoutMs: 300_000 });
          } else {
            sending = this.lsp.keysend(this.childNodeId, amountMsat, { timeoutMs: 300_000 });
          }
        } catch {
          return; // the wallet died while asked for an invoice
        }
        this.parentPayments.push(payment);
        try {
          await sending;
          payment.outcome = 'sent';
        } catch (error) {
          payment.outcome = 'failed';
          payment.error = error instanceof Error ? error.message : String(error);
          // refused before sending (no usable channel, limits): let the channel move first
          if (this.trafficOn) await this.nextSignal(20);
        }
      }
    };
    for (let i = 0; i < workers; i++) void loop();
  }

  stopTraffic(): void {
    this.trafficOn = false;
  }

  /** The full event log (also written to a file in the rig's directory, which is kept). */
  dumpLog(seed: number, tail = 400): string {
    const file = join(this.dir, `crash-${seed}.log`);
    writeFileSync(file, `${this.log.lines.join('\n')}\n`);
    const lines = this.log.lines.slice(-tail);
    return `--- last ${lines.length} of ${this.log.lines.length} log lines (full log: ${file}) ---\n${lines.join('\n')}`;
  }

  /** Stops everything; the directory (SQLite files, log) is removed unless `keep`. */
  async stop(keep: boolean): Promise<void> {
    this.stopTraffic();
    await this.child?.kill();
    void this.events.return?.();
    await this.lsp.stop();
    await this.listener.close();
    await this.devnet.stop();
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
