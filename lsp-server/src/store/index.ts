// Opens the configured store: a SQLite file path or a postgres:// URL.
import { openPostgres } from './postgres.ts';
import { SqlStore } from './sql-store.ts';
import { openSqlite } from './sqlite.ts';
import type { LspStore } from './types.ts';

export type * from './types.ts';
export { SqlStore };

export async function openStore(databaseUrl: string, options: { schema?: string } = {}): Promise<LspStore> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return SqlStore.open(await openPostgres(databaseUrl, options));
  const path = databaseUrl.replace(/^sqlite:(\/\/)?/, '');
  return SqlStore.open(openSqlite(path));
}
