/**
 * Checking a SQLite `--db` path before opening it, so that each mistake a new user or a service set-up makes
 * is one line naming the problem and the fix instead of a stack trace (or, for a path under `/proc`, a
 * recursive mkdir that never returns): a directory, a path under a file, a folder that cannot be created or
 * written, a file that is not a SQLite database.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreConfigError } from './store-config-error.ts';

function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (err) {
    // ENOTDIR: a part of the path is a file; the walk up finds which.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new StoreConfigError(`--db: cannot look at ${path} (${(err as NodeJS.ErrnoException).code}); check the path and its permissions`);
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure `file` can be a SQLite database: creates its missing folders one level at a time (never a
 * recursive mkdir, which loops on pseudo file systems such as /proc), and checks that the folder is
 * writable (SQLite's WAL needs files beside the database). Throws StoreConfigError otherwise.
 */
export function prepareSqlitePath(file: string): void {
  const path = resolve(file);
  const st = statOf(path);
  if (st?.isDirectory()) {
    throw new StoreConfigError(`--db ${file} is a directory; give a file in it instead, e.g. --db ${file.replace(/\/+$/, '')}/actionurl.sqlite`);
  }
  if (st && !st.isFile()) throw new StoreConfigError(`--db ${file} is not a regular file; give the path of a SQLite file`);
  // The nearest folder that exists, and the ones to create below it.
  const missing: string[] = [];
  let dir = dirname(path);
  for (let d = statOf(dir); !d; d = statOf(dir)) {
    missing.unshift(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const base = statOf(dir);
  if (base && !base.isDirectory()) {
    throw new StoreConfigError(`--db ${file}: ${dir} is a file, not a folder; choose a path inside a folder`);
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new StoreConfigError(`--db ${file}: cannot create the folder ${folder} (${code}); create it (writable by this user) or choose another path`);
    }
  }
  const folder = dirname(path);
  if (!writable(folder)) {
    throw new StoreConfigError(`--db ${file}: this user cannot write to the folder ${folder}; give it write access (e.g. chown it to the service user) or choose another path`);
  }
  if (st && !writable(path)) {
    throw new StoreConfigError(`--db ${file}: this user cannot write to the file; give it write access or choose another path`);
  }
}

/** File-system answers that mean the file or its folder is the problem, not actionurl. */
const FILE_SYSTEM_PROBLEMS = new Set(['EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'EROFS']);

/** One line for an error SQLite raised while opening `file` and reading its schema. */
export function sqliteOpenError(file: string, err: unknown): Error {
  if (err instanceof StoreConfigError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && FILE_SYSTEM_PROBLEMS.has(code)) {
    return new StoreConfigError(`--db ${file}: ${(err as Error).message.split('\n')[0]} (${code}); check the path and its permissions`);
  }
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err as Error;
  const message = (err as Error).message;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StoreConfigError(`--db ${file} is not a SQLite database (${message}); point --db at the receiver's database or at a new file name`);
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return new StoreConfigError(`--db ${file}: cannot open it for writing (${code}: ${message}); check the file and folder permissions`);
  }
  if (code === 'SQLITE_FULL') return new StoreConfigError(`--db ${file}: the disk is full (${message}); free some space`);
  return new StoreConfigError(`--db ${file}: cannot open the database (${code}: ${message})`);
}
