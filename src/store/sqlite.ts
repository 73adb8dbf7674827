/**
 * The SQLite store (better-sqlite3): one file, WAL journal, every write batch one transaction.
 *
 * Writes run on their own connection in a worker thread (`sqlite-worker.ts`), so the commit and its fsync
 * (see `sqlite-writes.ts` on durability) never hold up request handling. The reads that can take long on a
 * big log (the API's lists, the stream's replay, reports) run in reader threads (`sqlite-reader-pool.ts`),
 * each on a read-only connection of its own, which WAL lets proceed while the writer commits; the cheap ones
 * (a row by primary key, start-up loads) run on a connection in the calling thread. An in-memory database
 * (`:memory:`, for tests) cannot be shared between connections, so it does everything on its one connection.
 */
import Database from 'better-sqlite3';
import type { PhoneState } from '../domain/types.ts';
import { EVENT_COLUMNS, type EventRow as StoredEventRow } from './event-rows.ts';
import { migrate } from './sqlite-schema.ts';
import { prepareSqlitePath } from './sqlite-path.ts';
import { siblingModule } from '../core/module-url.ts';
import {
  configureConnection, encodeBatch, newestEventByMac, newWriteTotals, readWriteTotals, SqliteWriter, writerSettings,
  type EncodedBatch, type WriterSettings, type WriteTotals,
} from './sqlite-writes.ts';
import { DELIVERY_COLUMNS, deliveryFromRow, type DeliveryRow } from './delivery-rows.ts';
import { chainPhones, SqliteReads, toEvent, type ReadOp } from './sqlite-reads.ts';
import { ReaderPool } from './sqlite-reader-pool.ts';
import { ThreadChannel } from './sqlite-thread.ts';
import { SqliteCommandReader, SqliteCommandWriter } from './sqlite-commands.ts';
import type {
  AbandonCommands,
  StoredCommand,
  DeliveryQuery,
  DeliveryUpdate,
  StoredDelivery,
  NewDelivery,
  CallQuery,
  CallRecord,
  CallStatsRow,
  EventFilter,
  EventQuery,
  HourStatsRow,
  InventoryEntry,
  StatsQuery,
  RejectedQuery,
  Store,
  StoreCounts,
  StoredEvent,
  StoredControl,
  StoredRejected,
  StoreWriteTotals,
  WriteBatch,
} from './types.ts';

type EventRow = StoredEventRow<string>;

/** Reader threads of a file database: two, so one slow query (a deep walk, a report) leaves the other free. */
const DEFAULT_READERS = 2;

/**
 * A Buffer crosses a thread boundary as a plain Uint8Array (structured clone): view it as a Buffer again,
 * without copying, so callers see what an inline read gives them.
 */
const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

export interface SqliteStoreOptions {
  /** `FULL` (default) survives power loss; `NORMAL` only process crashes. See sqlite-writes.ts. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Write from a worker thread (default for files); false writes inline on the calling thread. */
  worker?: boolean;
  /**
   * Reader threads for the queries that can take long (default 2 for files; an in-memory database reads
   * inline, on its one connection).
   */
  readers?: number;
  /** Released when the store closes (the receiver's hold on the file, see sqlite-writer-lock.ts). */
  lock?: { release(): void };
}

/** How writes reach the database: inline, or through the worker thread. */
interface Writes {
  write(batch: EncodedBatch): Promise<number[]>;
  prune(cutoff: number, batchSize: number): Promise<number>;
  putControl(row: StoredControl): Promise<void>;
  deleteControl(mac: string): Promise<void>;
  putCommands(rows: readonly StoredCommand[]): Promise<void>;
  abandonCommands(query: AbandonCommands): Promise<number>;
  trimCommands(keep: number): Promise<number>;
  maxPages(pages: number): Promise<number>;
  updateDeliveries(updates: readonly DeliveryUpdate[]): Promise<void>;
  retryDelivery(id: number, now: number): Promise<boolean>;
  killDeliveries(destination: string, reason: string, now: number): Promise<number>;
  settings(): Promise<WriterSettings>;
  close(): Promise<void>;
}

function inlineWrites(db: Database.Database, totals: WriteTotals): Writes {
  const writer = new SqliteWriter(db, totals);
  const commands = new SqliteCommandWriter(db);
  return {
    write: async (batch) => writer.write(batch),
    prune: async (cutoff, batchSize) => writer.prune(cutoff, batchSize),
    putControl: async (row) => writer.putControl(row),
    deleteControl: async (mac) => writer.deleteControl(mac),
    putCommands: async (rows) => commands.putCommands(rows),
    abandonCommands: async (query) => commands.abandonCommands(query),
    trimCommands: async (keep) => commands.trimCommands(keep),
    maxPages: async (pages) => db.pragma(`max_page_count = ${Math.floor(pages)}`, { simple: true }) as number,
    updateDeliveries: async (updates) => writer.updateDeliveries(updates),
    retryDelivery: async (id, now) => writer.retryDelivery(id, now),
    killDeliveries: async (destination, reason, now) => writer.killDeliveries(destination, reason, now),
    settings: async () => writerSettings(db),
    close: async () => {},
  };
}

