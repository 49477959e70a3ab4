// Hot standby's failover as a bench group (`--groups=failover`; in a full run, not a quick one: its
// setup alone is a minute of devnet, channels and two LSP processes): the kill-loop test
// (lsp-server/test/standby.test.ts) run with N rounds, its timings read back from the file it writes
// (STANDBY_REPORT). `lsp_failover_ms` is SIGKILL of the active process → the standby's /health 200
// (its node restored and serving); `lsp_failover_pay_ms`, SIGKILL → the next payment through it settled.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function measureFailover(rounds: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'lpw-failover-bench-'));
  const file = join(dir, 'report.json');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/standby.test.ts'],
        {
          cwd: join(root, 'lsp-server'),
          env: { ...process.env, STANDBY_ROUNDS: String(rounds), STANDBY_REPORT: file },
          // the test's progress goes to the bench's stderr; stdout carries only our result line
          stdio: ['ignore', process.stderr, process.stderr],
        },
      );
      child.on('error', reject);
      child.on('close', resolve);
    });
    let report: Record<string, number>;
    try {
      report = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    } catch {
      throw new Error(`the standby test (exit ${code}) wrote no report: no PostgreSQL, or it did not start`);
    }
    return { ...report, failover_passed: code === 0 ? 1 : 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
