// Temp dirs a test file makes (SQLite stores, data dirs, seeds), removed after the file: a run of the
// suite used to leave some seventy in the system's temp dir, and every run added as many.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// registered as the importing file is collected, before its own hooks: with vitest's stacked
// after-hooks it runs last, once the file has stopped the LSPs writing there
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

/** A fresh directory under the system's temp dir, named `<prefix>XXXXXX`, removed after this file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
