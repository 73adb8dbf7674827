/**
 * The SQLite store's queries that can take long on a big log: the API's lists, the stream's replay, the
 * reports' sums, the outbox depth. Plain synchronous better-sqlite3 on whatever connection it is given: a
 * reader thread's read-only one for a file database (`sqlite-reader-worker.ts`, so a slow query never holds
 * up the receiver's event loop), or the only connection of an in-memory one.
 *
 * Every query is bounded by an index and its LIMIT (see `EXPLAIN QUERY PLAN` in test/store/query-plans.test.ts),
 * except where noted.
 */
import type Database from 'better-sqlite3';
import type { CallState } from '../domain/types.ts';
import { EVENT_COLUMNS, eventFromRow, REJECTED_COLUMNS, rejectedFromRow, type EventRow as StoredEventRow, type RejectedRow } from './event-rows.ts';
import { readCallStats, readHourStats, type StatsReader } from './call-stats.ts';
import { DELIVERY_COLUMNS, deliveryFromRow, type DeliveryRow } from './delivery-rows.ts';
import type {
  CallQuery,
  CallRecord,
  CallStatsRow,
  DeliveryQuery,
  EventFilter,
  EventQuery,
  HourStatsRow,
  RejectedQuery,
  StatsQuery,
  StoreCounts,
  StoredDelivery,
  StoredEvent,
  StoredRejected,
} from './types.ts';

type EventRow = StoredEventRow<string>;
type ChainRow = EventRow & { prev_id: number | null };

export const toEvent = (r: EventRow): StoredEvent => eventFromRow(r, JSON.parse);

type Param = string | number | readonly string[];

/**
 * A WHERE clause from the filters that are set (values stay parameters, never text in the SQL). A list
 * value is `column IN (?, ?, …)`: its clause is written `mac IN (?)`.
 */
function conditions(parts: [string, Param | undefined][]): { where: string; args: (string | number)[] } {
  const set = parts.filter((p): p is [string, Param] => p[1] !== undefined);
  const clauses = set.map(([clause, value]) =>
    typeof value === 'object' ? clause.replace('(?)', `(${value.map(() => '?').join(', ')})`) : clause,
  );
  return { where: set.length ? `WHERE ${clauses.join(' AND ')}` : '', args: set.flatMap((p) => p[1]) };
}

/** Statements with a list of phones are prepared per list length; longer lists are not worth caching. */
const CACHED_LIST_LENGTH = 64;

/**
 * Groups of up to this many phones have their events read along their phones' chains (each step picks the
 * newest of that many chain ends); bigger ones are walked newest first through every event, of which they
 * are then a good share anyway.
 */
export const GROUP_WALK = 256;

/**
 * The phones whose prev_id chains an events query walks (their newest event ids must come with it), or
 * undefined when it goes by SQL: a call id has an index that finds its few events at once, and a big group
 * is a good share of all events.
 */
export function chainPhones(q: EventQuery): readonly string[] | undefined {
  if (q.callId !== undefined) return undefined;
  if (q.mac !== undefined) return [q.mac];
  if (q.macs !== undefined && q.macs.length <= GROUP_WALK) return q.macs;
  return undefined;
}

/** Calls in a period read from the start-time index and sorted, rather than found walking every call. */
const NARROW_PERIOD = 20_000;

/** The read methods a reader thread answers by name (see `SqliteReads`). */
export type ReadOp = 'events' | 'eventsAfter' | 'calls' | 'rejected' | 'counts' | 'deliveries' | 'outboxDepth' | 'callStats' | 'hourStats';

