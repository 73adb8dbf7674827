/**
 * Tells the destinations' workers that new rows may be in the store, at most once per `everyMs`: a read of
 * the outbox costs about as much as a few deliveries, and at a thousand events a second one read per commit
 * was the largest cost of forwarding after sending itself; under heavier load commits batch anyway.
 */
export class WakeThrottle {
  private timer: NodeJS.Timeout | undefined;
  private last = -Infinity;

  constructor(
    private readonly everyMs: number,
    private readonly wake: () => void,
    /** Monotonic ms. */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Wakes the workers now, or when `everyMs` since the last time has passed. */
  request(): void {
    if (this.timer) return;
    const wait = this.last + this.everyMs - this.clock();
    if (wait <= 0) {
      this.now();
      return;
    }
    this.timer = setTimeout(() => this.now(), wait);
    this.timer.unref();
  }

  /** A wake waiting for its moment happens now. */
  hurry(): void {
    if (this.timer) this.now();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private now(): void {
    this.close();
    this.last = this.clock();
    this.wake();
  }
}
