// The uploader's own rules, with an in-memory LSP that can be made to fail (the real LSP is
// exercised in lsp-server/test/backup-v2.test.ts): group commit, the time bound and behindBy,
// backoff, the size limit, fencing, and versions that keep growing after a rollback.
import { MemoryStore, type Store } from '@lpw/node';
import { describe, expect, it, vi } from 'vitest';
import { BackedUpStore } from './backed-up-store.ts';
import { readBackupHeader } from './codec.ts';
import { BackupError } from './errors.ts';
import { deriveBackupKeys } from './keys.ts';
import { type BackupTransport, BackupUploader, backoffDelayMs, type UploaderOptions } from './uploader.ts';

const keys = deriveBackupKeys(new Uint8Array(64).fill(5));
const NODE = `03${'44'.repeat(32)}`;

/** A faithful little LSP: CAS on the version, growing header versions, one lease holder. */
class LittleLsp implements BackupTransport {
  version = 0;
  blob: Uint8Array | undefined;
  token = 0;
  holder = '';
  puts = 0;
  failNext = 0;
  /** Resolves held puts when set. */
  hold: Promise<void> | undefined;
  async acquireLease(r: { deviceId: string; takeOver: boolean }) {
    if (!r.takeOver && this.holder && this.holder !== r.deviceId) {
      throw new BackupError('LEASE_HELD', 'held', { deviceId: this.holder });
    }
    this.holder = r.deviceId;
    return { fencingToken: ++this.token, deviceId: r.deviceId, expiresAtMs: Date.now() + 600_000 };
  }
  async releaseLease() {}
  async currentVersion() {
    return this.version;
  }
  async put(_key: string, blob: Uint8Array, r: { expectedVersion: number; leaseToken: number }) {
    await this.hold;
    if (this.failNext > 0) {
      this.failNext--;
      throw new BackupError('BACKUP_UNAVAILABLE', 'down');
    }
    if (r.leaseToken !== this.token) throw new BackupError('LEASE_FENCED', 'fenced');
    if (r.expectedVersion !== this.version) {
      throw new BackupError('VERSION_CONFLICT', 'conflict', { currentVersion: this.version });
    }
    const v = readBackupHeader(blob).version;
    if (v <= this.version) throw new BackupError('INVALID_INPUT', 'not growing');
    this.version = v;
    this.blob = blob;
    this.puts++;
    return { version: v };
  }
  async get() {
    return this.blob && { blob: this.blob, version: this.version };
  }
}

