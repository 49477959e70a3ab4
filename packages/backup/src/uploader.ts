// Keeps the LSP's copy of the channel state current. It mirrors the backed-up keys of every commit
// (`record`), uploads the newest state as one signed blob (commits that arrive during an upload ride
// the next one), and lets a caller wait until a given commit is durable at the LSP (`durable`).
// Writes are compare-and-swap on the LSP's version and carry the device's fencing lease; failures
// retry with capped exponential backoff and jitter. With a peer link, an upload rides the peer socket
// ahead of the messages its commit releases, and the commit is released once it is on the socket
// (`released`); without one, or while its socket is down, uploads use the transport.
import type { StoreWrite } from '@lpw/node';
import { encodeBackup } from './codec.ts';
import { isBackedUpKey } from './content.ts';
import { BackupError } from './errors.ts';
import type { BackupKeys } from './keys.ts';
import type { PeerBackupLink } from './peer-link.ts';
import { payTrace } from './trace.ts';

export interface LeaseGrant {
  fencingToken: number;
  deviceId: string;
  expiresAtMs: number;
}

/**
 * How the uploader reaches the LSP. Every failure is a BackupError: LEASE_HELD (with `deviceId` and
 * `expiresAtMs` of the holder in details), LEASE_FENCED, VERSION_CONFLICT (with `currentVersion`),
 * BACKUP_TOO_LARGE (with `sizeBytes`, `limitBytes`), anything else BACKUP_UNAVAILABLE.
 */
export interface BackupTransport {
  /** `takeOver: false` refuses with LEASE_HELD while another device holds an unexpired lease. */
  acquireLease(request: { deviceId: string; ttlSec: number; takeOver: boolean }): Promise<LeaseGrant>;
  releaseLease(fencingToken: number): Promise<void>;
  /** The version the LSP holds under `key`, 0 when it holds none. */
  currentVersion(key: string): Promise<number>;
  put(
    key: string,
    blob: Uint8Array,
    request: { expectedVersion: number; leaseToken: number },
  ): Promise<{ version: number }>;
  get(key: string): Promise<{ blob: Uint8Array; version: number } | undefined>;
}

export interface UploaderStatus {
  /** The version the LSP holds as far as we know (0: none). */
  version: number;
  /** When the last backup became durable at the LSP (ms), if ever in this run. */
  lastGoodAt: number | undefined;
  /** Channel-state commits not yet durable at the LSP. */
  behindBy: number;
  /** The last failure, cleared by the next success (BACKUP_TOO_LARGE carries size and limit). */
  problem: BackupError | undefined;
  /** Another device took the wallet's lease: this one must stop writing (and stop its node). */
  fenced: boolean;
  uploads: number;
  lastBlobBytes: number | undefined;
}

