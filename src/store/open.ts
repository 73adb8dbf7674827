/**
 * Opening the store a `--db` value names: a file path (SQLite) or a `postgres://` URL.
 */
import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';
import { isPostgresUrl, redactDbUrl, StoreConfigError } from './db-url.ts';

export { isPostgresUrl, redactDbUrl, StoreConfigError };

export async function openStore(db: string): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.connect(db);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    throw new StoreConfigError(`--db ${redactDbUrl(db)}: expected a SQLite file path or a postgres:// URL`);
  }
  const store = new SqliteStore(db);
  try {
    await store.ready();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