const WRITER_URL = siblingModule(import.meta.url, './sqlite-worker');

/** Starts the writer thread; resolves once its connection is open. */
async function workerWrites(file: string, synchronous: 'FULL' | 'NORMAL', totals: WriteTotals): Promise<Writes> {
  const ch = await ThreadChannel.start(WRITER_URL, { file, synchronous, totals }, 'the database writer stopped');
  const call = <T>(msg: Record<string, unknown>) => ch.call<T>(msg);
  return {
    write: (batch) => call<number[]>({ op: 'write', batch }),
    prune: (cutoff, batchSize) => call<number>({ op: 'prune', cutoff, batchSize }),
    putControl: (row) => call<void>({ op: 'putControl', row }),
    deleteControl: (mac) => call<void>({ op: 'deleteControl', mac }),
    putCommands: (rows) => call<void>({ op: 'putCommands', rows }),
    abandonCommands: (query) => call<number>({ op: 'abandonCommands', query }),
    trimCommands: (keep) => call<number>({ op: 'trimCommands', keep }),
    maxPages: (pages) => call<number>({ op: 'maxPages', pages }),
    updateDeliveries: (updates) => call<void>({ op: 'deliveries', updates }),
    retryDelivery: (id, now) => call<boolean>({ op: 'retry', id, now }),
    killDeliveries: (destination, reason, now) => call<number>({ op: 'kill', destination, reason, now }),
    settings: () => call<WriterSettings>({ op: 'settings' }),
    close: async () => {
      if (!ch.alive) return;
      await call({ op: 'close' });
      await ch.terminate(new Error('the store is closed'));
    },
  };
}

