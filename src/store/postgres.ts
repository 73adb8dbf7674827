/**
 * The PostgreSQL store: `--db postgres://user@host:5432/db` (add `?schema=name` to keep the tables in a
 * schema of their own; it is created if missing). Same Store interface as SQLite.
 *
 * Writes go one at a time, in order, on one connection (each batch one transaction), so event ids grow in
 * commit order as the group commit and the stream rely on; reads use a small pool. With PostgreSQL's default
 * `synchronous_commit = on`, a COMMIT returns once the transaction is flushed to its write-ahead log: the
 * receiver's 200 still means "on disk".
 */
import pg from 'pg';
import type { CallState, PhoneState } from '../domain/types.ts';
import { EVENT_COLUMNS, eventFromRow, type EventRow as StoredEventRow } from './event-rows.ts';
import { redactDbUrl } from './db-url.ts';
import { StoreConfigError } from './store-config-error.ts';
import { DELIVERY_COLUMNS, deliveryFromRow, type DeliveryRow } from './delivery-rows.ts';
import { accountOfCall, mergeStats, nonEmpty, splitPeriod, statsBackfillSql, statsTablesSql, statsUpsertsSql, SUMMED } from './call-stats.ts';
import type {
  DeliveryQuery,
  DeliveryUpdate,
  NewDelivery,
  StoredDelivery,
  CallQuery,
  CallRecord,
  CallStatsRow,
  EventFilter,
  EventQuery,
  ForgetPhone,
  HourStatsRow,
  InventoryEntry,
  StatsQuery,
  RejectedQuery,
  Store,
  StoreCounts,
  StoredEvent,
  StoredControl,
  StoredRejected,
  WriteBatch,
} from './types.ts';

interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Work SQL alone cannot do, after `sql`, in the same transaction. */
  run?(c: pg.PoolClient): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, phones, calls, rejected, receiver state',
    sql: `
      CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        received_at BIGINT NOT NULL,
        mac TEXT NOT NULL,
        incident TEXT NOT NULL,
        call_id TEXT,
        vars JSON NOT NULL,
        extra JSON NOT NULL,
        raw_target BYTEA NOT NULL,
        source_ip TEXT NOT NULL
      );
      CREATE INDEX events_mac ON events (mac, id);
      CREATE INDEX events_incident ON events (incident, id);
      CREATE INDEX events_call ON events (call_id, id) WHERE call_id IS NOT NULL;
      CREATE INDEX events_time ON events (received_at);

      CREATE TABLE phones (
        mac TEXT PRIMARY KEY,
        ip TEXT NOT NULL,
        model TEXT NOT NULL,
        firmware TEXT NOT NULL,
        accounts JSON NOT NULL,
        registered BOOLEAN,
        dnd BOOLEAN NOT NULL,
        presence TEXT NOT NULL,
        state JSON NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        last_event_id BIGINT NOT NULL
      );

      -- Phones reuse their call ids (a counter restarting at boot), so a call is one (mac, call_id, start).
      CREATE TABLE calls (
        id BIGSERIAL PRIMARY KEY,
        mac TEXT NOT NULL,
        call_id TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        direction TEXT NOT NULL,
        remote TEXT NOT NULL,
        display_remote TEXT NOT NULL,
        local TEXT NOT NULL,
        answered_at BIGINT,
        ended_at BIGINT,
        outcome TEXT NOT NULL,
        ring_ms BIGINT,
        talk_ms BIGINT,
        state JSON NOT NULL,
        last_event_id BIGINT NOT NULL,
        UNIQUE (mac, call_id, started_at)
      );
      CREATE INDEX calls_mac ON calls (mac, id);
      CREATE INDEX calls_outcome ON calls (outcome, id);
      CREATE INDEX calls_started ON calls (started_at);

      CREATE TABLE rejected (
        id BIGSERIAL PRIMARY KEY,
        received_at BIGINT NOT NULL,
        source_ip TEXT NOT NULL,
        method TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT NOT NULL,
        raw_target BYTEA NOT NULL,
        count INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX rejected_time ON rejected (received_at);

      CREATE TABLE receiver_state (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'forwarding outbox (deliveries)',
    sql: `
      -- One row per (event, destination): written in the same transaction as the event (the outbox), then
      -- updated with each attempt's outcome. Derived events (call.ended, …) carry a dedupe_key so deriving
      -- them again after a crash stores them once.
      CREATE TABLE deliveries (
        id BIGSERIAL PRIMARY KEY,
        destination TEXT NOT NULL,
        type TEXT NOT NULL,
        mac TEXT NOT NULL,
        event_id BIGINT,
        created_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at BIGINT NOT NULL,
        last_error TEXT,
        last_status INTEGER,
        last_attempt_at BIGINT,
        delivered_at BIGINT,
        body TEXT,
        dedupe_key TEXT
      );
      CREATE INDEX deliveries_due ON deliveries (destination, id) WHERE state IN ('pending', 'failed');
      CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';
      CREATE UNIQUE INDEX deliveries_dedupe ON deliveries (destination, dedupe_key) WHERE dedupe_key IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'phone inventory, forgotten phones, call summaries for reports',
    sql: `
      CREATE TABLE inventory (mac TEXT PRIMARY KEY, name TEXT NOT NULL, location TEXT NOT NULL, groups JSON NOT NULL);
      -- A forgotten phone's newest event id: a restart does not replay its events into a new state.
      CREATE TABLE forgotten_phones (mac TEXT PRIMARY KEY, up_to_event_id BIGINT NOT NULL);
      -- The account (user@host of $local) a call summary counts it under; set when the call is stored.
      ALTER TABLE calls ADD COLUMN account TEXT NOT NULL DEFAULT '';
      ${statsTablesSql('BIGINT')}
    `,
    async run(c) {
      const calls = await c.query<{ id: number; local: string }>('SELECT id, local FROM calls');
      for (const row of calls.rows) await c.query('UPDATE calls SET account = $1 WHERE id = $2', [text(accountOfCall(row.local)), row.id]);
      await c.query(statsBackfillSql());
      await c.query(`
        CREATE FUNCTION call_stats_add(r calls, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $fn$
        BEGIN ${statsUpsertsSql('r', 'sign')} END $fn$;
        CREATE FUNCTION calls_stats_trigger() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            IF OLD.ended_at IS NOT NULL THEN PERFORM call_stats_add(OLD, -1); END IF;
          END IF;
          IF TG_OP <> 'DELETE' THEN
            IF NEW.ended_at IS NOT NULL THEN PERFORM call_stats_add(NEW, 1); END IF;
          END IF;
          RETURN NULL;
        END $fn$;
        CREATE TRIGGER calls_stats AFTER INSERT OR UPDATE OR DELETE ON calls FOR EACH ROW EXECUTE FUNCTION calls_stats_trigger();
      `);
    },
  },
  {
    version: 4,
    name: 'receiver settings',
    sql: `
      -- Text values every receiver on this database shares: 'admin_token' is the token the first one generated
      -- for dashboard and API access from other machines, so a sign-in link works on each of them.
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    version: 5,
    name: 'remote-control settings per phone',
    sql: `
      -- credentials: sealed with AES-256-GCM under a key kept outside the database (docs/control.md).
      CREATE TABLE phone_control (
        mac TEXT PRIMARY KEY,
        url TEXT,
        vendor TEXT,
        credentials BYTEA,
        updated_at BIGINT NOT NULL
      );
    `,
  },
];

// BIGINT columns come back as strings by default; ours (epoch ms, ids) fit in a double. Set on our pool only.
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * PostgreSQL text cannot hold a NUL character, and phones' values are hostile: a `%00` in a display name
 * would fail the whole batch. Text columns get U+FFFD instead; JSON columns are `json` (not `jsonb`), which
 * keeps `\u0000` escapes as sent.
 */
function text(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

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

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** `postgres://…?schema=s` -> the URL without it, and the schema. */
export function splitSchema(url: string): { url: string; schema?: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreConfigError(`--db: schema "${schema}" must be lower-case letters, digits and _`);
  }
  return { url: u.toString(), schema };
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly description: string;
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly writer: pg.PoolClient,
    url: string,
  ) {
    this.description = `postgres ${redactDbUrl(url)}`;
  }

  /** Connects, creates the schema if asked for, and migrates. */
  static async connect(url: string): Promise<PostgresStore> {
    const { url: plain, schema } = splitSchema(url);
    // Every connection starts with the schema on its search path (it is created below if missing).
    // A host that never answers (firewall, wrong address) must not hang the start: give up after 10 s.
    const pool = new pg.Pool({
      connectionString: plain, max: 4, types: TYPES, connectionTimeoutMillis: 10_000,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    pool.on('error', () => {}); // an idle client's error; the next query reports the problem
    let writer: pg.PoolClient;
    try {
      writer = await pool.connect();
    } catch (err) {
      await pool.end();
      throw new StoreConfigError(
        `--db ${redactDbUrl(url)}: cannot connect: ${oneLine((err as Error).message)}; check the host, port, user, password and database name, and that PostgreSQL is running`,
      );
    }
    try {
      if (schema) await writer.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await migrate(writer);
    } catch (err) {
      writer.release();
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool, writer, url);
  }

  /** Runs writes one after another on the writer connection, in the order they were asked for. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => {});
    return run;
  }

  write(batch: WriteBatch): Promise<StoredEvent[]> {
    return this.serial(async () => {
      const c = this.writer;
      await c.query('BEGIN');
      try {
        let ids: number[] = [];
        if (batch.events.length) {
          const e = batch.events;
          const res = await c.query<{ id: number }>(
            `INSERT INTO events (received_at, mac, incident, call_id, vars, extra, raw_target, source_ip)
             SELECT t.received_at, t.mac, t.incident, t.call_id, t.vars, t.extra, t.raw_target, t.source_ip
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::json[], $6::json[], $7::bytea[], $8::text[])
               WITH ORDINALITY AS t(received_at, mac, incident, call_id, vars, extra, raw_target, source_ip, n)
             ORDER BY t.n
             RETURNING id`,
            [
              e.map((x) => x.receivedAt),
              e.map((x) => x.mac),
              e.map((x) => x.incident),
              e.map((x) => (x.vars.call_id ? text(x.vars.call_id) : null)),
              e.map((x) => JSON.stringify(x.vars)),
              e.map((x) => JSON.stringify(x.extra)),
              e.map((x) => x.rawTarget),
              e.map((x) => text(x.sourceIp)),
            ],
          );
          // Ids are drawn in insertion order, which ORDER BY n made the input order.
          ids = res.rows.map((r) => r.id).sort((a, b) => a - b);
        }
        if (batch.routes?.length) await insertRoutes(c, batch, ids);
        if (batch.deliveries?.length) await insertDeliveries(c, batch.deliveries);
        for (const r of batch.rejected) {
          await c.query(
            'INSERT INTO rejected (received_at, source_ip, method, status, reason, raw_target, count) VALUES ($1, $2, $3, $4, $5, $6, $7)',
            [r.receivedAt, text(r.sourceIp), text(r.method), r.status, text(r.reason), r.rawTarget, r.count],
          );
        }
        for (const p of batch.phones ?? []) await upsertPhone(c, p);
        for (const { mac, call } of batch.calls ?? []) await upsertCall(c, mac, call);
        for (const entry of batch.inventory ?? []) {
          await c.query(
            `INSERT INTO inventory (mac, name, location, groups) VALUES ($1, $2, $3, $4)
             ON CONFLICT (mac) DO UPDATE SET name = excluded.name, location = excluded.location, groups = excluded.groups`,
            [entry.mac, text(entry.name), text(entry.location), JSON.stringify(entry.groups)],
          );
        }
        if (batch.stateEventId !== undefined) {
          await c.query(
            `INSERT INTO receiver_state (key, value) VALUES ('state_event_id', $1)
             ON CONFLICT (key) DO UPDATE SET value = GREATEST(receiver_state.value, excluded.value)`,
            [batch.stateEventId],
          );
        }
        for (const f of batch.forget ?? []) await forgetPhone(c, f);
        await c.query('COMMIT');
        return batch.events.map((e, i) => ({ ...e, id: ids[i] }));
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

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
      `SELECT id, received_at, source_ip, method, status, reason, raw_target, count FROM rejected ${where}
       ORDER BY id DESC LIMIT $${args.length + 1}`,
      [...args, q.limit],
    );
    return res.rows.map((r) => ({
      id: r.id,
      receivedAt: r.received_at,
      sourceIp: r.source_ip,
      method: r.method,
      status: r.status,
      reason: r.reason,
      rawTarget: r.raw_target,
      count: r.count,
    }));
  }

  prune(cutoff: number, batchSize: number): Promise<number> {
    return this.serial(async () => {
      const c = this.writer;
      let deleted = 0;
      for (const sql of [
        'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < $1 ORDER BY id LIMIT $2)',
        'DELETE FROM rejected WHERE id IN (SELECT id FROM rejected WHERE received_at < $1 ORDER BY id LIMIT $2)',
        'DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE started_at < $1 AND ended_at IS NOT NULL ORDER BY id LIMIT $2)',
        `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE created_at < $1 AND state IN ('delivered', 'dead')
           ORDER BY id LIMIT $2)`,
      ]) {
        deleted += (await c.query(sql, [cutoff, batchSize])).rowCount ?? 0;
      }
      return deleted;
    });
  }

  async keepSetting(key: string, value: string): Promise<string> {
    await this.pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, text(value)]);
    const res = await this.pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return res.rows[0].value;
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

  async deliveriesDue(destination: string, afterId: number, limit: number): Promise<StoredDelivery[]> {
    const res = await this.pool.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE destination = $1 AND id > $2 AND state IN ('pending', 'failed')
       ORDER BY id LIMIT $3`,
      [destination, afterId, limit],
    );
    return res.rows.map(deliveryFromRow);
  }

  updateDeliveries(updates: readonly DeliveryUpdate[]): Promise<void> {
    if (updates.length === 0) return Promise.resolve();
    return this.serial(async () => {
      const c = this.writer;
      const col = <K extends keyof DeliveryUpdate>(k: K) => updates.map((u) => u[k]);
      // Outcomes need no wait for the WAL flush: one lost to a crash means the delivery is made again.
      await c.query('BEGIN');
      await c.query('SET LOCAL synchronous_commit = off');
      await c.query(
        `UPDATE deliveries d SET state = u.state, attempts = u.attempts, next_at = u.next_at, last_error = u.last_error,
           last_status = u.last_status, last_attempt_at = u.last_attempt_at, delivered_at = u.delivered_at,
           body = coalesce(u.body, d.body)
         FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::int[], $7::bigint[], $8::bigint[], $9::text[])
           AS u(id, state, attempts, next_at, last_error, last_status, last_attempt_at, delivered_at, body)
         WHERE d.id = u.id`,
        [
          col('id'),
          col('state'),
          col('attempts'),
          col('nextAt'),
          updates.map((u) => (u.lastError === null ? null : text(u.lastError))),
          col('lastStatus'),
          col('lastAttemptAt'),
          col('deliveredAt'),
          updates.map((u) => (u.body === null ? null : text(u.body))),
        ],
      ).then(
        () => c.query('COMMIT'),
        async (err: unknown) => {
          await c.query('ROLLBACK').catch(() => {});
          throw err;
        },
      );
    });
  }

  async retryDelivery(id: number, now: number): Promise<StoredDelivery | undefined> {
    const res = await this.serial(() =>
      this.writer.query<DeliveryRow>(
        `UPDATE deliveries SET state = 'pending', attempts = 0, next_at = $1, delivered_at = NULL WHERE id = $2
         RETURNING ${DELIVERY_COLUMNS}`,
        [now, id],
      ),
    );
    return res.rows[0] && deliveryFromRow(res.rows[0]);
  }

  async killDeliveries(destination: string, reason: string, now: number): Promise<number> {
    const res = await this.serial(() =>
      this.writer.query(
        `UPDATE deliveries SET state = 'dead', last_error = $1, last_attempt_at = coalesce(last_attempt_at, $2)
         WHERE destination = $3 AND state IN ('pending', 'failed')`,
        [text(reason), now, destination],
      ),
    );
    return res.rowCount ?? 0;
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

  async callStats(q: StatsQuery): Promise<CallStatsRow[]> {
    if (q.macs?.length === 0) return [];
    const results = await Promise.all(
      splitPeriod(q).map(({ table, column, from, to }) => {
        const { where, args } = conditions([
          [`${column} >= ?`, from],
          [`${column} < ?`, to],
          ['mac = ANY(?)', q.macs],
        ]);
        return this.pool.query(`SELECT mac, account, direction, ${SUMMED} FROM ${table} ${where} GROUP BY mac, account, direction`, args);
      }),
    );
    const merged = new Map<string, CallStatsRow>();
    for (const res of results) mergeStats(merged, res.rows as Record<string, unknown>[]);
    return nonEmpty(merged.values());
  }

  async hourStats(q: StatsQuery): Promise<HourStatsRow[]> {
    if (q.macs?.length === 0) return [];
    const { where, args } = conditions([
      ['hour >= ?', q.from],
      ['hour < ?', q.to],
      ['mac = ANY(?)', q.macs],
    ]);
    const sql = q.macs === undefined
      ? `SELECT hour, direction, calls, answered, missed FROM call_stats_site ${where} AND calls <> 0`
      : `SELECT hour, direction, sum(calls)::bigint AS calls, sum(answered)::bigint AS answered, sum(missed)::bigint AS missed
         FROM call_stats_hour ${where} GROUP BY hour, direction HAVING sum(calls) <> 0`;
    return (await this.pool.query<HourStatsRow>(sql, args)).rows;
  }

  async controlSettings(): Promise<StoredControl[]> {
    const res = await this.pool.query<{ mac: string; url: string | null; vendor: string | null; credentials: Buffer | null; updated_at: number }>(
      'SELECT mac, url, vendor, credentials, updated_at FROM phone_control',
    );
    return res.rows.map((r) => ({ mac: r.mac, url: r.url, vendor: r.vendor, credentials: r.credentials, updatedAt: Number(r.updated_at) }));
  }

  putControl(row: StoredControl): Promise<void> {
    return this.serial(async () => {
      await this.writer.query(
        `INSERT INTO phone_control (mac, url, vendor, credentials, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (mac) DO UPDATE SET url = excluded.url, vendor = excluded.vendor,
           credentials = excluded.credentials, updated_at = excluded.updated_at`,
        [row.mac, row.url, row.vendor, row.credentials, row.updatedAt],
      );
    });
  }

  deleteControl(mac: string): Promise<void> {
    return this.serial(async () => {
      await this.writer.query('DELETE FROM phone_control WHERE mac = $1', [mac]);
    });
  }

  async close(): Promise<void> {
    await this.writes;
    this.writer.release();
    await this.pool.end();
  }
}

async function migrate(c: pg.PoolClient): Promise<void> {
  // One receiver migrating at a time, even when several start together.
  await c.query('SELECT pg_advisory_lock(7267431)');
  try {
    await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const have = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    const newest = Math.max(0, ...have);
    if (newest > known) {
      throw new StoreConfigError(`--db: the database has schema version ${newest}, newer than this actionurl knows (${known}); upgrade actionurl, or use another database`);
    }
    for (const m of MIGRATIONS) {
      if (have.has(m.version)) continue;
      await c.query('BEGIN');
      try {
        await c.query(m.sql);
        await m.run?.(c);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await c.query('SELECT pg_advisory_unlock(7267431)');
  }
}

/** The outbox rows of a batch's events (see WriteBatch.routes), one statement for all. */
async function insertRoutes(c: pg.PoolClient, batch: WriteBatch, ids: readonly number[]): Promise<void> {
  const cols: [string[], string[], string[], number[], number[]] = [[], [], [], [], []];
  batch.routes!.forEach((route, i) => {
    const e = batch.events[i];
    for (const destination of route ?? []) {
      cols[0].push(destination);
      cols[1].push(text(`phone.${e.incident}`));
      cols[2].push(e.mac);
      cols[3].push(ids[i]);
      cols[4].push(e.receivedAt);
    }
  });
  if (cols[0].length === 0) return;
  await c.query(
    `INSERT INTO deliveries (destination, type, mac, event_id, created_at, state, next_at)
     SELECT t.destination, t.type, t.mac, t.event_id, t.created_at, 'pending', t.created_at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS t(destination, type, mac, event_id, created_at, n)
     ORDER BY t.n`,
    cols,
  );
}

async function insertDeliveries(c: pg.PoolClient, rows: readonly NewDelivery[]): Promise<void> {
  for (const d of rows) {
    await c.query(
      `INSERT INTO deliveries (destination, type, mac, event_id, created_at, state, next_at, body, dedupe_key)
       VALUES ($1, $2, $3, $4, $5, 'pending', $5, $6, $7) ON CONFLICT DO NOTHING`,
      [d.destination, text(d.type), d.mac, d.eventId, d.createdAt, d.body === null ? null : text(d.body), d.dedupeKey],
    );
  }
}

async function upsertPhone(c: pg.PoolClient, p: PhoneState): Promise<void> {
  await c.query(
    `INSERT INTO phones (mac, ip, model, firmware, accounts, registered, dnd, presence, state, first_seen, last_seen, last_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, model = excluded.model, firmware = excluded.firmware,
       accounts = excluded.accounts, registered = excluded.registered, dnd = excluded.dnd, presence = excluded.presence,
       state = excluded.state, last_seen = excluded.last_seen, last_event_id = excluded.last_event_id`,
    [p.mac, text(p.ip), text(p.model), text(p.firmware), JSON.stringify(p.accounts), p.registered, p.dnd, p.presence, JSON.stringify(p), p.firstSeen, p.lastSeen, p.lastEventId],
  );
}

async function forgetPhone(c: pg.PoolClient, f: ForgetPhone): Promise<void> {
  await c.query('DELETE FROM phones WHERE mac = $1', [f.mac]);
  await c.query('DELETE FROM inventory WHERE mac = $1', [f.mac]);
  await c.query(
    `INSERT INTO forgotten_phones (mac, up_to_event_id) VALUES ($1, $2)
     ON CONFLICT (mac) DO UPDATE SET up_to_event_id = GREATEST(forgotten_phones.up_to_event_id, excluded.up_to_event_id)`,
    [f.mac, f.upToEventId],
  );
  if (!f.purge) return;
  // The call summaries follow through the delete trigger on calls.
  await c.query('DELETE FROM calls WHERE mac = $1', [f.mac]);
  await c.query('DELETE FROM events WHERE mac = $1', [f.mac]);
}

async function upsertCall(c: pg.PoolClient, mac: string, call: CallState): Promise<void> {
  await c.query(
    `INSERT INTO calls (mac, call_id, started_at, direction, remote, display_remote, local, answered_at, ended_at, outcome,
       ring_ms, talk_ms, state, last_event_id, account)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (mac, call_id, started_at) DO UPDATE SET direction = excluded.direction, remote = excluded.remote,
       display_remote = excluded.display_remote, local = excluded.local, answered_at = excluded.answered_at,
       ended_at = excluded.ended_at, outcome = excluded.outcome, ring_ms = excluded.ring_ms, talk_ms = excluded.talk_ms,
       state = excluded.state, last_event_id = excluded.last_event_id, account = excluded.account`,
    [
      mac,
      text(call.callId),
      call.startedAt,
      call.direction,
      text(call.remote),
      text(call.displayRemote),
      text(call.local),
      call.answeredAt,
      call.endedAt,
      call.outcome,
      (call.answeredAt ?? call.endedAt ?? call.startedAt) - call.startedAt,
      call.answeredAt !== null && call.endedAt !== null ? call.endedAt - call.answeredAt : null,
      JSON.stringify(call),
      call.lastEventId,
      text(accountOfCall(call.local)),
    ],
  );
}
