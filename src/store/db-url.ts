/**
 * What a `--db` value is and how to show it: shared by `open.ts` (which store to open) and the stores
 * themselves (their error messages), so neither imports the other.
 */

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`, for logs and messages. */
export function redactDbUrl(db: string): string {
  return db.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}
