/**
 * What a `--db` value is and how to show it: shared by `open.ts` (which store to open) and the stores
 * themselves (their error messages), so neither imports the other.
 */

/** The SQLite file a receiver uses when no --db is given. */
export const DEFAULT_DB = 'data/actionurl.sqlite';

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, for logs and messages. */
export function redactDbUrl(db: string): string {
  return db.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** How long a write waits for PostgreSQL before the database counts as away (`--db-timeout`, ms). */
export const DEFAULT_DB_TIMEOUT_MS = 1000;
