/**
 * The PostgreSQL store: `--db postgres://user@host:5432/db` (add `?schema=name` to keep the tables in a
 * schema of their own; it is created if missing). Same Store interface as SQLite, plus `shared`: several
 * receivers may use one database and act as one (docs/scale-out.md).
 *
 * Writes go one at a time, in order, on one connection of their own (each batch one transaction; see
 * pg-ingest.ts for what a transaction holds); reads use a small pool. With PostgreSQL's default
 * `synchronous_commit = on`, a COMMIT returns once the transaction is flushed to its write-ahead log: the
 * receiver's 200 still means "on disk".
 *
 * When PostgreSQL cannot be reached (stopped, restarting, connections terminated, network cut), write
 * batches go to the local journal (journal.ts) and are answered from there; the journal is moved into
 * PostgreSQL, in order, as soon as it is back, and until it is empty new batches queue behind it. Only an
 * administrator's changes (inventory, forgetting a phone) are not journalled: they are refused with a
 * StoreUnavailableError until the journal is empty, so none overtakes the events accepted before it.
 */
import pg from 'pg';
import { expireCalls } from '../domain/expire.ts';
import type { CallState, PhoneState } from '../domain/types.ts';
import { EVENT_COLUMNS, eventFromRow, REJECTED_COLUMNS, rejectedFromRow, type EventRow as StoredEventRow } from './event-rows.ts';
import { DEFAULT_DB_TIMEOUT_MS, redactDbUrl } from './db-url.ts';
import { Journal, type JournalBatch } from './journal.ts';
import {
  LOCKS,
  insertDeliveries,
  insertEvents,
  insertRejected,
  isConnectionError,
  isUnavailable,
  reduceEvents,
  text,
  upsertCalls,
  upsertPhones,
  upsertState,
} from './pg-ingest.ts';
import { listen } from './pg-listen.ts';
import { StoreConfigError, StoreUnreachableError } from './store-config-error.ts';
import { StoreUnavailableError } from './store-unavailable.ts';
import { DELIVERY_COLUMNS, deliveryFromRow, deliveryShard, type DeliveryRow } from './delivery-rows.ts';
import { commandFromRow, commandsTableSql, commandValues, numbered, PUT_COMMAND_SQL, SELECT_COMMAND_SQL, type CommandRow } from './command-rows.ts';
import { pgLeases } from './pg-leases.ts';
import { accountOfCall, readCallStats, readHourStats, statsBackfillSql, statsRecountSql, statsTablesSql, statsUpsertsSql, type StatsReader } from './call-stats.ts';
import type {
  AbandonCommands,
  StoredCommand,
  ConcludeEvent,
  DeliveryQuery,
  DeliveryUpdate,
  StoredDelivery,
  CallQuery,
  CallRecord,
  CallStatsRow,
  EventFilter,
  EventQuery,
  NewDelivery,
  PhoneChange,
  ForgetPhone,
  HourStatsRow,
  InventoryEntry,
  StatsQuery,
  RejectedQuery,
  SharedState,
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
        ${statsFunctionSql()}
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
  {
    version: 6,
    name: 'several receivers: journal origins, calls by event',
    sql: `
      -- Per receiver journal: the highest write-batch number committed (see journal.ts).
      CREATE TABLE ingest_origins (origin TEXT PRIMARY KEY, last_seq BIGINT NOT NULL, updated_at BIGINT NOT NULL);
      -- Receivers following the stream read the calls each event changed.
      CREATE INDEX calls_last_event ON calls (last_event_id);
    `,
  },
  {
    version: 7,
    name: 'forwarding across receivers: delivery shards, leases, peers',
    sql: `
      -- The shard of the delivery's phone (deliveryShard in delivery-rows.ts): a receiver reads only the
      -- shards it holds a lease on, from the one index.
      ALTER TABLE deliveries ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
      DROP INDEX deliveries_due;
      CREATE INDEX deliveries_due ON deliveries (destination, shard, id) WHERE state IN ('pending', 'failed');
      -- Who sends a destination's deliveries of a shard, until when (see pg-leases.ts).
      CREATE TABLE delivery_leases (
        destination TEXT NOT NULL,
        shard SMALLINT NOT NULL,
        holder TEXT,
        expires_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (destination, shard)
      );
      -- Receivers alive and what they forward to (names and a digest of each destination's settings).
      CREATE TABLE forwarding_peers (holder TEXT PRIMARY KEY, destinations JSON NOT NULL, seen_at TIMESTAMPTZ NOT NULL);
    `,
    async run(c) {
      const macs = (await c.query<{ mac: string }>('SELECT DISTINCT mac FROM deliveries')).rows.map((r) => r.mac);
      const moved = macs.filter((m) => deliveryShard(m) !== 0);
      if (moved.length === 0) return;
      await c.query(
        'UPDATE deliveries d SET shard = m.shard FROM unnest($1::text[], $2::smallint[]) AS m(mac, shard) WHERE d.mac = m.mac',
        [moved, moved.map(deliveryShard)],
      );
    },
  },
  {
    version: 8,
    name: 'remote-control commands',
    sql: commandsTableSql({ int: 'BIGINT', serial: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' }),
  },
  {
    // SQLite's is 15.
    version: 9,
    name: 'call summaries: an answered call lost in a failed transfer is not counted as answered',
    sql: `${statsFunctionSql()}\n${statsRecountSql()}`,
  },
];

/** What the summary trigger runs for a call row: its figures, times `sign`, added to each summary table. */
function statsFunctionSql(): string {
  return `CREATE OR REPLACE FUNCTION call_stats_add(r calls, sign BIGINT) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN ${statsUpsertsSql('r', 'sign')} END $fn$;`;
}

// BIGINT columns come back as strings by default; ours (epoch ms, ids) fit in a double. Set on our clients only.
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

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

/**
 * Why the first connection failed, in one line with the fix: a mistake (wrong password, no such database)
 * is a StoreConfigError; PostgreSQL not reachable (yet) is a StoreUnreachableError, which a service manager
 * may retry.
 */
function startError(url: string, err: unknown): StoreConfigError {
  const at = `--db ${redactDbUrl(url)}`;
  const message = oneLine((err as Error).message);
  const u = new URL(url);
  const user = decodeURIComponent(u.username) || 'the current user';
  const database = decodeURIComponent(u.pathname.slice(1)) || user;
  switch ((err as { code?: string }).code) {
    case '28P01':
    case '28000':
      return new StoreConfigError(`${at}: PostgreSQL refused user "${user}" (${message}); check the user and password in --db, and pg_hba.conf on the server`);
    case '3D000':
      return new StoreConfigError(`${at}: database "${database}" does not exist; create it (createdb ${database}) or correct its name in --db`);
    case 'ENOTFOUND':
      return new StoreConfigError(`${at}: host "${u.hostname}" not found; correct the host in --db`);
    case '42501':
      return new StoreConfigError(`${at}: user "${user}" may not use this database (${message}); grant it CONNECT and CREATE, or use another user`);
  }
  if (isConnectionError(err)) {
    return new StoreUnreachableError(`${at}: cannot connect: ${message}; check the host and port, and that PostgreSQL is running (the receiver needs it to start)`);
  }
  return new StoreConfigError(`${at}: cannot connect: ${message}; check the host, port, user, password and database name, and that PostgreSQL is running`);
}

/** The `--journal` file, opened; a mistake with it (in use, not writable) is one line. */
export function openJournal(path: string): Journal {
  try {
    return new Journal(path);
  } catch (err) {
    throw new StoreConfigError(`--journal: ${(err as Error).message}`);
  }
}

/** `postgres://…?schema=s` -> the URL without it, and the schema. */
export function splitSchema(url: string): { url: string; schema?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreConfigError(`--db ${redactDbUrl(url)} is not a valid URL; expected e.g. postgres://user:password@host:5432/database`);
  }
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreConfigError(`--db: schema "${schema}" must be lower-case letters, digits and _`);
  }
  return { url: u.toString(), schema };
}

