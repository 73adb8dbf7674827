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
 * Phone states: once a batch committed, its events go through the reducer into the in-memory states, which
 * the API and the dashboard read. The stored phone states and calls are written in a checkpoint every
 * `stateFlushMs` (each changed phone and call once, however many events changed it), together with the id
 * of the last event they include. Events are the record: after a crash, start-up replays the events after
 * that id through the reducer (`recover`), which rebuilds exactly the states that were lost. This keeps the
 * per-request transaction to the event rows alone; writing every phone's state with each of its events costs
 * several random page writes per event, and throughput with it.
 *
 * On a shared store (PostgreSQL, `store.shared`) the state is derived in the ingest transaction instead, so
 * that every receiver on the database reads the same; the queue then only commits and answers, and the
 * stream follower (follower.ts) publishes the events of all receivers in commit order (`onStored` tells it
 * to look now).
 */
import { expireCalls, reduce } from '../domain/reduce.ts';
import type { CallState, PhoneState } from '../domain/types.ts';
import type { NewDelivery, NewEvent, NewRejected, Store, StoredEvent, WriteBatch } from '../store/types.ts';
import type { EventBus } from './bus.ts';
import type { PhoneRegistry } from './phones.ts';

/**
 * The forwarding outbox's hooks into the commit path. `route` runs for each event as its batch is handed to
 * the store: the delivery rows it names are written in the same transaction as the event. `derive` runs after
 * each committed event went through the reducer (live, and again when start-up replays events after the state
 * checkpoint) and after calls closed by the clock: the rows it returns (the receiver's own conclusions, such as
 * call.ended) are written with the next transaction handed to the store, which is never later than the state
 * checkpoint that includes their event, so a crash before they are stored derives them again at replay. A
 * shared store runs `derive` itself, inside each ingest transaction (SharedState.conclude); only conclusions
 * without an event (calls closed by the clock) go with the next transaction there.
 */
export interface OutboxHooks {
  route(event: NewEvent): readonly string[] | undefined;
  derive(
    before: PhoneState | undefined,
    after: PhoneState,
    changedCalls: readonly CallState[],
    event: StoredEvent | undefined,
  ): readonly NewDelivery[] | undefined;
  /** A transaction holding derived delivery rows committed: they can be read now. */
  stored?(): void;
}

export interface CommitQueueOptions {
  store: Store;
  /** Forwarding outbox; none: nothing is forwarded. */
  outbox?: OutboxHooks;
  phones: PhoneRegistry;
  bus: EventBus;
  /** Wait this long for more requests before committing; 0: the next turn of the event loop. */
  delayMs?: number;
  /** Commit at once when this many are waiting. */
  maxBatch?: number;
  /** Transactions handed to the store at once. Default 2. */
  maxInFlight?: number;
  /** Write changed phone states and calls this often (ms). Default 5 s. */
  stateFlushMs?: number;
  /** After each commit: how many requests it held and how long it took (ms). */
  onCommit?(size: number, ms: number): void;
  onError?(err: unknown): void;
  /** Shared store: a batch was committed (its events are published by the follower, not here). */
  onStored?(): void;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/**
 * Phones (and calls) per checkpoint transaction: small, since a phone's request that arrives while a chunk
 * is written waits for it (about a millisecond for 25).
 */
const STATE_CHUNK = 25;

/** Under a constant stream of events, one state chunk goes in after this many event batches. */
const STATE_EVERY = 4;

const callKey = (mac: string, call: CallState) => `${mac}\u0000${call.callId}\u0000${call.startedAt}`;


/** A part of a state checkpoint, written as its own transaction. */
interface StateChunk {
  macs: string[];
  calls: { mac: string; call: CallState }[];
  /** The checkpoint it belongs to: once a chunk failed, the last one must not claim the checkpoint. */
  checkpoint: { failed: boolean };
  /** Set on the last chunk of a checkpoint. */
  stateEventId?: number;
  done?: Waiter<void>;
}

export class CommitQueue {
  private events: NewEvent[] = [];
  private eventWaiters: Waiter<StoredEvent>[] = [];
  private rejected: NewRejected[] = [];
  private rejectedWaiters: Waiter<void>[] = [];
  private stateChunks: StateChunk[] = [];
  /** Derived delivery rows, written with the next transaction. */
  private deliveries: NewDelivery[] = [];
  private scheduled = false;
  private closed = false;
  private inFlight = 0;
  /** Settles after the last transaction handed to the store was taken care of (results go in order). */
  private tail: Promise<void> = Promise.resolve();
  /** Event batches since the last state chunk. */
  private batchesSinceState = 0;
  private readonly delayMs: number;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly stateFlushMs: number;

