import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { decodeBackup, encodeBackup, HEADER_BYTES, readBackupHeader } from './codec.ts';
import { BackupError, type BackupErrorCode } from './errors.ts';
import { backupKeysFrom, deriveBackupKeys } from './keys.ts';

const seed = (byte: number) => new Uint8Array(64).fill(byte);
const keys = deriveBackupKeys(seed(1));
const otherKeys = deriveBackupKeys(seed(2));
const NODE = `02${'11'.repeat(32)}`;
const OTHER_NODE = `03${'22'.repeat(32)}`;

const store = new Map<string, Uint8Array>([
  ['ldk/manager', Uint8Array.from([1, 2, 3])],
  ['ldk/monitor/ab:0', new Uint8Array(70_000).fill(7)],
  ['ldk/monitor-update/ab:0/00000000000000000001', Uint8Array.from([9])],
  ['ldk/network-graph', new Uint8Array(1000)],
  ['ldk/scorer', new Uint8Array(1000)],
  ['ldk/archive/ldk/monitor/cd:1', new Uint8Array(1000)],
  ['sweeper/kv///output_sweeper', Uint8Array.from([4, 5])],
  ['payment/ff', new TextEncoder().encode('{"status":"succeeded"}')],
  ['chain/synced-height', Uint8Array.from([0])],
]);

const encode = (version = 5) =>
  encodeBackup({ nodeId: NODE, version, createdAtMs: 1_700_000_000_000, entries: store }, keys);

async function refusal(blob: Uint8Array, expect = { nodeId: NODE, keys }): Promise<BackupErrorCode> {
  try {
    await decodeBackup(blob, expect);
  } catch (error) {
    if (error instanceof BackupError) return error.code;
    throw error;
  }
  throw new Error('decoded');
}

describe('backup format v2', () => {
  it('round-trips the channel state and its header, and nothing else', async () => {
    const blob = await encode(7);
    const { header, entries } = await decodeBackup(blob, { nodeId: NODE, keys });
    expect(header).toMatchObject({
      formatVersion: 2,
      nodeId: NODE,
      version: 7,
      createdAtMs: 1_700_000_000_000,
      channels: 1,
    });
    expect([...entries.keys()].sort()).toEqual([
      'ldk/manager',
      'ldk/monitor-update/ab:0/00000000000000000001',
      'ldk/monitor/ab:0',
      'sweeper/kv///output_sweeper',
    ]);
    expect(entries.get('ldk/monitor/ab:0')).toEqual(store.get('ldk/monitor/ab:0'));
    // the LSP reads the same header without keys
    expect(readBackupHeader(blob)).toEqual(header);
    // a monitor of repeated bytes compresses: the blob is far smaller than the state
    expect(blob.length).toBeLessThan(2_000);
  });

  it('refuses each kind of bad copy with its own code', async () => {
    const blob = await encode();
    expect(await refusal(blob.subarray(0, blob.length - 1))).toBe('BACKUP_TRUNCATED');
    expect(await refusal(blob.subarray(0, 100))).toBe('BACKUP_TRUNCATED');
    expect(await refusal(Uint8Array.of(1, 2, 3, 4, 5, 6))).toBe('BACKUP_CORRUPT');
    const padded = new Uint8Array(blob.length + 1);
    padded.set(blob);
    expect(await refusal(padded)).toBe('BACKUP_CORRUPT');
    const flippedBody = blob.slice();
    flippedBody[blob.length - 5]! ^= 1;
    expect(await refusal(flippedBody)).toBe('BACKUP_CORRUPT');
    const v1 = blob.slice();
    v1[4] = 0x31; // the CLI's "LPWB1" blobs
    expect(await refusal(v1)).toBe('BACKUP_UNKNOWN_FORMAT');
    expect(await refusal(blob, { nodeId: OTHER_NODE, keys })).toBe('BACKUP_WRONG_WALLET');
    expect(await refusal(blob, { nodeId: NODE, keys: otherKeys })).toBe('BACKUP_WRONG_KEY');
  });

  it('refuses a version relabelled by the LSP: the signature covers the header', async () => {
    const blob = await encode(5);
    const relabelled = blob.slice();
    new DataView(relabelled.buffer).setBigUint64(70, 9n);
    expect(readBackupHeader(relabelled).version).toBe(9);
    expect(await refusal(relabelled)).toBe('BACKUP_BAD_SIGNATURE');
  });

  it('refuses a copy signed properly but sealed under another encryption key', async () => {
    const mixed = backupKeysFrom(otherKeys.encryptionKey, keys.signingKey);
    const blob = await encodeBackup({ nodeId: NODE, version: 1, createdAtMs: 1, entries: store }, mixed);
    expect(await refusal(blob)).toBe('BACKUP_WRONG_KEY');
  });

  it('refuses bad input to the encoder without writing anything', async () => {
    await expect(
      encodeBackup({ nodeId: 'nope', version: 1, createdAtMs: 1, entries: store }, keys),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      encodeBackup({ nodeId: NODE, version: 0, createdAtMs: 1, entries: store }, keys),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(() => deriveBackupKeys(new Uint8Array(32))).toThrow(BackupError);
  });

  it('writes the header it documents', async () => {
    const blob = await encode(3);
    expect(new TextDecoder().decode(blob.subarray(0, 4))).toBe('LPWB');
    const header = blob.subarray(0, HEADER_BYTES);
    const message = new Uint8Array([...new TextEncoder().encode('lpw/backup/v2'), ...header]);
    expect(
      schnorr.verify(blob.subarray(HEADER_BYTES, HEADER_BYTES + 64), message, keys.signingPublicKey),
    ).toBe(true);
  });
});
