// The CLI's SQLite stream ledger keeps the rules of every stream ledger (@lpw/stream's conformance
// tests, on a real file, reopened as after a crash); backups seal and open only with their key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStreamLedger } from '@lpw/stream/conformance';
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, openBackup, sealBackup } from './backup.ts';
import { SqliteLedger } from './ledger.ts';

describeStreamLedger('SqliteLedger', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lpw-ledger-'));
  const path = join(dir, 'streams.sqlite');
  const opened = [new SqliteLedger(path)];
  return {
    ledger: opened[0]!,
    reopen: async () => {
      opened[0]!.close();
      const again = new SqliteLedger(path);
      opened.push(again);
      return again;
    },
    close: () => {
      opened.at(-1)!.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('backup sealing', () => {
  it('round-trips a snapshot and refuses another key, another node id, or a flipped bit', async () => {
    const snapshot = new Map([
      ['ldk/manager', new Uint8Array([1, 2, 3])],
      ['ldk/monitor/ab:0', new Uint8Array(1000).fill(9)],
    ]);
    const key = new Uint8Array(32).fill(4);
    const blob = await sealBackup(key, 'node-a', encodeSnapshot(snapshot));
    expect(decodeSnapshot(await openBackup(key, 'node-a', blob))).toEqual(snapshot);
    await expect(openBackup(new Uint8Array(32).fill(5), 'node-a', blob)).rejects.toThrow(/decrypt/);
    await expect(openBackup(key, 'node-b', blob)).rejects.toThrow(/decrypt/);
    const flipped = Uint8Array.from(blob);
    flipped[flipped.length - 1]! ^= 1;
    await expect(openBackup(key, 'node-a', flipped)).rejects.toThrow(/decrypt/);
  });
});