  /** Phones and calls changed in memory since the last state checkpoint. */
  private dirtyPhones = new Set<string>();
  private dirtyCalls = new Map<string, { mac: string; call: CallState }>();
  /** The newest event applied to the in-memory states. */
  private appliedEventId = 0;
  /** The event id of the newest state checkpoint stored: the stored states include every event up to it. */
  private checkpointEventId = 0;
  private stateTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly opts: CommitQueueOptions) {
    this.delayMs = opts.delayMs ?? 0;
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
    this.stateFlushMs = opts.stateFlushMs ?? 5000;
    // A shared store concludes in the ingest transaction, from the states it reduces there (exact whatever
    // this receiver has followed so far, and for events held in its journal when they move in).
    const outbox = opts.outbox;
    if (outbox && opts.store.shared) opts.store.shared.conclude((before, after, calls, e) => outbox.derive(before, after, calls, e));
  }

  /** Requests (and derived delivery rows) waiting for the next transaction. */
  get waiting(): number {
    return this.events.length + this.rejected.length + this.deliveries.length;
  }

  /** Stores forwarding delivery rows with the next transaction (see OutboxHooks). */
  addDeliveries(rows: readonly NewDelivery[]): void {
    if (rows.length === 0) return;
    for (const r of rows) this.deliveries.push(r);
    if (!this.closed) this.schedule();
  }

  /** Phones and calls whose latest state is not stored yet. */
  get unsavedState(): number {
    return this.dirtyPhones.size + this.dirtyCalls.size;
  }

