import { describe, expect, it } from 'vitest';
import { chooseNewest } from './choose.ts';
import { encodeBackup } from './codec.ts';
import { deriveBackupKeys } from './keys.ts';

const keys = deriveBackupKeys(new Uint8Array(64).fill(3));
const strangerKeys = deriveBackupKeys(new Uint8Array(64).fill(4));
const NODE = `02${'33'.repeat(32)}`;
const at = (version: number, k = keys, nodeId = NODE) =>
  encodeBackup(
    { nodeId, version, createdAtMs: version, entries: new Map([['ldk/manager', Uint8Array.of(version)]]) },
    k,
  );
const expect_ = { nodeId: NODE, keys };

describe('chooseNewest', () => {
  it('takes the newest valid copy and reports an LSP that served an older one', async () => {
    const choice = await chooseNewest(
      [
        { source: 'lsp', blob: await at(7) },
        { source: 'device', blob: await at(10) },
        { source: 'file', blob: await at(9) },
      ],
      expect_,
    );
    expect(choice.chosen).toMatchObject({ source: 'device', header: { version: 10 } });
    expect(choice.chosen?.entries.get('ldk/manager')).toEqual(Uint8Array.of(10));
    expect(choice.rollbackReport).toBe(
      'Your LSP served backup version 7, but this device holds version 10. An LSP that serves an old backup may be trying to make your wallet use an old channel state; the wallet used the newest copy.',
    );
  });

  it('says nothing when the LSP holds the newest copy (or the same version)', async () => {
    const same = await chooseNewest(
      [
        { source: 'lsp', blob: await at(4) },
        { source: 'device', blob: await at(4) },
      ],
      expect_,
    );
    expect(same.chosen?.header.version).toBe(4);
    expect(same.rollbackReport).toBeUndefined();
    const newer = await chooseNewest(
      [
        { source: 'lsp', blob: await at(5) },
        { source: 'file', blob: await at(4) },
      ],
      expect_,
    );
    expect(newer.chosen).toMatchObject({ source: 'lsp', header: { version: 5 } });
    expect(newer.rollbackReport).toBeUndefined();
  });

  it('an LSP that serves nothing, or a forged or foreign copy, is named; a valid copy elsewhere wins', async () => {
    const none = await chooseNewest(
      [
        { source: 'lsp', blob: undefined },
        { source: 'file', blob: await at(3) },
      ],
      expect_,
    );
    expect(none.chosen?.source).toBe('file');
    expect(none.rollbackReport).toMatch(/^Your LSP served no backup, but the backup file holds version 3\./);

    const relabelled = (await at(2)).slice();
    new DataView(relabelled.buffer).setBigUint64(70, 99n); // "version 99" on an old body
    const forged = await chooseNewest(
      [
        { source: 'lsp', blob: relabelled },
        { source: 'device', blob: await at(8) },
        { source: 'file', blob: await at(12, strangerKeys) },
      ],
      expect_,
    );
    expect(forged.chosen).toMatchObject({ source: 'device', header: { version: 8 } });
    expect(forged.verdicts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          source: 'lsp',
          error: expect.objectContaining({ code: 'BACKUP_BAD_SIGNATURE' }),
        }),
        expect.objectContaining({
          source: 'file',
          error: expect.objectContaining({ code: 'BACKUP_WRONG_KEY' }),
        }),
      ]),
    );
    expect(forged.rollbackReport).toMatch(
      /^Your LSP served a backup that failed its check \(BACKUP_BAD_SIGNATURE\), but this device holds version 8\./,
    );
  });

  it('no valid copy: nothing chosen, and a broken LSP copy is still reported', async () => {
    const empty = await chooseNewest([{ source: 'lsp', blob: undefined }], expect_);
    expect(empty).toMatchObject({ chosen: undefined, rollbackReport: undefined });
    const broken = await chooseNewest(
      [
        { source: 'lsp', blob: Uint8Array.of(1, 2, 3) },
        { source: 'device', blob: undefined },
      ],
      expect_,
    );
    expect(broken.chosen).toBeUndefined();
    expect(broken.rollbackReport).toMatch(/BACKUP_CORRUPT/);
  });
});
