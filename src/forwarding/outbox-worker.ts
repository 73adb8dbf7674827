/**
 * Sends one destination's deliveries from the outbox. Rows are read from the store (never only held in
 * memory), oldest first, into one queue per phone: a phone's next delivery waits while an earlier one is
 * retried, so each phone's events arrive in commit order, while other phones go ahead (up to `concurrency`
 * attempts at once). At most `maxLoaded` rows are in memory; the rest wait in the store and are read as the
 * queues drain. Outcomes are handed to `record` (the forwarder stores them in batches).
 *
 * With several receivers on one PostgreSQL (`claimed`), the worker sends only the deliveries of phones in
 * the shards it holds a lease on (`setShards`, from lease-keeper.ts), and starts no attempt once its leases
 * may have run out without being renewed: each phone's deliveries are then in one receiver's hands at a time.
 */
import { deliveryShard } from '../store/delivery-rows.ts';
import type { Deliveries, DeliveryUpdate, StoredDelivery } from '../store/types.ts';
import type { EventSelector } from './destinations.ts';
import type { IncidentParts } from './payloads.ts';
import { nextRetryDelay, type AttemptVerdict } from './schedule.ts';

export interface Attempt {
  verdict: AttemptVerdict;
  status: number | null;
}

/** Something that sends deliveries for a destination other than a webhook (the MQTT bridge). */
export interface DeliveryChannel {
  readonly name: string;
  readonly select: EventSelector;
  readonly description: string;
  /** `parts`: what the delivery's body was made of, when it was just built (see payloads.ts). */
  send(delivery: StoredDelivery, parts?: IncidentParts): Promise<Attempt>;
  /** Waits between attempts; the channel never gives a delivery up (used up: the last wait again). */
  readonly schedule: readonly number[];
  readonly concurrency: number;
  /** Connected to the far side (a webhook is always "connected"). */
  connected(): boolean;
}

export interface OutboxWorkerOptions {
  destination: string;
  store: Pick<Deliveries, 'deliveriesDue'>;
  /** Makes one attempt; never rejects. */
  send(delivery: StoredDelivery): Promise<Attempt>;
  /** Fills in `body` of rows that have none yet (built from their event), before they are sent. */
  prepare(rows: StoredDelivery[]): Promise<void>;
  record(update: DeliveryUpdate, delivery: StoredDelivery, attempt: Attempt): void;
  /** The destination answered 410 Gone. */
  onGone(reason: string): void;
  /** Waits between attempts (ms); index = attempts made so far. */
  schedule: readonly number[];
  /** When true, a used-up schedule keeps retrying at its last wait instead of making the delivery dead. */
  neverDie?: boolean;
  concurrency: number;
  maxLoaded: number;
  now(): number;
  random(): number;
  onError(err: unknown): void;
  /** Deliveries are shared with other receivers: send nothing until `setShards` says which are this one's. */
  claimed?: boolean;
  /**
   * A mark taken before each read of the outbox, and whether a delivery's outcome was not yet stored when
   * that mark was taken (or is still not): such a row read back as due must not be sent again, since the
   * read may have seen the store from before its outcome was written.
   */
  mark?(): number;
  unsaved?(id: number, mark: number): boolean;
}

export interface WorkerHealth {
  loaded: number;
  inFlight: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastError: string | null;
}

export class OutboxWorker {
  private readonly queues = new Map<string, StoredDelivery[]>();
  private readonly ready = new Set<string>();
  private readonly waitingUntil = new Map<string, number>();
  private readonly busy = new Set<string>();
  private readonly loadedIds = new Set<number>();
  private cursor = 0;
  private rescanWanted = false;
  private loading = false;
  private loadAgain = false;
  /** The last load stopped at maxLoaded: more rows may wait in the store. */
  private capped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private paused = false;
  private idleWaiters: (() => void)[] = [];
  /** Shards whose deliveries this worker may send; undefined: all (one receiver on the store). */
  private shards: ReadonlySet<number> | undefined;
  /** No attempt starts from this moment (the leases may have run out); Infinity without leases. */
  private validUntil = Infinity;
  readonly health: WorkerHealth = { loaded: 0, inFlight: 0, lastSuccessAt: null, lastFailureAt: null, lastError: null };

  constructor(private readonly o: OutboxWorkerOptions) {
    if (o.claimed) this.shards = new Set();
  }

  /**
   * The shards this receiver holds leases on, valid until `validUntil` (epoch ms, this process's clock).
   * Rows of other shards are forgotten (an attempt in flight finishes and is recorded); rows of newly held
   * shards are read from the start of the outbox.
   */
  setShards(shards: ReadonlySet<number>, validUntil: number): void {
    const gained = [...shards].some((s) => !this.shards?.has(s));
    this.shards = shards;
    this.validUntil = validUntil;
    for (const mac of [...this.queues.keys()]) if (!shards.has(deliveryShard(mac))) this.forget(mac);
    if (gained) this.rescan();
    this.pump();
  }

