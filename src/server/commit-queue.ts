/**
 * Group commit: requests that arrive together are stored together.
 *
 * Each ingest request puts its event (or its refusal) in the queue and waits. The queue writes everything
 * waiting in one transaction – on the next turn of the event loop, or after `delayMs`, or at once when
 * `maxBatch` are waiting – and only when that transaction committed do the waiters get their answer. So the
 * `200` a phone sees always means "on disk", while the cost of a commit (an fsync) is shared by every request
 * of the batch. One transaction runs at a time; what arrives meanwhile forms the next batch.
 *
 * Inside the transaction the phones' states are advanced with the reducer and stored with the events; the
 * in-memory states change and the bus hears of the events only after the commit succeeded.
 */
import { expireCalls, reduce } from './state/reduce.ts';
import type { CallState, PhoneEvent, PhoneState } from './state/types.ts';
import type { NewEvent, NewRejected, Store, StoredEvent, DerivedWrites } from '../store/types.ts';
import type { EventBus } from './bus.ts';
import type { PhoneRegistry } from './phones.ts';

export interface CommitQueueOptions {
  store: Store;
  phones: PhoneRegistry;
  bus: EventBus;
  /** Wait this long for more requests before committing; 0: the next turn of the event loop. */
  delayMs?: number;
  /** Commit at once when this many are waiting. */
  maxBatch?: number;
  /** After each commit: how many requests it held and how long it took (ms). */
  onCommit?(size: number, ms: number): void;
  onError?(err: unknown): void;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** A pass closing calls nothing was heard of for `timeoutMs` (see expireCalls). */
interface Expiry {
  now: number;
  timeoutMs: number;
}

export class CommitQueue {
  private events: NewEvent[] = [];
  private eventWaiters: Waiter<StoredEvent>[] = [];
  private rejected: NewRejected[] = [];
  private rejectedWaiters: Waiter<void>[] = [];
  private expiries: { expiry: Expiry; waiter: Waiter<number> }[] = [];
  private scheduled = false;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly delayMs: number;
  private readonly maxBatch: number;

  constructor(private readonly opts: CommitQueueOptions) {
    this.delayMs = opts.delayMs ?? 0;
    this.maxBatch = opts.maxBatch ?? 1000;
  }

  /** Requests waiting for the next transaction. */
  get waiting(): number {
    return this.events.length + this.rejected.length + this.expiries.length;
  }

  /** Stores an event; resolves with its id once committed. */
  addEvent(event: NewEvent): Promise<StoredEvent> {
    return this.enqueue(() => new Promise<StoredEvent>((resolve, reject) => {
      this.events.push(event);
      this.eventWaiters.push({ resolve, reject });
    }));
  }

  /** Stores a refused request; resolves once committed. */
  addRejected(rejected: NewRejected): Promise<void> {
    return this.enqueue(() => new Promise<void>((resolve, reject) => {
      this.rejected.push(rejected);
      this.rejectedWaiters.push({ resolve, reject });
    }));
  }

  /**
   * Closes calls that saw no event for `timeoutMs`, in the same order as events (so it always works on the
   * newest states). Resolves with the number of phones that changed.
   */
  expire(now: number, timeoutMs: number): Promise<number> {
    return this.enqueue(() => new Promise<number>((resolve, reject) => {
      this.expiries.push({ expiry: { now, timeoutMs }, waiter: { resolve, reject } });
    }));
  }

