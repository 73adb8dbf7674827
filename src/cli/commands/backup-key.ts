/**
 * The control key beside a backup. Stored phone credentials are sealed with a key kept outside the database
 * (control.key beside it by default), so a backup restored without that key shows every credential as
 * `unreadable`. `actionurl backup FILE` therefore copies the key file to FILE.control.key (mode 0600, written
 * under a temporary name and renamed, like the database copy): a separate file, so the database copy alone
 * still gives no credential away and the key can be kept apart from the copies.
 */
import { chmodSync, copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { defaultKeyFile } from '../../server/control/secrets.ts';
import { UsageError } from '../errors.ts';

export interface KeyCopy {
  /** Where the key was copied, or null when it was not. */
  file: string | null;
  /** Why not, for the summary line. */
  note?: string;
}

/** Where a backup's key goes. */
export const keyCopyOf = (backupFile: string): string => `${backupFile}.control.key`;

export interface KeyPlan {
  source?: string;
  target: string;
  /** Set when there is nothing to copy. */
  note?: string;
}

/**
 * What to copy, checked before the database copy is made (so a refusal leaves nothing behind): the key file
 * named (as serve's --control-key-file), else control.key beside the SQLite file, as serve finds it.
 */
export function planKeyCopy(o: { db: string; backupFile: string; keyFile?: string; overwrite?: boolean; keyInEnv: boolean }): KeyPlan {
  const target = keyCopyOf(o.backupFile);
  // A key given in the environment is the one the receiver uses (before any file); it is in its settings.
  if (o.keyInEnv) return { target, note: 'the control key is given in ACTIONURL_CONTROL_KEY, not copied: keep it with the receiver\'s settings' };
  const source = o.keyFile || defaultKeyFile(o.db);
  if (!source || !existsSync(source)) return { target, note: `no control key file at ${source}, so no phone credentials to carry` };
  if (!o.overwrite && existsSync(target)) throw new UsageError(`${target} already exists; give a new name, or --force`);
  return { source, target };
}

export function copyKey(plan: KeyPlan): KeyCopy {
  if (!plan.source) return { file: null, note: plan.note };
  const temp = `${plan.target}.tmp-${process.pid}`;
  try {
    copyFileSync(plan.source, temp);
    chmodSync(temp, 0o600);
    renameSync(temp, plan.target);
  } catch (err) {
    rmSync(temp, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`the database copy is written, but the control key ${plan.source} could not be copied to ${plan.target}: ${code}; run as the receiver's user, or --no-control-key and keep the key elsewhere`);
  }
  return { file: plan.target };
}
