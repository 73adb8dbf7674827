/**
 * The PostgreSQL store: `--db postgres://user@host:5432/db` (add `?schema=name` to keep the tables in a
 * schema of their own; it is created if missing). Same Store interface as SQLite, plus `shared`: several
 * receivers may use one database and act as one (docs/scale-out.md).
 *
 * This class puts the parts together: the reads on a small pool (pg-reads.ts, which it extends), the
 * writes one at a time on a connection of their own with the local journal while PostgreSQL is away
 * (pg-writes.ts, pg-ingest.ts), the shared part (pg-shared.ts), the schema (pg-schema.ts) and how it
 * connects (pg-config.ts). With PostgreSQL's default `synchronous_commit = on`, a COMMIT returns once the
 * transaction is flushed to its write-ahead log: the receiver's 200 still means "on disk".
 */
import pg from 'pg';
import { numbered, commandValues, PUT_COMMAND_SQL } from './command-rows.ts';
import { DEFAULT_DB_TIMEOUT_MS, redactDbUrl } from './db-url.ts';
import { DELIVERY_COLUMNS, deliveryFromRow, type DeliveryRow } from './delivery-rows.ts';
import type { Journal } from './journal.ts';
import { openJournal, READ_TIMEOUT_MS, splitSchema, startError, TYPES, type PostgresOptions } from './pg-config.ts';
import { LOCKS, text } from './pg-ingest.ts';
import { PgReads } from './pg-reads.ts';
import { migrate } from './pg-schema.ts';
import { sharedState } from './pg-shared.ts';
import { PgWriter } from './pg-writes.ts';
import type { AbandonCommands, DeliveryUpdate, SharedState, Store, StoredCommand, StoredControl, StoredDelivery, StoredEvent, WriteBatch } from './types.ts';

export { openJournal, type PostgresOptions };

export class PostgresStore extends PgReads implements Store {
  readonly kind = 'postgres' as const;
  readonly description: string;
  readonly shared: SharedState;
  private readonly writer: PgWriter;
  /** A journal handed in stays open: its owner (a receiver started on it) closes it. */
  private ownsJournal = true;

  private constructor(
    pool: pg.Pool,
    config: pg.ClientConfig,
    private readonly journal: Journal | undefined,
    opts: PostgresOptions,
    url: string,
    schema: string | undefined,
  ) {
    super(pool);
    this.description = `postgres ${redactDbUrl(url)}`;
    // Channels are per database, not per schema: receivers on another schema must not wake ours.
    const channel = `actionurl_events${schema ? `_${schema}` : ''}`.slice(0, 63);
    this.writer = new PgWriter(pool, config, channel, journal, opts);
    this.shared = sharedState({ pool, config, channel, writer: this.writer, journal: journal !== undefined });
  }

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
      await store.writer.resumeJournal(first);
      first.release();
      return store;
    } catch (err) {
      first.release();
      if (ownJournal) journal?.close();
      await pool.end();
      throw err;
    }
  }

  /** Batches waiting in the local journal. */
  get journalled(): number {
    return this.writer.journalled;
  }

  write(batch: WriteBatch): Promise<StoredEvent[]> {
    return this.writer.write(batch);
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


  putSetting(key: string, value: string | null): Promise<void> {
    return this.writer.run(async (c) => {
      if (value === null) await c.query('DELETE FROM settings WHERE key = $1', [key]);
      else await c.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, text(value)]);
    });
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
    return this.writer.run(async (c) => {
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
    const res = await this.writer.run((c) =>
      c.query<DeliveryRow>(
        `UPDATE deliveries SET state = 'pending', attempts = 0, next_at = $1, delivered_at = NULL WHERE id = $2
         RETURNING ${DELIVERY_COLUMNS}`,
        [now, id],
      ),
    );
    return res.rows[0] && deliveryFromRow(res.rows[0]);
  }

  async killDeliveries(destination: string, reason: string, now: number): Promise<number> {
    const res = await this.writer.run((c) =>
      c.query(
        `UPDATE deliveries SET state = 'dead', last_error = $1, last_attempt_at = coalesce(last_attempt_at, $2)
         WHERE destination = $3 AND state IN ('pending', 'failed')`,
        [text(reason), now, destination],
      ),
    );
    return res.rowCount ?? 0;
  }


  putControl(row: StoredControl): Promise<void> {
    return this.writer.run(async (c) => {
      await c.query(
        `INSERT INTO phone_control (mac, url, vendor, credentials, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (mac) DO UPDATE SET url = excluded.url, vendor = excluded.vendor,
           credentials = excluded.credentials, updated_at = excluded.updated_at`,
        [row.mac, row.url, row.vendor, row.credentials, row.updatedAt],
      );
    });
  }

  deleteControl(mac: string): Promise<void> {
    return this.writer.run(async (c) => {
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
    await this.writer.close();
    if (this.ownsJournal) this.journal?.close();
    await this.pool.end();
  }
}
