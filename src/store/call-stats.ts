/**
 * Call summaries for reports, kept as calls end: tables the database itself keeps up to date with a trigger
 * on `calls`, so every writer (the checkpoint, a replay, a migration) counts each call exactly once.
 *
 *   call_stats_hour  (hour,  mac, account, direction)   the hours at the ends of a period; group heat maps
 *   call_stats_day   (day,   mac, account, direction)   whole UTC days
 *   call_stats_week  (week,  mac, account, direction)   whole 7-day blocks counted from the epoch
 *   call_stats_block (block, mac, account, direction)   whole 28-day blocks counted from the epoch
 *   call_stats_site  (hour, direction)                  the heat map of the whole site
 *
 * A call counts once it has ended, in the hour, day, week and block it started in. Blocks nest (a block is
 * four weeks, a week seven days), so a period splits into a run of whole blocks in the middle and, at each
 * end, whole weeks, whole days and single hours (`splitPeriod`). A report over a year of a 1,000-phone site
 * so reads about 14 blocks × 2,000 rows plus the ends, instead of 365 days' rows or every call. When a stored
 * call changes (a late answer turns a missed call answered), the trigger takes its old contribution out and
 * puts the new one in; when it is deleted, takes it out.
 *
 * Both stores use the SQL built here, for the trigger and for the reports' reads (`readCallStats`,
 * `readHourStats`); only the trigger's wrapper (SQLite: trigger bodies, PostgreSQL: a PL/pgSQL function) and
 * the placeholders differ.
 */
import { ANSWERED_OUTCOMES } from '../domain/answered.ts';
import { accountIdOf } from '../domain/vars.ts';
import { SERVICE_LEVEL_SECONDS, type CallStatsRow, type HourStatsRow, type StatsQuery } from './types.ts';

