// The crash test as a bench mode (`npm run bench -- --crash[=N]`, 1,000 kills by default): the same
// test CI runs with 50 kills (packages/node/test/crash/crash.test.ts), run with N SIGKILLs of the
// wallet mid-payment, its counts read back from the file it writes (CRASH_REPORT), passed or failed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const nodePackage = join(root, 'packages', 'node');

/** `minutes` (0: none) stops the run after that long, with the kills done by then. */
export async function measureCrash(kills: number, minutes: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'lpw-crash-bench-'));
  const file = join(dir, 'report.json');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/crash/crash.test.ts'],
        {
          cwd: nodePackage,
          env: {
            ...process.env,
            CRASH_KILLS: String(kills),
            CRASH_REPORT: file,
            ...(minutes > 0 ? { CRASH_MINUTES: String(minutes) } : {}),
          },
          // the test's progress goes to the bench's stderr; stdout carries only our result line
          stdio: ['ignore', process.stderr, process.stderr],
        },
      );
      child.on('error', reject);
      child.on('close', resolve);
    });
    let counts: Record<string, number>;
    try {
      counts = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    } catch {
      throw new Error(`the crash test (exit ${code}) wrote no report: it timed out or did not start`);
    }
    return { ...counts, crash_passed: code === 0 ? 1 : 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
