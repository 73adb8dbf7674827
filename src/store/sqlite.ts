/**
 * The SQLite store (better-sqlite3): one file, WAL journal, every write batch one transaction.
 *
 * Durability: the receiver answers `200` only after the transaction holding the event committed. In WAL
 * mode, `synchronous=NORMAL` does not fsync the WAL at commit: a committed transaction survives the process
 * dying (`kill -9`: the bytes are in the OS page cache) but not a power cut or kernel crash, which can
 * lose the last transactions. `synchronous=FULL` fsyncs the WAL on every commit, so an acknowledged event
 * survives those too. The cost is one fsync per transaction, which the receiver's group commit spreads over
 * every request that arrived in the same few milliseconds.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CallState, PhoneState } from '../server/state/types.ts';
import { migrate } from './sqlite-schema.ts';
import type {
  CallQuery,
  CallRecord,
  EventFilter,
  EventQuery,
  RejectedQuery,
  Store,
  StoreCounts,
  StoredEvent,
  StoredRejected,
  WriteBatch,
} from './types.ts';

interface EventRow {
  id: number;
  received_at: number;
  mac: string;
  incident: string;
  vars: string;
  extra: string;
  raw_target: Buffer;
  source_ip: string;
}

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

const EVENT_COLUMNS = 'id, received_at, mac, incident, vars, extra, raw_target, source_ip';

function toEvent(r: EventRow): StoredEvent {
  return {
    id: r.id,
    receivedAt: r.received_at,
    mac: r.mac,
    incident: r.incident,
    vars: JSON.parse(r.vars),
    extra: JSON.parse(r.extra),
    rawTarget: r.raw_target,
    sourceIp: r.source_ip,
  };
}

/** A WHERE clause from the filters that are set (values stay parameters, never text in the SQL). */
function conditions(parts: [string, string | number | undefined][]): { where: string; args: (string | number)[] } {
  const set = parts.filter((p): p is [string, string | number] => p[1] !== undefined);
  return { where: set.length ? `WHERE ${set.map((p) => p[0]).join(' AND ')}` : '', args: set.map((p) => p[1]) };
}

export interface SqliteStoreOptions {
  /** `FULL` (default) survives power loss; `NORMAL` only process crashes. See the file comment. */
  synchronous?: 'FULL' | 'NORMAL';
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteStore['prepare']>;
  private readonly writeTx: (batch: WriteBatch) => StoredEvent[];

  /** Opens (creating the file and its directory if needed) and migrates. `:memory:` for a throwaway store. */
  constructor(file: string, options: SqliteStoreOptions = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.description = `sqlite ${file}`;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.stmt = this.prepare();
    this.writeTx = this.db.transaction((batch: WriteBatch) => this.writeNow(batch));
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Query statements are built from the filters given; each distinct one is prepared once. */
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
      insertEvent: db.prepare(
        `INSERT INTO events (received_at, mac, incident, call_id, vars, extra, raw_target, source_ip)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertRejected: db.prepare(
        `INSERT INTO rejected (received_at, source_ip, method, status, reason, raw_target, count)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      upsertPhone: db.prepare(
        `INSERT INTO phones (mac, ip, model, firmware, accounts, registered, dnd, presence, state, first_seen, last_seen, last_event_id)
         VALUES (@mac, @ip, @model, @firmware, @accounts, @registered, @dnd, @presence, @state, @first_seen, @last_seen, @last_event_id)
         ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, model = excluded.model, firmware = excluded.firmware,
           accounts = excluded.accounts, registered = excluded.registered, dnd = excluded.dnd,
           presence = excluded.presence, state = excluded.state, last_seen = excluded.last_seen,
           last_event_id = excluded.last_event_id`,
      ),
      upsertCall: db.prepare(
        `INSERT INTO calls (mac, call_id, started_at, direction, remote, display_remote, local, answered_at, ended_at,
           outcome, ring_ms, talk_ms, state, last_event_id)
         VALUES (@mac, @call_id, @started_at, @direction, @remote, @display_remote, @local, @answered_at, @ended_at,
           @outcome, @ring_ms, @talk_ms, @state, @last_event_id)
         ON CONFLICT (mac, call_id, started_at) DO UPDATE SET direction = excluded.direction, remote = excluded.remote,
           display_remote = excluded.display_remote, local = excluded.local, answered_at = excluded.answered_at,
           ended_at = excluded.ended_at, outcome = excluded.outcome, ring_ms = excluded.ring_ms,
           talk_ms = excluded.talk_ms, state = excluded.state, last_event_id = excluded.last_event_id`,
      ),
      phones: db.prepare('SELECT state FROM phones'),
      lastEventId: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
      pruneEvents: db.prepare('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < ? ORDER BY id LIMIT ?)'),
      pruneRejected: db.prepare('DELETE FROM rejected WHERE id IN (SELECT id FROM rejected WHERE received_at < ? ORDER BY id LIMIT ?)'),
      pruneCalls: db.prepare(
        'DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE started_at < ? AND ended_at IS NOT NULL ORDER BY id LIMIT ?)',
      ),
    };
  }