/** How the long reads run: inline on the one connection (in memory), or in the reader threads. */
type Reads = <T>(op: ReadOp, args: readonly unknown[]) => Promise<T>;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteStore['prepare']>;
  private readonly commandReader: SqliteCommandReader;
  private writing: Writes | Promise<Writes>;
  private readonly readers: ReaderPool | undefined;
  private readonly read: Reads;
  /** Each phone's newest event id: where "events of this phone" starts walking its prev_id chain. */
  private readonly newest: Map<string, number>;
  private readonly lock: { release(): void } | undefined;
  /** Counted by the writer, wherever it runs (see WriteTotals). */
  private readonly totals: WriteTotals;

  /**
   * Opens (creating the file and its directory if needed) and migrates. `:memory:` for a throwaway store.
   * The writer and reader threads start in the background; the first write or read waits for them.
   */
  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.lock = options.lock;
    const memory = file === ':memory:' || file === '';
    if (!memory) prepareSqlitePath(file);
    this.description = `sqlite ${file}`;
    this.db = new Database(file);
    try {
      configureConnection(this.db, options.synchronous);
      migrate(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.stmt = this.prepare();
    this.commandReader = new SqliteCommandReader(this.db);
    this.newest = newestEventByMac(this.db);
    const useWorker = options.worker ?? !memory;
    this.totals = newWriteTotals(useWorker);
    this.writing = useWorker ? workerWrites(file, options.synchronous ?? 'FULL', this.totals) : inlineWrites(this.db, this.totals);
    // An unobserved failure to start is reported by the first write instead of crashing the process.
    if (this.writing instanceof Promise) this.writing.catch(() => {});
    const readers = memory ? 0 : (options.readers ?? DEFAULT_READERS);
    if (readers > 0) {
      const pool = new ReaderPool(file, readers);
      pool.warm();
      this.readers = pool;
      this.read = (op, args) => pool.run(op, args);
    } else {
      const inline = new SqliteReads(this.db);
      this.read = async <T>(op: ReadOp, args: readonly unknown[]) => {
        if (!this.db.open) throw new Error('the store is closed');
        return (inline[op] as (...a: readonly unknown[]) => T)(...args);
      };
    }
  }

  /**
   * The journal mode and `synchronous` level of the connection that writes (the writer thread's own, for a
   * file database): what decides whether an acknowledged event survives a crash or power loss.
   */
  async writerSettings(): Promise<WriterSettings> {
    return (await this.writing).settings();
  }

  writeTotals(): StoreWriteTotals {
    return readWriteTotals(this.totals);
  }

  /** Resolves once the store can write (the writer thread is up). */
  async ready(): Promise<void> {
    this.writing = await this.writing;
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** The few statements still run on this thread (see the class's methods); each prepared once. */
  private cached(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private prepare() {
    const db = this.db;
    return {
      phones: db.prepare('SELECT state FROM phones'),
      eventById: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`),
      lastEventId: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
      stateEventId: db.prepare("SELECT value FROM receiver_state WHERE key = 'state_event_id'"),
    };
  }

  async write(batch: WriteBatch): Promise<StoredEvent[]> {
    const writes = await this.writing;
    const ids = await writes.write(encodeBatch(batch));
    for (const f of batch.forget ?? []) if (f.purge) this.newest.delete(f.mac);
    const count = batch.events.length;
    const stored: StoredEvent[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const e = batch.events[i];
      const id = ids[i];
      if (id > (this.newest.get(e.mac) ?? 0)) this.newest.set(e.mac, id);
      stored[i] = {
        receivedAt: e.receivedAt,
        mac: e.mac,
        incident: e.incident,
        vars: e.vars,
        extra: e.extra,
        rawTarget: e.rawTarget,
        sourceIp: e.sourceIp,
        id,
      };
    }
    if (batch.written && ids.length > count) batch.written(writtenDeliveries(batch, stored, ids));
    return stored;
  }

  // What stays on this thread: start-up loads (once), single rows by primary key, and the outbox worker's
  // next page of due deliveries (a range of the partial due index, LIMIT-bounded). Each costs tens of
  // microseconds, less than the round trip to a reader thread and back.

  async stateCheckpoint(): Promise<number> {
    const row = this.stmt.stateEventId.get() as { value: number } | undefined;
    return row?.value ?? 0;
  }

  async loadPhones(): Promise<PhoneState[]> {
    return (this.stmt.phones.all() as { state: string }[]).map((r) => JSON.parse(r.state) as PhoneState);
  }

  async lastEventId(): Promise<number> {
    const row = this.stmt.lastEventId.get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  async eventsByIds(ids: readonly number[]): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (const id of ids) {
      const row = this.stmt.eventById.get(id) as EventRow | undefined;
      if (row) out.push(toEvent(row));
    }
    return out;
  }

  async delivery(id: number): Promise<StoredDelivery | undefined> {
    const row = this.cached(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`).get(id) as DeliveryRow | undefined;
    return row && deliveryFromRow(row);
  }

  async deliveriesDue(destination: string, afterId: number, limit: number): Promise<StoredDelivery[]> {
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE destination = ? AND id > ? AND state IN ('pending', 'failed')
      ORDER BY id LIMIT ?`;
    return (this.cached(sql).all(destination, afterId, limit) as DeliveryRow[]).map(deliveryFromRow);
  }

  async keepSetting(key: string, value: string): Promise<string> {
    // A one-off small write at start-up on the reading connection (busy_timeout covers the writer thread).
    this.cached('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
    return (this.cached('SELECT value FROM settings WHERE key = ?').get(key) as { value: string }).value;
  }

  async setting(key: string): Promise<string | undefined> {
    return (this.cached('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  async putSetting(key: string, value: string | null): Promise<void> {
    // Rare small writes (an administrator's switch, a mark every few minutes) on the reading connection, as
    // keepSetting does: busy_timeout waits out the writer thread's commit.
    if (value === null) this.cached('DELETE FROM settings WHERE key = ?').run(key);
    else this.cached('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  async controlSettings(): Promise<StoredControl[]> {
    const rows = this.cached('SELECT mac, url, vendor, credentials, updated_at FROM phone_control').all() as
      { mac: string; url: string | null; vendor: string | null; credentials: Buffer | null; updated_at: number }[];
    return rows.map((r) => ({ mac: r.mac, url: r.url, vendor: r.vendor, credentials: r.credentials, updatedAt: r.updated_at }));
  }

  async loadInventory(): Promise<InventoryEntry[]> {
    const rows = this.cached('SELECT mac, name, location, groups FROM inventory').all() as { mac: string; name: string; location: string; groups: string }[];
    return rows.map((r) => ({ mac: r.mac, name: r.name, location: r.location, groups: JSON.parse(r.groups) as string[] }));
  }

  async forgottenPhones(): Promise<Map<string, number>> {
    const rows = this.cached('SELECT mac, up_to_event_id FROM forgotten_phones').all() as { mac: string; up_to_event_id: number }[];
    return new Map(rows.map((r) => [r.mac, r.up_to_event_id]));
  }

  // The reads that can take long, off this thread (see sqlite-reads.ts).

  async events(q: EventQuery): Promise<StoredEvent[]> {
    // Where the phones' chains start, for a query that walks them: this thread knows, from the writes.
    const walked = chainPhones(q);
    let heads: Record<string, number> | undefined;
    if (walked) {
      heads = {};
      for (const mac of walked) {
        const id = this.newest.get(mac);
        if (id !== undefined) heads[mac] = id;
      }
    }
    return this.eventsBack(await this.read<StoredEvent[]>('events', [q, heads]));
  }

  async eventsAfter(afterId: number, limit: number, filter: EventFilter = {}): Promise<StoredEvent[]> {
    return this.eventsBack(await this.read<StoredEvent[]>('eventsAfter', [afterId, limit, filter]));
  }

  private eventsBack(events: StoredEvent[]): StoredEvent[] {
    for (const e of events) e.rawTarget = asBuffer(e.rawTarget);
    return events;
  }

  async calls(q: CallQuery): Promise<CallRecord[]> {
    return this.read<CallRecord[]>('calls', [q]);
  }

  async rejected(q: RejectedQuery): Promise<StoredRejected[]> {
    const rows = await this.read<StoredRejected[]>('rejected', [q]);
    for (const r of rows) r.rawTarget = asBuffer(r.rawTarget);
    return rows;
  }

  async counts(): Promise<StoreCounts> {
    return this.read<StoreCounts>('counts', []);
  }

  async deliveries(q: DeliveryQuery): Promise<StoredDelivery[]> {
    return this.read<StoredDelivery[]>('deliveries', [q]);
  }

  async outboxDepth(): Promise<Record<string, number>> {
    return this.read<Record<string, number>>('outboxDepth', []);
  }

  async callStats(q: StatsQuery): Promise<CallStatsRow[]> {
    return this.read<CallStatsRow[]>('callStats', [q]);
  }

  async hourStats(q: StatsQuery): Promise<HourStatsRow[]> {
    return this.read<HourStatsRow[]>('hourStats', [q]);
  }

  async prune(cutoff: number, batchSize: number): Promise<number> {
    return (await this.writing).prune(cutoff, batchSize);
  }

  /**
   * Caps the database at `pages` pages (PRAGMA max_page_count on the writing connection); resolves with the
   * cap in effect. Writes beyond it fail with SQLITE_FULL exactly as on a full disk, which is how the tests
   * provoke one; raising the cap is space coming back.
   */
  async setMaxPageCount(pages: number): Promise<number> {
    return (await this.writing).maxPages(pages);
  }

  async putControl(row: StoredControl): Promise<void> {
    await (await this.writing).putControl(row);
  }

  async deleteControl(mac: string): Promise<void> {
    await (await this.writing).deleteControl(mac);
  }

  async putCommands(rows: readonly StoredCommand[]): Promise<void> {
    if (rows.length > 0) await (await this.writing).putCommands(rows);
  }

  async command(id: string): Promise<StoredCommand | undefined> {
    return this.commandReader.command(id);
  }

  async commands(query: { mac?: string; limit: number }): Promise<StoredCommand[]> {
    return this.commandReader.commands(query);
  }

  async abandonCommands(query: AbandonCommands): Promise<number> {
    return (await this.writing).abandonCommands(query);
  }

  async trimCommands(keep: number): Promise<number> {
    return (await this.writing).trimCommands(keep);
  }

  async updateDeliveries(updates: readonly DeliveryUpdate[]): Promise<void> {
    if (updates.length) await (await this.writing).updateDeliveries(updates);
  }

  async retryDelivery(id: number, now: number): Promise<StoredDelivery | undefined> {
    if (!(await (await this.writing).retryDelivery(id, now))) return undefined;
    return this.delivery(id);
  }

  async killDeliveries(destination: string, reason: string, now: number): Promise<number> {
    return (await this.writing).killDeliveries(destination, reason, now);
  }

  /** Reads still in flight in the reader threads are refused ("the store is closed"); none is left hanging. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      await this.readers?.close();
      await (await this.writing).close();
    } finally {
      this.db.close();
      this.lock?.release();
    }
  }
}

/** The delivery rows a batch wrote, as `deliveriesDue` would read them back, from the ids after its events'. */
function writtenDeliveries(batch: WriteBatch, stored: readonly StoredEvent[], ids: readonly number[]): StoredDelivery[] {
  const rows: StoredDelivery[] = [];
  let at = stored.length;
  const add = (id: number, d: NewDelivery) => {
    if (id > 0) rows.push({ ...d, id, state: 'pending', attempts: 0, nextAt: d.createdAt, lastError: null, lastStatus: null, lastAttemptAt: null, deliveredAt: null });
  };
  for (let i = 0; i < stored.length; i++) {
    const e = stored[i];
    for (const destination of batch.routes?.[i] ?? []) {
      add(ids[at++], { destination, type: `phone.${e.incident}`, mac: e.mac, eventId: e.id, createdAt: e.receivedAt, body: null, dedupeKey: null });
    }
  }
  for (const d of batch.deliveries ?? []) add(ids[at++], d);
  return rows;
}
