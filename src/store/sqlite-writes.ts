/**
 * Every write to the SQLite database, on one connection: a batch in one transaction, and retention
 * pruning. The store runs this in a worker thread (so commits and their fsync never stall request handling),
 * or inline for an in-memory database.
 */
import type Database from 'better-sqlite3';
import type { CallState, PhoneState } from '../domain/types.ts';
import { accountOfCall } from './call-stats.ts';
import type {
  DeliveryUpdate, ForgetPhone, InventoryEntry, NewDelivery, NewEvent, NewRejected, StoredControl, StoreWriteTotals, WriteBatch,
} from './types.ts';

/**
 * A batch's events as they cross to the writer thread: one string, so the copy between threads is a single
 * memory copy instead of a structured clone of an object per event. Per event, a header line
 * `receivedAt \t mac \t incident \t sourceIp \t callIdLength \t varsLength \t extraLength \t rawLength \n`
 * (callIdLength -1: no call id), then the call id, the vars JSON, the extra JSON and the raw target (one
 * character per byte, Latin-1) back to back, each as long as its header says (UTF-16 code units). mac,
 * incident, source address and the numbers never hold a tab or a newline.
 */
export interface EncodedBatch {
  /** How many events `events` holds. */
  count: number;
  events: string;
  rejected: readonly NewRejected[];
  /** Phone rows, already made on the sending side (see encodePhone). */
  phones?: PhoneRow[];
  /** Call rows, already made on the sending side (see encodeCall). */
  calls?: CallRow[];
  stateEventId?: number;
  /** Per event (by index): the destinations it is forwarded to. */
  routes?: readonly (readonly string[] | undefined)[];
  deliveries?: readonly NewDelivery[];
  inventory?: readonly InventoryEntry[];
  forget?: readonly ForgetPhone[];
}

/**
 * A phone's row: mac, ip, model, firmware, accounts JSON, registered (null, 0 or 1), dnd (0 or 1), presence,
 * state JSON, first seen, last seen, last event id. Flat values only: a phone state with its calls is a deep
 * object graph, which costs far more to copy between threads than its JSON text.
 */
export type PhoneRow = [string, string, string, string, string, number | null, number, string, string, number, number, number];

/**
 * A call's row: mac, call id, started at, direction, remote, display remote, local, answered at, ended at,
 * outcome, ring ms, talk ms, state JSON, last event id, account (see accountOfCall).
 */
export type CallRow = [
  string,
  string,
  number,
  string,
  string,
  string,
  string,
  number | null,
  number | null,
  string,
  number | null,
  number | null,
  string,
  number,
  string,
];

export function encodePhone(p: PhoneState): PhoneRow {
  return [
    p.mac,
    p.ip,
    p.model,
    p.firmware,
    JSON.stringify(p.accounts),
    p.registered === null ? null : p.registered ? 1 : 0,
    p.dnd ? 1 : 0,
    p.presence,
    JSON.stringify(p),
    p.firstSeen,
    p.lastSeen,
    p.lastEventId,
  ];
}

export function encodeCall(mac: string, c: CallState): CallRow {
  return [
    mac,
    c.callId,
    c.startedAt,
    c.direction,
    c.remote,
    c.displayRemote,
    c.local,
    c.answeredAt,
    c.endedAt,
    c.outcome,
    (c.answeredAt ?? c.endedAt ?? c.startedAt) - c.startedAt,
    c.answeredAt !== null && c.endedAt !== null ? c.endedAt - c.answeredAt : null,
    JSON.stringify(c),
    c.lastEventId,
    accountOfCall(c.local),
  ];
}

/** No own enumerable property (what JSON.stringify would write as `{}`). */
function isEmpty(o: object): boolean {
  for (const key in o) if (Object.hasOwn(o, key)) return false;
  return true;
}

/** One event in the packed form described at EncodedBatch. */
export function encodeEvent(e: NewEvent): string {
  const callId = e.vars.call_id || null;
  const vars = JSON.stringify(e.vars);
  const extra = isEmpty(e.extra) ? '{}' : JSON.stringify(e.extra);
  const bytes: Uint8Array = e.rawTarget;
  const raw = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('latin1');
  return (
    `${e.receivedAt}\t${e.mac}\t${e.incident}\t${e.sourceIp}\t${callId === null ? -1 : callId.length}\t${vars.length}\t${extra.length}\t${raw.length}\n` +
    `${callId ?? ''}${vars}${extra}${raw}`
  );
}

