/**
 * The SQLite store (better-sqlite3): one file, WAL journal, every write batch one transaction.
 *
 * Writes run on their own connection in a worker thread (`sqlite-worker.ts`), so the commit and its fsync
 * (see `sqlite-writes.ts` on durability) never hold up request handling; reads run on a second connection
 * in the calling thread, which WAL lets proceed while the writer commits. An in-memory database (`:memory:`,
 * for tests) cannot be shared between connections, so it writes inline on its one connection.
 */
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { CallState, PhoneState } from '../domain/types.ts';
import { EVENT_COLUMNS, eventFromRow, type EventRow as StoredEventRow } from './event-rows.ts';
import { migrate } from './sqlite-schema.ts';
import { readCallStats, readHourStats, type StatsReader } from './call-stats.ts';
import { prepareSqlitePath } from './sqlite-path.ts';
import { isTypeScriptSource, siblingModule } from '../core/module-url.ts';
import {
  configureConnection, encodeBatch, newestEventByMac, SqliteWriter, writerSettings, type EncodedBatch, type WriterSettings,
} from './sqlite-writes.ts';
import { DELIVERY_COLUMNS, deliveryFromRow, type DeliveryRow } from './delivery-rows.ts';
import { SqliteCommandReader, SqliteCommandWriter } from './sqlite-commands.ts';
import type {
  AbandonCommands,
  StoredCommand,
  DeliveryQuery,
  DeliveryUpdate,
  StoredDelivery,
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
  WriteBatch,
} from './types.ts';

interface RejectedRow {
  id: number;
  received_at: number;
  source_ip: string;
  method: string;
  status: number;
  reason: string;
  raw_target: Buffer;
  count: number;
}

type EventRow = StoredEventRow<string>;

/** Rows of a phone's event chain read between turns of the event loop (a few milliseconds' worth, cold). */
const CHAIN_SLICE = 64;
const toEvent = (r: EventRow): StoredEvent => eventFromRow(r, JSON.parse);

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

