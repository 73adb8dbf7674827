/**
 * Group commit: requests that arrive together are stored together.
 *
 * Each ingest request puts its event (or its refusal) in the queue and waits. The queue writes everything
 * waiting in one transaction – on the next turn of the event loop, or after `delayMs`, or at once when
 * `maxBatch` are waiting – and only when that transaction committed do the waiters get their answer. So the
 * `200` a phone sees always means "on disk", while the cost of a commit (an fsync) is shared by every request
 * of the batch. Up to `maxInFlight` transactions are handed to the store at once (the store commits them in
 * order), so the next batch is ready the moment the previous commit finishes; results are taken in order.
 *
 * What a committed batch does to the phones' states is the receiver mode's (src/server/mode/): it is told
 * of each batch and answers its waiters. Writes of its own (the local mode's state checkpoints) take turns
 * with event batches here (`background`), so they never hold up the answers to phones, except when one is
 * behind the bound it keeps: then its next part goes first and, while a part of it is being written, event
 * batches that would take it past the bound wait for it.
 */
import type { CallState, PhoneState } from '../domain/types.ts';
import type { IngestWriter, NewDelivery, NewEvent, NewRejected, StoredDelivery, StoredEvent, WriteBatch } from '../store/types.ts';

/**
 * The forwarding outbox's hooks into the commit path. `route` runs for each event as its batch is handed to
 * the store: the delivery rows it names are written in the same transaction as the event. `derive` runs
 * after each committed event went through the reducer (in the receiver mode: see src/server/mode/) and
 * after calls closed by the clock; the rows it returns (the receiver's own conclusions, such as call.ended)
 * are written with the next transaction handed to the store.
 */
export interface OutboxHooks {
  route(event: NewEvent): readonly string[] | undefined;
  derive(
    before: PhoneState | undefined,
    after: PhoneState,
    changedCalls: readonly CallState[],
    event: StoredEvent | undefined,
  ): readonly NewDelivery[] | undefined;
  /**
   * A transaction holding delivery rows committed: they can be read now. `rows`: the rows it wrote, when
   * the store tells (see WriteBatch.written), else undefined; `derived`: it held rows besides the events'
   * routes (those are announced with the events themselves).
   */
  stored?(rows: readonly StoredDelivery[] | undefined, derived: boolean): void;
}

export interface CommitQueueOptions {
  store: Pick<IngestWriter, 'write'>;
  /** Forwarding outbox (its `route` and `stored`); none: nothing is forwarded. */
  outbox?: Pick<OutboxHooks, 'route' | 'stored'>;
  /**
   * A batch committed: `stored` are its events with their ids, `answer` resolves its waiters (the phones'
   * `200`). Called in commit order.
   */
  committed(stored: StoredEvent[], answer: () => void): void;
  /** Wait this long for more requests before committing; 0: the next turn of the event loop. */
  delayMs?: number;
  /** Commit at once when this many are waiting. */
  maxBatch?: number;
  /** Transactions handed to the store at once. Default 2. */
  maxInFlight?: number;
  /** After each commit: how many requests it held and how long it took (ms). */
  onCommit?(size: number, ms: number): void;
  onError?(err: unknown): void;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Under a constant stream of events, one background write goes in after this many event batches. */
const BACKGROUND_EVERY = 4;

/**
 * A write of the receiver mode's own in parts (a state checkpoint in chunks): each part is built when its
 * turn comes (so it holds the newest state then), and one part at a time is in the store's hands.
 */
export interface BackgroundWork {
  /** The next part; undefined once there is none left (the work is then done). */
  next(): WriteBatch | undefined;
  /** Every part has been handed over (or the work gave up): once the last one settled, it is off the list. */
  readonly finished: boolean;
  /**
   * Whether its next part must go before `incoming` more events (those being committed and the next batch)
   * may commit: then it goes before that batch, or, while a part of it is being written, the batch waits.
   */
  behind(incoming: number): boolean;
  /** A part was stored (err undefined) or failed; called in commit order, before anything else is handed over. */
  settled(err: unknown): void;
}

export class CommitQueue {
  private events: NewEvent[] = [];
  private eventWaiters: Waiter<StoredEvent>[] = [];
  private rejected: NewRejected[] = [];
  private rejectedWaiters: Waiter<void>[] = [];
  private backgroundWork: BackgroundWork[] = [];
  /** A part of background work is in the store's hands (never more than one). */
  private backgroundInFlight = false;
  /** Events handed to the store whose result is not taken yet. */
  private eventsInFlight = 0;
  /** Derived delivery rows, written with the next transaction. */
  private deliveries: NewDelivery[] = [];
  private scheduled = false;
  private closed = false;
  private inFlight = 0;
  /** Settles after the last transaction handed to the store was taken care of (results go in order). */
  private tail: Promise<void> = Promise.resolve();
  /** Event batches since the last background write. */
  private batchesSinceBackground = 0;
  private readonly delayMs: number;
  /** Requests per transaction at most. */
  readonly maxBatch: number;
  /** Transactions in the store's hands at once at most. */
  readonly maxInFlight: number;

