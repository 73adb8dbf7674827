/**
 * The PostgreSQL store's reads, on its pool of connections (writes have a connection of their own, see
 * pg-writes.ts): the API's lists, the stream's replay, the phones' stored states at start-up, the outbox,
 * settings, control settings and commands, the reports' sums. `PostgresStore` (postgres.ts) is these reads
 * with the writes added.
 */
import type pg from 'pg';
import type { CallState, PhoneState } from '../domain/types.ts';
import { readCallStats, readHourStats, type StatsReader } from './call-stats.ts';
import { commandFromRow, SELECT_COMMAND_SQL, type CommandRow } from './command-rows.ts';
import { DELIVERY_COLUMNS, deliveryFromRow, type DeliveryRow } from './delivery-rows.ts';
import { EVENT_COLUMNS, eventFromRow, REJECTED_COLUMNS, rejectedFromRow, type EventRow as StoredEventRow } from './event-rows.ts';
import { text } from './pg-ingest.ts';
import type {
  CallQuery,
  CallRecord,
  CallStatsRow,
  DeliveryQuery,
  EventFilter,
  EventQuery,
  HourStatsRow,
  InventoryEntry,
  RejectedQuery,
  StatsQuery,
  StoreCounts,
  StoredCommand,
  StoredControl,
  StoredDelivery,
  StoredEvent,
  StoredRejected,
} from './types.ts';

type EventRow = StoredEventRow<Record<string, string>>;
const toEvent = (r: EventRow): StoredEvent => eventFromRow(r, (v) => v);

type Param = string | number | readonly string[];

/** `WHERE` from the filters that are set, numbering parameters from `first`. A list is one array parameter. */
function conditions(parts: [string, Param | undefined][], first = 1): { where: string; args: Param[] } {
  const set = parts.filter((p): p is [string, Param] => p[1] !== undefined);
  const clauses = set.map((p, i) => p[0].replace('?', `$${first + i}`));
  const value = (v: Param): Param => (typeof v === 'string' ? text(v) : typeof v === 'number' ? v : v.map(text));
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', args: set.map((p) => value(p[1])) };
}

export class PgReads {
  constructor(protected readonly pool: pg.Pool) {}

  async loadPhones(): Promise<PhoneState[]> {
    const res = await this.pool.query<{ state: PhoneState }>('SELECT state FROM phones');
    return res.rows.map((r) => r.state);
  }

  async stateCheckpoint(): Promise<number> {
    const res = await this.pool.query<{ value: number }>("SELECT value FROM receiver_state WHERE key = 'state_event_id'");
    return res.rows[0]?.value ?? 0;
  }

