// A node Store whose commits resolve only once the LSP holds them: never behind what the wallet has
// revoked. The node acknowledges a monitor update to LDK only after its commit resolves, and LDK
// sends revoke_and_ack only after that, so a wallet that loses its device can always restore a
// state it has not revoked. Commits made while an upload is in flight ride the next upload (group
// commit). When the LSP does not answer within `timeoutMs`, the commit goes through anyway and the
// uploader's `behindBy` counts it; until an upload succeeds again, later commits do not wait (a
// wallet with its LSP down keeps working locally, and knows by how much its backup is behind).
// With the uploader's peer link, a commit is released once its upload is on the peer socket, ahead of
// the messages it releases (the LSP stores it before reading them); `beforePeerLink` keeps a new
// socket from carrying them again before a state whose socket closed unanswered is durable.
import type { Store, StoreWrite } from '@lpw/node';
import { payTrace } from './trace.ts';
import type { BackupUploader } from './uploader.ts';

export interface BackedUpStoreOptions {
  /** Wait for the LSP (true), or only mirror and upload in the background (false). */
  gate?: boolean;
  /** How long one commit waits for the LSP before it goes through behind. Default 30 s. */
  timeoutMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class BackedUpStore implements Store {
  /** Everything the inner store holds, kept current (the app reads it, e.g. for an exported file). */
  readonly data = new Map<string, Uint8Array>();
  /** The uploader's upload count when a commit last went through behind; undefined while the LSP answers. */
  private degradedAtUploads: number | undefined;
  private readonly gate: boolean;
  private readonly timeoutMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    private readonly inner: Store,
    readonly uploader: BackupUploader,
    options: BackedUpStoreOptions = {},
  ) {
    this.gate = options.gate ?? true;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  async load(): Promise<Map<string, Uint8Array>> {
    const loaded = await this.inner.load();
    for (const [key, value] of loaded) this.data.set(key, value);
    this.uploader.seed(loaded);
    return loaded;
  }

  async commit(writes: StoreWrite[]): Promise<void> {
    payTrace('commit:start');
    const local = (async () => this.inner.commit(writes))();
    // the upload is encoded while the device commits (IndexedDB takes milliseconds on a phone); it
    // leaves only once `local` holds: the LSP never has a state the device may lose
    const generation = this.uploader.record(writes, local);
    await local;
    payTrace('commit:local');
    for (const { key, value } of writes) {
      if (value === null) this.data.delete(key);
      else this.data.set(key, value);
    }
    if (generation === undefined || !this.gate) return;
    // an upload that succeeded since the timeout means the LSP answers again: wait for it again
    if (this.degradedAtUploads !== undefined && this.uploader.status.uploads > this.degradedAtUploads) {
      this.degradedAtUploads = undefined;
    }
    if (this.degradedAtUploads !== undefined) return;
    await this.waitFor(this.uploader.released(generation));
    payTrace('commit:backed-up');
  }

  /**
   * Awaited before each new peer connection to the LSP: LDK re-sends what a commit released once it
   * reconnects, so a state sent ahead on a socket that closed before the LSP answered must first be
   * durable (through the transport); the same timeout as a commit's applies.
   */
  async beforePeerLink(): Promise<void> {
    const ahead = this.uploader.unconfirmedAhead;
    if (ahead === undefined || !this.gate || this.degradedAtUploads !== undefined) return;
    await this.waitFor(this.uploader.durable(ahead));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private waitFor(backedUp: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      let settled = false;
      const timer = this.setTimer(() => {
        if (settled) return;
        settled = true;
        this.degradedAtUploads = this.uploader.status.uploads;
        resolve();
      }, this.timeoutMs);
      void backedUp.then(() => {
        if (settled) return;
        settled = true;
        this.clearTimer(timer);
        resolve();
      });
    });
  }
}