export interface UploaderOptions {
  transport: BackupTransport;
  nodeId: string;
  keys: BackupKeys;
  deviceId: string;
  /** true: take the lease from another device (a new phone wins); false: refuse with LEASE_HELD. */
  takeOver: boolean;
  /** The LSP's key for this wallet's blob. */
  key?: string;
  /**
   * The peer socket to the LSP, used for puts while it is open. Only for a wallet whose every
   * channel is with this LSP: the LSP holding the backup's later frames gates no other peer.
   */
  peerLink?: PeerBackupLink;
  leaseTtlSec?: number;
  /** Checked before sending; the LSP enforces its own. */
  maxBlobBytes?: number;
  backoff?: { baseMs: number; capMs: number };
  /**
   * Before each put, with the exact blob about to be sent: a device that stops between the LSP
   * storing it and `onDurable` can then recognise the LSP's copy as its own upload, not another
   * device's. Called as soon as the blob is encoded, while the device may still be committing the
   * state; the put waits for both. Awaited; an error is reported and the put goes ahead.
   */
  onUploading?: (blob: Uint8Array, version: number) => void | Promise<void>;
  /** After each durable upload, e.g. to keep the device's own copy. Errors are reported, not fatal. */
  onDurable?: (blob: Uint8Array, version: number) => void | Promise<void>;
  onStatus?: (status: UploaderStatus) => void;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_BACKUP_KEY = 'channel-state';
const DEFAULT_LEASE_TTL_SEC = 600;

/** Capped exponential backoff with jitter: a random delay in [½, 1] × min(cap, base × 2^attempt). */
export function backoffDelayMs(attempt: number, base: number, cap: number, random: () => number): number {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export class BackupUploader {
  readonly status: UploaderStatus = {
    version: 0,
    lastGoodAt: undefined,
    behindBy: 0,
    problem: undefined,
    fenced: false,
    uploads: 0,
    lastBlobBytes: undefined,
  };
  private readonly channelState = new Map<string, Uint8Array>();
  private generation = 0;
  private durableGeneration = 0;
  private floorVersion = 0;
  private lease: LeaseGrant | undefined;
  private loop: Promise<void> | undefined;
  /** `ahead`: also released by the state's upload going out on the peer socket (see `released`). */
  private waiters: Array<{ generation: number; ahead: boolean; resolve: () => void }> = [];
  /** The newest generation whose upload went out on the peer socket (durable or not). */
  private aheadGeneration = 0;
  /** The device's last recorded commit, which every upload of the mirror waits for (see `record`). */
  private localCommit: Promise<unknown> = Promise.resolve();
  private failureWaiters: Array<() => void> = [];
  private closed = false;
  /** A put failed without an answer: it may have landed, so one version conflict is expected. */
  private putOutcomeUnknown = false;
  private readonly o: Required<
    Omit<UploaderOptions, 'onUploading' | 'onDurable' | 'onStatus' | 'maxBlobBytes' | 'peerLink'>
  > &
    Pick<UploaderOptions, 'onUploading' | 'onDurable' | 'onStatus' | 'maxBlobBytes' | 'peerLink'>;

  constructor(options: UploaderOptions) {
    this.o = {
      key: DEFAULT_BACKUP_KEY,
      leaseTtlSec: DEFAULT_LEASE_TTL_SEC,
      backoff: { baseMs: 500, capMs: 60_000 },
      now: () => Date.now(),
      random: Math.random,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...options,
    };
  }

  get key(): string {
    return this.o.key;
  }

  /** The store's whole contents (as loaded): replaces the mirror; only backed-up keys are kept. */
  seed(entries: ReadonlyMap<string, Uint8Array>): void {
    this.channelState.clear();
    for (const [key, value] of entries) if (isBackedUpKey(key)) this.channelState.set(key, value);
  }

  /**
   * Versions only grow, across every copy: after a restore from (or a check against) a copy newer
   * than the LSP's, uploads continue above it.
   */
  raiseFloor(version: number): void {
    if (version > this.floorVersion) this.floorVersion = version;
  }

  /** Takes the lease and learns the LSP's version. Throws LEASE_HELD in no-takeover mode. */
  async start(): Promise<void> {
    await this.acquire(this.o.takeOver);
    this.status.version = await this.o.transport.currentVersion(this.o.key);
    this.emit();
  }

  /**
   * Applies a local commit to the mirror. Returns the commit's generation when it touched channel
   * state (and starts an upload), undefined otherwise. `local` is the device's commit of `writes`
   * when it is still under way: the upload may be encoded meanwhile, but is sent only once `local`
   * resolves (a failed one sends nothing: the node retries the same writes, recorded again).
   * A failed commit's writes stay in the mirror: the node's commit queue retries them in its next
   * commit, and an upload waits for that one.
   */
  record(writes: readonly StoreWrite[], local?: Promise<unknown>): number | undefined {
    if (local) {
      local.catch(() => {}); // the caller hears the failure; an upload waiting on it is refused
      // settled earlier commits too, should a caller not wait for one before the next
      this.localCommit = this.localCommit.then(
        () => local,
        () => local,
      );
    }
    let touched = false;
    for (const { key, value } of writes) {
      if (!isBackedUpKey(key)) continue;
      touched = true;
      if (value === null) this.channelState.delete(key);
      else this.channelState.set(key, value);
    }
    if (!touched) return undefined;
    this.generation++;
    this.status.behindBy = this.generation - this.durableGeneration;
    this.kick();
    return this.generation;
  }

  /** Uploads the current state although no commit changed it (a first backup; the LSP lost its copy). */
  markDirty(): void {
    this.generation++;
    this.status.behindBy = this.generation - this.durableGeneration;
    this.kick();
  }

  /** Resolves once the commit of `generation` (and all before it) is durable at the LSP, or we are fenced/closed. */
  durable(generation: number): Promise<void> {
    if (generation <= this.durableGeneration || this.status.fenced || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ generation, ahead: false, resolve }));
  }