  async events(q: EventQuery): Promise<StoredEvent[]> {
    if (q.macs?.length === 0) return [];
    const { where, args } = conditions([
      ['mac = ?', q.mac],
      ['mac = ANY(?)', q.macs],
      ['incident = ?', q.incident],
      ['call_id = ?', q.callId],
      ['received_at >= ?', q.since],
      ['received_at < ?', q.until],
      ['id < ?', q.before],
    ]);
    const res = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT $${args.length + 1}`,
      [...args, q.limit],
    );
    return res.rows.map(toEvent);
  }

  async eventsAfter(afterId: number, limit: number, filter: EventFilter = {}): Promise<StoredEvent[]> {
    const { where, args } = conditions([
      ['id > ?', afterId],
      ['mac = ?', filter.mac],
      ['incident = ?', filter.incident],
    ]);
    const res = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id LIMIT $${args.length + 1}`,
      [...args, limit],
    );
    return res.rows.map(toEvent);
  }

  async lastEventId(): Promise<number> {
    // The sequence, not max(id): ids stay unique even when retention deleted the newest rows.
    const res = await this.pool.query<{ last_value: number; is_called: boolean }>('SELECT last_value, is_called FROM events_id_seq');
    const row = res.rows[0];
    return row && row.is_called ? row.last_value : 0;
  }

  async calls(q: CallQuery): Promise<CallRecord[]> {
    if (q.macs?.length === 0) return [];
    const { where, args } = conditions([
      ['mac = ?', q.mac],
      ['mac = ANY(?)', q.macs],
      ['outcome = ?', q.outcome],
      ['started_at >= ?', q.since],
      ['started_at < ?', q.until],
      ['id < ?', q.before],
    ]);
    const res = await this.pool.query<{ id: number; mac: string; state: CallState }>(
      `SELECT id, mac, state FROM calls ${where} ORDER BY id DESC LIMIT $${args.length + 1}`,
      [...args, q.limit],
    );
    return res.rows.map((r) => ({ id: r.id, mac: r.mac, call: r.state }));
  }

  async rejected(q: RejectedQuery): Promise<StoredRejected[]> {
    const { where, args } = conditions([
      ['received_at >= ?', q.since],
      ['id < ?', q.before],
    ]);
    const res = await this.pool.query(
      `SELECT ${REJECTED_COLUMNS} FROM rejected ${where} ORDER BY id DESC LIMIT $${args.length + 1}`,
      [...args, q.limit],
    );
    return res.rows.map(rejectedFromRow);
  }

  async setting(key: string): Promise<string | undefined> {
    const res = await this.pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return res.rows[0]?.value;
  }

  async counts(): Promise<StoreCounts> {
    const res = await this.pool.query<StoreCounts>(
      `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM phones)::int AS phones,
              (SELECT count(*) FROM calls)::int AS calls, (SELECT count(*) FROM rejected)::int AS rejected`,
    );
    return res.rows[0];
  }

  async eventsByIds(ids: readonly number[]): Promise<StoredEvent[]> {
    if (ids.length === 0) return [];
    const res = await this.pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::bigint[])`, [ids]);
    return res.rows.map(toEvent);
  }

  async deliveries(q: DeliveryQuery): Promise<StoredDelivery[]> {
    const { where, args } = conditions([
      ['state = ?', q.state],
      ['destination = ?', q.destination],
      ['id < ?', q.before],
    ]);
    const res = await this.pool.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries ${where} ORDER BY id DESC LIMIT $${args.length + 1}`,
      [...args, q.limit],
    );
    return res.rows.map(deliveryFromRow);
  }

  async delivery(id: number): Promise<StoredDelivery | undefined> {
    const res = await this.pool.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = $1`, [id]);
    return res.rows[0] && deliveryFromRow(res.rows[0]);
  }

  async deliveriesDue(destination: string, afterId: number, limit: number, shards?: readonly number[]): Promise<StoredDelivery[]> {
    if (shards?.length === 0) return [];
    const res = await this.pool.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE destination = $1 AND id > $2 AND state IN ('pending', 'failed')
       ${shards ? 'AND shard = ANY($4::smallint[])' : ''} ORDER BY id LIMIT $3`,
      shards ? [destination, afterId, limit, shards] : [destination, afterId, limit],
    );
    return res.rows.map(deliveryFromRow);
  }

  async outboxDepth(): Promise<Record<string, number>> {
    const res = await this.pool.query<{ destination: string; n: number }>(
      "SELECT destination, count(*)::int AS n FROM deliveries WHERE state IN ('pending', 'failed') GROUP BY destination",
    );
    return Object.fromEntries(res.rows.map((r) => [r.destination, r.n]));
  }

  async loadInventory(): Promise<InventoryEntry[]> {
    const res = await this.pool.query<{ mac: string; name: string; location: string; groups: string[] }>('SELECT mac, name, location, groups FROM inventory');
    return res.rows.map((r) => ({ mac: r.mac, name: r.name, location: r.location, groups: r.groups }));
  }

  async forgottenPhones(): Promise<Map<string, number>> {
    const res = await this.pool.query<{ mac: string; up_to_event_id: number }>('SELECT mac, up_to_event_id FROM forgotten_phones');
    return new Map(res.rows.map((r) => [r.mac, r.up_to_event_id]));
  }

  callStats(q: StatsQuery): Promise<CallStatsRow[]> {
    return readCallStats(q, 'mac = ANY(?)', this.statsReader);
  }

  hourStats(q: StatsQuery): Promise<HourStatsRow[]> {
    return readHourStats(q, 'mac = ANY(?)', this.statsReader);
  }

  private readonly statsReader: StatsReader = async (parts, sql) => {
    const { where, args } = conditions(parts);
    return (await this.pool.query(sql(where), args)).rows as Record<string, unknown>[];
  };

  async controlSettings(): Promise<StoredControl[]> {
    const res = await this.pool.query<{ mac: string; url: string | null; vendor: string | null; credentials: Buffer | null; updated_at: number }>(
      'SELECT mac, url, vendor, credentials, updated_at FROM phone_control',
    );
    return res.rows.map((r) => ({ mac: r.mac, url: r.url, vendor: r.vendor, credentials: r.credentials, updatedAt: Number(r.updated_at) }));
  }

  async command(id: string): Promise<StoredCommand | undefined> {
    const res = await this.pool.query<CommandRow>(`${SELECT_COMMAND_SQL} WHERE id = $1`, [text(id)]);
    return res.rows[0] && commandFromRow(res.rows[0]);
  }

  async commands(q: { mac?: string; limit: number }): Promise<StoredCommand[]> {
    const res = q.mac === undefined
      ? await this.pool.query<CommandRow>(`${SELECT_COMMAND_SQL} ORDER BY seq DESC LIMIT $1`, [q.limit])
      : await this.pool.query<CommandRow>(`${SELECT_COMMAND_SQL} WHERE mac = $1 ORDER BY seq DESC LIMIT $2`, [q.mac, q.limit]);
    return res.rows.map(commandFromRow);
  }
}
