/**
 * Report figures from call summaries (see store/call-stats.ts): pure functions, no I/O.
 *
 * Definitions (docs/api.md, "Reports"): a call counts once it ended, in the period it started in.
 * - calls_in / calls_out: incoming / outgoing calls; `calls` also counts calls whose direction is unknown.
 * - answered_in: incoming calls answered; answered_out: outgoing calls the far end answered. Answered is the
 *   call log's outcome answered or transferred (domain/answered.ts): a call lost in a failed transfer is not.
 * - missed, rejected, forwarded: incoming calls that ended so.
 * - answer_rate: answered_in / calls_in.
 * - average_ring_seconds: start to answer, averaged over answered incoming calls.
 * - service_level: share of incoming calls answered within N seconds (N one of SERVICE_LEVEL_SECONDS).
 * - talk_seconds: answer to end, summed over answered calls of both directions.
 */
import { SERVICE_LEVEL_SECONDS, type CallStatsRow, type HourStatsRow } from '../store/types.ts';

export interface Figures {
  calls: number;
  calls_in: number;
  calls_out: number;
  answered_in: number;
  answered_out: number;
  missed: number;
  rejected: number;
  forwarded: number;
  /** 0..1, null without incoming calls. */
  answer_rate: number | null;
  average_ring_seconds: number | null;
  service_level: number | null;
  talk_seconds: number;
}

/** Sums rows (of one phone, account or group) into figures, for the service level at `slSeconds`. */
export function figuresOf(rows: readonly CallStatsRow[], slSeconds: number): Figures {
  const sl = SERVICE_LEVEL_SECONDS.indexOf(slSeconds as (typeof SERVICE_LEVEL_SECONDS)[number]);
  let calls = 0;
  let callsIn = 0;
  let callsOut = 0;
  let answeredIn = 0;
  let answeredOut = 0;
  let missed = 0;
  let rejected = 0;
  let forwarded = 0;
  let ringIn = 0;
  let talk = 0;
  let withinIn = 0;
  for (const r of rows) {
    calls += r.calls;
    talk += r.talkMs;
    if (r.direction === 'incoming') {
      callsIn += r.calls;
      answeredIn += r.answered;
      missed += r.missed;
      rejected += r.rejected;
      forwarded += r.forwarded;
      ringIn += r.ringMs;
      withinIn += r.answeredWithin[sl] ?? 0;
    } else if (r.direction === 'outgoing') {
      callsOut += r.calls;
      answeredOut += r.answered;
    }
  }
  return {
    calls,
    calls_in: callsIn,
    calls_out: callsOut,
    answered_in: answeredIn,
    answered_out: answeredOut,
    missed,
    rejected,
    forwarded,
    answer_rate: callsIn ? answeredIn / callsIn : null,
    average_ring_seconds: answeredIn ? ringIn / answeredIn / 1000 : null,
    service_level: callsIn ? withinIn / callsIn : null,
    talk_seconds: talk / 1000,
  };
}

/** Rows grouped by a key; a row may belong to several keys (a phone in two groups counts in both). */
export function groupRows(rows: readonly CallStatsRow[], keysOf: (row: CallStatsRow) => readonly string[]): Map<string, CallStatsRow[]> {
  const out = new Map<string, CallStatsRow[]>();
  for (const r of rows) {
    for (const key of keysOf(r)) {
      let list = out.get(key);
      if (!list) out.set(key, (list = []));
      list.push(r);
    }
  }
  return out;
}

/** `201@pbx.example.com` -> `201`: the extension a missed-calls list names. */
export function extensionOf(account: string): string {
  const at = account.lastIndexOf('@');
  return at === -1 ? account : account.slice(0, at);
}

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** A checked IANA time zone name, or undefined when the runtime does not know it. */
export function checkTimeZone(tz: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The local weekday (0 = Monday) and hour of an instant in a time zone. */
export function makeLocalClock(tz: string): (ms: number) => { weekday: number; hour: number } {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
  // One formatting per UTC day when the zone's offset does not change within it (almost always).
  const offsets = new Map<number, number | null>();
  const offsetAt = (ms: number): number => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23',
    }).formatToParts(ms);
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute')) - (ms - (ms % 60_000));
  };
  const direct = (ms: number) => {
    const parts = format.formatToParts(ms);
    const weekday = WEEKDAYS.indexOf(parts.find((p) => p.type === 'weekday')?.value as (typeof WEEKDAYS)[number]);
    return { weekday, hour: Number(parts.find((p) => p.type === 'hour')?.value) };
  };
  return (ms) => {
    const day = Math.floor(ms / 86_400_000);
    let offset = offsets.get(day);
    if (offset === undefined) {
      const start = offsetAt(day * 86_400_000);
      offset = start === offsetAt(day * 86_400_000 + 86_399_000) ? start : null;
      offsets.set(day, offset);
    }
    if (offset === null) return direct(ms);
    const local = new Date(ms + offset);
    return { weekday: (local.getUTCDay() + 6) % 7, hour: local.getUTCHours() };
  };
}

export interface HeatCell {
  weekday: number;
  hour: number;
  calls: number;
  answered: number;
  missed: number;
}

/** Calls per local weekday × hour: 7 × 24 cells, Monday 00:00 first. */
export function heatMap(rows: readonly HourStatsRow[], tz: string): HeatCell[] {
  const cells: HeatCell[] = [];
  for (let weekday = 0; weekday < 7; weekday++) {
    for (let hour = 0; hour < 24; hour++) cells.push({ weekday, hour, calls: 0, answered: 0, missed: 0 });
  }
  const clock = makeLocalClock(tz);
  for (const r of rows) {
    const { weekday, hour } = clock(Number(r.hour));
    const cell = cells[weekday * 24 + hour];
    if (!cell) continue;
    cell.calls += Number(r.calls);
    cell.answered += Number(r.answered);
    cell.missed += Number(r.missed);
  }
  return cells;
}
