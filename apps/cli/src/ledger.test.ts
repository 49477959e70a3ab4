// The CLI's SQLite stream ledger keeps the rules of every stream ledger (@lpw/stream's conformance
// tests, on a real file, reopened as after a crash).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStreamLedger } from '@lpw/stream/conformance';
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