  /**
   * Resolves once LDK may send what the commit of `generation` releases: the state is durable at the
   * LSP, or its upload is on the peer socket ahead of those messages (the LSP stores it before it
   * reads them, and reads none of them if it cannot).
   */
  released(generation: number): Promise<void> {
    if (generation <= this.aheadGeneration) return Promise.resolve();
    if (generation <= this.durableGeneration || this.status.fenced || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ generation, ahead: true, resolve }));
  }

  /**
   * The newest generation that went out on a peer socket and is not yet durable, if any. Its socket
   * may have closed before the LSP answered; LDK re-sends on reconnect what that commit released, so
   * a new peer link must wait until it is durable (BackedUpStore.beforePeerLink).
   */
  get unconfirmedAhead(): number | undefined {
    return this.aheadGeneration > this.durableGeneration ? this.aheadGeneration : undefined;
  }

  /** Uploads now if anything is not yet durable, and waits until it is or one attempt has failed. */
  async flush(): Promise<void> {
    if (this.durableGeneration >= this.generation || this.status.fenced || this.closed) return;
    const failed = new Promise<void>((resolve) => this.failureWaiters.push(resolve));
    this.kick();
    await Promise.race([this.durable(this.generation), failed]);
  }

  /** The LSP's copy of this wallet, if any (undecoded: the caller checks it with chooseNewest). */
  fetch(): Promise<{ blob: Uint8Array; version: number } | undefined> {
    return this.o.transport.get(this.o.key);
  }

  /** Stops uploading and gives the lease back (after a last upload when `flush`). */
  async close(options: { flush?: boolean } = {}): Promise<void> {
    if (options.flush && !this.status.fenced) await this.flush().catch(() => {});
    this.closed = true;
    this.releaseWaiters(Number.POSITIVE_INFINITY);
    // an upload in flight or a backoff sleep ends on its own: the loop checks `closed`
    if (this.lease && !this.status.fenced) {
      const token = this.lease.fencingToken;
      this.lease = undefined;
      await this.o.transport.releaseLease(token).catch(() => {});
    }
  }

  private kick(): void {
    if (this.closed || this.status.fenced) return;
    this.loop ??= this.drain().finally(() => {
      this.loop = undefined;
      // a commit recorded between the last check and the end of drain() starts a new round
      if (this.durableGeneration < this.generation && !this.closed && !this.status.fenced) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    while (this.durableGeneration < this.generation && !this.closed && !this.status.fenced) {
      try {
        await this.uploadOnce();
        attempt = 0;
      } catch (error) {
        const problem =
          error instanceof BackupError
            ? error
            : new BackupError(
                'BACKUP_UNAVAILABLE',
                `backup upload failed: ${String(error)}`,
                {},
                { cause: error },
              );
        this.status.problem = problem;
        for (const notify of this.failureWaiters.splice(0)) notify();
        if (problem.code === 'LEASE_HELD' || problem.code === 'LEASE_FENCED') {
          this.status.fenced = true;
          this.releaseWaiters(Number.POSITIVE_INFINITY);
          this.emit();
          return;
        }
        this.emit();
        // a lost compare-and-swap is repaired at once (the LSP told us its version); the rest waits
        if (problem.code !== 'VERSION_CONFLICT' || attempt > 0) {
          await this.o.sleep(
            backoffDelayMs(attempt, this.o.backoff.baseMs, this.o.backoff.capMs, this.o.random),
          );
        }
        attempt++;
      }
    }
  }

  private async uploadOnce(): Promise<void> {
    const { transport, key, now } = this.o;
    if (!this.lease || now() > this.lease.expiresAtMs - (this.o.leaseTtlSec * 1000) / 2) {
      // renewing never takes over: if another device holds the wallet now, this one is fenced
      await this.acquire(this.lease ? false : this.o.takeOver);
    }
    const generation = this.generation;
    const local = this.localCommit;
    const version = Math.max(this.status.version, this.floorVersion) + 1;
    payTrace('backup:encode');
    // the mirror is read synchronously here: the blob holds exactly the state of `generation`
    const blob = await encodeBackup(
      { nodeId: this.o.nodeId, version, createdAtMs: now(), entries: this.channelState },
      this.o.keys,
    );
    payTrace('backup:encoded');
    if (this.o.maxBlobBytes !== undefined && blob.length > this.o.maxBlobBytes) {
      throw tooLarge(blob.length, this.o.maxBlobBytes);
    }
    // the pending copy is written while the device's commit is still under way (they do not depend
    // on each other); the put waits for both. A pending copy whose state the device then fails to
    // store is never sent, so it can match no copy the LSP holds.
    const pending = this.writePending(blob, version);
    try {
      await local;
    } catch (cause) {
      await pending;
      throw new BackupError(
        'BACKUP_UNAVAILABLE',
        'the device did not store this state, so it is not uploaded',
        {},
        { cause },
      );
    }
    await pending;
    payTrace('backup:put');
    const request = { expectedVersion: this.status.version, leaseToken: this.lease!.fencingToken };
    const onSocket = this.o.peerLink?.put(key, blob, request);
    if (onSocket) {
      this.aheadGeneration = Math.max(this.aheadGeneration, generation);
      payTrace('backup:ahead');
      this.releaseWaiters(generation, true);
    }
    try {
      const put = await (onSocket ?? transport.put(key, blob, request));
      this.status.version = put.version;
    } catch (error) {
      throw await this.afterFailedPut(error);
    }
    this.putOutcomeUnknown = false;
    this.floorVersion = Math.max(this.floorVersion, this.status.version);
    this.durableGeneration = Math.max(this.durableGeneration, generation);
    this.status.behindBy = this.generation - this.durableGeneration;
    this.status.lastGoodAt = now();
    this.status.problem = undefined;
    this.status.uploads++;
    this.status.lastBlobBytes = blob.length;
    payTrace('backup:durable');
    this.releaseWaiters(generation);
    try {
      await this.o.onDurable?.(blob, this.status.version);
    } catch (error) {
      this.status.problem = new BackupError(
        'BACKUP_UNAVAILABLE',
        `device copy not written: ${String(error)}`,
        {},
        { cause: error },
      );
    }
    payTrace('backup:device-copy');
    this.emit();
  }

  /** `onUploading`, awaited; a failure is reported and the put goes ahead (as documented there). */
  private async writePending(blob: Uint8Array, version: number): Promise<void> {
    try {
      await this.o.onUploading?.(blob, version);
      payTrace('backup:pending');
    } catch (error) {
      this.status.problem = new BackupError(
        'BACKUP_UNAVAILABLE',
        `pending copy not written: ${String(error)}`,
        {},
        { cause: error },
      );
    }
  }

  /** Learns what a refused put says about the LSP's state; returns the error to report. */
  private async afterFailedPut(error: unknown): Promise<unknown> {
    const { transport, key } = this.o;
    if (!(error instanceof BackupError)) {
      this.putOutcomeUnknown = true;
      return error;
    }
    if (error.code === 'VERSION_CONFLICT') {
      const reported = error.details.currentVersion;
      const current = typeof reported === 'number' ? reported : await transport.currentVersion(key);
      // a higher version we did not write (no put of ours has an unknown outcome) means another
      // writer: two devices running one wallet. Stop rather than overwrite its state with ours.
      if (current > this.status.version && !this.putOutcomeUnknown) {
        return new BackupError(
          'LEASE_FENCED',
          `another device wrote this wallet's backup (version ${current}); this one stopped`,
          { currentVersion: current },
        );
      }
      this.putOutcomeUnknown = false;
      this.status.version = current;
      return error;
    }
    if (error.code === 'LEASE_FENCED') {
      // our lease lapsed (a phone asleep): take it again, unless another device holds it now
      this.lease = undefined;
      await this.acquire(false);
      return new BackupError('BACKUP_UNAVAILABLE', 'the backup lease had lapsed; taken again, retrying');
    }
    if (error.code === 'BACKUP_UNAVAILABLE') this.putOutcomeUnknown = true;
    return error;
  }

  private async acquire(takeOver: boolean): Promise<void> {
    this.lease = await this.o.transport.acquireLease({
      deviceId: this.o.deviceId,
      ttlSec: this.o.leaseTtlSec,
      takeOver,
    });
  }

  /** `aheadOnly`: resolves only the waiters that the upload going out on the peer socket releases. */
  private releaseWaiters(upTo: number, aheadOnly = false): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.generation <= upTo && (w.ahead || !aheadOnly)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private emit(): void {
    this.o.onStatus?.({ ...this.status });
  }
}

export function tooLarge(sizeBytes: number, limitBytes: number): BackupError {
  return new BackupError(
    'BACKUP_TOO_LARGE',
    `The channel backup is ${Math.ceil(sizeBytes / 1024)} KB; the LSP takes at most ${Math.floor(limitBytes / 1024)} KB.`,
    { sizeBytes, limitBytes },
  );
}
