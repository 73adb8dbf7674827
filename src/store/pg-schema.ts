/**
 * The PostgreSQL store's tables: the migrations, in order, and running them (one receiver at a time, even
 * when several start together). The SQLite side's are in sqlite-schema.ts; a table defined the same way on
 * both (commands, call summaries) is written once, in command-rows.ts and call-stats.ts.
 */
import type pg from 'pg';
import { accountOfCall, statsBackfillSql, statsRecountSql, statsTablesSql, statsUpsertsSql } from './call-stats.ts';
import { commandsTableSql } from './command-rows.ts';
import { deliveryShard } from './delivery-rows.ts';
import { LOCKS, text } from './pg-ingest.ts';
import { StoreConfigError } from './store-config-error.ts';

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


/** Creates the schema if asked for and applies the migrations the database does not have yet. */
export async function migrate(c: pg.PoolClient, schema: string | undefined): Promise<void> {
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