export interface SqliteStoreOptions {
  /** `FULL` (default) survives power loss; `NORMAL` only process crashes. See sqlite-writes.ts. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Write from a worker thread (default for files); false writes inline on the calling thread. */
  worker?: boolean;
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

function inlineWrites(db: Database.Database): Writes {
  const writer = new SqliteWriter(db);
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

const WORKER_URL = siblingModule(import.meta.url, './sqlite-worker');

/** A worker thread running the writer; from the TypeScript sources it needs tsx registered in it first. */
function startWorker(workerData: unknown): Worker {
  if (!isTypeScriptSource(WORKER_URL.href)) return new Worker(WORKER_URL, { workerData });
  // A small bootstrap registers tsx in the new thread (found from this package, not from the cwd), then
  // loads the worker.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** Starts the writer thread; resolves once its connection is open. */
async function workerWrites(file: string, synchronous: 'FULL' | 'NORMAL'): Promise<Writes> {
  const worker = startWorker({ file, synchronous });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let failure: Error | undefined;
  const failAll = (err: Error) => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => {
      worker.off('error', reject);
      resolve();
    });
  });
  worker.on('message', (msg: { n: number; ok: boolean; value?: unknown; error?: string; code?: string }) => {
    const p = pending.get(msg.n);
    if (!p) return;
    pending.delete(msg.n);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(Object.assign(new Error(msg.error), msg.code ? { code: msg.code } : {}));
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', () => failAll(failure ?? new Error('the database writer stopped')));
  const call = <T>(msg: Record<string, unknown>): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const n = next++;
    return new Promise<T>((resolve, reject) => {
      pending.set(n, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...msg, n });
    });
  };
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
      if (failure) return;
      await call({ op: 'close' });
      await worker.terminate();
    },
  };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteStore['prepare']>;
  private readonly commandReader: SqliteCommandReader;
  private writing: Writes | Promise<Writes>;
  /** Each phone's newest event id: where "events of this phone" starts walking its prev_id chain. */
  private readonly newest: Map<string, number>;

  /**
   * Opens (creating the file and its directory if needed) and migrates. `:memory:` for a throwaway store.
   * The writer thread starts in the background; the first write waits for it.
   */
  constructor(file: string, options: SqliteStoreOptions = {}) {
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
    this.writing = useWorker ? workerWrites(file, options.synchronous ?? 'FULL') : inlineWrites(this.db);
    // An unobserved failure to start is reported by the first write instead of crashing the process.
    if (this.writing instanceof Promise) this.writing.catch(() => {});
  }

  /**
   * The journal mode and `synchronous` level of the connection that writes (the writer thread's own, for a
   * file database): what decides whether an acknowledged event survives a crash or power loss.
   */
  async writerSettings(): Promise<WriterSettings> {
    return (await this.writing).settings();
  }

  /** Resolves once the store can write (the writer thread is up). */
  async ready(): Promise<void> {
    this.writing = await this.writing;
  }

  private readonly statements = new Map<string, Database.Statement>();

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

  private prepare() {
    const db = this.db;
    return {
      phones: db.prepare('SELECT state FROM phones'),
      eventById: db.prepare(`SELECT ${EVENT_COLUMNS}, prev_id FROM events WHERE id = ?`),
      lastEventId: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
      stateEventId: db.prepare("SELECT value FROM receiver_state WHERE key = 'state_event_id'"),
    };
  }

  async write(batch: WriteBatch): Promise<StoredEvent[]> {
    const writes = await this.writing;
    const ids = await writes.write(encodeBatch(batch));
    for (const f of batch.forget ?? []) if (f.purge) this.newest.delete(f.mac);
    const stored: StoredEvent[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
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
    return stored;
  }

  async stateCheckpoint(): Promise<number> {
    const row = this.stmt.stateEventId.get() as { value: number } | undefined;
    return row?.value ?? 0;
  }

  async loadPhones(): Promise<PhoneState[]> {
    return (this.stmt.phones.all() as { state: string }[]).map((r) => JSON.parse(r.state) as PhoneState);
  }

  async events(q: EventQuery): Promise<StoredEvent[]> {
    if (q.macs?.length === 0) return [];
    if (q.mac !== undefined && (q.macs === undefined || q.macs.includes(q.mac))) return this.eventsOfPhone(q.mac, q);
    if (q.mac !== undefined) return [];
    // `since` becomes an id bound too (ids grow with arrival time), and the time index is kept out of the
    // plan (`+received_at`): sorting every event since a time by id would hold the event loop for seconds
    // on a log of millions, while walking ids newest first stops after one page.
    const firstSince = q.since === undefined ? undefined : this.firstIdSince(q.since);
    const { where, args } = conditions([
      ['mac IN (?)', q.macs],
      ['incident = ?', q.incident],
      ['call_id = ?', q.callId],
      ['id >= ?', firstSince],
      ['+received_at >= ?', q.since],
      ['+received_at < ?', q.until],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql, args).all(...args, q.limit) as EventRow[]).map(toEvent);
  }

  /** The first event id received at or after `since` (the time index answers it at once). */
  private firstIdSince(since: number): number {
    const row = this.cached('SELECT id FROM events WHERE received_at >= ? ORDER BY received_at, id LIMIT 1').get(since) as { id: number } | undefined;
    return row?.id ?? Number.MAX_SAFE_INTEGER;
  }

  /**
   * One phone's events, newest first, along its prev_id chain (see migration 3). A filter that matches few
   * of a long history walks far, so the walk lets the event loop run every CHAIN_SLICE rows (a few
   * milliseconds) instead of holding it for the whole walk.
   */
  private async eventsOfPhone(mac: string, q: EventQuery): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    let id: number | null = this.newest.get(mac) ?? null;
    let walked = 0;
    while (id !== null && out.length < q.limit) {
      if (++walked % CHAIN_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const row = this.stmt.eventById.get(id) as (EventRow & { prev_id: number | null }) | undefined;
      if (!row) break; // older events were deleted by retention
      if (q.since !== undefined && row.received_at < q.since) break;
      id = row.prev_id;
      if (q.before !== undefined && row.id >= q.before) continue;
      if (q.until !== undefined && row.received_at >= q.until) continue;
      if (q.incident !== undefined && row.incident !== q.incident) continue;
      if (q.callId !== undefined && (JSON.parse(row.vars) as Record<string, string>).call_id !== q.callId) continue;
      out.push(toEvent(row));
    }
    return out;
  }

  async eventsAfter(afterId: number, limit: number, filter: EventFilter = {}): Promise<StoredEvent[]> {
    const { where, args } = conditions([
      ['id > ?', afterId],
      ['mac = ?', filter.mac],
      ['incident = ?', filter.incident],
    ]);
    const sql = `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id LIMIT ?`;
    return (this.cached(sql).all(...args, limit) as EventRow[]).map(toEvent);
  }

  async lastEventId(): Promise<number> {
    const row = this.stmt.lastEventId.get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  async calls(q: CallQuery): Promise<CallRecord[]> {
    if (q.macs?.length === 0) return [];
    const { where, args } = conditions([
      ['mac = ?', q.mac],
      ['mac IN (?)', q.macs],
      ['outcome = ?', q.outcome],
      ['started_at >= ?', q.since],
      ['started_at < ?', q.until],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT id, mac, state FROM calls ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql, args).all(...args, q.limit) as { id: number; mac: string; state: string }[]).map((r) => ({
      id: r.id,
      mac: r.mac,
      call: JSON.parse(r.state) as CallState,
    }));
  }

  async rejected(q: RejectedQuery): Promise<StoredRejected[]> {
    const { where, args } = conditions([
      ['received_at >= ?', q.since],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT * FROM rejected ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql).all(...args, q.limit) as RejectedRow[]).map((r) => ({
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

  async counts(): Promise<StoreCounts> {
    const one = (table: string) => (this.cached(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { events: one('events'), phones: one('phones'), calls: one('calls'), rejected: one('rejected') };
  }

  async controlSettings(): Promise<StoredControl[]> {
    const rows = this.cached('SELECT mac, url, vendor, credentials, updated_at FROM phone_control').all() as
      { mac: string; url: string | null; vendor: string | null; credentials: Buffer | null; updated_at: number }[];
    return rows.map((r) => ({ mac: r.mac, url: r.url, vendor: r.vendor, credentials: r.credentials, updatedAt: r.updated_at }));
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

  async eventsByIds(ids: readonly number[]): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (const id of ids) {
      const row = this.stmt.eventById.get(id) as EventRow | undefined;
      if (row) out.push(toEvent(row));
    }
    return out;
  }

  async deliveries(q: DeliveryQuery): Promise<StoredDelivery[]> {
    const { where, args } = conditions([
      ['state = ?', q.state],
      ['destination = ?', q.destination],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM deliveries ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql).all(...args, q.limit) as DeliveryRow[]).map(deliveryFromRow);
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

  async outboxDepth(): Promise<Record<string, number>> {
    const sql = "SELECT destination, count(*) AS n FROM deliveries WHERE state IN ('pending', 'failed') GROUP BY destination";
    const out: Record<string, number> = {};
    for (const r of this.cached(sql).all() as { destination: string; n: number }[]) out[r.destination] = r.n;
    return out;
  }

  async loadInventory(): Promise<InventoryEntry[]> {
    const rows = this.cached('SELECT mac, name, location, groups FROM inventory').all() as { mac: string; name: string; location: string; groups: string }[];
    return rows.map((r) => ({ mac: r.mac, name: r.name, location: r.location, groups: JSON.parse(r.groups) as string[] }));
  }

  async forgottenPhones(): Promise<Map<string, number>> {
    const rows = this.cached('SELECT mac, up_to_event_id FROM forgotten_phones').all() as { mac: string; up_to_event_id: number }[];
    return new Map(rows.map((r) => [r.mac, r.up_to_event_id]));
  }

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

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      await (await this.writing).close();
    } finally {
      this.db.close();
    }
  }
}
