/** Checks of option values shared by several commands; each failure is a one-line UsageError (exit 2). */
import { readFileSync } from 'node:fs';
import type { ExpandMode } from '../core/templates.ts';
import { UsageError } from './errors.ts';

/** A number within [min, max] (a whole number when `integer`). */
export function numberOption(text: string, flag: string, min: number, max: number, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} "${text}": expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return n;
}

/** `--mode phone|safe`: how a phone substitutes values into its URLs. */
export function expandModeOption(mode: string): ExpandMode {
  if (mode !== 'phone' && mode !== 'safe') throw new UsageError(`--mode "${mode}": expected phone or safe`);
  return mode;
}

/** A file's bytes, or a UsageError naming the option and why it cannot be read (`-` is stdin). */
export function readFileOption(file: string, what: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
