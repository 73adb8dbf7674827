/**
 * Time spans as people type them on the command line and in API queries: `90m`, `24h`, `7d`, `500ms`,
 * `30s`, `2w`; and `since=` values, which are either such a span (that long ago) or an ISO 8601 time.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a span like `90m`, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

/** Epoch ms for a `since` value: a span back from `now`, or an ISO time. Undefined when it is neither. */
export function parseSince(text: string, now: number): number | undefined {
  const span = parseDuration(text);
  if (span !== undefined) return now - span;
  // Only ISO-like input: Date.parse accepts much else ("1", "May") that would surprise a user.
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const at = Date.parse(text.trim());
  return Number.isNaN(at) ? undefined : at;
}
