/**
 * Checks of option values shared by several commands. The `…Arg` functions are commander argument parsers:
 * they throw `InvalidArgumentError`, which commander prints as one `error: option '--x' argument …` line
 * (exit code 2, see main.ts). The others throw UsageError for checks that need more than one option.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { ExpandMode } from '../core/templates.ts';
import { UsageError } from './errors.ts';

/** `--mode`: how a phone substitutes values into its URLs. */
export const EXPAND_MODES: readonly ExpandMode[] = ['phone', 'safe'];

/** The log levels pino knows, for `--log-level` choices. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A number within [min, max] (a whole number when `integer`), or undefined with the reason. */
function checkNumber(text: string, min: number, max: number, integer: boolean): number | string {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    return `expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`;
  }
  return n;
}

/** A number within [min, max] (a whole number when `integer`); a UsageError naming the flag otherwise. */
export function numberOption(text: string, flag: string, min: number, max: number, integer = false): number {
  const n = checkNumber(text, min, max, integer);
  if (typeof n === 'string') throw new UsageError(`${flag} "${text}": ${n}`);
  return n;
}

/** A commander parser for a number within [min, max]. */
export function numberArg(min: number, max: number, integer = false): (text: string) => number {
  return (text) => {
    const n = checkNumber(text, min, max, integer);
    // Commander puts this after "argument 'x' is invalid.", hence a sentence of its own.
    if (typeof n === 'string') throw new InvalidArgumentError(`${n[0].toUpperCase()}${n.slice(1)}.`);
    return n;
  };
}

/** A commander parser for a whole number within [min, max]. */
export const intArg = (min: number, max: number) => numberArg(min, max, true);

/** A commander parser for an on/off switch given as a value (flag or environment variable): on/off, true/false, yes/no, 1/0. */
export function switchArg(text: string): boolean {
  const v = text.trim().toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new InvalidArgumentError('Expected on or off (also true/false, yes/no, 1/0).');
}

/** A file's bytes, or a UsageError naming the option and why it cannot be read (`-` is stdin). */
export function readFileOption(file: string, what: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