/** The account a call is counted under: its `$local` as `user@host` (`sip:201@PBX;x=y` -> `201@pbx`). */
export function accountOfCall(local: string): string {
  return accountIdOf({ active_url: local });
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
export const BLOCK_MS = 28 * DAY_MS;

/** The per-phone summary tables from finest to coarsest: each bucket size divides the next. */
export const TIERS = [
  { table: 'call_stats_hour', column: 'hour', size: HOUR_MS },
  { table: 'call_stats_day', column: 'day', size: DAY_MS },
  { table: 'call_stats_week', column: 'week', size: WEEK_MS },
  { table: 'call_stats_block', column: 'block', size: BLOCK_MS },
] as const;

/** Counter columns, in the order of CallStatsRow's fields (answered within N s last). */
export const COUNTERS = [
  'calls',
  'answered',
  'missed',
  'rejected',
  'forwarded',
  'ring_ms',
  'talk_ms',
  ...SERVICE_LEVEL_SECONDS.map((s) => `within_${s}s`),
] as const;

/** What one call adds to each counter: SQL over the call row `r`, times `sign` (an SQL expression). */
function contributions(r: string, sign: string): string[] {
  // An answered call as domain/answered.ts defines it.
  const answered = `(${r}.answered_at IS NOT NULL AND ${r}.outcome IN (${ANSWERED_OUTCOMES.map((o) => `'${o}'`).join(', ')}))`;
  const flag = (cond: string) => `${sign} * (CASE WHEN ${cond} THEN 1 ELSE 0 END)`;
  return [
    sign,
    flag(answered),
    flag(`${r}.outcome = 'missed'`),
    flag(`${r}.outcome = 'rejected'`),
    flag(`${r}.outcome = 'forwarded'`),
    `${sign} * (CASE WHEN ${answered} THEN ${r}.answered_at - ${r}.started_at ELSE 0 END)`,
    `${sign} * (CASE WHEN ${answered} THEN ${r}.ended_at - ${r}.answered_at ELSE 0 END)`,
    ...SERVICE_LEVEL_SECONDS.map((s) => flag(`${answered} AND ${r}.answered_at - ${r}.started_at <= ${s * 1000}`)),
  ];
}

interface StatsTable {
  name: string;
  /** Key columns and the SQL for each from the call row `r`. */
  keys: [string, (r: string) => string][];
}

const bucket = (size: number) => (r: string) => `${r}.started_at - (${r}.started_at % ${size})`;

export const STATS_TABLES: readonly StatsTable[] = [
  ...TIERS.map((tier) => ({
    name: tier.table,
    keys: [[tier.column, bucket(tier.size)], ['mac', (r: string) => `${r}.mac`], ['account', (r: string) => `${r}.account`], ['direction', (r: string) => `${r}.direction`]] as StatsTable['keys'],
  })),
  { name: 'call_stats_site', keys: [['hour', bucket(HOUR_MS)], ['direction', (r) => `${r}.direction`]] },
];

/** CREATE TABLE for each summary table; `int` is the dialect's 64-bit integer type. */
export function statsTablesSql(int: string): string {
  const tables = STATS_TABLES.map((t) => {
    const keys = t.keys.map(([k]) => `${k} ${k === 'mac' || k === 'account' || k === 'direction' ? 'TEXT' : int} NOT NULL`);
    const counters = COUNTERS.map((c) => `${c} ${int} NOT NULL`);
    return `CREATE TABLE ${t.name} (${[...keys, ...counters].join(', ')}, PRIMARY KEY (${t.keys.map(([k]) => k).join(', ')}));`;
  });
  // A group's heat map reads its phones' hours, not every phone's.
  return [...tables, 'CREATE INDEX call_stats_hour_mac ON call_stats_hour (mac, hour);'].join('\n');
}

/** The upserts that add call row `r` (times `sign`) to every summary table. */
export function statsUpsertsSql(r: string, sign: string): string {
  const values = contributions(r, sign);
  return STATS_TABLES.map((t) => {
    const keys = t.keys.map(([k]) => k);
    const sets = COUNTERS.map((c) => `${c} = ${t.name}.${c} + excluded.${c}`).join(', ');
    return `INSERT INTO ${t.name} (${[...keys, ...COUNTERS].join(', ')})
      VALUES (${[...t.keys.map(([, expr]) => expr(r)), ...values].join(', ')})
      ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${sets};`;
  }).join('\n');
}

/**
 * Empties the summary tables and fills them again from the calls stored: for a database whose summaries
 * were counted by an older definition (its trigger is replaced in the same migration).
 */
export function statsRecountSql(): string {
  return [...STATS_TABLES.map((t) => `DELETE FROM ${t.name};`), statsBackfillSql()].join('\n');
}

/** Fills the summary tables from the calls already stored (a database that had calls before migration). */
export function statsBackfillSql(): string {
  const values = contributions('c', '1');
  return STATS_TABLES.map((t) => {
    const keys = t.keys.map(([k, expr]) => `${expr('c')} AS ${k}`);
    const sums = values.map((v, i) => `sum(${v}) AS ${COUNTERS[i]}`);
    return `INSERT INTO ${t.name} (${[...t.keys.map(([k]) => k), ...COUNTERS].join(', ')})
      SELECT ${[...keys, ...sums].join(', ')} FROM calls c WHERE c.ended_at IS NOT NULL GROUP BY ${t.keys.map(([k]) => k).join(', ')};`;
  }).join('\n');
}

/** A range of one summary table that part of a period reads: `column >= from AND column < to`. */
export interface PeriodPart {
  table: string;
  column: string;
  from: number;
  to: number;
}

/**
 * The parts of a period (whole hours) each table answers: the whole blocks in the middle from the block
 * table, then at each end the whole weeks, days and hours left, from their tables.
 */
export function splitPeriod(q: { from: number; to: number }, tier = TIERS.length - 1): PeriodPart[] {
  if (q.from >= q.to) return [];
  const { table, column, size } = TIERS[tier];
  if (tier === 0) return [{ table, column, from: q.from, to: q.to }];
  const first = Math.ceil(q.from / size) * size;
  const last = Math.floor(q.to / size) * size;
  if (first >= last) return splitPeriod(q, tier - 1);
  return [...splitPeriod({ from: q.from, to: first }, tier - 1), { table, column, from: first, to: last }, ...splitPeriod({ from: last, to: q.to }, tier - 1)];
}

/** The SELECT list of summed counters, named as CallStatsRow reading expects. */
export const SUMMED = COUNTERS.map((c) => `sum(${c}) AS ${c}`).join(', ');

/** Adds summed rows (one per mac, account, direction, from any number of partial queries) into `into`. */
export function mergeStats(into: Map<string, CallStatsRow>, rows: readonly Record<string, unknown>[]): void {
  for (const r of rows) {
    const mac = String(r.mac);
    const account = String(r.account);
    const direction = String(r.direction);
    const key = `${mac}\u0000${account}\u0000${direction}`;
    let row = into.get(key);
    if (!row) {
      row = {
        mac,
        account,
        direction,
        calls: 0,
        answered: 0,
        missed: 0,
        rejected: 0,
        forwarded: 0,
        ringMs: 0,
        talkMs: 0,
        answeredWithin: SERVICE_LEVEL_SECONDS.map(() => 0),
      };
      into.set(key, row);
    }
    row.calls += Number(r.calls);
    row.answered += Number(r.answered);
    row.missed += Number(r.missed);
    row.rejected += Number(r.rejected);
    row.forwarded += Number(r.forwarded);
    row.ringMs += Number(r.ring_ms);
    row.talkMs += Number(r.talk_ms);
    SERVICE_LEVEL_SECONDS.forEach((s, i) => (row.answeredWithin[i] += Number(r[`within_${s}s`])));
  }
}

/** Rows that still count something (a call that changed leaves a zero row behind). */
export function nonEmpty(rows: Iterable<CallStatsRow>): CallStatsRow[] {
  return [...rows].filter((r) => r.calls !== 0);
}

/** A condition with a `?` for its value (a list of MACs: `mac IN (?)`); an undefined value leaves it out. */
export type StatsCondition = [clause: string, value: number | readonly string[] | undefined];

/**
 * How a store runs one report query: it turns the conditions into its own WHERE clause and arguments, and
 * `sql(where)` into the statement. Only that differs between the stores; what is read and how it adds up is
 * here.
 */
export type StatsReader = (conditions: StatsCondition[], sql: (where: string) => string) => Promise<readonly Record<string, unknown>[]>;

/**
 * Call summaries per phone, account and direction over a period: each part of it read from its table
 * (`splitPeriod`), added up. `macIn` is the store's spelling of "mac is one of the list" (`mac IN (?)`,
 * `mac = ANY(?)`).
 */
export async function readCallStats(q: StatsQuery, macIn: string, read: StatsReader): Promise<CallStatsRow[]> {
  if (q.macs?.length === 0) return [];
  const parts = await Promise.all(
    splitPeriod(q).map(({ table, column, from, to }) =>
      read([[`${column} >= ?`, from], [`${column} < ?`, to], [macIn, q.macs]], (where) =>
        `SELECT mac, account, direction, ${SUMMED} FROM ${table} ${where} GROUP BY mac, account, direction`),
    ),
  );
  const merged = new Map<string, CallStatsRow>();
  for (const rows of parts) mergeStats(merged, rows);
  return nonEmpty(merged.values());
}

/** Calls per hour and direction (heat maps): the whole site has a table of its own; a group sums its phones' hours. */
export async function readHourStats(q: StatsQuery, macIn: string, read: StatsReader): Promise<HourStatsRow[]> {
  if (q.macs?.length === 0) return [];
  // BIGINT: PostgreSQL's sum of bigints is numeric, which its client hands back as a string.
  const sum = (c: string) => `CAST(sum(${c}) AS BIGINT) AS ${c}`;
  const rows = await read([['hour >= ?', q.from], ['hour < ?', q.to], [macIn, q.macs]], (where) =>
    q.macs === undefined
      ? `SELECT hour, direction, calls, answered, missed FROM call_stats_site ${where} AND calls <> 0`
      : `SELECT hour, direction, ${sum('calls')}, ${sum('answered')}, ${sum('missed')}
         FROM call_stats_hour ${where} GROUP BY hour, direction HAVING sum(calls) <> 0`);
  return rows.map((r) => ({ hour: Number(r.hour), direction: String(r.direction), calls: Number(r.calls), answered: Number(r.answered), missed: Number(r.missed) }));
}
