/**
 * Opening the store a `--db` value names: a file path (SQLite) or a `postgres://` URL.
 */
import { SqliteStore } from './sqlite.ts';
import type { PostgresOptions } from './postgres.ts';
import type { Store } from './types.ts';

/** A `--db` value the user must change; the message is one line, fit to print as is. */
export class StoreConfigError extends Error {}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, for logs and messages. */
export function redactDbUrl(db: string): string {
  return db.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

export async function openStore(db: string, postgres: PostgresOptions = {}): Promise<Store> {
  if (isPostgresUrl(db)) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.connect(db, postgres);
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
