/**
 * The local journal of a receiver on PostgreSQL: an embedded SQLite file that holds write batches while
 * PostgreSQL cannot be reached, so the receiver keeps answering phones (which never retry) with the same
 * rule as always: a `200` only once the event is durably committed (here: WAL, `synchronous=FULL`).
 *
 * Each batch carries the sequence number it was (or would have been) written to PostgreSQL with. PostgreSQL
 * keeps, per journal (its `origin`), the highest sequence number it committed, in the same transaction as
 * the batch. So a batch whose PostgreSQL commit was cut off halfway (the client never learnt whether it
 * committed) is journalled anyway and skipped when the journal is drained if it had committed: nothing
 * acknowledged is lost, nothing is stored twice.
 *
 * One receiver per journal file: the file is opened in exclusive locking mode, so a second receiver given
 * the same file fails at start instead of sharing an origin.
 *
 * A receiver restarted while PostgreSQL is away (and that has reached it with this journal before) starts on
 * the journal alone: it cannot reduce, route or check a phone limit without the database, so it keeps each
 * phone's request as it came (`held` requests, with the answer's refusal when it was refused) and, once
 * PostgreSQL answers, puts them through the receiver's ingest in order (see src/server/standby.ts). The
 * file holds requests as received, tokens included, so it is readable by its owner only.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NewDelivery, NewEvent, NewRejected, WriteBatch } from './types.ts';

/**
 * What of a write batch the journal keeps: the events and refusals of one group commit, and forwarding's
 * outbox rows that ride with it – the destinations of each event (`routes`; their rows get the event's id
 * when it is moved in) and rows concluded from events stored earlier (`deliveries`, kept as they are, with
 * their dedupe keys). Phone states and calls are not kept: moving the events in reduces them again, in the
 * database's order, as any ingest transaction does.
 */
export type JournalParts = Pick<WriteBatch, 'events' | 'rejected' | 'routes' | 'deliveries'>;

/** A write batch as journalled, with the number it was (or would have been) written to PostgreSQL with. */
export interface JournalBatch extends JournalParts {
  seq: number;
}

interface Encoded {
  events: (Omit<NewEvent, 'rawTarget'> & { rawTarget: string })[];
  rejected: (Omit<NewRejected, 'rawTarget'> & { rawTarget: string })[];
  /** JSON has no undefined in arrays: an event without destinations is null. Absent in older journals. */
  routes?: (readonly string[] | null)[];
  deliveries?: NewDelivery[];
}

function encode(parts: JournalParts): string {
  const body: Encoded = {
    events: parts.events.map((e) => ({ ...e, rawTarget: e.rawTarget.toString('base64') })),
    rejected: parts.rejected.map((r) => ({ ...r, rawTarget: r.rawTarget.toString('base64') })),
  };
  if (parts.routes?.some((r) => r?.length)) body.routes = Array.from(parts.events, (_, i) => parts.routes![i] ?? null);
  if (parts.deliveries?.length) body.deliveries = [...parts.deliveries];
  return JSON.stringify(body);
}

function decode(seq: number, text: string): JournalBatch {
  const body = JSON.parse(text) as Encoded;
  const batch: JournalBatch = {
    seq,
    events: body.events.map((e) => ({ ...e, rawTarget: Buffer.from(e.rawTarget, 'base64') })),
    rejected: body.rejected.map((r) => ({ ...r, rawTarget: Buffer.from(r.rawTarget, 'base64') })),
  };
  if (body.routes) batch.routes = body.routes.map((r) => r ?? undefined);
  if (body.deliveries) batch.deliveries = body.deliveries;
  return batch;
}

/** A phone's request kept by a receiver that started on its journal, before it could reach PostgreSQL. */
export interface HeldRequest {
  receivedAt: number;
  sourceIp: string;
  method: string;
  rawTarget: Buffer;
  /** Set when the request was refused (and answered so): kept for the record of refused requests. */
  refusal?: { status: number; reason: string; result: string };
}