  constructor(private readonly opts: CommitQueueOptions) {
    this.delayMs = opts.delayMs ?? 0;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
  }

  /** Requests (and derived delivery rows) waiting for the next transaction. */
  get waiting(): number {
    return this.events.length + this.rejected.length + this.deliveries.length;
  }

  /** True once `close` was called: new requests are refused. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Stores forwarding delivery rows with a transaction soon (see OutboxHooks). */
  addDeliveries(rows: readonly NewDelivery[]): void {
    if (rows.length === 0) return;
    this.carry(rows);
    if (!this.closed) this.schedule();
  }

  /** Delivery rows that go with whichever transaction is handed to the store next, without asking for one. */
  carry(rows: readonly NewDelivery[]): void {
    for (const r of rows) this.deliveries.push(r);
  }

  /** Stores an event; resolves with its id once committed. */
  addEvent(event: NewEvent): Promise<StoredEvent> {
    if (this.closed) return Promise.reject(new Error('the receiver is shutting down'));
    const promise = new Promise<StoredEvent>((resolve, reject) => this.eventWaiters.push({ resolve, reject }));
    this.events.push(event);
    this.schedule();
    return promise;
  }

  /** Stores a refused request; resolves once committed. */
  addRejected(rejected: NewRejected): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the receiver is shutting down'));
    const promise = new Promise<void>((resolve, reject) => this.rejectedWaiters.push({ resolve, reject }));
    this.rejected.push(rejected);
    this.schedule();
    return promise;
  }

  /**
   * Writes of the receiver mode's own (a state checkpoint), part by part after any work queued before: a
   * part is handed to the store when no event is waiting or being committed, under a constant stream of
   * events after every BACKGROUND_EVERY batches, and at once when the work is behind.
   */
  background(work: BackgroundWork): void {
    this.backgroundWork.push(work);
    // Not from inside the caller (which may be a result being taken): once it returned.
    queueMicrotask(() => this.pump());
  }

  /** Refuses new requests and commits everything waiting. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    for (;;) {
      this.pump();
      if (this.inFlight === 0 && this.waiting === 0 && this.backgroundWork.length === 0) return;
      await this.tail;
    }
  }

  /** Commits what is waiting soon (after `delayMs`, or at once when a batch is full). */
  schedule(): void {
    if (this.waiting >= this.maxBatch) {
      this.pump();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.pump();
    };
    if (this.delayMs > 0) setTimeout(go, this.delayMs);
    else setImmediate(go);
  }

