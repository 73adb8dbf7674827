/**
 * Logging a burst once: the first of a run of similar problems is logged, the rest within the window only
 * counted, and the count reported when the window closes. A broker client publishing garbage in a loop then
 * costs one log line per window, not one per message. Pure: the caller passes the clock.
 */
export class BurstGate {
  private windowStart = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(readonly windowMs: number) {}

  /** True: log this one (a new window starts). False: counted as suppressed. */
  pass(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** How many were suppressed since the last call. */
  take(): number {
    const n = this.suppressed;
    this.suppressed = 0;
    return n;
  }
}