  /**
   * Events committed after the newest stored state checkpoint: what start-up would replay if the process
   * died now. It grows with the load between checkpoints and goes back to 0 with each one that completes.
   * On a shared store the states are stored with each event, so nothing lags.
   */
  get checkpointLag(): number {
    return this.opts.store.shared ? 0 : Math.max(0, this.appliedEventId - this.checkpointEventId);
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
   * Start-up: brings the in-memory states (loaded from the store) up to date with every stored event after
   * the last state checkpoint, and stores the result. Returns how many events were replayed.
   */
  async recover(): Promise<number> {
    if (this.opts.store.shared) return 0; // states are stored with each event
    // Events of a phone that was forgotten after them are not replayed into a new state.
    const forgotten = await this.opts.store.forgottenPhones();
    let after = await this.opts.store.stateCheckpoint();
    this.appliedEventId = after;
    this.checkpointEventId = after;
    let replayed = 0;
    for (;;) {
      const page = await this.opts.store.eventsAfter(after, 5000);
      if (page.length === 0) break;
      for (const e of page) if (e.id > (forgotten.get(e.mac) ?? 0)) this.apply(e);
      replayed += page.length;
      after = page[page.length - 1].id;
    }
    this.appliedEventId = Math.max(this.appliedEventId, await this.opts.store.lastEventId());
    if (replayed > 0) await this.flushState();
    return replayed;
  }

  /**
   * Closes calls that saw no event for `timeoutMs` (see expireCalls). Changes the in-memory states at once
   * (published on the bus) and stores them with the next state checkpoint. Returns how many phones changed.
   */
  expire(now: number, timeoutMs: number): number {
    let changed = 0;
    for (const before of [...this.opts.phones.values()]) {
      const { state, changedCalls } = expireCalls(before, now, timeoutMs);
      if (state === before) continue;
      changed++;
      this.derive(before, state, changedCalls, undefined);
      this.remember(state, changedCalls);
      this.opts.bus.publish({ type: 'phone', phone: state, changedCalls });
    }
    if (changed) this.scheduleStateFlush();
    if (this.deliveries.length) this.schedule();
    return changed;
  }

  /**
   * A shared store closed calls by the clock (see SharedState.expire): forwarding's conclusions of that change
   * go with the next transaction, as those of this receiver's own expiry do.
   */
  concludeShared(before: PhoneState | undefined, after: PhoneState, changedCalls: readonly CallState[]): void {
    this.derive(before, after, changedCalls, undefined);
    if (this.deliveries.length) this.schedule();
  }

  /**
   * Stores every changed phone state and call now (a checkpoint), in chunks of STATE_CHUNK that take turns
   * with event batches, so a checkpoint of thousands of phones never holds up the answers to phones. The
   * checkpoint's event id goes with the last chunk. Resolves once all of it is stored.
   */
  async flushState(): Promise<void> {
    // A checkpoint already under way may have started before the latest changes: wait, then write the rest.
    while (this.flushing) await this.flushing.catch(() => {});
    if (this.unsavedState === 0) return;
    const flushing = this.checkpoint().finally(() => {
      if (this.flushing === flushing) this.flushing = undefined;
    });
    this.flushing = flushing;
    await flushing;
  }

  private checkpoint(): Promise<void> {
    if (this.dirtyPhones.size === 0 && this.dirtyCalls.size === 0) return Promise.resolve();
    const macs = [...this.dirtyPhones];
    const calls = [...this.dirtyCalls.values()];
    this.dirtyPhones = new Set();
    this.dirtyCalls = new Map();
    const count = Math.max(1, Math.ceil(Math.max(macs.length, calls.length) / STATE_CHUNK));
    const checkpoint = { failed: false };
    const done = new Promise<void>((resolve, reject) => {
      for (let i = 0; i < count; i++) {
        const last = i === count - 1;
        this.stateChunks.push({
          macs: macs.slice(i * STATE_CHUNK, (i + 1) * STATE_CHUNK),
          calls: calls.slice(i * STATE_CHUNK, (i + 1) * STATE_CHUNK),
          checkpoint,
          // Every event applied so far is in these states (later ones may be too; replay skips those).
          ...(last ? { stateEventId: this.appliedEventId, done: { resolve, reject } } : {}),
        });
      }
    });
    this.pump();
    return done;
  }

  /**
   * Forgets a phone: its live state goes at once (its next event starts a new one), its stored state and
   * inventory entry with the returned promise; its events and calls stay unless `purge`. State not yet
   * checkpointed is dropped, so no later checkpoint writes the phone back.
   */
  async forget(mac: string, purge: boolean): Promise<void> {
    const state = this.opts.phones.get(mac);
    if (this.opts.store.shared) {
      // No checkpoints to drop; the store finds the phone's last event itself and signals every receiver
      // (this one too). Dropped here only once stored, so a refused forget leaves the phone as it is.
      await this.opts.store.write({ events: [], rejected: [], forget: [{ mac, upToEventId: state?.lastEventId ?? 0, purge }] });
      this.opts.phones.delete(mac);
      return;
    }
    this.opts.phones.delete(mac);
    this.dirtyPhones.delete(mac);
    for (const [key, c] of this.dirtyCalls) if (c.mac === mac) this.dirtyCalls.delete(key);
    for (const chunk of this.stateChunks) chunk.calls = chunk.calls.filter((c) => c.mac !== mac);
    // Writes reach the store in the order they are asked for: a checkpoint already handed over is written
    // before this, one asked for later no longer holds the phone.
    await this.opts.store.write({ events: [], rejected: [], forget: [{ mac, upToEventId: state?.lastEventId ?? 0, purge }] });
  }

  /** Commits everything waiting and refuses what comes after; stores the phone states. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    await this.flushState().catch((err) => this.opts.onError?.(err));
    await this.flush();
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    for (;;) {
      this.pump();
      if (this.inFlight === 0 && this.waiting === 0 && this.stateChunks.length === 0) return;
      await this.tail;
    }
  }

  private schedule(): void {
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

  /**
   * Hands transactions to the store while there is room. Events first; a state chunk goes when no event
   * is waiting or being committed, or, under a constant stream of events, after every STATE_EVERY batches.
   */
  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const idle = this.waiting === 0 && this.inFlight === 0;
      const stateTurn = this.stateChunks.length > 0 && (idle || this.batchesSinceState >= STATE_EVERY);
      if (stateTurn) {
        this.batchesSinceState = 0;
        this.launchState(this.stateChunks.shift()!);
      } else if (this.waiting > 0) {
        this.batchesSinceState++;
        this.launchBatch();
      } else {
        return;
      }
    }
  }

  /**
   * After a commit: pump on the next turn of the event loop, so that requests read meanwhile join the
   * next event batch before a state chunk could take the turn.
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
    const written = this.opts.store.write(batch);
    written.catch(() => {}); // handled in order below
    this.tail = this.tail.then(async () => {
      try {
        const stored = await written;
        if (deliveries) this.opts.outbox?.stored?.();
        onResult(stored, undefined);
      } catch (err) {
        // Rows derived from events committed earlier are not lost with this transaction: the next one takes them.
        if (deliveries) this.deliveries.unshift(...deliveries);
        onResult(undefined, err);
      } finally {
        this.inFlight--;
        if (this.waiting > 0 || this.stateChunks.length > 0) this.pumpSoon();
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
    this.launch(batch, (stored, err) => {
      if (!stored) {
        this.opts.onError?.(err);
        for (const w of eventWaiters) w.reject(err);
        for (const w of rejectedWaiters) w.reject(err);
        return;
      }
      if (size) this.opts.onCommit?.(size, performance.now() - started);
      if (this.opts.store.shared) {
        // The store's reducer ran in the transaction, and forwarding's conclusions were stored with it.
        for (let i = 0; i < stored.length; i++) eventWaiters[i].resolve(stored[i]);
        for (const w of rejectedWaiters) w.resolve();
        if (stored.length) this.opts.onStored?.();
        if (this.deliveries.length) this.schedule();
        return;
      }
      const changes = stored.map((e) => this.apply(e));
      // Answer first, then tell subscribers: the phone's 200 does not wait for the dashboard or forwarders.
      for (let i = 0; i < stored.length; i++) eventWaiters[i].resolve(stored[i]);
      for (const w of rejectedWaiters) w.resolve();
      for (let i = 0; i < stored.length; i++) this.opts.bus.publish({ type: 'event', event: stored[i], ...changes[i] });
      if (stored.length) this.scheduleStateFlush();
    });
  }

  private launchState(chunk: StateChunk): void {
    const phones: PhoneState[] = [];
    for (const mac of chunk.macs) {
      const state = this.opts.phones.get(mac);
      if (state) phones.push(state);
    }
    const stateEventId = chunk.checkpoint.failed ? undefined : chunk.stateEventId;
    this.launch({ events: [], rejected: [], phones, calls: chunk.calls, ...(stateEventId !== undefined ? { stateEventId } : {}) }, (stored, err) => {
      if (stored && !chunk.checkpoint.failed) {
        if (stateEventId !== undefined) this.checkpointEventId = Math.max(this.checkpointEventId, stateEventId);
        chunk.done?.resolve();
        return;
      }
      if (stored) {
        chunk.done?.reject(new Error('a phone state checkpoint was not completely stored'));
        return;
      }
      chunk.checkpoint.failed = true;
      this.opts.onError?.(err);
      // Keep it for the next checkpoint, unless it changed again meanwhile (newer versions win).
      for (const mac of chunk.macs) this.dirtyPhones.add(mac);
      for (const c of chunk.calls) if (!this.dirtyCalls.has(callKey(c.mac, c.call))) this.dirtyCalls.set(callKey(c.mac, c.call), c);
      chunk.done?.reject(err);
      this.scheduleStateFlush();
    });
  }

  /** One committed event through the reducer into the in-memory states. */
  private apply(e: StoredEvent): { phone: PhoneState; changedCalls: readonly CallState[] } {
    const before = this.opts.phones.get(e.mac);
    const { state, changedCalls } = reduce(before, e); // a StoredEvent is a PhoneEvent (and more)
    this.derive(before, state, changedCalls, e);
    this.remember(state, changedCalls);
    if (e.id > this.appliedEventId) this.appliedEventId = e.id;
    return { phone: state, changedCalls };
  }

  private derive(before: PhoneState | undefined, after: PhoneState, changedCalls: readonly CallState[], e: StoredEvent | undefined): void {
    const rows = this.opts.outbox?.derive(before, after, changedCalls, e);
    if (rows?.length) for (const r of rows) this.deliveries.push(r);
  }

  private remember(state: PhoneState, changedCalls: readonly CallState[]): void {
    this.opts.phones.set(state);
    this.dirtyPhones.add(state.mac);
    for (const call of changedCalls) this.dirtyCalls.set(callKey(state.mac, call), { mac: state.mac, call });
  }

  private scheduleStateFlush(): void {
    if (this.stateTimer || this.closed) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined;
      this.flushState().catch(() => {}); // reported through onError; retried by the next checkpoint
    }, this.stateFlushMs);
    this.stateTimer.unref();
  }
}