  /** Commits everything waiting and refuses what comes after. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.running || this.waiting > 0) {
      if (this.running) await this.running;
      else await this.run();
    }
  }

  private enqueue<T>(add: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the receiver is shutting down'));
    const promise = add();
    if (this.waiting >= this.maxBatch && !this.running) void this.run();
    else this.schedule();
    return promise;
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      if (!this.running) void this.run();
    };
    if (this.delayMs > 0) setTimeout(go, this.delayMs);
    else setImmediate(go);
  }

  private run(): Promise<void> {
    const events = this.events.splice(0, this.maxBatch);
    const eventWaiters = this.eventWaiters.splice(0, events.length);
    const rejected = this.rejected.splice(0, this.maxBatch);
    const rejectedWaiters = this.rejectedWaiters.splice(0, rejected.length);
    const expiries = this.expiries.splice(0, this.maxBatch);
    this.running = this.commit(events, eventWaiters, rejected, rejectedWaiters, expiries).finally(() => {
      this.running = undefined;
      if (this.waiting > 0) this.schedule();
    });
    return this.running;
  }

  private async commit(
    events: NewEvent[],
    eventWaiters: Waiter<StoredEvent>[],
    rejected: NewRejected[],
    rejectedWaiters: Waiter<void>[],
    expiries: { expiry: Expiry; waiter: Waiter<number> }[],
  ): Promise<void> {
    const size = events.length + rejected.length + expiries.length;
    if (size === 0) return;
    const started = performance.now();
    // Filled by derive() inside the transaction; applied to memory only after the commit.
    let derived: Derivation | undefined;
    try {
      const stored = await this.opts.store.write({
        events,
        rejected,
        derive: (storedEvents) => {
          derived = this.derive(storedEvents, expiries.map((e) => e.expiry));
          return derived.writes;
        },
      });
      const d = derived ?? this.derive([], []);
      for (const phone of d.writes.phones) this.opts.phones.set(phone);
      this.opts.onCommit?.(size, performance.now() - started);
      // Answer first, then tell subscribers: the phone's 200 does not wait for the dashboard or forwarders.
      for (let i = 0; i < stored.length; i++) eventWaiters[i].resolve(stored[i]);
      for (const w of rejectedWaiters) w.resolve();
      for (const e of expiries) e.waiter.resolve(d.expired.length);
      for (let i = 0; i < stored.length; i++) {
        this.opts.bus.publish({ type: 'event', event: stored[i], ...d.perEvent[i] });
      }
      for (const x of d.expired) this.opts.bus.publish({ type: 'phone', ...x });
    } catch (err) {
      this.opts.onError?.(err);
      for (const w of eventWaiters) w.reject(err);
      for (const w of rejectedWaiters) w.reject(err);
      for (const e of expiries) e.waiter.reject(err);
    }
  }

  /** Pure: each event through the reducer, then any expiry pass, on a working copy of the states. */
  private derive(stored: readonly StoredEvent[], expiries: readonly Expiry[]): Derivation {
    const working = new Map<string, PhoneState>();
    const calls = new Map<string, { mac: string; call: CallState }>();
    const keep = (mac: string, changed: readonly CallState[]) => {
      for (const call of changed) calls.set(`${mac}\u0000${call.callId}\u0000${call.startedAt}`, { mac, call });
    };
    const perEvent: PhoneChange[] = [];
    for (const e of stored) {
      const before = working.get(e.mac) ?? this.opts.phones.get(e.mac);
      const phoneEvent: PhoneEvent = { id: e.id, receivedAt: e.receivedAt, mac: e.mac, incident: e.incident, vars: e.vars, sourceIp: e.sourceIp };
      const { state, changedCalls } = reduce(before, phoneEvent);
      working.set(e.mac, state);
      keep(e.mac, changedCalls);
      perEvent.push({ phone: state, changedCalls });
    }
    const expired: PhoneChange[] = [];
    for (const { now, timeoutMs } of expiries) {
      for (const current of this.opts.phones.all()) {
        const before = working.get(current.mac) ?? current;
        const { state, changedCalls } = expireCalls(before, now, timeoutMs);
        if (state === before) continue;
        working.set(state.mac, state);
        keep(state.mac, changedCalls);
        expired.push({ phone: state, changedCalls });
      }
    }
    return { writes: { phones: [...working.values()], calls: [...calls.values()] }, perEvent, expired };
  }
}

interface PhoneChange {
  phone: PhoneState;
  changedCalls: readonly CallState[];
}

interface Derivation {
  writes: DerivedWrites;
  perEvent: PhoneChange[];
  expired: PhoneChange[];
}