export function encodeBatch(batch: WriteBatch): EncodedBatch {
  let events = '';
  for (let i = 0; i < batch.events.length; i++) events += encodeEvent(batch.events[i]);
  const encoded: EncodedBatch = { count: batch.events.length, events, rejected: batch.rejected };
  if (batch.phones?.length) encoded.phones = batch.phones.map(encodePhone);
  if (batch.calls?.length) encoded.calls = batch.calls.map(({ mac, call }) => encodeCall(mac, call));
  if (batch.stateEventId !== undefined) encoded.stateEventId = batch.stateEventId;
  if (batch.routes?.length) encoded.routes = batch.routes;
  if (batch.deliveries?.length) encoded.deliveries = batch.deliveries;
  if (batch.inventory?.length) encoded.inventory = batch.inventory;
  if (batch.forget?.length) encoded.forget = batch.forget;
  return encoded;
}

/** An event of a packed batch, as the insert statement takes it. */
interface PackedEvent {
  receivedAt: number;
  mac: string;
  incident: string;
  sourceIp: string;
  callId: string | null;
  vars: string;
  extra: string;
  raw: Buffer;
}

/** Reads the event at `at` of a packed batch into `out`; returns where the next one starts. */
function decodePacked(text: string, at: number, out: PackedEvent): number {
  const field = (): string => {
    const tab = text.indexOf('\t', at);
    const value = text.slice(at, tab);
    at = tab + 1;
    return value;
  };
  out.receivedAt = Number(field());
  out.mac = field();
  out.incident = field();
  out.sourceIp = field();
  const callIdLength = Number(field());
  const varsLength = Number(field());
  const extraLength = Number(field());
  const newline = text.indexOf('\n', at);
  const rawLength = Number(text.slice(at, newline));
  at = newline + 1;
  if (callIdLength < 0) out.callId = null;
  else {
    out.callId = text.slice(at, at + callIdLength);
    at += callIdLength;
  }
  out.vars = text.slice(at, at + varsLength);
  at += varsLength;
  out.extra = text.slice(at, at + extraLength);
  at += extraLength;
  out.raw = Buffer.from(text.slice(at, at + rawLength), 'latin1');
  return at + rawLength;
}

/**
 * Each phone's newest event id: where its prev_id chain starts. From the stored phone states (complete up to
 * the state checkpoint), then the events after the checkpoint.
 */
export function newestEventByMac(db: Database.Database): Map<string, number> {
  const newest = new Map<string, number>();
  for (const row of db.prepare('SELECT mac, last_event_id FROM phones').iterate() as Iterable<{ mac: string; last_event_id: number }>) {
    newest.set(row.mac, row.last_event_id);
  }
  // A forgotten phone's events stay (unless purged): their chain starts at its last one.
  for (const row of db.prepare('SELECT mac, up_to_event_id FROM forgotten_phones').iterate() as Iterable<{ mac: string; up_to_event_id: number }>) {
    if (!newest.has(row.mac)) newest.set(row.mac, row.up_to_event_id);
  }
  const checkpoint = (db.prepare("SELECT value FROM receiver_state WHERE key = 'state_event_id'").get() as { value: number } | undefined)?.value ?? 0;
  for (const row of db.prepare('SELECT id, mac FROM events WHERE id > ? ORDER BY id').iterate(checkpoint) as Iterable<{ id: number; mac: string }>) {
    newest.set(row.mac, row.id);
  }
  return newest;
}

/**
 * Durability: the receiver answers `200` only after the transaction holding the event committed. In WAL
 * mode, `synchronous=NORMAL` does not fsync the WAL at commit: a committed transaction survives the process
 * dying (`kill -9`: the bytes are in the OS page cache) but not a power cut or kernel crash, which can lose
 * the last transactions. `synchronous=FULL` fsyncs the WAL on every commit, so an acknowledged event
 * survives those too. The cost is one fsync per transaction, shared by every request of a group commit.
 */
export function configureConnection(db: Database.Database, synchronous: 'FULL' | 'NORMAL' = 'FULL'): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  // A larger page cache keeps the index pages that random phones hit in memory (64 MiB).
  db.pragma('cache_size = -65536');
}

