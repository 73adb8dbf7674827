/**
 * Attempt outcomes, stored in batches (every `recordEveryMs`, or at 500): one transaction for many attempts
 * instead of one each. Until its outcome is stored, a delivery read back from the outbox still looks due:
 * `mark` and `wasUnsaved` let an outbox worker tell such a row from one really due, so it is not sent twice.
 *
 * When the store cannot take outcomes (PostgreSQL away, a full disk) they are kept and stored again every
 * second, so a delivery made meanwhile is not made again after a restart.
 */
import type { Logger } from 'pino';
import type { Deliveries, DeliveryUpdate } from '../store/types.ts';

export interface DeliveryOutcomesOptions {
  store: Pick<Deliveries, 'updateDeliveries'>;
  logger: Logger;
  now(): number;
  /** Outcomes are stored together this often (ms). */
  recordEveryMs: number;
}

/** Outcomes at once that are stored without waiting for the timer. */
const BATCH = 500;
/** Storing failed outcomes is tried again this often (ms). */
const RETRY_MS = 1000;
/** How long a stored outcome is remembered for `wasUnsaved`: a read of the outbox takes far less. */
const REMEMBER_MS = 60_000;

export class DeliveryOutcomes {
  private updates: DeliveryUpdate[] = [];
  private timer: NodeJS.Timeout | undefined;
  private recording: Promise<void> = Promise.resolve();
  /** Shutting down: outcomes the store refuses are not kept for later. */
  private closing = false;
  /** Storing outcomes failed last time (logged once until it works again). */
  private failing = false;
  /** Deliveries with an outcome waiting to be stored, and how many. */
  private readonly unsaved = new Map<number, number>();
  /** Batches of outcomes stored so far, and when (in batches and ms) each delivery's last one was (see `wasUnsaved`). */
  private generation = 0;
  private readonly savedAt = new Map<number, { generation: number; at: number }>();

  constructor(private readonly o: DeliveryOutcomesOptions) {}

  /** Takes an attempt's outcome; it is stored with the next batch. */
  add(update: DeliveryUpdate): void {
    this.updates.push(update);
    this.unsaved.set(update.id, (this.unsaved.get(update.id) ?? 0) + 1);
    if (this.updates.length >= BATCH) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.o.recordEveryMs);
      this.timer.unref();
    }
  }

  /** Taken before a read of the outbox; see `wasUnsaved`. */
  mark(): number {
    return this.generation;
  }

  /**
   * True when a delivery's outcome was still to be stored at `mark` (a read of the outbox started then may
   * have seen it as due) or still is.
   */
  wasUnsaved(id: number, mark: number): boolean {
    if (this.unsaved.has(id)) return true;
    const saved = this.savedAt.get(id);
    return saved !== undefined && saved.generation > mark;
  }

  /** Stores the outcomes gathered so far; resolves once they (and earlier ones) are stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.updates;
    this.updates = [];
    if (batch.length) {
      this.recording = this.recording
        .then(() => this.o.store.updateDeliveries(batch))
        .then(() => this.saved(batch), (err) => this.keepForLater(batch, err));
    }
    return this.recording;
  }

  /** The receiver is stopping: outcomes the store refuses from now on are logged and dropped. */
  close(): void {
    this.closing = true;
  }

  /** One outcome per delivery is kept (the newest: it carries the attempt count), so this stays as small as the deliveries in hand. */
  private keepForLater(batch: readonly DeliveryUpdate[], err: unknown): void {
    if (this.closing) {
      this.o.logger.error({ err, updates: batch.length }, 'storing delivery outcomes failed; those deliveries will be made again after a restart');
      this.saved(batch);
      return;
    }
    const latest = new Map<number, DeliveryUpdate>();
    for (const u of batch) latest.set(u.id, u);
    for (const u of this.updates) latest.set(u.id, u); // recorded since: newer
    this.updates = [...latest.values()];
    for (const id of latest.keys()) this.unsaved.set(id, 1);
    if (!this.failing) this.o.logger.warn({ err, updates: this.updates.length }, 'storing delivery outcomes failed; trying again every second');
    this.failing = true;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), RETRY_MS);
      this.timer.unref();
    }
  }

  private saved(batch: readonly DeliveryUpdate[]): void {
    if (this.failing && this.updates.length === 0) {
      this.failing = false;
      this.o.logger.info('delivery outcomes stored again');
    }
    const generation = ++this.generation;
    const at = this.o.now();
    for (const u of batch) {
      const n = (this.unsaved.get(u.id) ?? 1) - 1;
      if (n > 0) this.unsaved.set(u.id, n);
      else this.unsaved.delete(u.id);
      this.savedAt.delete(u.id);
      this.savedAt.set(u.id, { generation, at });
    }
    // Oldest first (insertion order).
    for (const [id, s] of this.savedAt) {
      if (at - s.at < REMEMBER_MS) break;
      this.savedAt.delete(id);
    }
  }
}