  private writeNow(batch: WriteBatch): StoredEvent[] {
    const stored: StoredEvent[] = [];
    for (const e of batch.events) {
      const info = this.stmt.insertEvent.run(
        e.receivedAt,
        e.mac,
        e.incident,
        e.vars.call_id || null,
        JSON.stringify(e.vars),
        JSON.stringify(e.extra),
        e.rawTarget,
        e.sourceIp,
      );
      stored.push({ ...e, id: Number(info.lastInsertRowid) });
    }
    for (const r of batch.rejected) {
      this.stmt.insertRejected.run(r.receivedAt, r.sourceIp, r.method, r.status, r.reason, r.rawTarget, r.count);
    }
    const derived = batch.derive?.(stored);
    for (const phone of [...(batch.phones ?? []), ...(derived?.phones ?? [])]) this.upsertPhone(phone);
    for (const { mac, call } of [...(batch.calls ?? []), ...(derived?.calls ?? [])]) this.upsertCall(mac, call);
    return stored;
  }

  private upsertPhone(p: PhoneState): void {
    this.stmt.upsertPhone.run({
      mac: p.mac,
      ip: p.ip,
      model: p.model,
      firmware: p.firmware,
      accounts: JSON.stringify(p.accounts),
      registered: p.registered === null ? null : p.registered ? 1 : 0,
      dnd: p.dnd ? 1 : 0,
      presence: p.presence,
      state: JSON.stringify(p),
      first_seen: p.firstSeen,
      last_seen: p.lastSeen,
      last_event_id: p.lastEventId,
    });
  }

  private upsertCall(mac: string, c: CallState): void {
    this.stmt.upsertCall.run({
      mac,
      call_id: c.callId,
      started_at: c.startedAt,
      direction: c.direction,
      remote: c.remote,
      display_remote: c.displayRemote,
      local: c.local,
      answered_at: c.answeredAt,
      ended_at: c.endedAt,
      outcome: c.outcome,
      ring_ms: (c.answeredAt ?? c.endedAt ?? c.startedAt) - c.startedAt,
      talk_ms: c.answeredAt !== null && c.endedAt !== null ? c.endedAt - c.answeredAt : null,
      state: JSON.stringify(c),
      last_event_id: c.lastEventId,
    });
  }

  async write(batch: WriteBatch): Promise<StoredEvent[]> {
    return this.writeTx(batch);
  }

  async loadPhones(): Promise<PhoneState[]> {
    return (this.stmt.phones.all() as { state: string }[]).map((r) => JSON.parse(r.state) as PhoneState);
  }

  async events(q: EventQuery): Promise<StoredEvent[]> {
    const { where, args } = conditions([
      ['mac = ?', q.mac],
      ['incident = ?', q.incident],
      ['call_id = ?', q.callId],
      ['received_at >= ?', q.since],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql).all(...args, q.limit) as EventRow[]).map(toEvent);
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
    const { where, args } = conditions([
      ['mac = ?', q.mac],
      ['outcome = ?', q.outcome],
      ['started_at >= ?', q.since],
      ['id < ?', q.before],
    ]);
    const sql = `SELECT id, mac, state FROM calls ${where} ORDER BY id DESC LIMIT ?`;
    return (this.cached(sql).all(...args, q.limit) as { id: number; mac: string; state: string }[]).map((r) => ({
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
    const run = this.db.transaction(
      () =>
        this.stmt.pruneEvents.run(cutoff, batchSize).changes +
        this.stmt.pruneRejected.run(cutoff, batchSize).changes +
        this.stmt.pruneCalls.run(cutoff, batchSize).changes,
    );
    return run();
  }

  async counts(): Promise<StoreCounts> {
    const one = (table: string) => (this.cached(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { events: one('events'), phones: one('phones'), calls: one('calls'), rejected: one('rejected') };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
