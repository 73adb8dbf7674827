/**
 * Opening the store a `--db` value names: a file path (SQLite) or a `postgres://` URL. Every mistake with
 * it (see sqlite-path.ts, postgres.ts) is a StoreConfigError: one line naming the problem and the fix.
 */
import { SqliteStore } from './sqlite.ts';
import type { PostgresOptions } from './postgres.ts';
import { prepareSqlitePath, sqliteOpenError } from './sqlite-path.ts';
import { StoreConfigError, StoreUnreachableError } from './store-config-error.ts';
import type { Store } from './types.ts';
import { DEFAULT_DB_TIMEOUT_MS, isPostgresUrl, redactDbUrl } from './db-url.ts';

export { DEFAULT_DB_TIMEOUT_MS, isPostgresUrl, redactDbUrl, StoreConfigError, StoreUnreachableError };


export async function openStore(db: string, postgres: PostgresOptions = {}): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.connect(db, postgres);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    throw new StoreConfigError(`--db ${redactDbUrl(db)}: expected a SQLite file path or a postgres:// URL`);
  }
  if (db !== ':memory:' && db !== '') prepareSqlitePath(db);
  let store: SqliteStore | undefined;
  try {
    store = new SqliteStore(db);
    await store.ready();
  } catch (err) {
    await store?.close().catch(() => {});
    throw sqliteOpenError(db, err);
  }
  return store;
}
