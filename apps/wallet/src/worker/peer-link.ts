// The peer link to the LSP: connect (a fresh session each time: the WebSocket is authorised by the
// session token), follow the node's peer events, reconnect with backoff, and note when the LSP was
// last seen (for the notice that suggests leaving).
import type { LspClient } from '@lpw/lsp-server/client';
import { type LightningNode, type SideFrames, startMark } from '@lpw/node';
import { set as idbSet } from 'idb-keyval';
import { describeError } from './errors.ts';
import { WalletCommandError } from './protocol.ts';
import type { Snapshot } from './snapshot.ts';

/** How often "the LSP answered" is written down while it does (for the notice that suggests leaving). */
const LSP_SEEN_EVERY_MS = 60_000;
export const RETRY_MS = [2_000, 5_000, 10_000, 30_000];

export const lspSeenKey = (walletId: string) => `lpw-lsp-seen-${walletId}`;

export interface LinkOptions {
  /** The backup's frames on the peer socket (a PeerBackupLink). */
  backup?: SideFrames;
  /** Awaited before each connect (BackedUpStore.beforePeerLink). */
  beforeConnect?: () => Promise<void>;
}

export class PeerLink {
  /** The node's link to the LSP is up (its handshake done). */
  connected = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private lspSeenWrittenMs = 0;
  /** The running node's link; `linked` counts its connects (the first reuses the start's login). */
  private link:
    | { node: LightningNode; lspNodeId: string; client: LspClient; linked: number; with: LinkOptions }
    | undefined;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly walletId: () => string | undefined,
  ) {}

  /** Follow this node's link to the LSP from now on, and connect it. */
  attach(node: LightningNode, lspNodeId: string, client: LspClient, options: LinkOptions = {}): void {
    this.link = { node, lspNodeId, client, linked: 0, with: options };
    this.attempt = 0;
    node.on('peer-connected', (e) => {
      if (e.peerId === lspNodeId && this.link?.node === node) this.state(true);
    });
    node.on('peer-disconnected', (e) => {
      if (e.peerId === lspNodeId && this.link?.node === node) this.state(false);
    });
    // the LSP's messages (its pings among them) say it is there
    node.on('changed', () => {
      if (this.connected && this.link?.node === node) this.seen();
    });
    this.connect(0);
  }

  /** The node stops (locked, fenced): no more reconnects. */
  detach(): void {
    this.link = undefined;
    clearTimeout(this.reconnectTimer);
  }

  /** Throws LSP_UNREACHABLE unless the link is up (what needs the LSP checks this first). */
  require(): void {
    if (!this.connected) {
      throw new WalletCommandError(
        'LSP_UNREACHABLE',
        this.snapshot.snap.lsp.problem ?? 'Not connected to your service provider right now.',
      );
    }
  }

  /** Try now instead of waiting for the next retry (the UI's "Try again"). */
  retry(): void {
    if (!this.connected) this.connect(0);
  }

  /** Notes that the LSP answered now (written down at most once a minute). */
  seen(): void {
    const now = Date.now();
    this.snapshot.snap.lsp.lastSeenMs = now;
    const walletId = this.walletId();
    if (!walletId || now - this.lspSeenWrittenMs < LSP_SEEN_EVERY_MS) return;
    this.lspSeenWrittenMs = now;
    void idbSet(lspSeenKey(walletId), now).catch(() => {});
  }

  private connect(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(async () => {
      const link = this.link;
      if (!link || link.node.isConnected(link.lspNodeId)) return;
      try {
        // a fresh session for each reconnect: the WebSocket is authorised by the session token (the
        // first link of a start uses the one the start just logged in with: two round trips less)
        if (link.linked++ > 0 || !link.client.token) await link.client.login(link.node);
        startMark('peer-login');
        await link.with.beforeConnect?.();
        await link.client.connect(link.node, { backup: link.with.backup });
        startMark('peer-linked');
        this.state(true);
      } catch (error) {
        this.state(
          false,
          `Your service provider can’t be reached (${describeError(error).code}); trying again.`,
        );
      }
    }, delayMs);
  }

  private state(connected: boolean, why?: string): void {
    const was = this.connected;
    this.connected = connected;
    const snap = this.snapshot.snap;
    snap.lsp = {
      ...snap.lsp,
      reachable: connected,
      problem: connected ? undefined : (why ?? 'Disconnected from your service provider; reconnecting…'),
    };
    if (!connected && this.link) this.connect(RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)]!);
    if (connected) {
      this.attempt = 0;
      this.seen();
    }
    if (was !== connected) this.snapshot.changed();
  }
}