export class Journal {
  /** This journal's name in PostgreSQL's `ingest_origins`; chosen once, when the file is created. */
  readonly origin: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly first: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly count: Database.Statement;
  private readonly holdOne: Database.Statement;
  private readonly firstHeld: Database.Statement;
  private readonly forgetHeldUpTo: Database.Statement;
  private pending: number;
  private heldCount: number;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, journalled_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS held_requests (
          id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, source_ip TEXT NOT NULL, method TEXT NOT NULL,
          raw_target BLOB NOT NULL, refusal TEXT
        );
      `);
      // Writing here takes the exclusive lock at once, so a second receiver on this file fails now.
      this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('origin', ?)").run(randomUUID());
    } catch (err) {
      this.db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(`journal ${path} is in use by another receiver; give each receiver its own --journal file`, { cause: err });
      }
      throw err;
    }
    if (path !== ':memory:') chmodSync(path, 0o600); // the WAL and shared-memory files take the same mode
    this.origin = (this.db.prepare("SELECT value FROM meta WHERE key = 'origin'").get() as { value: string }).value;
    this.insert = this.db.prepare('INSERT INTO batches (seq, body, journalled_at) VALUES (?, ?, ?)');
    this.first = this.db.prepare('SELECT seq, body FROM batches ORDER BY seq LIMIT ?');
    this.remove = this.db.prepare('DELETE FROM batches WHERE seq <= ?');
    this.count = this.db.prepare('SELECT count(*) AS n, max(seq) AS last FROM batches');
    this.pending = (this.count.get() as { n: number }).n;
    this.holdOne = this.db.prepare('INSERT INTO held_requests (received_at, source_ip, method, raw_target, refusal) VALUES (?, ?, ?, ?, ?)');
    this.firstHeld = this.db.prepare('SELECT id, received_at, source_ip, method, raw_target, refusal FROM held_requests ORDER BY id LIMIT ?');
    this.forgetHeldUpTo = this.db.prepare('DELETE FROM held_requests WHERE id <= ?');
    this.heldCount = (this.db.prepare('SELECT count(*) AS n FROM held_requests').get() as { n: number }).n;
  }

  /** True once a receiver has reached PostgreSQL with this journal: it may then start on it alone. */
  get connectedBefore(): boolean {
    return this.db.prepare("SELECT 1 FROM meta WHERE key = 'connected'").get() !== undefined;
  }

  /** Remembers that PostgreSQL was reached with this journal (see connectedBefore). */
  markConnected(): void {
    this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('connected', '1')").run();
  }

  /** Requests held while the receiver could not reach PostgreSQL at start. */
  get held(): number {
    return this.heldCount;
  }

  /** Commits a held request (fsync) before returning: after this the receiver may answer the phone. */
  hold(request: HeldRequest): void {
    const refusal = request.refusal ? JSON.stringify(request.refusal) : null;
    this.holdOne.run(request.receivedAt, request.sourceIp, request.method, request.rawTarget, refusal);
    this.heldCount++;
  }

  /** The oldest held requests, in the order they came, each with the id to forget it by. */
  oldestHeld(limit: number): (HeldRequest & { id: number })[] {
    type Row = { id: number; received_at: number; source_ip: string; method: string; raw_target: Buffer; refusal: string | null };
    return (this.firstHeld.all(limit) as Row[]).map((r) => ({
      id: r.id,
      receivedAt: r.received_at,
      sourceIp: r.source_ip,
      method: r.method,
      rawTarget: r.raw_target,
      ...(r.refusal ? { refusal: JSON.parse(r.refusal) as HeldRequest['refusal'] } : {}),
    }));
  }

  /** Forgets every held request up to `id` (they went through ingest). */
  forgetHeld(id: number): void {
    this.forgetHeldUpTo.run(id);
    this.heldCount = (this.db.prepare('SELECT count(*) AS n FROM held_requests').get() as { n: number }).n;
  }

  /** Batches waiting to be moved into PostgreSQL. */
  get size(): number {
    return this.pending;
  }

  /** The highest sequence number held, 0 when empty. */
  lastSeq(): number {
    return (this.count.get() as { last: number | null }).last ?? 0;
  }

  /** Commits a batch (fsync) before returning: after this the receiver may answer `200`. */
  append(seq: number, parts: JournalParts, now = Date.now()): void {
    this.insert.run(seq, encode(parts), now);
    this.pending++;
  }

  /** The oldest batches, in the order they were journalled. */
  oldest(limit: number): JournalBatch[] {
    return (this.first.all(limit) as { seq: number; body: string }[]).map((r) => decode(r.seq, r.body));
  }

  /** Forgets every batch up to `seq` (they are in PostgreSQL). */
  forget(seq: number): void {
    this.remove.run(seq);
    this.pending = (this.count.get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
