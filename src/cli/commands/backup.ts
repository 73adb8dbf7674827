/**
 * `actionurl backup FILE`: a consistent copy of the receiver's SQLite database, taken while it runs (SQLite's
 * online backup, see store/sqlite-backup.ts). Restoring is copying FILE back while the receiver is stopped
 * (docs/operations.md). PostgreSQL has its own tools, so a postgres:// --db is refused with the pg_dump line.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_DB } from '../../start.ts';
import { isPostgresUrl, redactDbUrl } from '../../store/db-url.ts';
import { backupSqlite, BackupRefused, type BackupResult } from '../../store/sqlite-backup.ts';
import { UsageError } from '../errors.ts';
import { print } from '../output.ts';

interface BackupOptions {
  db: string;
  force?: boolean;
  json?: boolean;
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * One line for the admin. Phones and calls are left out: the copy holds them as of the receiver's last
 * checkpoint (every few seconds), and a receiver started on it rebuilds the rest from the events.
 */
export function summary(r: BackupResult): string {
  return `backup written: ${r.file} (${size(r.bytes)}, schema ${r.schemaVersion}, ${r.counts.events} events up to id ${r.lastEventId}, `
    + `${r.counts.rejected} rejected requests) in ${(r.ms / 1000).toFixed(1)} s`;
}

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy the receiver\'s SQLite database to FILE while it runs (a consistent snapshot, checked before it gets its name)')
    .argument('<file>', 'where to write the copy (its folder must exist)')
    .addOption(new Option('--db <file>', 'the receiver\'s SQLite file').env('ACTIONURL_DB').default(DEFAULT_DB))
    .option('--force', 'replace FILE if it exists')
    .option('--json', 'print what was written as JSON')
    .action(async (file: string, opts: BackupOptions) => {
      if (isPostgresUrl(opts.db)) {
        throw new UsageError(`--db ${redactDbUrl(opts.db)} is PostgreSQL; back it up with pg_dump, e.g. pg_dump --format=custom --file=actionurl.dump '<the same URL>'`);
      }
      let result: BackupResult;
      try {
        result = await backupSqlite(opts.db, file, { overwrite: opts.force });
      } catch (err) {
        if (err instanceof BackupRefused) throw new UsageError(err.message);
        throw err;
      }
      await print(opts.json ? JSON.stringify(result) : summary(result));
    });
}
