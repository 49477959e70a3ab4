// The store backends every storage test runs against: SQLite in a temp dir, and PostgreSQL (a fresh
// schema per store) when global setup found one.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { inject } from 'vitest';
import { openStore } from '../src/store/index.ts';
import type { LspStore } from '../src/store/types.ts';
import { tempDir } from './temp-dir.ts';

export interface Backend {
  name: 'sqlite' | 'postgres';
  open(): Promise<LspStore>;
  /** One fresh database that can be opened again after closing (restart tests). */
  database(): () => Promise<LspStore>;
}

/** A fresh PostgreSQL schema name, dropped after the run (global-setup.ts). */
export function testSchema(): string {
  return `${inject('pgSchemaPrefix')}${randomBytes(6).toString('hex')}`;
}

export function backends(): Backend[] {
  const list: Backend[] = [
    {
      name: 'sqlite',
      open: () => openStore(join(tempDir('lsp-store-'), 'lsp.sqlite')),
      database() {
        const path = join(tempDir('lsp-store-'), 'lsp.sqlite');
        return () => openStore(path);
      },
    },
  ];
  const pgUrl = inject('pgUrl');
  if (pgUrl) {
    list.push({
      name: 'postgres',
      open: () => openStore(pgUrl, { schema: testSchema() }),
      database() {
        const schema = testSchema();
        return () => openStore(pgUrl, { schema });
      },
    });
  }
  return list;
}
