// Before any test: find PostgreSQL (TEST_DATABASE_URL, else start one with scripts/ensure-postgres.sh)
// and hand its URL to the tests. Without it the store suites run on SQLite only, and say so loudly.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

export default function setup(project: TestProject): void {
  let url = process.env.TEST_DATABASE_URL ?? null;
  if (!url) {
    const script = fileURLToPath(new URL('../scripts/ensure-postgres.sh', import.meta.url));
    try {
      url = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      const why = (e as { stderr?: string }).stderr?.trim() || String(e);
      console.error(
        `\n${'!'.repeat(78)}\n!! PostgreSQL could not be started: store tests run on SQLite ONLY.\n!! ${why}\n${'!'.repeat(78)}\n`,
      );
    }
  }
  project.provide('pgUrl', url);
}
