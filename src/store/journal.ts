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
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
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

export class Journal {
  /** This journal's name in PostgreSQL's `ingest_origins`; chosen once, when the file is created. */
  readonly origin: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly first: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly count: Database.Statement;
  private pending: number;

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
    this.origin = (this.db.prepare("SELECT value FROM meta WHERE key = 'origin'").get() as { value: string }).value;
    this.insert = this.db.prepare('INSERT INTO batches (seq, body, journalled_at) VALUES (?, ?, ?)');
    this.first = this.db.prepare('SELECT seq, body FROM batches ORDER BY seq LIMIT ?');
    this.remove = this.db.prepare('DELETE FROM batches WHERE seq <= ?');
    this.count = this.db.prepare('SELECT count(*) AS n, max(seq) AS last FROM batches');
    this.pending = (this.count.get() as { n: number }).n;
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
