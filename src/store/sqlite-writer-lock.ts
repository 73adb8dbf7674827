/**
 * One receiver per SQLite file. Two receivers writing one file each keep their own phone states and ids in
 * memory, so they split phones' histories for good. The first receiver holds an exclusive lock on a small
 * file beside the database (`<db>.receiver-lock`, an SQLite file in an open EXCLUSIVE transaction); the
 * operating system drops the lock when the process ends however it ends, so a crash leaves nothing to clean
 * up, and it works across containers sharing the volume. Another receiver on the same file is refused.
 */
import Database from 'better-sqlite3';
import { StoreConfigError } from './store-config-error.ts';

export interface WriterLock {
  release(): void;
}

export function holdWriterLock(db: string): WriterLock {
  const file = `${db}.receiver-lock`;
  let lock: Database.Database;
  try {
    lock = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new StoreConfigError(`--db ${db}: cannot create the lock file ${file} beside it (${(err as Error).message})`);
  }
  try {
    lock.pragma('journal_mode = DELETE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StoreConfigError(`--db ${db} is in use by another receiver; stop it first, or give this one a database of its own`);
    }
    throw new StoreConfigError(`--db ${db}: cannot lock ${file} (${(err as Error).message})`);
  }
  return {
    release() {
      if (!lock.open) return;
      lock.exec('ROLLBACK');
      lock.close();
    },
  };
}