  /** How many shards this worker may send (-1: all, one receiver on the store). */
  shardCount(): number {
    return this.shards?.size ?? -1;
  }

  /** Shards with an attempt in flight (they cannot be handed to another receiver yet). */
  busyShards(): Set<number> {
    return new Set([...this.busy].map(deliveryShard));
  }

  /** Reads the outbox again from its start (rows made due again elsewhere, shards newly held). */
  rescan(): void {
    // Applied when the next read starts: a read under way would move the cursor on past it.
    this.rescanWanted = true;
    this.wake();
  }

  private mayStart(mac: string): boolean {
    return this.shards === undefined || this.shards.has(deliveryShard(mac));
  }

  /** Drops a phone's rows from memory (they stay in the store), except an attempt in flight. */
  private forget(mac: string): void {
    const q = this.queues.get(mac);
    if (!q) return;
    const keep = this.busy.has(mac) ? q.slice(0, 1) : [];
    for (const r of q.slice(keep.length)) this.loadedIds.delete(r.id);
    this.health.loaded = this.loadedIds.size;
    this.ready.delete(mac);
    this.waitingUntil.delete(mac);
    if (keep.length) this.queues.set(mac, keep);
    else this.queues.delete(mac);
  }

  /** New rows may be in the store (after a commit): read them. */
  wake(): void {
    if (this.stopped) return;
    if (this.loading) {
      this.loadAgain = true;
      return;
    }
    this.loading = true;
    void this.load().finally(() => {
      this.loading = false;
      if (this.loadAgain) {
        this.loadAgain = false;
        this.wake();
      } else this.settleIdle();
    });
  }

  /** Stops sending (rows stay in the store and in memory) until `resume`; e.g. while the broker is away. */
  pause(): void {
    this.paused = true;
  }

  /** Sends again; every waiting phone's next delivery is tried now. */
  resume(): void {
    this.paused = false;
    this.retryNow();
  }

  /** Every delivery waiting for a retry becomes due now. */
  retryNow(): void {
    for (const [mac] of this.waitingUntil) {
      const head = this.queues.get(mac)?.[0];
      if (head) head.nextAt = this.o.now();
      this.waitingUntil.delete(mac);
      this.ready.add(mac);
    }
    this.pump();
  }

  /** A delivery made pending again by hand (`POST /deliveries/<id>/retry`). */
  inject(row: StoredDelivery): void {
    // Another receiver holds this phone's shard: it finds the row when it next reads the outbox again.
    if (this.stopped || !this.mayStart(row.mac)) return;
    if (this.loadedIds.has(row.id)) {
      const q = this.queues.get(row.mac)!;
      const i = q.findIndex((r) => r.id === row.id);
      q[i].nextAt = this.o.now();
      if (i === 0 && !this.busy.has(row.mac)) {
        this.waitingUntil.delete(row.mac);
        this.ready.add(row.mac);
      }
      this.pump();
      return;
    }
    if (row.id > this.cursor) {
      this.wake(); // the next read finds it
      return;
    }
    void this.o.prepare([row]).then(() => {
      this.enqueue(row);
      this.pump();
    }, this.o.onError);
  }

