// The CLI's backup rules on real backups (format v2, the wallet's real keys) and real files: a state
// with fewer channels never replaces the LSP's copy unless it descends from a copy at least as new;
// the device copy and an export are written whole or not at all; an export is checked first.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBackup } from '@lpw/backup';
import { nodeIdentity } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNotFewerChannels, exportBackup } from './backup.ts';
import { createFileAtomic, DEVICE_COPY_FILE, writeDeviceCopy } from './device-copy.ts';
import { isCliError } from './errors.ts';
import { createSeedFile, deriveSecrets } from './seed.ts';

const WORDS = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const monitor = (n: number) => [`ldk/monitor/${'ab'.repeat(32)}:${n}`, new Uint8Array(100).fill(n)] as const;
const state = (channels: number) =>
  new Map<string, Uint8Array>([
    ['ldk/manager', new Uint8Array([1, 2, 3])],
    ...Array.from({ length: channels }, (_, i) => monitor(i)),
  ]);

describe('CLI backup rules', () => {
  let tmp: string;
  let nodeId: string;
  const secrets = deriveSecrets(WORDS);
  const blob = (version: number, channels: number) =>
    encodeBackup({ nodeId, version, createdAtMs: Date.now(), entries: state(channels) }, secrets.backupKeys);

  beforeAll(async () => {
    await initLdkNode();
    nodeId = nodeIdentity(secrets.nodeSeed).nodeId;
    tmp = mkdtempSync(join(tmpdir(), 'lpw-cli-backup-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('refuses to replace an LSP copy of more channels with a state that does not descend from it', async () => {
    const remote = { blob: await blob(7, 2), version: 7 };
    const refused = (() => {
      try {
        checkNotFewerChannels(remote, state(0), 0);
      } catch (e) {
        return e;
      }
    })();
    expect(isCliError(refused, 'BACKUP_FEWER_CHANNELS')).toBe(true);
    expect((refused as Error).message).toMatch(/2 channel\(s\) \(version 7.*this directory's state has 0/);
    expect(() => checkNotFewerChannels(remote, state(1), 6)).toThrow(/version 7/);
    // as many channels, a descendant of that copy or newer, or no copy at all: allowed
    checkNotFewerChannels(remote, state(2), 0);
    checkNotFewerChannels(remote, state(0), 7);
    checkNotFewerChannels(remote, state(1), 9);
    checkNotFewerChannels(undefined, state(0), 0);
  });

  it('an LSP copy labelled newer than it is (an old blob relabelled) is judged by its signed header', async () => {
    const relabelled = { blob: await blob(3, 2), version: 12 };
    checkNotFewerChannels(relabelled, state(1), 5); // our state descends from version 5 > 3
    expect(() => checkNotFewerChannels(relabelled, state(1), 2)).toThrow(/version 3/);
  });

  it('an LSP copy whose header cannot be read is not replaced blindly', () => {
    const garbage = { blob: new Uint8Array(300).fill(7), version: 4 };
    expect(() => checkNotFewerChannels(garbage, state(0), 0)).toThrow(/cannot be read \(BACKUP_CORRUPT/);
  });

  it('device copy: replaced whole, no temp file left; an export refuses an existing file', async () => {
    const first = await blob(1, 1);
    const second = await blob(2, 1);
    const wallet = mkdtempSync(join(tmp, 'w-'));
    writeDeviceCopy(wallet, first);
    writeDeviceCopy(wallet, second);
    expect(Buffer.from(readFileSync(join(wallet, DEVICE_COPY_FILE))).equals(Buffer.from(second))).toBe(true);
    expect(readdirSync(wallet)).toEqual([DEVICE_COPY_FILE]);
    const target = join(wallet, 'exported.lpwb');
    createFileAtomic(target, first);
    expect(() => createFileAtomic(target, second)).toThrow(/exists/);
    expect(Buffer.from(readFileSync(target)).equals(Buffer.from(first))).toBe(true);
    expect(readdirSync(wallet).sort()).toEqual([DEVICE_COPY_FILE, 'exported.lpwb']);
  });

  it('export checks the device copy with the wallet keys: a damaged one is a typed error, no file written', async () => {
    const wallet = mkdtempSync(join(tmp, 'x-'));
    createSeedFile(wallet, WORDS);
    const none = await exportBackup(wallet, join(wallet, 'none.lpwb')).catch((e: unknown) => e);
    expect(isCliError(none, 'BACKUP_NONE')).toBe(true);

    const good = await blob(5, 1);
    writeDeviceCopy(wallet, good);
    const header = await exportBackup(wallet, join(wallet, 'out.lpwb'));
    expect(header).toMatchObject({ version: 5, channels: 1, nodeId });
    expect(Buffer.from(readFileSync(join(wallet, 'out.lpwb'))).equals(Buffer.from(good))).toBe(true);

    const damaged = Uint8Array.from(good);
    damaged[damaged.length - 1]! ^= 1;
    writeDeviceCopy(wallet, damaged);
    const refused = await exportBackup(wallet, join(wallet, 'bad.lpwb')).catch((e: unknown) => e);
    expect(isCliError(refused, 'BACKUP_CORRUPT')).toBe(true);
    expect(readdirSync(wallet)).not.toContain('bad.lpwb');
  });
});