export interface PostgresOptions {
  /**
   * The local journal file (SQLite) that holds events while PostgreSQL is away. Without one, a write that
   * cannot reach PostgreSQL fails (the phone gets a 503), as a single store would. An open Journal is used as
   * it is and stays open when connecting fails (a receiver that started on it keeps using it).
   */
  journal?: string | Journal;
  /** How often to try moving the journal into PostgreSQL while it is not empty (ms). Default 1000. */
  journalRetryMs?: number;
  /**
   * How long a write may wait for PostgreSQL (to connect, for each statement, for a lock) before the
   * database counts as away and the batch goes to the journal (ms). Default 1000 (`--db-timeout`).
   */
  timeoutMs?: number;
  /** Told about a database outage (journalling started) and the journal being moved back. */
  onJournal?(event: 'journalling' | 'drained', detail: { batches: number; err?: unknown }): void;
  /** A background step (moving the journal, notifying) failed. */
  onError?(err: unknown): void;
}

/** Batches moved from the journal into PostgreSQL per transaction. */
const DRAIN_BATCHES = 50;
/** Reads (API pages, reports, exports) may take longer than a write, but not for ever: a frozen server frees the pool. */
const READ_TIMEOUT_MS = 30_000;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly description: string;
  readonly shared: SharedState;
  private writes: Promise<unknown> = Promise.resolve();
  /** The writer connection; replaced after it broke. */
  private writer: pg.Client | undefined;
  /** This receiver's write batches, numbered (see journal.ts). */
  private seq = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private notifyId: number | undefined;
  private notifying = false;
  private readonly channel: string;
  private conclude: ConcludeEvent | undefined;
  private readonly statesListeners: ((phones: readonly PhoneState[], before: readonly PhoneState[], firstEventId: number) => void)[] = [];

  private constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.ClientConfig,
    private readonly journal: Journal | undefined,
    private readonly opts: PostgresOptions,
    url: string,
    schema: string | undefined,
  ) {
    this.description = `postgres ${redactDbUrl(url)}`;
    // Channels are per database, not per schema: receivers on another schema must not wake ours.
    this.channel = `actionurl_events${schema ? `_${schema}` : ''}`.slice(0, 63);
    this.shared = this.sharedState();
  }

  private ownsJournal = true;

  /** Connects, creates the schema if asked for, and migrates; see SharedState.moveJournalIn for the journal. */
  static async connect(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    const { url: plain, schema } = splitSchema(url);
    // Every connection starts with the schema on its search path (it is created below if missing).
    // A host that never answers (firewall, wrong address) must not hang the start: give up after 10 s.
    const timeoutMs = opts.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS;
    const config: pg.ClientConfig = { connectionString: plain, types: TYPES, ...(schema ? { options: `-c search_path=${schema}` } : {}) };
    const pool = new pg.Pool({ ...config, max: 4, connectionTimeoutMillis: 10_000, query_timeout: Math.max(READ_TIMEOUT_MS, timeoutMs) });
    pool.on('error', () => {}); // an idle client's error; the next query reports the problem
    let first: pg.PoolClient;
    try {
      first = await pool.connect();
    } catch (err) {
      await pool.end();
      throw startError(url, err);
    }
    let journal: Journal | undefined;
    const ownJournal = typeof opts.journal === 'string';
    try {
      await migrate(first, schema);
      journal = typeof opts.journal === 'string' ? openJournal(opts.journal) : opts.journal;
      const store = new PostgresStore(pool, config, journal, opts, url, schema);
      store.ownsJournal = ownJournal;
      if (journal) {
        const res = await first.query<{ last_seq: number }>('SELECT last_seq FROM ingest_origins WHERE origin = $1', [journal.origin]);
        store.seq = Math.max(res.rows[0]?.last_seq ?? 0, journal.lastSeq());
        journal.markConnected();
        // What a previous run left is moved in by moveJournalIn (once forwarding's conclusions are hooked
        // in), or by the first write.
      }
      first.release();
      return store;
    } catch (err) {
      first.release();
      if (ownJournal) journal?.close();
      await pool.end();
      throw err;
    }
  }

  /** Runs writes one after another, in the order they were asked for. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => {});
    return run;
  }

  /** The writer connection, (re)connected when needed. */
  private async connection(): Promise<pg.Client> {
    if (this.writer) return this.writer;
    // A server that stops answering (frozen, black-holed) is noticed within the timeout, so phones are
    // answered from the journal instead of waiting for it (see write).
    // On the server too (the writer's connection only: migrations and leases wait for their locks as long as
    // they need): a lock held by a stuck transaction elsewhere must not queue ingest behind it, and a writer
    // connection that died mid-transaction must not hold the append lock for long.
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS;
    const limits = `-c lock_timeout=${timeoutMs} -c idle_in_transaction_session_timeout=${Math.max(10_000, timeoutMs)}`;
    const options = [this.config.options, limits].filter(Boolean).join(' ');
    const c = new pg.Client({ ...this.config, options, connectionTimeoutMillis: timeoutMs, keepAlive: true, query_timeout: timeoutMs });
    // A connection terminated by the server (57P01 on restart, pg_terminate_backend) or cut: forget it, the
    // next write opens another. Unhandled, this event would end the process.
    c.on('error', () => this.dropWriter(c));
    c.on('end', () => this.dropWriter(c));
    try {
      await c.connect();
    } catch (err) {
      this.dropWriter(c);
      throw err;
    }
    this.writer = c;
    return c;
  }

  private dropWriter(c: pg.Client | undefined = this.writer): void {
    if (!c) return;
    if (this.writer === c) this.writer = undefined;
    c.end().catch(() => {});
  }

  /** Batches waiting in the local journal. */
  get journalled(): number {
    return this.journal?.size ?? 0;
  }

  write(batch: WriteBatch): Promise<StoredEvent[]> {
    return this.serial(async () => {
      const journalled = () => batch.events.map((e) => ({ ...e, id: 0 }));
      // The journal keeps what a phone's request made (events, refusals) and the outbox rows riding with it
      // (see JournalParts). Phone states and calls (SQLite-style checkpoints, never sent on a shared store)
      // are derived again when the events move in; an administrator's change is refused, to be retried.
      const journalable = this.journal !== undefined && !batch.phones?.length && !batch.calls?.length && !batch.inventory?.length &&
        !batch.forget?.length && batch.stateEventId === undefined;
      const seq = ++this.seq;
      const parts: JournalBatch = { seq, events: batch.events, rejected: batch.rejected, routes: batch.routes, deliveries: batch.deliveries };
      if (this.journal && this.journal.size > 0) {
        if (!journalable) {
          throw new StoreUnavailableError(
            `the database is catching up with ${this.journal.size} write batches held while it was unreachable; nothing was changed, try again in a moment`,
          );
        }
        // Behind what is journalled already, so each phone's events reach PostgreSQL in the order they came.
        this.journal.append(seq, parts);
        this.scheduleDrain(0);
        return journalled();
      }
      try {
        const c = await this.connection();
        const ids = await this.commit(c, [parts], false, batch);
        return batch.events.map((e, i) => ({ ...e, id: ids[i] }));
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.dropWriter();
        if (!journalable) {
          throw new StoreUnavailableError(`the database cannot be reached (${oneLine((err as Error).message)}); nothing was changed, try again in a moment`, { cause: err });
        }
        // Committed or not, this batch is journalled under its number; moving it in skips it if it had committed.
        this.journal!.append(seq, parts);
        this.opts.onJournal?.('journalling', { batches: this.journal!.size, err });
        this.scheduleDrain();
        return journalled();
      }
    });
  }

  /**
   * One transaction: the batches' events (under the append lock, reduced into phone states and calls), their
   * outbox rows (their destinations' and forwarding's conclusions, drawn from the states reduced here), their
   * refusals, and this receiver's batch number. With `movedIn` (batches from the journal), batches PostgreSQL
   * already has are left out. Returns the new events' ids.
   */
  private async commit(c: pg.ClientBase, batches: readonly JournalBatch[], movedIn: boolean, state?: WriteBatch): Promise<number[]> {
    const origin = this.journal?.origin;
    const events = batches.flatMap((b) => b.events);
    const macs = [...new Set(events.map((e) => e.mac))];
    // Round trips count while the append lock is held (every receiver waits for it), so statements without
    // parameters go together: BEGIN, the lock, the journal check and the phones' stored states in one.
    const first = ['BEGIN'];
    if (origin && movedIn) first.push(`SELECT last_seq FROM ingest_origins WHERE origin = ${c.escapeLiteral(origin)} FOR UPDATE`);
    // Forgetting a phone takes the append lock too: an ingest transaction that read the phone's state must
    // not write it back after it was deleted. So do delivery rows without events: delivery ids, like event
    // ids, must be drawn in commit order, or a receiver reading deliveries after its cursor would pass one
    // that commits later with a smaller id.
    if (events.length || state?.forget?.length || state?.deliveries?.length) first.push(`SELECT pg_advisory_xact_lock(${LOCKS.append})`);
    if (events.length) first.push(`SELECT state FROM phones WHERE mac IN (${macs.map((m) => c.escapeLiteral(m)).join(', ')})`);
    try {
      const results = [await c.query(first.join('; '))].flat() as unknown as pg.QueryResult[];
      if (origin && movedIn) {
        const done = (results[1].rows[0] as { last_seq: number } | undefined)?.last_seq ?? 0;
        batches = batches.filter((b) => b.seq > done);
      }
      const todo = batches.flatMap((b) => b.events);
      let ids: number[] = [];
      let reduced: PhoneState[] = [];
      const concluded: (readonly NewDelivery[] | undefined)[] = [];
      let prior: PhoneState[] = [];
      if (todo.length) {
        ids = await insertEvents(c, todo);
        prior = (results[results.length - 1].rows as { state: PhoneState }[]).map((r) => r.state);
        const conclude = this.conclude;
        const each = conclude && ((before: PhoneState | undefined, after: PhoneState, calls: readonly CallState[], e: StoredEvent) => {
          try {
            concluded.push(conclude(before, after, calls, e));
          } catch (err) {
            // A fault in forwarding must not cost the phones their events.
            concluded.push(undefined);
            this.opts.onError?.(err);
          }
        });
        const { phones, calls } = reduceEvents(prior, todo.map((e, i) => ({ ...e, id: ids[i] })), each);
        await upsertState(c, phones, calls);
        reduced = phones;
      }
      await insertDeliveries(c, outboxRows(batches, ids, concluded));
      await insertRejected(c, batches.flatMap((b) => b.rejected));
      const forgotten = state ? await writeState(c, state) : [];
      const last = [];
      if (origin && batches.length) {
        last.push(
          `INSERT INTO ingest_origins (origin, last_seq, updated_at) VALUES (${c.escapeLiteral(origin)}, ${Math.max(...batches.map((b) => b.seq))}, ${Date.now()})
           ON CONFLICT (origin) DO UPDATE SET last_seq = GREATEST(ingest_origins.last_seq, excluded.last_seq), updated_at = excluded.updated_at`,
        );
      }
      last.push('COMMIT');
      // The statement that ends in COMMIT is never given up after the write timeout: given up, the server
      // could still commit it, and the batch (journalled meanwhile) would reach the forwarder after later ones.
      // A server that freezes is noticed at the statements before it, which run with the write timeout.
      await c.query({ text: last.join('; '), query_timeout: Math.max(READ_TIMEOUT_MS, this.opts.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS) } as pg.QueryConfig);
      // Committed: whatever the listener does, this batch is stored and must be answered as such.
      if (reduced.length) {
        try {
          for (const listener of this.statesListeners) listener(reduced, prior, ids[0]);
        } catch (err) {
          this.opts.onError?.(err);
        }
      }
      if (ids.length) this.notify(ids[ids.length - 1]);
      for (const f of forgotten) this.signal(`f:${f.mac}:${f.upToEventId}`);
      return ids;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  /** Moves up to `max` journalled batches into PostgreSQL, oldest first. Throws when it cannot reach it. */
  private async drainSome(max: number): Promise<void> {
    const journal = this.journal!;
    let moved = 0;
    while (journal.size > 0 && moved < max) {
      const batches = journal.oldest(DRAIN_BATCHES);
      const c = await this.connection();
      try {
        await this.commit(c, batches, true);
      } catch (err) {
        if (isUnavailable(err)) this.dropWriter(c);
        throw err;
      }
      journal.forget(batches[batches.length - 1].seq);
      moved += batches.length;
    }
    if (journal.size === 0 && moved > 0) this.opts.onJournal?.('drained', { batches: moved });
  }

  /**
   * Moves the journal in, a few transactions per turn: new batches (journalled meanwhile, in order) are
   * answered between turns, so a long outage does not hold up the phones while it is caught up.
   */
  private scheduleDrain(delayMs = this.opts.journalRetryMs ?? 1000): void {
    if (this.drainTimer || this.closed) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.serial(() => this.drainSome(DRAIN_BATCHES * 4)).then(
        () => {
          if (this.journalled > 0) this.scheduleDrain(0);
        },
        (err) => {
          if (!isUnavailable(err)) this.opts.onError?.(err);
          this.scheduleDrain();
        },
      );
    }, delayMs);
    this.drainTimer.unref();
  }

  /** Tells every receiver's listener (this one's too) something other than new events; lost if the database is away. */
  private signal(payload: string): void {
    this.pool.query('SELECT pg_notify($1, $2)', [this.channel, payload]).catch((err) => this.opts.onError?.(err));
  }

  /** Signals other receivers, outside the ingest transaction; a signal in flight covers newer ids (batched). */
  private notify(lastId: number): void {
    this.notifyId = Math.max(this.notifyId ?? 0, lastId);
    if (this.notifying) return;
    this.notifying = true;
    void (async () => {
      while (this.notifyId !== undefined) {
        const id = this.notifyId;
        this.notifyId = undefined;
        // Lost when the database is away: the followers' poll and reconnect catch-up cover that.
        await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, String(id)]).catch(() => {});
      }
      this.notifying = false;
    })();
  }

  private sharedState(): SharedState {
    const journalled = () => this.journalled;
    return {
      get journalled() {
        return journalled();
      },
      journal: this.journal !== undefined,
      onStates: (listener) => {
        this.statesListeners.push(listener);
      },
      snapshot: async () => {
        // Under the append lock (READ COMMITTED: each statement sees everything committed before it), so no
        // event commits between reading the last id and the phones.
        const c = await this.pool.connect();
        try {
          await c.query('BEGIN');
          await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.append]);
          const seq = await c.query<{ last_value: number; is_called: boolean }>('SELECT last_value, is_called FROM events_id_seq');
          const phones = await c.query<{ state: PhoneState }>('SELECT state FROM phones');
          await c.query('COMMIT');
          const row = seq.rows[0];
          return { phones: phones.rows.map((r) => r.state), lastEventId: row && row.is_called ? row.last_value : 0 };
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          c.release();
        }
      },
      phones: async (macs) => {
        if (!macs.length) return [];
        const res = await this.pool.query<{ state: PhoneState }>('SELECT state FROM phones WHERE mac = ANY($1::text[])', [macs]);
        return res.rows.map((r) => r.state);
      },
      callsChangedBy: async (ids) => {
        if (!ids.length) return [];
        const res = await this.pool.query<{ id: number; mac: string; state: CallState }>(
          'SELECT id, mac, state FROM calls WHERE last_event_id = ANY($1::bigint[]) ORDER BY last_event_id, id',
          [ids],
        );
        return res.rows.map((r) => ({ id: r.id, mac: r.mac, call: r.state }));
      },
      listen: (handlers) => listen(this.config, this.channel, handlers),
      leases: pgLeases(this.pool),
      expire: (now, timeoutMs) => this.expire(now, timeoutMs),
      conclude: (conclude) => {
        this.conclude = conclude;
      },
      moveJournalIn: async () => {
        if (!this.journal || this.journal.size === 0) return;
        await this.serial(() => this.drainSome(Number.MAX_SAFE_INTEGER)).catch((err: unknown) => {
          this.scheduleDrain();
          throw err;
        });
      },
    };
  }

  /**
   * Calls silent for too long, closed in the stored states. One receiver at a time (a session advisory lock,
   * released by PostgreSQL if that receiver dies); each phone in a short transaction under the append lock,
   * so it never races an event of that phone.
   */
  private async expire(now: number, timeoutMs: number): Promise<PhoneChange[]> {
    const c = await this.pool.connect();
    const changes: PhoneChange[] = [];
    try {
      const got = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCKS.expire]);
      if (!got.rows[0].ok) return [];
      try {
        // Phones with an open call, or marked busy: the only ones expiry can change.
        const candidates = await c.query<{ mac: string }>(
          "SELECT mac FROM phones WHERE json_array_length(state->'calls') > 0 OR (state->>'busy')::boolean",
        );
        for (const { mac } of candidates.rows) {
          await c.query('BEGIN');
          try {
            await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.append]);
            const res = await c.query<{ state: PhoneState }>('SELECT state FROM phones WHERE mac = $1', [mac]);
            const before = res.rows[0]?.state;
            const after = before ? expireCalls(before, now, timeoutMs) : undefined;
            if (after && after.state !== before) {
              await upsertPhones(c, [after.state]);
              await upsertCalls(c, after.changedCalls.map((call) => ({ mac, call })));
              changes.push({ phone: after.state, changedCalls: after.changedCalls });
            }
            await c.query('COMMIT');
          } catch (err) {
            await c.query('ROLLBACK').catch(() => {});
            throw err;
          }
        }
      } finally {
        await c.query('SELECT pg_advisory_unlock($1)', [LOCKS.expire]).catch(() => {});
      }
      // Tell the other receivers which phones to reload (a notification holds at most 8000 bytes).
      const macs = changes.map((x) => x.phone.mac);
      for (let i = 0; i < macs.length; i += 400) {
        await c.query('SELECT pg_notify($1, $2)', [this.channel, `p:${macs.slice(i, i + 400).join(',')}`]);
      }
      return changes;
    } finally {
      c.release();
    }
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
      `SELECT ${REJECTED_COLUMNS} FROM rejected ${where} ORDER BY id DESC LIMIT $${args.length + 1}`,
      [...args, q.limit],
    );
    return res.rows.map(rejectedFromRow);
  }

  /**
   * One round of retention, on one receiver at a time: a receiver that finds another one pruning returns 0
   * (its round is over). The lock is a transaction's, so a receiver dying mid-round frees it.
   */
  async prune(cutoff: number, batchSize: number): Promise<number> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const got = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCKS.retention]);
      let deleted = 0;
      if (got.rows[0].ok) {
        for (const sql of [
          'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < $1 ORDER BY id LIMIT $2)',
          'DELETE FROM rejected WHERE id IN (SELECT id FROM rejected WHERE received_at < $1 ORDER BY id LIMIT $2)',
          'DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE started_at < $1 AND ended_at IS NOT NULL ORDER BY id LIMIT $2)',
          `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE created_at < $1 AND state IN ('delivered', 'dead')
             ORDER BY id LIMIT $2)`,
          'DELETE FROM commands WHERE seq IN (SELECT seq FROM commands WHERE created_at < $1 AND finished_at IS NOT NULL ORDER BY seq LIMIT $2)',
        ]) {
          deleted += (await c.query(sql, [cutoff, batchSize])).rowCount ?? 0;
        }
      }
      await c.query('COMMIT');
      return deleted;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async keepSetting(key: string, value: string): Promise<string> {
    await this.pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, text(value)]);
    const res = await this.pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return res.rows[0].value;
  }

  async setting(key: string): Promise<string | undefined> {
    const res = await this.pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return res.rows[0]?.value;
  }

  putSetting(key: string, value: string | null): Promise<void> {
    return this.serial(async () => {
      const c = await this.connection();
      if (value === null) await c.query('DELETE FROM settings WHERE key = $1', [key]);
      else await c.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, text(value)]);
    });
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

  updateDeliveries(all: readonly DeliveryUpdate[]): Promise<void> {
    if (all.length === 0) return Promise.resolve();
    // One row per delivery, the last outcome (UPDATE … FROM joining a row twice applies one of the two, not
    // necessarily the later: a delivery retried quickly would be stored as failed after it was delivered).
    const last = new Map<number, DeliveryUpdate>();
    for (const u of all) {
      const before = last.get(u.id);
      last.delete(u.id);
      last.set(u.id, { ...u, body: u.body ?? before?.body ?? null });
    }
    const updates = [...last.values()];
    return this.serial(async () => {
      const c = await this.connection();
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
         -- A delivery is never taken back from delivered by a late outcome of the same delivery (a receiver
         -- that lost its lease mid-attempt while another one delivered it); only a retry by hand reopens it.
         WHERE d.id = u.id AND (d.state <> 'delivered' OR u.state = 'delivered')`,
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
    const res = await this.serial(async () =>
      (await this.connection()).query<DeliveryRow>(
        `UPDATE deliveries SET state = 'pending', attempts = 0, next_at = $1, delivered_at = NULL WHERE id = $2
         RETURNING ${DELIVERY_COLUMNS}`,
        [now, id],
      ),
    );
    return res.rows[0] && deliveryFromRow(res.rows[0]);
  }

  async killDeliveries(destination: string, reason: string, now: number): Promise<number> {
    const res = await this.serial(async () =>
      (await this.connection()).query(
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

  putControl(row: StoredControl): Promise<void> {
    return this.serial(async () => {
      const c = await this.connection();
      await c.query(
        `INSERT INTO phone_control (mac, url, vendor, credentials, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (mac) DO UPDATE SET url = excluded.url, vendor = excluded.vendor,
           credentials = excluded.credentials, updated_at = excluded.updated_at`,
        [row.mac, row.url, row.vendor, row.credentials, row.updatedAt],
      );
    });
  }

  deleteControl(mac: string): Promise<void> {
    return this.serial(async () => {
      const c = await this.connection();
      await c.query('DELETE FROM phone_control WHERE mac = $1', [mac]);
    });
  }

  // Commands go through the pool, not the ingest writer: they are not in the events' order, and a command
  // row must not wait behind (or be held in) the journal.
  async putCommands(rows: readonly StoredCommand[]): Promise<void> {
    if (rows.length === 0) return;
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      for (const row of rows) await c.query(numbered(PUT_COMMAND_SQL), commandValues(row).map((v) => (typeof v === 'string' ? text(v) : v)));
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
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

  async abandonCommands(q: AbandonCommands): Promise<number> {
    const sql = "UPDATE commands SET status = 'failed', reason = $1, finished_at = $2 WHERE finished_at IS NULL AND owner <> $3";
    const res = q.deadlineBefore === undefined
      ? await this.pool.query(sql, [text(q.reason), q.now, q.notOwner])
      : await this.pool.query(`${sql} AND deadline_at < $4`, [text(q.reason), q.now, q.notOwner, q.deadlineBefore]);
    return res.rowCount ?? 0;
  }

  async trimCommands(keep: number): Promise<number> {
    const res = await this.pool.query('DELETE FROM commands WHERE seq <= (SELECT max(seq) FROM commands) - $1', [Math.max(0, Math.trunc(keep))]);
    return res.rowCount ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    await this.writes;
    if (this.journal && this.journal.size > 0) {
      // A last try; what stays is moved in when this receiver starts again.
      await this.serial(() => this.drainSome(Number.MAX_SAFE_INTEGER)).catch((err) => this.opts.onError?.(err));
    }
    // A journal handed in stays open: its owner (a receiver started on it) closes it.
    if (this.ownsJournal) this.journal?.close();
    this.dropWriter();
    await this.pool.end();
  }
}

/**
 * Phone states, calls and the checkpoint id of a SQLite-style state checkpoint; inventory entries; phones
 * forgotten (returned, each with the id of its last event, to be signalled once committed).
 */
async function writeState(c: pg.ClientBase, batch: WriteBatch): Promise<ForgetPhone[]> {
  await upsertPhones(c, batch.phones ?? []);
  await upsertCalls(c, batch.calls ?? []);
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
  const forgotten: ForgetPhone[] = [];
  for (const f of batch.forget ?? []) forgotten.push(await forgetPhone(c, f));
  return forgotten;
}

async function migrate(c: pg.PoolClient, schema: string | undefined): Promise<void> {
  // One receiver migrating at a time, even when several start together (CREATE SCHEMA IF NOT EXISTS too:
  // run at once by two sessions, one of them fails on the catalog's unique index).
  await c.query('SELECT pg_advisory_lock($1)', [LOCKS.migrate]);
  try {
    if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
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
    await c.query('SELECT pg_advisory_unlock($1)', [LOCKS.migrate]);
  }
}

/**
 * A transaction's outbox rows in the order of what they are about: per batch, first the rows that rode with
 * it (concluded without an event of this batch: calls closed by the clock, phones gone silent), then for
 * each of its events its destinations' rows and what was concluded from it.
 */
function outboxRows(batches: readonly JournalBatch[], ids: readonly number[], concluded: readonly (readonly NewDelivery[] | undefined)[]): NewDelivery[] {
  const rows: NewDelivery[] = [];
  let k = 0; // index into ids and concluded: the transaction's events, in order
  for (const b of batches) {
    rows.push(...(b.deliveries ?? []));
    b.events.forEach((e, i) => {
      for (const destination of b.routes?.[i] ?? []) {
        rows.push({ destination, type: `phone.${e.incident}`, mac: e.mac, eventId: ids[k], createdAt: e.receivedAt, body: null, dedupeKey: null });
      }
      rows.push(...(concluded[k] ?? []));
      k++;
    });
  }
  return rows;
}

/**
 * Under the append lock: the stored state says which event was the phone's last (the receiver asked may not
 * have followed every receiver's events yet). Returns the phone with that id.
 */
async function forgetPhone(c: pg.ClientBase, f: ForgetPhone): Promise<ForgetPhone> {
  const gone = await c.query<{ last_event_id: number }>('DELETE FROM phones WHERE mac = $1 RETURNING last_event_id', [f.mac]);
  const upToEventId = Math.max(f.upToEventId, gone.rows[0]?.last_event_id ?? 0);
  await c.query('DELETE FROM inventory WHERE mac = $1', [f.mac]);
  await c.query(
    `INSERT INTO forgotten_phones (mac, up_to_event_id) VALUES ($1, $2)
     ON CONFLICT (mac) DO UPDATE SET up_to_event_id = GREATEST(forgotten_phones.up_to_event_id, excluded.up_to_event_id)`,
    [f.mac, upToEventId],
  );
  if (f.purge) {
    // The call summaries follow through the delete trigger on calls.
    await c.query('DELETE FROM calls WHERE mac = $1', [f.mac]);
    await c.query('DELETE FROM events WHERE mac = $1', [f.mac]);
  }
  return { ...f, upToEventId };
}
