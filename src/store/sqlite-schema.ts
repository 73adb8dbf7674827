/**
 * The SQLite schema as numbered migrations. A database remembers which ones it has (`schema_migrations`);
 * opening it applies the missing ones in order, each in its own transaction. Never edit a shipped
 * migration: add the next one.
 */
import type Database from 'better-sqlite3';
import { accountOfCall, statsBackfillSql, statsRecountSql, statsTablesSql, statsUpsertsSql } from './call-stats.ts';
import { commandsTableSql } from './command-rows.ts';
import { StoreConfigError } from './store-config-error.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Work SQL alone cannot do, after `sql`, in the same transaction. */
  run?(db: Database.Database): void;
}

const FORWARDING_OUTBOX_SQL = `
  -- One row per (event, destination): written in the same transaction as the event (the outbox), then
  -- updated with each attempt's outcome. Derived events (call.ended, …) carry a dedupe_key so deriving them
  -- again after a crash stores them once.
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    type TEXT NOT NULL,
    mac TEXT NOT NULL,
    event_id INTEGER,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT,
    last_status INTEGER,
    last_attempt_at INTEGER,
    delivered_at INTEGER,
    body TEXT,
    dedupe_key TEXT
  );
  -- What each destination still has to send, in commit order; small, since delivered rows leave it.
  CREATE INDEX deliveries_due ON deliveries (destination, id) WHERE state IN ('pending', 'failed');
  CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';
  CREATE UNIQUE INDEX deliveries_dedupe ON deliveries (destination, dedupe_key) WHERE dedupe_key IS NOT NULL;
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, phones, calls, rejected',
    sql: `
      -- AUTOINCREMENT: ids are never reused, even when retention deleted the newest rows, so a stream
      -- client's Last-Event-ID always means the same event.
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at INTEGER NOT NULL,
        mac TEXT NOT NULL,
        incident TEXT NOT NULL,
        call_id TEXT,
        vars TEXT NOT NULL,
        extra TEXT NOT NULL,
        raw_target BLOB NOT NULL,
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
        accounts TEXT NOT NULL,
        registered INTEGER,
        dnd INTEGER NOT NULL,
        presence TEXT NOT NULL,
        state TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        last_event_id INTEGER NOT NULL
      ) WITHOUT ROWID;

      -- Phones reuse their call ids (a counter restarting at boot), so a call is one (mac, call_id, start).
      CREATE TABLE calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mac TEXT NOT NULL,
        call_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        direction TEXT NOT NULL,
        remote TEXT NOT NULL,
        display_remote TEXT NOT NULL,
        local TEXT NOT NULL,
        answered_at INTEGER,
        ended_at INTEGER,
        outcome TEXT NOT NULL,
        ring_ms INTEGER,
        talk_ms INTEGER,
        state TEXT NOT NULL,
        last_event_id INTEGER NOT NULL,
        UNIQUE (mac, call_id, started_at)
      );
      CREATE INDEX calls_mac ON calls (mac, id);
      CREATE INDEX calls_outcome ON calls (outcome, id);
      CREATE INDEX calls_started ON calls (started_at);

      CREATE TABLE rejected (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at INTEGER NOT NULL,
        source_ip TEXT NOT NULL,
        method TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT NOT NULL,
        raw_target BLOB NOT NULL,
        count INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX rejected_time ON rejected (received_at);
    `,
  },
  {
    version: 2,
    name: 'receiver state checkpoint',
    sql: `
      -- Small named values the receiver keeps: 'state_event_id' is the event id up to which the phones and
      -- calls tables are complete (events after it are replayed through the reducer at start-up).
      CREATE TABLE receiver_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'events of a phone chained by prev_id instead of a mac index',
    sql: `
      -- Each event points at the previous event of the same phone. "Events of phone X, newest first" walks
      -- that chain from the phone's newest event by primary key. An index on (mac, id) did the same, but
      -- thousands of phones make every insert touch a different index page, which cost more than the rest
      -- of the insert together; the chain costs one integer per row.
      ALTER TABLE events ADD COLUMN prev_id INTEGER;
      UPDATE events SET prev_id = (SELECT max(e.id) FROM events e WHERE e.mac = events.mac AND e.id < events.id);
      DROP INDEX events_mac;
    `,
  },
  {
    version: 4,
    name: 'receiver settings',
    sql: `
      -- Text values the receiver keeps with its data: 'admin_token' is the token it generated at first start
      -- for dashboard and API access from other machines (see docs/receiver.md, Access).
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'remote-control settings per phone',
    sql: `
      -- credentials: user name and password sealed with AES-256-GCM under a key kept outside the database
      -- (see docs/control.md), so a copy of this file alone does not give them away.
      CREATE TABLE phone_control (
        mac TEXT PRIMARY KEY,
        url TEXT,
        vendor TEXT,
        credentials BLOB,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    // Forwarding's reserved migration number is 2, which this store had already used before numbers were
    // reserved per feature; 12 keeps it clear of every reservation.
    version: 12,
    name: 'forwarding outbox (deliveries)',
    sql: FORWARDING_OUTBOX_SQL,
  },
  {
    // Version 3 was taken here before version numbers were shared out between the two stores; the phone
    // inventory's migration is 3 in PostgreSQL and 13 here.
    version: 13,
    name: 'phone inventory, forgotten phones, call summaries for reports',
    sql: `
      CREATE TABLE inventory (
        mac TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        location TEXT NOT NULL,
        groups TEXT NOT NULL -- JSON array of names
      ) WITHOUT ROWID;
      -- A forgotten phone's newest event id: a restart does not replay its events into a new state, and
      -- "events of this phone" still finds the old ones (the head of their prev_id chain).
      CREATE TABLE forgotten_phones (mac TEXT PRIMARY KEY, up_to_event_id INTEGER NOT NULL) WITHOUT ROWID;
      -- The account (user@host of $local) a call summary counts it under; set when the call is stored.
      ALTER TABLE calls ADD COLUMN account TEXT NOT NULL DEFAULT '';
      ${statsTablesSql('INTEGER')}
    `,
    run(db) {
      const setAccount = db.prepare('UPDATE calls SET account = ? WHERE id = ?');
      for (const row of db.prepare('SELECT id, local FROM calls').all() as { id: number; local: string }[]) {
        setAccount.run(accountOfCall(row.local), row.id);
      }
      db.exec(statsBackfillSql());
      db.exec(statsTriggersSql());
    },
  },
  {
    version: 14,
    name: 'remote-control commands',
    sql: commandsTableSql({ int: 'INTEGER', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' }),
  },
  {
    // PostgreSQL's is 9.
    version: 15,
    name: 'call summaries: an answered call lost in a failed transfer is not counted as answered',
    sql: `
      DROP TRIGGER calls_stats_insert;
      DROP TRIGGER calls_stats_update_old;
      DROP TRIGGER calls_stats_update_new;
      DROP TRIGGER calls_stats_delete;
    `,
    run(db) {
      db.exec(statsRecountSql());
      db.exec(statsTriggersSql());
    },
  },
];

/** The triggers that keep the call summaries (call-stats.ts) as calls are stored, changed and deleted. */
function statsTriggersSql(): string {
  return `
    CREATE TRIGGER calls_stats_insert AFTER INSERT ON calls WHEN NEW.ended_at IS NOT NULL
    BEGIN ${statsUpsertsSql('NEW', '1')} END;
    CREATE TRIGGER calls_stats_update_old AFTER UPDATE ON calls WHEN OLD.ended_at IS NOT NULL
    BEGIN ${statsUpsertsSql('OLD', '-1')} END;
    CREATE TRIGGER calls_stats_update_new AFTER UPDATE ON calls WHEN NEW.ended_at IS NOT NULL
    BEGIN ${statsUpsertsSql('NEW', '1')} END;
    CREATE TRIGGER calls_stats_delete AFTER DELETE ON calls WHEN OLD.ended_at IS NOT NULL
    BEGIN ${statsUpsertsSql('OLD', '-1')} END;
  `;
}

/** Applies the migrations the database lacks. Returns the versions applied. */
export function migrate(db: Database.Database): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const have = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const newest = Math.max(0, ...have);
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  if (newest > known) {
    throw new StoreConfigError(`--db: the database has schema version ${newest}, newer than this actionurl knows (${known}); upgrade actionurl, or use another database file`);
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (have.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.run?.(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
    applied.push(m.version);
  }
  return applied;
}
