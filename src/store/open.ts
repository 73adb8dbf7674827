/**
 * Opening the store a `--db` value names: a file path (SQLite) or a `postgres://` URL. Every mistake with
 * it (see sqlite-path.ts, postgres.ts) is a StoreConfigError: one line naming the problem and the fix.
 */
import { SqliteStore } from './sqlite.ts';
import type { PostgresOptions } from './postgres.ts';
import { prepareSqlitePath, sqliteOpenError } from './sqlite-path.ts';
import { holdWriterLock } from './sqlite-writer-lock.ts';
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
  const file = db !== ':memory:' && db !== '';
  if (file) prepareSqlitePath(db);
  const lock = file ? holdWriterLock(db) : undefined;
  let store: SqliteStore | undefined;
  try {
    store = new SqliteStore(db, { lock });
    await store.ready();
  } catch (err) {
    await store?.close().catch(() => {});
    lock?.release();
    throw sqliteOpenError(db, err);
  }
  return store;
}