function setup(lsp: LittleLsp, options: Partial<UploaderOptions> = {}, timeoutMs = 30_000) {
  const sleeps: number[] = [];
  const uploader = new BackupUploader({
    transport: lsp,
    nodeId: NODE,
    keys,
    deviceId: 'device-one',
    takeOver: true,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  const store = new BackedUpStore(new MemoryStore(), uploader, { timeoutMs });
  return { uploader, store, sleeps };
}
const manager = (n: number) => [{ key: 'ldk/manager', value: Uint8Array.of(n) }];

describe('BackupUploader', () => {
  it('commits that arrive during an upload ride the next one', async () => {
    const lsp = new LittleLsp();
    const { uploader, store } = setup(lsp);
    await uploader.start();
    let release!: () => void;
    lsp.hold = new Promise((r) => {
      release = r;
    });
    const first = store.commit(manager(1));
    await new Promise((r) => setTimeout(r, 20)); // first upload in flight
    const rest = [store.commit(manager(2)), store.commit(manager(3)), store.commit(manager(4))];
    await new Promise((r) => setTimeout(r, 0)); // their local commits are done
    expect(uploader.status.behindBy).toBe(4);
    lsp.hold = undefined;
    release();
    await Promise.all([first, ...rest]);
    expect(lsp.puts).toBe(2);
    expect(uploader.status).toMatchObject({ behindBy: 0, version: 2, uploads: 2 });
  });

  it('uploads a state only once the device holds it, though it encodes it meanwhile', async () => {
    const lsp = new LittleLsp();
    /** A device store whose commits finish (or fail) when the test says. */
    const device = new MemoryStore();
    let finish!: (ok: boolean) => void;
    const held: Store = {
      load: () => device.load(),
      close: () => device.close(),
      commit: (writes) =>
        new Promise<void>((resolve, reject) => {
          finish = (ok) => (ok ? resolve(device.commit(writes)) : reject(new Error('disk full')));
        }),
    };
    const uploader = new BackupUploader({
      transport: lsp,
      nodeId: NODE,
      keys,
      deviceId: 'device-one',
      takeOver: true,
      random: () => 0.5,
      sleep: async () => {},
    });
    const store = new BackedUpStore(held, uploader);
    await uploader.start();
    const settle = () => new Promise((r) => setTimeout(r, 50));

    // the device fails to store the state: it never reaches the LSP
    const failing = store.commit(manager(1));
    await settle();
    expect(lsp.puts).toBe(0);
    finish(false);
    await expect(failing).rejects.toThrow('disk full');
    await settle();
    expect(lsp.puts).toBe(0);

    // the node retries the same writes: once the device holds them, the LSP gets them
    const retried = store.commit(manager(1));
    await settle();
    expect(lsp.puts).toBe(0);
    finish(true);
    await retried;
    expect(lsp.puts).toBe(1);
    expect(device.data.get('ldk/manager')).toEqual(Uint8Array.of(1));
    expect(uploader.status).toMatchObject({ behindBy: 0, version: 1 });
  });

  it('never lets the LSP hold a state before the device holds its pending copy, written beside the commit', async () => {
    const lsp = new LittleLsp();
    const device = new MemoryStore();
    let finishCommit!: () => void;
    const held: Store = {
      load: () => device.load(),
      close: () => device.close(),
      commit: (writes) =>
        new Promise<void>((resolve) => {
          finishCommit = () => resolve(device.commit(writes));
        }),
    };
    /** The device's pending copy: a blob counts once its write has finished. */
    let pendingCopy: Uint8Array | undefined;
    let finishPending!: () => void;
    const uploader = new BackupUploader({
      transport: lsp,
      nodeId: NODE,
      keys,
      deviceId: 'device-one',
      takeOver: true,
      sleep: async () => {},
      onUploading: (blob) =>
        new Promise<void>((resolve) => {
          finishPending = () => {
            pendingCopy = blob;
            resolve();
          };
        }),
    });
    const store = new BackedUpStore(held, uploader);
    await uploader.start();
    const settle = () => new Promise((r) => setTimeout(r, 50));

    const committed = store.commit(manager(1));
    await settle();
    // the pending copy is under way while the device still commits (one wait, not two in a row)
    expect(finishPending).toBeTypeOf('function');
    finishCommit();
    await settle();
    expect(lsp.puts).toBe(0); // the device holds the state, but not yet its pending copy
    finishPending();
    await committed;
    // what a reload compares: the LSP's newer copy is exactly the device's pending one
    expect(lsp.version).toBe(1);
    expect(pendingCopy).toEqual(lsp.blob);
  });

  it('lets a commit through after the bound, counts behindBy, and catches up with backoff', async () => {
    const lsp = new LittleLsp();
    let wake!: () => void;
    const { uploader, store, sleeps } = setup(
      lsp,
      {
        sleep: (ms) =>
          new Promise((r) => {
            sleeps.push(ms);
            wake = () => r(undefined);
          }),
      },
      1_000,
    );
    await uploader.start();
    lsp.failNext = 1;
    await store.commit(manager(1)); // the LSP fails: through after the 1 s bound
    expect(uploader.status.behindBy).toBe(1);
    expect(uploader.status.problem?.code).toBe('BACKUP_UNAVAILABLE');
    const started = Date.now();
    await store.commit(manager(2)); // known down: no second wait
    expect(Date.now() - started).toBeLessThan(500);
    expect(uploader.status.behindBy).toBe(2);
    expect(sleeps).toEqual([375]); // 500 × [½, 1] jitter at random 0.5
    wake();
    await uploader.flush();
    expect(uploader.status).toMatchObject({ behindBy: 0, problem: undefined, version: 1 });
    expect(lsp.blob && readBackupHeader(lsp.blob).version).toBe(1);
  });

  it('backoff doubles, is capped, and jitters within [½, 1]', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, 500, 60_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelayMs(20, 500, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelayMs(20, 500, 60_000, () => 0)).toBe(30_000);
  });

  it('refuses a blob over the limit with BACKUP_TOO_LARGE carrying size and limit', async () => {
    const lsp = new LittleLsp();
    const { uploader, store } = setup(
      lsp,
      { maxBlobBytes: 300, sleep: () => new Promise((r) => setTimeout(r, 10)) },
      20,
    );
    await uploader.start();
    await store.commit([{ key: 'ldk/monitor/aa:0', value: crypto.getRandomValues(new Uint8Array(1000)) }]);
    await vi.waitFor(() => expect(uploader.status.problem).toBeDefined());
    const problem = uploader.status.problem;
    expect(problem?.code).toBe('BACKUP_TOO_LARGE');
    expect(problem?.details).toMatchObject({ limitBytes: 300 });
    expect(problem?.details.sizeBytes).toBeGreaterThan(1000);
    expect(lsp.puts).toBe(0);
    await uploader.close();
  });

  it('stops for good when another device holds the wallet, releasing every waiting commit', async () => {
    const lsp = new LittleLsp();
    const { uploader, store } = setup(lsp, { takeOver: false, leaseTtlSec: 0 });
    await uploader.start();
    lsp.holder = 'device-two'; // another device took the wallet
    lsp.token++;
    await store.commit(manager(1));
    expect(uploader.status).toMatchObject({ fenced: true, behindBy: 1 });
    expect(uploader.status.problem?.code).toBe('LEASE_HELD');
  });

  it('a version it did not write means a second writer: it stops instead of overwriting', async () => {
    const lsp = new LittleLsp();
    const { uploader, store } = setup(lsp);
    await uploader.start();
    await store.commit(manager(1));
    lsp.version = 7; // someone else wrote 2..7 under our lease
    await store.commit(manager(2));
    expect(uploader.status.fenced).toBe(true);
    expect(lsp.version).toBe(7);
  });

  it('continues above the highest copy known after the LSP rolled back', async () => {
    const lsp = new LittleLsp();
    lsp.version = 3;
    const { uploader, store } = setup(lsp);
    await uploader.start();
    uploader.raiseFloor(10); // the device holds version 10
    await store.commit(manager(1));
    expect(uploader.status.version).toBe(11);
    expect(lsp.blob && readBackupHeader(lsp.blob).version).toBe(11);
  });

  it('keeps a copy on the device with each durable backup', async () => {
    const lsp = new LittleLsp();
    const copies: number[] = [];
    const { uploader, store } = setup(lsp, {
      onDurable: (blob) => void copies.push(readBackupHeader(blob).version),
    });
    await uploader.start();
    await store.commit(manager(1));
    await store.commit(manager(2));
    expect(copies).toEqual([1, 2]);
  });

  it('hands over each blob before the LSP has it, byte for byte what the LSP then stores', async () => {
    const lsp = new LittleLsp();
    const pending: { blob: Uint8Array; lspVersionThen: number }[] = [];
    const { uploader, store } = setup(lsp, {
      onUploading: (blob) => void pending.push({ blob, lspVersionThen: lsp.version }),
    });
    await uploader.start();
    await store.commit(manager(1));
    await store.commit(manager(2));
    expect(pending.map((p) => p.lspVersionThen)).toEqual([0, 1]); // before each put
    expect(pending.at(-1)!.blob).toEqual(lsp.blob); // what a device compares after a reload
  });
});