export class SqliteReads {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly eventById: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.eventById = db.prepare(`SELECT ${EVENT_COLUMNS}, prev_id FROM events WHERE id = ?`);
  }

  /** Query statements are built from the filters given; each distinct one is prepared once. */
  private cached(sql: string, args: readonly unknown[] = []): Database.Statement {
    if (args.length > CACHED_LIST_LENGTH) return this.db.prepare(sql);
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /**
   * Events newest first. `heads` has the newest event id of each phone asked for (`q.mac`, or the phones of a
   * group `q.macs` when it has few enough: see GROUP_WALK), where that phone's prev_id chain starts; the
   * receiver keeps them in memory (the writer knows them).
   */
  events(q: EventQuery, heads?: Readonly<Record<string, number>>): StoredEvent[] {
    if (q.macs?.length === 0) return [];
    if (q.mac !== undefined && q.macs !== undefined && !q.macs.includes(q.mac)) return [];
    const walked = chainPhones(q);
    if (walked !== undefined) return this.eventsOfPhones(q, walked, heads ?? {});
    // `since` and `until` become id bounds too (ids grow with arrival time), and the time index is kept out
    // of the plan (`+received_at`): sorting every event of a period by id would take seconds on a log of
    // millions, while walking ids newest first between the two bounds stops after one page.
    const firstSince = q.since === undefined ? undefined : this.firstIdSince(q.since);
    const firstUntil = q.until === undefined ? undefined : this.firstIdSince(q.until);
    const before = firstUntil === undefined ? q.before : Math.min(firstUntil, q.before ?? Number.MAX_SAFE_INTEGER);
    // A big group (`macs`, more phones than GROUP_WALK) has no index of its own (see migration 3): its events
    // are found walking ids newest first, which reads more rows the smaller a share of the traffic it is.
    const { where, args } = conditions([
      ['mac = ?', q.mac],
      ['mac IN (?)', q.mac === undefined ? q.macs : undefined],
      ['incident = ?', q.incident],
      ['call_id = ?', q.callId],
      ['id >= ?', firstSince],
      ['+received_at >= ?', q.since],
      ['+received_at < ?', q.until],
      ['id < ?', before],
    ]);
    const sql = `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql, args).all(...args, q.limit) as EventRow[]).map(toEvent);
  }

  /** The first event id received at or after `at` (the time index answers it at once). */
  private firstIdSince(at: number): number {
    const row = this.cached('SELECT id FROM events WHERE received_at >= ? ORDER BY received_at, id LIMIT 1').get(at) as { id: number } | undefined;
    return row?.id ?? Number.MAX_SAFE_INTEGER;
  }

  /**
   * The events of a few phones, newest first, along their prev_id chains (see migration 3), merged: each step
   * reads the newest row not read yet of any chain, by primary key, so a page costs its rows plus one per
   * phone, however little of the whole log those phones are. A page after the first (`before` is the last
   * event of the page before) starts that event's phone right below it rather than walking down from its
   * newest again. A filter that matches few of a long history still walks far: that is one reason this runs
   * in a reader thread.
   */
  private eventsOfPhones(q: EventQuery, phones: readonly string[], heads: Readonly<Record<string, number>>): StoredEvent[] {
    const macs = [...new Set(phones)]; // one chain per phone, however often it is named
    const at: (number | null)[] = macs.map((mac) => heads[mac] ?? null);
    if (q.before !== undefined) {
      const cursor = this.eventById.get(q.before) as ChainRow | undefined;
      const i = cursor === undefined ? -1 : macs.indexOf(cursor.mac);
      if (i >= 0 && at[i] !== null && at[i]! >= q.before) at[i] = cursor!.prev_id;
    }
    const out: StoredEvent[] = [];
    while (out.length < q.limit) {
      let k = -1;
      for (let i = 0; i < at.length; i++) if (at[i] !== null && (k < 0 || at[i]! > at[k]!)) k = i;
      if (k < 0) break;
      const row = this.eventById.get(at[k]) as ChainRow | undefined;
      // Gone: older events were deleted by retention. Too old for `since`: so is the rest of the chain.
      if (!row || (q.since !== undefined && row.received_at < q.since)) {
        at[k] = null;
        continue;
      }
      at[k] = row.prev_id;
      if (q.before !== undefined && row.id >= q.before) continue;
      if (q.until !== undefined && row.received_at >= q.until) continue;
      if (q.incident !== undefined && row.incident !== q.incident) continue;
      if (q.callId !== undefined && (JSON.parse(row.vars) as Record<string, string>).call_id !== q.callId) continue;
      out.push(toEvent(row));
    }
    return out;
  }

  eventsAfter(afterId: number, limit: number, filter: EventFilter = {}): StoredEvent[] {
    const { where, args } = conditions([
      ['id > ?', afterId],
      ['mac = ?', filter.mac],
      ['incident = ?', filter.incident],
    ]);
    const sql = `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id LIMIT ?`;
    return (this.cached(sql).all(...args, limit) as EventRow[]).map(toEvent);
  }

  calls(q: CallQuery): CallRecord[] {
    if (q.macs?.length === 0) return [];
    // A period alone: SQLite would walk every call newest first, skipping those outside it, all of them for a
    // period with few calls. When the period holds few calls (counted on the start-time index, up to a cap),
    // read just those and sort them; otherwise the walk meets one soon enough.
    const period = q.mac === undefined && q.macs === undefined && q.outcome === undefined && (q.since !== undefined || q.until !== undefined);
    const narrow = period && this.fewCallsIn(q.since, q.until);
    const { where, args } = conditions([
      ['mac = ?', q.mac],
      ['mac IN (?)', q.macs],
      ['outcome = ?', q.outcome],
      ['started_at >= ?', q.since],
      ['started_at < ?', q.until],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT id, mac, state FROM calls ${narrow ? 'INDEXED BY calls_started ' : ''}${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql, args).all(...args, q.limit) as { id: number; mac: string; state: string }[]).map((r) => ({
      id: r.id,
      mac: r.mac,
      call: JSON.parse(r.state) as CallState,
    }));
  }

  /** True when fewer than NARROW_PERIOD calls started in the period. */
  private fewCallsIn(since: number | undefined, until: number | undefined): boolean {
    const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM calls WHERE started_at >= ? AND started_at < ? LIMIT ${NARROW_PERIOD})`;
    const { n } = this.cached(sql).get(since ?? Number.MIN_SAFE_INTEGER, until ?? Number.MAX_SAFE_INTEGER) as { n: number };
    return n < NARROW_PERIOD;
  }

  rejected(q: RejectedQuery): StoredRejected[] {
    const { where, args } = conditions([
      ['received_at >= ?', q.since],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT ${REJECTED_COLUMNS} FROM rejected ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql).all(...args, q.limit) as RejectedRow[]).map(rejectedFromRow);
  }

  /** Row counts: a whole-table count is a walk of its smallest index, seconds at tens of millions of rows. */
  counts(): StoreCounts {
    const one = (table: string) => (this.cached(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { events: one('events'), phones: one('phones'), calls: one('calls'), rejected: one('rejected') };
  }

  deliveries(q: DeliveryQuery): StoredDelivery[] {
    // Pending and failed rows are the outbox backlog, a few among millions delivered: read them from the due
    // index (then sorted, as many as the backlog) instead of letting the planner walk every row newest first.
    const due = q.state === 'pending' || q.state === 'failed';
    const { where, args } = conditions([
      ['state = ?', q.state],
      ['destination = ?', q.destination],
      ['id < ?', q.before],
    ]);
    const from = due ? 'deliveries INDEXED BY deliveries_due' : 'deliveries';
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM ${from} ${where}${due ? " AND state IN ('pending', 'failed')" : ''} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql).all(...args, q.limit) as DeliveryRow[]).map(deliveryFromRow);
  }

  /** Pending and failed deliveries per destination: a count over the due index, as long as the backlog. */
  outboxDepth(): Record<string, number> {
    const sql = "SELECT destination, count(*) AS n FROM deliveries WHERE state IN ('pending', 'failed') GROUP BY destination";
    const out: Record<string, number> = {};
    for (const r of this.cached(sql).all() as { destination: string; n: number }[]) out[r.destination] = r.n;
    return out;
  }

  // Report sums: the SQL both stores share (call-stats.ts), run here with SQLite's placeholders.
  callStats(q: StatsQuery): Promise<CallStatsRow[]> {
    return readCallStats(q, 'mac IN (?)', this.statsReader);
  }

  hourStats(q: StatsQuery): Promise<HourStatsRow[]> {
    return readHourStats(q, 'mac IN (?)', this.statsReader);
  }

  private readonly statsReader: StatsReader = async (parts, sql) => {
    const { where, args } = conditions(parts);
    return this.cached(sql(where), args).all(...args) as Record<string, unknown>[];
  };
}
