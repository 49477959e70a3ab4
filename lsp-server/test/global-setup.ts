// Before any test: find PostgreSQL (TEST_DATABASE_URL, else start one with scripts/ensure-postgres.sh)
// and hand its URL to the tests. Without it the store suites run on SQLite only, and say so loudly.
// After the last test, the schemas this run made are dropped (the cluster outlives runs; other runs
// may be using it at the same time, so only this run's prefix goes).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
    /** Every PostgreSQL schema a test makes starts with it (`testSchema()` in test/stores.ts). */
    pgSchemaPrefix: string;
  }
}

export default function setup(project: TestProject): () => Promise<void> {
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
  const prefix = `t_${randomBytes(3).toString('hex')}_`;
  project.provide('pgSchemaPrefix', prefix);
  return async () => {
    if (!url) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ nspname: string }>(
        'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
        [prefix],
      );
      for (const { nspname } of rows) await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
    } finally {
      await client.end();
    }
  };
}