  /** Resolves when nothing is loading, in flight or due now (tests and shutdown). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private isIdle(): boolean {
    return !this.loading && this.busy.size === 0 && (this.ready.size === 0 || this.paused || this.stopped || this.o.now() >= this.validUntil);
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  private async load(): Promise<void> {
    if (this.rescanWanted) {
      this.rescanWanted = false;
      this.cursor = 0;
    }
    try {
      for (;;) {
        const room = this.o.maxLoaded - this.loadedIds.size;
        if (room <= 0) {
          this.capped = true;
          return;
        }
        const limit = Math.min(room, 500);
        const shards = this.shards && [...this.shards];
        const mark = this.o.mark?.() ?? 0;
        const rows = await this.o.store.deliveriesDue(this.o.destination, this.cursor, limit, shards);
        if (this.stopped) return;
        if (rows.length === 0) {
          this.capped = false;
          return;
        }
        this.cursor = rows[rows.length - 1].id;
        const fresh = rows.filter((r) => !this.loadedIds.has(r.id) && !this.o.unsaved?.(r.id, mark) && this.mayStart(r.mac));
        await this.o.prepare(fresh);
        for (const r of fresh) this.enqueue(r);
        this.pump();
        if (rows.length < limit) {
          this.capped = false;
          return;
        }
      }
    } catch (err) {
      this.o.onError(err);
    }
  }

  private enqueue(row: StoredDelivery): void {
    this.loadedIds.add(row.id);
    this.health.loaded = this.loadedIds.size;
    let q = this.queues.get(row.mac);
    if (!q) {
      q = [];
      this.queues.set(row.mac, q);
    }
    // In id order (commit order); a row read again from the start of the outbox may be older than the ones
    // queued, but never goes before an attempt in flight.
    let at = q.length;
    while (at > (this.busy.has(row.mac) ? 1 : 0) && q[at - 1].id > row.id) at--;
    q.splice(at, 0, row);
    if (at === 0 && !this.busy.has(row.mac)) this.placeHead(row.mac);
  }

  private placeHead(mac: string): void {
    const head = this.queues.get(mac)?.[0];
    if (!head) return;
    if (head.nextAt <= this.o.now()) {
      this.waitingUntil.delete(mac);
      this.ready.add(mac);
    } else {
      this.ready.delete(mac);
      this.waitingUntil.set(mac, head.nextAt);
      if (head.nextAt < this.timerAt) this.arm(head.nextAt);
    }
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      const now = this.o.now();
      let next = Infinity;
      for (const [mac, due] of this.waitingUntil) {
        if (due <= now) {
          this.waitingUntil.delete(mac);
          this.ready.add(mac);
        } else if (due < next) next = due;
      }
      if (next < Infinity) this.arm(next);
      this.pump();
    }, Math.max(0, at - this.o.now()));
    this.timer.unref();
  }

  private pump(): void {
    if (this.stopped || this.paused) {
      this.settleIdle();
      return;
    }
    if (this.o.now() >= this.validUntil) {
      this.settleIdle();
      return;
    }
    for (const mac of this.ready) {
      if (this.busy.size >= this.o.concurrency) break;
      this.ready.delete(mac);
      if (!this.mayStart(mac)) this.forget(mac);
      else this.attempt(mac);
    }
    this.settleIdle();
  }

  private attempt(mac: string): void {
    const q = this.queues.get(mac)!;
    const row = q[0];
    this.busy.add(mac);
    this.health.inFlight = this.busy.size;
    void this.o
      .send(row)
      .then((attempt) => this.settle(mac, row, attempt))
      .catch((err) => {
        this.o.onError(err);
        this.settle(mac, row, { verdict: { kind: 'retry', reason: String(err) }, status: null });
      });
  }

  private settle(mac: string, row: StoredDelivery, attempt: Attempt): void {
    const now = this.o.now();
    this.busy.delete(mac);
    this.health.inFlight = this.busy.size;
    const attempts = row.attempts + 1;
    const base = { id: row.id, attempts, lastStatus: attempt.status, lastAttemptAt: now, body: row.body };
    const v = attempt.verdict;
    if (v.kind === 'delivered') {
      this.health.lastSuccessAt = now;
      // A delivered incident does not keep its body: it is the stored event and the phone's state then, built
      // again when asked for (GET /api/v1/deliveries/<id>, a retry). Keeping it would write every event
      // once more per destination, as large again as the event itself. Retried and dead ones keep theirs.
      const body = row.eventId !== null && attempts === 1 ? null : row.body;
      this.finish(mac, row, { ...base, body, state: 'delivered', nextAt: now, lastError: null, deliveredAt: now }, attempt);
    } else if (v.kind === 'gone') {
      // The destination is being switched off (asynchronously): not one more attempt, not even the phone's
      // next delivery, which finishing this one would otherwise start at once.
      this.paused = true;
      this.health.lastFailureAt = now;
      this.health.lastError = v.reason;
      this.finish(mac, row, { ...base, state: 'dead', nextAt: now, lastError: v.reason, deliveredAt: null }, attempt);
      this.o.onGone(v.reason);
    } else {
      this.health.lastFailureAt = now;
      this.health.lastError = v.reason;
      const schedule = this.o.schedule;
      let delay = v.retryAfterMs ?? nextRetryDelay(attempts, schedule, this.o.random());
      if (delay === undefined && this.o.neverDie) delay = schedule[schedule.length - 1];
      if (delay === undefined) {
        this.finish(mac, row, { ...base, state: 'dead', nextAt: now, lastError: v.reason, deliveredAt: null }, attempt);
      } else {
        row.attempts = attempts;
        row.state = 'failed';
        row.nextAt = now + delay;
        row.lastError = v.reason;
        row.lastStatus = attempt.status;
        row.lastAttemptAt = now;
        this.o.record({ ...base, state: 'failed', nextAt: row.nextAt, lastError: v.reason, deliveredAt: null }, row, attempt);
        if (!this.stopped) this.placeHead(mac);
      }
    }
    this.pump();
  }

  /** The head of a phone's queue is done (delivered or dead): the phone's next delivery may go. */
  private finish(mac: string, row: StoredDelivery, update: DeliveryUpdate, attempt: Attempt): void {
    const q = this.queues.get(mac)!;
    q.shift();
    this.loadedIds.delete(row.id);
    this.health.loaded = this.loadedIds.size;
    if (q.length === 0) this.queues.delete(mac);
    else if (!this.stopped) this.placeHead(mac);
    this.o.record(update, row, attempt);
    if (this.capped && this.loadedIds.size < this.o.maxLoaded / 2) this.wake();
  }

  /** Forgets every loaded row (the destination was switched off); they stay in the store. */
  clear(): void {
    this.queues.clear();
    this.ready.clear();
    this.waitingUntil.clear();
    this.loadedIds.clear();
    this.health.loaded = 0;
  }
}