/** The durability settings a connection really runs with, as SQLite reports them. */
export interface WriterSettings {
  /** `wal` for a file database. */
  journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
}

export function writerSettings(db: Database.Database): WriterSettings {
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * What a writer committed so far, counted where it runs: at 0 the write transactions (batches), at 1 the
 * SQL statements they ran (BEGIN and COMMIT not counted). Shared memory when the writer is a thread, so the
 * receiver reads it (Atomics.load) without a message to the thread.
 */
export type WriteTotals = BigInt64Array;

export function newWriteTotals(shared: boolean): WriteTotals {
  return new BigInt64Array(shared ? new SharedArrayBuffer(16) : new ArrayBuffer(16));
}

export function readWriteTotals(totals: WriteTotals): StoreWriteTotals {
  return { transactions: Number(Atomics.load(totals, 0)), statements: Number(Atomics.load(totals, 1)) };
}

export class SqliteWriter {
  private readonly stmt;
  private readonly tx: (batch: EncodedBatch) => number[];
  /** Each phone's newest event id (the head of its prev_id chain). */
  private readonly newest: Map<string, number>;
  /** During a transaction: chain heads as they were before it, to restore on rollback. */
  private undo: Map<string, number | undefined> | undefined;
  private readonly pruneTx: (cutoff: number, batchSize: number) => number;
  private readonly updateTx: (updates: readonly DeliveryUpdate[]) => void;
  /** Statements run by the write transaction under way. */
  private statements = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly totals: WriteTotals = newWriteTotals(false),
  ) {
    this.newest = newestEventByMac(db);
    this.stmt = {
      insertEvent: db.prepare(
        `INSERT INTO events (received_at, mac, incident, call_id, vars, extra, raw_target, source_ip, prev_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertRejected: db.prepare(
        `INSERT INTO rejected (received_at, source_ip, method, status, reason, raw_target, count)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      upsertPhone: db.prepare(
        `INSERT INTO phones (mac, ip, model, firmware, accounts, registered, dnd, presence, state, first_seen, last_seen, last_event_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, model = excluded.model, firmware = excluded.firmware,
           accounts = excluded.accounts, registered = excluded.registered, dnd = excluded.dnd,
           presence = excluded.presence, state = excluded.state, last_seen = excluded.last_seen,
           last_event_id = excluded.last_event_id`,
      ),
      upsertCall: db.prepare(
        `INSERT INTO calls (mac, call_id, started_at, direction, remote, display_remote, local, answered_at, ended_at,
           outcome, ring_ms, talk_ms, state, last_event_id, account)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (mac, call_id, started_at) DO UPDATE SET direction = excluded.direction, remote = excluded.remote,
           display_remote = excluded.display_remote, local = excluded.local, answered_at = excluded.answered_at,
           ended_at = excluded.ended_at, outcome = excluded.outcome, ring_ms = excluded.ring_ms,
           talk_ms = excluded.talk_ms, state = excluded.state, last_event_id = excluded.last_event_id,
           account = excluded.account`,
      ),
      upsertInventory: db.prepare(
        `INSERT INTO inventory (mac, name, location, groups) VALUES (?, ?, ?, ?)
         ON CONFLICT (mac) DO UPDATE SET name = excluded.name, location = excluded.location, groups = excluded.groups`,
      ),
      deletePhone: db.prepare('DELETE FROM phones WHERE mac = ?'),
      deleteInventory: db.prepare('DELETE FROM inventory WHERE mac = ?'),
      rememberForgotten: db.prepare(
        `INSERT INTO forgotten_phones (mac, up_to_event_id) VALUES (?, ?)
         ON CONFLICT (mac) DO UPDATE SET up_to_event_id = max(up_to_event_id, excluded.up_to_event_id)`,
      ),
      // Events of a phone are found along their prev_id chain (there is no index on mac, see migration 3).
      eventPrev: db.prepare('SELECT prev_id FROM events WHERE id = ?').pluck(),
      deleteEvent: db.prepare('DELETE FROM events WHERE id = ?'),
      deleteCallsOf: db.prepare('DELETE FROM calls WHERE mac = ?'),
      setStateEventId: db.prepare(
        `INSERT INTO receiver_state (key, value) VALUES ('state_event_id', ?)
         ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
      ),
      putControl: db.prepare(
        `INSERT INTO phone_control (mac, url, vendor, credentials, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (mac) DO UPDATE SET url = excluded.url, vendor = excluded.vendor,
           credentials = excluded.credentials, updated_at = excluded.updated_at`,
      ),
      deleteControl: db.prepare('DELETE FROM phone_control WHERE mac = ?'),
      insertRoute: db.prepare(
        `INSERT INTO deliveries (destination, type, mac, event_id, created_at, state, next_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
      ),
      insertDelivery: db.prepare(
        `INSERT INTO deliveries (destination, type, mac, event_id, created_at, state, next_at, body, dedupe_key)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      updateDelivery: db.prepare(
        `UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_error = ?, last_status = ?, last_attempt_at = ?,
           delivered_at = ?, body = coalesce(?, body) WHERE id = ?`,
      ),
      retryDelivery: db.prepare(
        `UPDATE deliveries SET state = 'pending', attempts = 0, next_at = ?, delivered_at = NULL WHERE id = ?`,
      ),
      killDeliveries: db.prepare(
        `UPDATE deliveries SET state = 'dead', last_error = ?, last_attempt_at = coalesce(last_attempt_at, ?)
         WHERE destination = ? AND state IN ('pending', 'failed')`,
      ),
      pruneDeliveries: db.prepare(
        `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE created_at < ? AND state IN ('delivered', 'dead')
           ORDER BY id LIMIT ?)`,
      ),
      pruneCommands: db.prepare(
        'DELETE FROM commands WHERE seq IN (SELECT seq FROM commands WHERE created_at < ? AND finished_at IS NOT NULL ORDER BY seq LIMIT ?)',
      ),
      pruneEvents: db.prepare('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < ? ORDER BY id LIMIT ?)'),
      pruneRejected: db.prepare('DELETE FROM rejected WHERE id IN (SELECT id FROM rejected WHERE received_at < ? ORDER BY id LIMIT ?)'),
      pruneCalls: db.prepare(
        'DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE started_at < ? AND ended_at IS NOT NULL ORDER BY id LIMIT ?)',
      ),
    };
    this.tx = db.transaction((batch: EncodedBatch) => this.writeNow(batch));
    this.pruneTx = db.transaction(
      (cutoff: number, batchSize: number) =>
        this.stmt.pruneEvents.run(cutoff, batchSize).changes +
        this.stmt.pruneRejected.run(cutoff, batchSize).changes +
        this.stmt.pruneCalls.run(cutoff, batchSize).changes +
        this.stmt.pruneDeliveries.run(cutoff, batchSize).changes +
        this.stmt.pruneCommands.run(cutoff, batchSize).changes,
    );
    this.updateTx = db.transaction((updates: readonly DeliveryUpdate[]) => {
      for (const u of updates) {
        this.stmt.updateDelivery.run(u.state, u.attempts, u.nextAt, u.lastError, u.lastStatus, u.lastAttemptAt, u.deliveredAt, u.body, u.id);
      }
    });
  }

  /**
   * Stores the batch in one transaction; returns the new events' ids in order, then (when the batch has any)
   * the ids of the delivery rows it wrote: the routes' rows in order, then `deliveries`' (0 for one its
   * dedupe key kept out).
   */
  write(batch: EncodedBatch): number[] {
    const undo = new Map<string, number | undefined>();
    this.undo = undo;
    this.statements = 0;
    try {
      const ids = this.tx(batch);
      Atomics.add(this.totals, 0, 1n);
      Atomics.add(this.totals, 1, BigInt(this.statements));
      return ids;
    } catch (err) {
      // Rolled back: the chain heads go back to what is stored.
      for (const [mac, id] of undo) {
        if (id === undefined) this.newest.delete(mac);
        else this.newest.set(mac, id);
      }
      throw err;
    } finally {
      this.undo = undefined;
    }
  }

  prune(cutoff: number, batchSize: number): number {
    return this.pruneTx(cutoff, batchSize);
  }

  putControl(row: StoredControl): void {
    const creds = row.credentials === null ? null : Buffer.from(row.credentials);
    this.stmt.putControl.run(row.mac, row.url, row.vendor, creds, row.updatedAt);
  }

  deleteControl(mac: string): void {
    this.stmt.deleteControl.run(mac);
  }

  /**
   * Attempt outcomes are written without an fsync of their own (synchronous=NORMAL for this transaction):
   * losing the last ones to a power cut only means those deliveries are made again (at least once), and an
   * fsync here would compete with the ingest commits for the disk.
   */
  updateDeliveries(updates: readonly DeliveryUpdate[]): void {
    const mode = this.db.pragma('synchronous', { simple: true }) as number;
    if (mode > 1) this.db.pragma('synchronous = NORMAL');
    try {
      this.updateTx(updates);
    } finally {
      if (mode > 1) this.db.pragma(`synchronous = ${mode}`);
    }
  }

  /** Makes a delivery pending again; true when it exists. */
  retryDelivery(id: number, now: number): boolean {
    return this.stmt.retryDelivery.run(now, id).changes > 0;
  }

  killDeliveries(destination: string, reason: string, now: number): number {
    return this.stmt.killDeliveries.run(reason, now, destination).changes;
  }

  private writeNow(batch: EncodedBatch): number[] {
    const ids: number[] = [];
    const deliveryIds: number[] = [];
    const e: PackedEvent = { receivedAt: 0, mac: '', incident: '', sourceIp: '', callId: null, vars: '', extra: '', raw: EMPTY };
    let at = 0;
    // One statement per row written (below), and those run by forgetting phones.
    let statements = batch.count + batch.rejected.length;
    for (let i = 0; i < batch.count; i++) {
      at = decodePacked(batch.events, at, e);
      const mac = e.mac;
      const prev = this.newest.get(mac);
      const info = this.stmt.insertEvent.run(e.receivedAt, mac, e.incident, e.callId, e.vars, e.extra, e.raw, e.sourceIp, prev ?? null);
      const id = Number(info.lastInsertRowid);
      if (this.undo && !this.undo.has(mac)) this.undo.set(mac, prev);
      this.newest.set(mac, id);
      ids.push(id);
      const route = batch.routes?.[i];
      if (route) {
        const type = `phone.${e.incident}`;
        for (const destination of route) {
          deliveryIds.push(Number(this.stmt.insertRoute.run(destination, type, mac, id, e.receivedAt, e.receivedAt).lastInsertRowid));
        }
        statements += route.length;
      }
    }
    for (const d of batch.deliveries ?? []) {
      const info = this.stmt.insertDelivery.run(d.destination, d.type, d.mac, d.eventId, d.createdAt, d.createdAt, d.body, d.dedupeKey);
      deliveryIds.push(info.changes > 0 ? Number(info.lastInsertRowid) : 0);
      statements++;
    }
    for (const r of batch.rejected) {
      this.stmt.insertRejected.run(r.receivedAt, r.sourceIp, r.method, r.status, r.reason, r.rawTarget, r.count);
    }
    for (const row of batch.phones ?? []) this.stmt.upsertPhone.run(row);
    for (const row of batch.calls ?? []) this.stmt.upsertCall.run(row);
    statements += (batch.phones?.length ?? 0) + (batch.calls?.length ?? 0);
    if (batch.stateEventId !== undefined) {
      this.stmt.setStateEventId.run(batch.stateEventId);
      statements++;
    }
    for (const entry of batch.inventory ?? []) {
      this.stmt.upsertInventory.run(entry.mac, entry.name, entry.location, JSON.stringify(entry.groups));
      statements++;
    }
    for (const f of batch.forget ?? []) statements += this.forget(f);
    this.statements = statements;
    for (const id of deliveryIds) ids.push(id);
    return ids;
  }

  /** Returns how many statements it ran. */
  private forget(f: ForgetPhone): number {
    this.stmt.deletePhone.run(f.mac);
    this.stmt.deleteInventory.run(f.mac);
    this.stmt.rememberForgotten.run(f.mac, f.upToEventId);
    if (!f.purge) return 3;
    // The call summaries follow through the delete trigger on calls.
    this.stmt.deleteCallsOf.run(f.mac);
    let statements = 4;
    let id: number | null | undefined = this.newest.get(f.mac);
    if (this.undo && !this.undo.has(f.mac)) this.undo.set(f.mac, id ?? undefined);
    this.newest.delete(f.mac);
    while (id !== null && id !== undefined) {
      const prev = this.stmt.eventPrev.get(id) as number | null | undefined;
      this.stmt.deleteEvent.run(id);
      statements += 2;
      id = prev;
    }
    return statements;
  }
}
