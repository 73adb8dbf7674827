/**
 * The PostgreSQL store's writes: one at a time, in order, on one connection of their own (each batch one
 * transaction; see pg-ingest.ts for what a transaction holds), and the hand-off to the local journal while
 * PostgreSQL is away (journal.ts). After each commit the other receivers are signalled (pg-listen.ts).
 *
 * When PostgreSQL cannot be reached (stopped, restarting, connections terminated, network cut), write
 * batches go to the local journal and are answered from there; the journal is moved into PostgreSQL, in
 * order, as soon as it is back, and until it is empty new batches queue behind it. Only an administrator's
 * changes (inventory, forgetting a phone) are not journalled: they are refused with a StoreUnavailableError
 * until the journal is empty, so none overtakes the events accepted before it.
 */
import pg from 'pg';
import type { CallState, PhoneState } from '../domain/types.ts';
import { DEFAULT_DB_TIMEOUT_MS } from './db-url.ts';
import type { Journal, JournalBatch } from './journal.ts';
import { oneLine, READ_TIMEOUT_MS, type PostgresOptions } from './pg-config.ts';
import {
  LOCKS,
  insertDeliveries,
  insertEvents,
  insertRejected,
  isUnavailable,
  reduceEvents,
  text,
  upsertCalls,
  upsertPhones,
  upsertState,
} from './pg-ingest.ts';
import { StoreUnavailableError } from './store-unavailable.ts';
import type { ConcludeEvent, ForgetPhone, NewDelivery, StoredEvent, WriteBatch } from './types.ts';

/** Batches moved from the journal into PostgreSQL per transaction. */
const DRAIN_BATCHES = 50;

type StatesListener = (phones: readonly PhoneState[], before: readonly PhoneState[], firstEventId: number) => void;

export class PgWriter {
  private writes: Promise<unknown> = Promise.resolve();
  /** The writer connection; replaced after it broke. */
  private writer: pg.Client | undefined;
  /** This receiver's write batches, numbered (see journal.ts). */
  private seq = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private notifyId: number | undefined;
  private notifying = false;
  /** Forwarding's conclusions, drawn in the ingest transaction (see SharedState.conclude). */
  conclude: ConcludeEvent | undefined;
  /** Told of the states each of this receiver's commits stored (see SharedState.onStates). */
  readonly statesListeners: StatesListener[] = [];

  constructor(
    /** For signals to other receivers, outside the writer's transactions. */
    private readonly pool: pg.Pool,
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
    private readonly journal: Journal | undefined,
    private readonly opts: PostgresOptions,
  ) {}

  /**
   * Numbers this receiver's batches after those of its journal that PostgreSQL has or the journal holds.
   * What a previous run left is moved in by moveJournalIn (once forwarding's conclusions are hooked in), or
   * by the first write.
   */
  async resumeJournal(c: pg.ClientBase): Promise<void> {
    if (!this.journal) return;
    const res = await c.query<{ last_seq: number }>('SELECT last_seq FROM ingest_origins WHERE origin = $1', [this.journal.origin]);
    this.seq = Math.max(res.rows[0]?.last_seq ?? 0, this.journal.lastSeq());
    this.journal.markConnected();
  }

  /** Runs writes one after another on the writer connection, in the order they were asked for. */
  run<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
    return this.serial(async () => work(await this.connection()));
  }

  /** Runs work one after another, in the order it was asked for (a failed one does not stop the next). */
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

  /** Moves in everything the journal holds; rejects when PostgreSQL cannot be reached (then it moves in later, by itself). */
  async moveJournalIn(): Promise<void> {
    if (!this.journal || this.journal.size === 0) return;
    await this.serial(() => this.drainSome(Number.MAX_SAFE_INTEGER)).catch((err: unknown) => {
      this.scheduleDrain();
      throw err;
    });
  }

  /** Waits for the writes asked for, tries once more to move the journal in, and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    await this.writes;
    if (this.journal && this.journal.size > 0) {
      // A last try; what stays is moved in when this receiver starts again.
      await this.serial(() => this.drainSome(Number.MAX_SAFE_INTEGER)).catch((err) => this.opts.onError?.(err));
    }
    this.dropWriter();
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

