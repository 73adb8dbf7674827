/**
 * `actionurl backup FILE`: a consistent copy of the receiver's SQLite database, taken while it runs (SQLite's
 * online backup, see store/sqlite-backup.ts), and the control key beside it as FILE.control.key
 * (backup-key.ts). Restoring is copying both back while the receiver is stopped (docs/operations.md).
 * PostgreSQL has its own tools, so a postgres:// --db is refused with the pg_dump line for it.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_DB, isPostgresUrl, redactDbUrl } from '../../store/db-url.ts';
import { backupSqlite, BackupRefused, type BackupResult } from '../../store/sqlite-backup.ts';
import { UsageError } from '../errors.ts';
import { print } from '../output.ts';
import { copyKey, planKeyCopy, type KeyCopy } from './backup-key.ts';

interface BackupOptions {
  db: string;
  force?: boolean;
  json?: boolean;
  controlKeyFile?: string;
  /** False with --no-control-key. */
  controlKey: boolean;
}

/**
 * The pg_dump line for a PostgreSQL --db, one that runs: libpq refuses the receiver's own `?schema=` in a URL
 * ("invalid URI query parameter"), so the schema goes to --schema and the URL without it. The password is
 * shown as ***.
 */
export function pgDumpHint(db: string): string {
  let url = db;
  let schema: string | null = null;
  try {
    const u = new URL(db);
    schema = u.searchParams.get('schema');
    u.searchParams.delete('schema');
    url = u.toString();
  } catch {
    // Not a URL the receiver would open either; shown as given.
  }
  const quote = (s: string) => (/^[A-Za-z0-9_]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const shown = redactDbUrl(url);
  return ['pg_dump --format=custom --file=actionurl.dump', schema ? ` --schema=${quote(schema)}` : '', ` '${shown.replace(/'/g, `'\\''`)}'`,
    shown === url ? '' : ' (with the password in place of ***)'].join('');
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * One line for the admin. Phones and calls are left out: the copy holds them as of the receiver's last
 * checkpoint (every few seconds), and a receiver started on it rebuilds the rest from the events.
 */
export function summary(r: BackupResult, key?: KeyCopy): string {
  const keyPart = key === undefined ? '' : key.file ? `; control key copied to ${key.file}` : key.note ? `; ${key.note}` : '';
  return `backup written: ${r.file} (${size(r.bytes)}, schema ${r.schemaVersion}, ${r.counts.events} events up to id ${r.lastEventId}, `
    + `${r.counts.rejected} rejected requests) in ${(r.ms / 1000).toFixed(1)} s${keyPart}`;
}

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy the receiver\'s SQLite database to FILE while it runs (a consistent snapshot, checked before it gets its name)')
    .argument('<file>', 'where to write the copy (its folder must exist)')
    .addOption(new Option('--db <file>', 'the receiver\'s SQLite file').env('ACTIONURL_DB').default(DEFAULT_DB))
    .addOption(new Option('--control-key-file <file>', 'the receiver\'s control key file, copied to FILE.control.key (default: control.key beside --db)').env('ACTIONURL_CONTROL_KEY_FILE'))
    .option('--no-control-key', 'do not copy the control key (keep a copy of it elsewhere: it does not change)')
    .option('--force', 'replace FILE (and FILE.control.key) if it exists')
    .option('--json', 'print what was written as JSON')
    .action(async (file: string, opts: BackupOptions) => {
      if (isPostgresUrl(opts.db)) {
        throw new UsageError(`--db ${redactDbUrl(opts.db)} is PostgreSQL; back it up with pg_dump: ${pgDumpHint(opts.db)}`);
      }
      const keyInEnv = Boolean(process.env.ACTIONURL_CONTROL_KEY);
      const plan = opts.controlKey
        ? planKeyCopy({ db: opts.db, backupFile: file, keyFile: opts.controlKeyFile, overwrite: opts.force, keyInEnv })
        : undefined;
      let result: BackupResult;
      try {
        result = await backupSqlite(opts.db, file, { overwrite: opts.force });
      } catch (err) {
        if (err instanceof BackupRefused) throw new UsageError(err.message);
        throw err;
      }
      const key = plan ? copyKey(plan) : undefined;
      await print(opts.json ? JSON.stringify({ ...result, controlKey: key?.file ?? null }) : summary(result, key));
    });
}
