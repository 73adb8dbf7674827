/**
 * Opening the store a `--db` value names: a file path (SQLite) or a `postgres://` URL.
 */
import { SqliteStore } from './sqlite.ts';
import type { PostgresOptions } from './postgres.ts';
import { StoreConfigError } from './store-config-error.ts';
import type { Store } from './types.ts';
import { isPostgresUrl, redactDbUrl } from './db-url.ts';

export { isPostgresUrl, redactDbUrl, StoreConfigError };

/** SQLite and file-system answers that mean the file or its folder is the problem, not actionurl. */
const FILE_PROBLEMS = new Set([
  'SQLITE_NOTADB', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_CORRUPT', 'SQLITE_PERM',
  'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'EROFS',
]);

export async function openStore(db: string, postgres: PostgresOptions = {}): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.connect(db, postgres);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    throw new StoreConfigError(`--db ${redactDbUrl(db)}: expected a SQLite file path or a postgres:// URL`);
  }
  let store: SqliteStore | undefined;
  try {
    store = new SqliteStore(db);
    await store.ready();
  } catch (err) {
    await store?.close().catch(() => {});
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && FILE_PROBLEMS.has(code)) {
      throw new StoreConfigError(`--db ${db}: ${(err as Error).message.split('\n')[0]} (${code})`);
    }
    throw err;
  }
  return store;
}
