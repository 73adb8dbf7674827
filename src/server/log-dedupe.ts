/**
 * Repeated identical warnings and errors are logged once per interval, with a count: a full disk or a
 * database that is away makes every request fail the same way, and thousands of identical lines a minute
 * bury the one line that says what happened (and fill the disk further). The first one is logged at once;
 * the same message (with the same error text) again within the interval is counted, not written, and the
 * next one after the interval carries `repeated: N`. Info and debug lines pass untouched.
 *
 * A pino `logMethod` hook, so every logger call goes through it without callers doing anything.
 */
import type { LogFn, Logger } from 'pino';

export const DEDUPE_WINDOW_MS = 10_000;
/** Distinct messages remembered; beyond this the oldest are forgotten (so unbounded input cannot grow it). */
const MAX_KEYS = 1000;
const WARN = 40;

function keyOf(level: number, args: unknown[]): string {
  const text = args.filter((a) => typeof a === 'string').join(' ');
  const first = args[0] as { err?: { message?: unknown }; message?: unknown } | null;
  const err = first && typeof first === 'object' ? String(first.err?.message ?? (first instanceof Error ? first.message : '')) : '';
  return `${level}|${text}|${err}`;
}

export function dedupeLogHook(windowMs = DEDUPE_WINDOW_MS, now: () => number = Date.now) {
  const seen = new Map<string, { until: number; suppressed: number }>();
  return function logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn, level: number): void {
    if (level < WARN) return method.apply(this, args);
    const key = keyOf(level, args);
    const t = now();
    const entry = seen.get(key);
    if (entry && entry.until > t) {
      entry.suppressed++;
      return;
    }
    let out: unknown[] = args;
    if (entry && entry.suppressed > 0) {
      const first = args[0];
      out = first && typeof first === 'object' && !(first instanceof Error)
        ? [{ ...first, repeated: entry.suppressed }, ...args.slice(1)]
        : [{ ...(first instanceof Error ? { err: first } : {}), repeated: entry.suppressed }, ...(first instanceof Error ? args.slice(1) : args)];
    }
    seen.delete(key);
    seen.set(key, { until: t + windowMs, suppressed: 0 });
    if (seen.size > MAX_KEYS) seen.delete(seen.keys().next().value!);
    (method as (...a: unknown[]) => void).apply(this, out);
  };
}
