/**
 * How the PostgreSQL store connects: its options, the client settings every connection gets, the `--db`
 * URL's schema, and a failed first connection or `--journal` told in one line with the fix.
 */
import pg from 'pg';
import { redactDbUrl } from './db-url.ts';
import { Journal } from './journal.ts';
import { isConnectionError } from './pg-ingest.ts';
import { StoreConfigError, StoreUnreachableError } from './store-config-error.ts';

export interface PostgresOptions {
  /**
   * The local journal file (SQLite) that holds events while PostgreSQL is away. Without one, a write that
   * cannot reach PostgreSQL fails (the phone gets a 503), as a single store would. An open Journal is used as
   * it is and stays open when connecting fails (a receiver that started on it keeps using it).
   */
  journal?: string | Journal;
  /** How often to try moving the journal into PostgreSQL while it is not empty (ms). Default 1000. */
  journalRetryMs?: number;
  /**
   * How long a write may wait for PostgreSQL (to connect, for each statement, for a lock) before the
   * database counts as away and the batch goes to the journal (ms). Default 1000 (`--db-timeout`).
   */
  timeoutMs?: number;
  /** Told about a database outage (journalling started) and the journal being moved back. */
  onJournal?(event: 'journalling' | 'drained', detail: { batches: number; err?: unknown }): void;
  /** A background step (moving the journal, notifying) failed. */
  onError?(err: unknown): void;
}

/** Reads (API pages, reports, exports) may take longer than a write, but not for ever: a frozen server frees the pool. */
export const READ_TIMEOUT_MS = 30_000;

export const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/**
 * Why the first connection failed, in one line with the fix: a mistake (wrong password, no such database)
 * is a StoreConfigError; PostgreSQL not reachable (yet) is a StoreUnreachableError, which a service manager
 * may retry.
 */
export function startError(url: string, err: unknown): StoreConfigError {
  const at = `--db ${redactDbUrl(url)}`;
  const message = oneLine((err as Error).message);
  const u = new URL(url);
  const user = decodeURIComponent(u.username) || 'the current user';
  const database = decodeURIComponent(u.pathname.slice(1)) || user;
  switch ((err as { code?: string }).code) {
    case '28P01':
    case '28000':
      return new StoreConfigError(`${at}: PostgreSQL refused user "${user}" (${message}); check the user and password in --db, and pg_hba.conf on the server`);
    case '3D000':
      return new StoreConfigError(`${at}: database "${database}" does not exist; create it (createdb ${database}) or correct its name in --db`);
    case 'ENOTFOUND':
      return new StoreConfigError(`${at}: host "${u.hostname}" not found; correct the host in --db`);
    case '42501':
      return new StoreConfigError(`${at}: user "${user}" may not use this database (${message}); grant it CONNECT and CREATE, or use another user`);
  }
  if (isConnectionError(err)) {
    return new StoreUnreachableError(`${at}: cannot connect: ${message}; check the host and port, and that PostgreSQL is running (the receiver needs it to start)`);
  }
  return new StoreConfigError(`${at}: cannot connect: ${message}; check the host, port, user, password and database name, and that PostgreSQL is running`);
}

/** The `--journal` file, opened; a mistake with it (in use, not writable) is one line. */
export function openJournal(path: string): Journal {
  try {
    return new Journal(path);
  } catch (err) {
    throw new StoreConfigError(`--journal: ${(err as Error).message}`);
  }
}

/** `postgres://…?schema=s` -> the URL without it, and the schema. */
export function splitSchema(url: string): { url: string; schema?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreConfigError(`--db ${redactDbUrl(url)} is not a valid URL; expected e.g. postgres://user:password@host:5432/database`);
  }
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreConfigError(`--db: schema "${schema}" must be lower-case letters, digits and _`);
  }
  return { url: u.toString(), schema };
}
