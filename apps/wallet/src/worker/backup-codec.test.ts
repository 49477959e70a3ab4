import { describe, expect, it } from 'vitest';
import {
  BackupCodecError,
  decodeSnapshot,
  encodeSnapshot,
  fromBase64,
  openSnapshot,
  sealSnapshot,
  toBase64,
} from './backup-codec.ts';

const NODE = `02${'11'.repeat(32)}`;
const entries = new Map<string, Uint8Array>([
  ['ldk/manager', Uint8Array.from([1, 2, 3])],
  ['ldk/monitor/ab:0', new Uint8Array(70_000).fill(7)],
  ['payment/ff', new TextEncoder().encode('{"status":"succeeded"}')],
]);

describe('backup snapshot', () => {
  it('round-trips every key and the version it was written as', async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const blob = await sealSnapshot({ seq: 7, entries }, key, NODE);
    const back = await openSnapshot(fromBase64(toBase64(blob)), key, NODE);
    expect(back.seq).toBe(7);
    expect(back.entries).toEqual(entries);
  });

  it('refuses another key, another wallet, and any flipped bit', async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const blob = await sealSnapshot({ seq: 1, entries }, key, NODE);
    await expect(openSnapshot(blob, crypto.getRandomValues(new Uint8Array(32)), NODE)).rejects.toThrow(
      BackupCodecError,
    );
    await expect(openSnapshot(blob, key, `03${'11'.repeat(32)}`)).rejects.toThrow(BackupCodecError);
    const flipped = blob.slice();
    flipped[40]! ^= 1;
    await expect(openSnapshot(flipped, key, NODE)).rejects.toThrow(BackupCodecError);
  });

  it('rejects truncated and padded plaintexts', () => {
    const bytes = encodeSnapshot({ seq: 3, entries });
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    expect(() => decodeSnapshot(padded)).toThrow(/trailing/);
  });
});
