/**
 * A consistent copy of a live SQLite store, taken with SQLite's online backup API while the receiver keeps
 * writing (`actionurl backup FILE`).
 *
 * The copy is read on its own connection. The receiver's database is in WAL mode, so a reader never blocks
 * the writer; and the backup copies every page in ONE step, inside one read transaction, so the copy is
 * the database exactly as it was at one commit. (Copying a few pages per step, the API's default, restarts
 * from the first page whenever another connection commits between steps: under steady ingest it might
 * never finish.) The cost is that WAL checkpoints cannot pass the copy's snapshot until it ends, so the
 * -wal file grows by what is written meanwhile.
 *
 * The copy is written under a temporary name in the target's folder, checked (`PRAGMA quick_check`),
 * switched to a rollback journal so that it is one self-contained file, flushed to disk, and only then
 * renamed to FILE: a FILE that exists is a complete, checked backup.
 */
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Pages per backup step: all of them, so the copy is one snapshot (see above). */
const ALL_PAGES = 0x7fffffff;

/** A backup that cannot be made, for a reason the user can fix; the message is one line saying how. */
export class BackupRefused extends Error {
  override readonly name = 'BackupRefused';
}

export interface BackupOptions {
  /** Replace FILE when it exists (default: refuse). */
  overwrite?: boolean;
}

export interface BackupResult {
  file: string;
  bytes: number;
  /** Highest schema migration in the copy. */
  schemaVersion: number;
  /** Id of the newest event in the copy (0 when it has none). */
  lastEventId: number;
  counts: { events: number; phones: number; calls: number; rejected: number };
  ms: number;
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BackupRefused(`cannot look at ${path}: ${(err as Error).message}`);
  }
}

/** Flushes a file (or folder) to disk, so a rename that follows cannot expose a half-written copy. */
function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The checks that need no database: what the source and target paths are. */
function checkPaths(source: string, target: string, options: BackupOptions): void {
  const src = resolve(source);
  const dst = resolve(target);
  if (dst === src || dst === `${src}-wal` || dst === `${src}-shm` || dst === `${src}-journal`) {
    throw new BackupRefused(`${target} is the database itself (or its journal); give the backup another name`);
  }
  const srcStat = statOrUndefined(src);
  if (!srcStat) throw new BackupRefused(`--db ${source}: no such file; point --db (or ACTIONURL_DB) at the receiver's database`);
  if (!srcStat.isFile()) throw new BackupRefused(`--db ${source} is not a file; point --db at the receiver's SQLite file`);
  const dstStat = statOrUndefined(dst);
  if (dstStat?.isDirectory()) throw new BackupRefused(`${target} is a folder; give a file name in it, e.g. ${join(target, 'actionurl-backup.sqlite')}`);
  if (dstStat && !options.overwrite) throw new BackupRefused(`${target} already exists; give a new name, or --force to replace it`);
  const folder = statOrUndefined(dirname(dst));
  if (!folder?.isDirectory()) throw new BackupRefused(`${target}: the folder ${dirname(dst)} does not exist; create it first`);
}

function openSource(source: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    // Not read-only on purpose: a read-only connection leaves -wal and -shm files behind when the receiver
    // is stopped, owned by whoever ran the backup (root, from cron), and the service user then cannot open
    // its own database. A normal connection that writes nothing removes them when it closes.
    db = new Database(source, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const hasSchema = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!hasSchema) throw new BackupRefused(`--db ${source} is a SQLite file but not an actionurl database`);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof BackupRefused) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') throw new BackupRefused(`--db ${source} is not a SQLite database`);
    throw new BackupRefused(`--db ${source}: cannot open it (${String(code ?? '')}: ${(err as Error).message})`);
  }
}

/** Checks the finished copy and makes it one self-contained file; returns what it holds. */
function finishCopy(temp: string): Omit<BackupResult, 'file' | 'bytes' | 'ms'> {
  const copy = new Database(temp, { fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy failed its check: ${String(check)}`);
    // The page header copied from the source says WAL; a rollback journal needs no -wal/-shm beside the
    // file. The receiver switches it back to WAL when it opens a restored copy.
    copy.pragma('journal_mode = DELETE');
    const one = (table: string) => (copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const seq = copy.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    const version = copy.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
    return {
      schemaVersion: version.v ?? 0,
      lastEventId: seq?.seq ?? 0,
      counts: { events: one('events'), phones: one('phones'), calls: one('calls'), rejected: one('rejected') },
    };
  } finally {
    copy.close();
  }
}

/** One line for a failure while writing the copy. */
function writeFailure(target: string, err: unknown): BackupRefused {
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return new BackupRefused(`${target}: the disk is full (${message}); free space or back up to another disk`);
  if (typeof code === 'string' && /CANTOPEN|READONLY|PERM|EACCES|EPERM|EROFS/.test(code)) {
    return new BackupRefused(`${target}: cannot write there (${code}); choose a folder this user can write to`);
  }
  return new BackupRefused(`${target}: the backup failed (${String(code ?? 'error')}: ${message})`);
}

/**
 * Copies the SQLite store at `source` to `target` while it may be in use. Throws BackupRefused (one line)
 * for anything the user can fix; nothing is left under `target` unless the copy is complete and checked.
 */
export async function backupSqlite(source: string, target: string, options: BackupOptions = {}): Promise<BackupResult> {
  const started = Date.now();
  checkPaths(source, target, options);
  const dst = resolve(target);
  const temp = join(dirname(dst), `.${basename(dst)}.${process.pid}.partial`);
  const db = openSource(source);
  try {
    await db.backup(temp, { progress: () => ALL_PAGES });
    const summary = finishCopy(temp);
    fsyncPath(temp);
    renameSync(temp, dst);
    fsyncPath(dirname(dst));
    return { file: dst, bytes: statSync(dst).size, ...summary, ms: Date.now() - started };
  } catch (err) {
    for (const leftover of [temp, `${temp}-journal`, `${temp}-wal`, `${temp}-shm`]) rmSync(leftover, { force: true });
    throw err instanceof BackupRefused ? err : writeFailure(target, err);
  } finally {
    db.close();
  }
}