  /** Hands transactions to the store while there is room: events first, background writes in their turn. */
  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const work = this.backgroundWork[0];
      const idle = this.waiting === 0 && this.inFlight === 0;
      const behind = work !== undefined && work.behind(this.eventsInFlight + Math.min(this.events.length, this.maxBatch));
      if (work && !this.backgroundInFlight && (idle || behind || this.batchesSinceBackground >= BACKGROUND_EVERY)) {
        this.batchesSinceBackground = 0;
        this.launchBackground(work);
      } else if (behind) {
        // Its part being written must be stored before these events may go (see BackgroundWork.behind).
        return;
      } else if (this.waiting > 0) {
        this.batchesSinceBackground++;
        this.launchBatch();
      } else {
        return;
      }
    }
  }

  /**
   * After a commit: pump on the next turn of the event loop, so that requests read meanwhile join the
   * next event batch before a background write could take the turn.
   */
  private pumpSoon(): void {
    if (this.waiting > 0) this.schedule();
    else setImmediate(() => this.pump());
  }

  /** Hands one write to the store now; its result is taken after those of earlier writes. */
  private launch(batch: WriteBatch, onResult: (stored: StoredEvent[] | undefined, err: unknown) => void): void {
    this.inFlight++;
    // Derived delivery rows ride with whichever transaction goes next (see OutboxHooks).
    const deliveries = this.deliveries.length ? this.deliveries.splice(0) : undefined;
    if (deliveries) batch = { ...batch, deliveries };
    const carriesRows = deliveries !== undefined || batch.routes !== undefined;
    let rows: readonly StoredDelivery[] | undefined;
    if (carriesRows && this.opts.outbox?.stored) batch = { ...batch, written: (r) => (rows = r) };
    const written = this.opts.store.write(batch);
    written.catch(() => {}); // handled in order below
    this.tail = this.tail.then(async () => {
      try {
        const stored = await written;
        if (carriesRows) this.opts.outbox?.stored?.(rows, deliveries !== undefined);
        onResult(stored, undefined);
      } catch (err) {
        // Rows derived from events committed earlier are not lost with this transaction: the next one takes them.
        if (deliveries) this.deliveries.unshift(...deliveries);
        onResult(undefined, err);
      } finally {
        this.inFlight--;
        if (this.waiting > 0 || this.backgroundWork.length > 0) this.pumpSoon();
      }
    });
  }

  private launchBatch(): void {
    const events = this.events.splice(0, this.maxBatch);
    const eventWaiters = this.eventWaiters.splice(0, events.length);
    const rejected = this.rejected.splice(0, this.maxBatch);
    const rejectedWaiters = this.rejectedWaiters.splice(0, rejected.length);
    const size = events.length + rejected.length;
    const started = performance.now();
    const batch: WriteBatch = { events, rejected };
    const outbox = this.opts.outbox;
    if (outbox && events.length) {
      let routes: (readonly string[] | undefined)[] | undefined;
      for (let i = 0; i < events.length; i++) {
        const route = outbox.route(events[i]);
        if (route?.length) (routes ??= new Array(events.length))[i] = route;
      }
      if (routes) batch.routes = routes;
    }
    this.eventsInFlight += events.length;
    this.launch(batch, (stored, err) => {
      this.eventsInFlight -= events.length;
      if (!stored) {
        this.opts.onError?.(err);
        for (const w of eventWaiters) w.reject(err);
        for (const w of rejectedWaiters) w.reject(err);
        return;
      }
      if (size) this.opts.onCommit?.(size, performance.now() - started);
      this.opts.committed(stored, () => {
        for (let i = 0; i < stored.length; i++) eventWaiters[i].resolve(stored[i]);
        for (const w of rejectedWaiters) w.resolve();
      });
    });
  }

  /** The work's next part to the store, or the work off the list when it has none left. */
  private launchBackground(work: BackgroundWork): void {
    let batch: WriteBatch | undefined;
    try {
      batch = work.next();
    } catch (err) {
      this.backgroundWork.shift();
      work.settled(err);
      return;
    }
    if (!batch) {
      this.backgroundWork.shift();
      return;
    }
    this.backgroundInFlight = true;
    this.launch(batch, (stored, err) => {
      this.backgroundInFlight = false;
      if (!stored) this.opts.onError?.(err);
      work.settled(stored ? undefined : err);
      const at = this.backgroundWork.indexOf(work);
      if (work.finished && at >= 0) this.backgroundWork.splice(at, 1);
    });
  }
}
