// Payment streams on this wallet: the ledger in its own database (its per-period writes stay out
// of channel-state backups), the engine on the running node, and the views the snapshot shows.
import type { LightningNode } from '@lpw/node';
import { IndexedDbStore } from '@lpw/node/indexeddb';
import {
  checkStreamRequest,
  inFlightMsat,
  type LnurlAccess,
  parseRecipient,
  StoreStreamLedger,
  StreamEngine,
} from '@lpw/stream';
import { directFirstFetch } from '../lib/web-fetch.ts';
import { describeError } from './errors.ts';
import { LNURL_STREAM_PERIOD_MS, type StreamStart, type StreamView, WalletCommandError } from './protocol.ts';
import type { Session } from './session.ts';

/** The stream ledger has its own database: its per-period writes stay out of channel-state backups. */
export const streamsDbName = (walletId: string) => `lpw-streams-${walletId}`;

export class Streams {
  private db: IndexedDbStore | undefined;
  private ledger: StoreStreamLedger | undefined;
  private engine: StreamEngine | undefined;

  /**
   * Lightning Address recipients of streams: asked directly, through the LSP's relay when the worker
   * cannot (web-fetch.ts); one period per 10 s at most, what the relay's rate allows.
   */
  private readonly lnurlAccess: LnurlAccess;

  constructor(
    private readonly session: Session,
    relay: Parameters<typeof directFirstFetch>[0],
  ) {
    this.lnurlAccess = { fetch: directFirstFetch(relay, undefined), minPeriodMs: LNURL_STREAM_PERIOD_MS };
  }

  /** The ledger, before any node: the streams show at once. */
  async open(walletId: string): Promise<void> {
    this.db = await IndexedDbStore.open(streamsDbName(walletId));
    this.ledger = await StoreStreamLedger.open(this.db);
  }

  /** The stream engine on this node: outcomes from its events (also those replayed after a reload). */
  start(node: LightningNode, streamKey: Uint8Array): void {
    const session = this.session;
    const engine = new StreamEngine({
      ledger: this.ledger!,
      node,
      findRoute: async (payee, maxAmountMsat, finalCltv) => ({
        ...(await session.client().route(payee, maxAmountMsat, finalCltv)),
        maxAmountMsat,
      }),
      streamKey,
      lnurl: this.lnurlAccess,
      // nothing is reserved while the LSP link or the channel is down (a reload, a tunnel, a lock)
      canSend: () => session.peer.connected && node.listChannels().some((c) => c.isUsable),
      log: (message) => session.log('warn', message),
      onProgress: () => session.snapshot.changed(),
    });
    engine.listen();
    this.engine = engine;
  }

  /**
   * After a start: periods a reload left reserved are resolved against LDK, then each stream
   * continues or stops as it was set. A continued one sends nothing until the LSP link and a
   * channel are up (`canSend`), and the time it waited is not billed.
   */
  async resume(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    const changed = () => this.session.snapshot.changed();
    try {
      await new Promise((r) => setTimeout(r, 50)); // outcomes LDK replays come first
      await engine.reconcile();
      for (const handle of await engine.resumeAll()) void handle.done.then(changed);
      changed();
    } catch (error) {
      this.session.log('error', `resuming streams failed: ${describeError(error).message}`);
    }
  }

  /** Starts a stream; bad input is refused in words before anything is stored. Returns its id. */
  async startStream(request: StreamStart): Promise<string> {
    checkStreamRequest(request, Date.now(), this.lnurlAccess);
    const node = this.session.node();
    this.session.peer.require();
    const recipient = parseRecipient(request.to, Math.floor(Date.now() / 1000));
    if (recipient.kind === 'node' && recipient.nodeId === node.nodeId)
      throw new WalletCommandError('INVALID_NODE_ID', 'That is this wallet’s own node id.');
    const handle = await this.engine!.start(request);
    void handle.done.then(
      () => this.session.snapshot.changed(),
      (error: unknown) => this.session.log('error', `stream ${handle.id}: ${describeError(error).message}`),
    );
    this.session.snapshot.changed();
    return handle.id;
  }

  async control(id: string, action: 'pause' | 'resume' | 'stop'): Promise<void> {
    const ledger = this.ledger;
    if (!ledger) throw new WalletCommandError('NODE_NOT_RUNNING', 'Your wallet is still starting.');
    const record = ledger.get(id);
    const runner = this.engine?.running(id);
    if (runner) {
      if (action === 'pause') await runner.pause();
      else if (action === 'resume') await runner.resume();
      else runner.stop('stopped by you');
    } else if (action === 'stop' && (record.state === 'running' || record.state === 'paused')) {
      // waiting for the connection: nothing is being sent, so it ends here
      await ledger.setState(id, 'stopped', 'stopped by you');
    } else {
      throw new WalletCommandError(
        'STREAM_NOT_RUNNING',
        record.state === 'running' || record.state === 'paused'
          ? 'This stream continues once your wallet is connected; you can stop it now.'
          : `This stream has ${record.state === 'finished' ? 'finished' : 'ended'}.`,
      );
    }
    this.session.snapshot.changed();
  }

  /** Streams halt (the next unlock resumes them) when the node stops: locked or fenced. */
  halt(reason: string): Promise<void> {
    return this.engine?.close(reason, 'halt') ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.db?.close();
  }

  views(): StreamView[] {
    const ledger = this.ledger;
    if (!ledger) return [];
    const open = ledger.openPeriods();
    return ledger
      .list()
      .reverse()
      .map((s) => ({
        id: s.id,
        payee: s.payee,
        satsPerMinute: s.satsPerMinute,
        periodMs: s.periodMs,
        budgetMsat: s.budgetMsat,
        startMs: s.startMs,
        endMs: s.endMs,
        onRestart: s.onRestart,
        state: s.state,
        stopReason: s.stopReason,
        paidCount: s.paidCount,
        paidMsat: s.paidMsat,
        feeMsat: s.feeMsat,
        inFlightMsat: inFlightMsat(open.filter((p) => p.streamId === s.id)),
        failedAttempts: s.failedAttempts,
        lastPaidMs: s.lastPaidMs,
        createdMs: s.createdMs,
      }));
  }
}
