/**
 * A few reader threads (`sqlite-reader-worker.ts`), each with its own read-only connection, sharing the
 * reads: each goes to the thread with the fewest in flight, so one slow query leaves the others free.
 * A thread that stopped (crashed) refuses what it had in flight and is started again by the next read;
 * closing the pool refuses whatever is still in flight.
 */
import { siblingModule } from '../core/module-url.ts';
import { ThreadChannel } from './sqlite-thread.ts';
import type { ReadOp } from './sqlite-reads.ts';

const READER_URL = siblingModule(import.meta.url, './sqlite-reader-worker');

export class ReaderPool {
  private readonly slots: (Promise<ThreadChannel> | undefined)[];
  /** The channels that are up, by slot (to pick the least busy without waiting). */
  private readonly up: (ThreadChannel | undefined)[];
  private closed = false;

  /** `url`: the reader thread's module (tests give one that misbehaves). */
  constructor(private readonly file: string, size: number, private readonly url: URL = READER_URL) {
    this.slots = new Array<Promise<ThreadChannel> | undefined>(Math.max(1, size)).fill(undefined);
    this.up = new Array<ThreadChannel | undefined>(this.slots.length).fill(undefined);
  }

  /**
   * Starts the first thread in the background (a failure to start is reported by the read that needs it); the
   * others start when a read finds every running one busy, so a one-off command pays for one thread only.
   */
  warm(): void {
    this.slot(0).catch(() => {});
  }

  private slot(i: number): Promise<ThreadChannel> {
    const current = this.up[i];
    if (current && !current.alive) {
      this.slots[i] = undefined;
      this.up[i] = undefined;
    }
    let started = this.slots[i];
    if (!started) {
      started = ThreadChannel.start(this.url, { file: this.file }, 'the database reader stopped');
      this.slots[i] = started;
      started.then(
        (ch) => {
          if (this.closed) void ch.terminate(new Error('the store is closed'));
          else if (this.slots[i] === started) this.up[i] = ch;
        },
        () => {
          if (this.slots[i] === started) this.slots[i] = undefined;
        },
      );
    }
    return started;
  }

  /** The least busy thread that is up; else the first slot not up yet (starting it). */
  private pick(): number {
    let best = -1;
    for (let i = 0; i < this.up.length; i++) {
      const ch = this.up[i];
      if (!ch?.alive) continue;
      if (best < 0 || ch.inFlight < this.up[best]!.inFlight) best = i;
    }
    if (best >= 0 && this.up[best]!.inFlight === 0) return best;
    const idle = this.up.findIndex((ch) => !ch?.alive);
    return idle >= 0 ? idle : best;
  }

  async run<T>(op: ReadOp, args: readonly unknown[]): Promise<T> {
    if (this.closed) throw new Error('the store is closed');
    const ch = await this.slot(this.pick());
    if (this.closed) throw new Error('the store is closed');
    return ch.call<T>({ op, args });
  }

  /** Stops every thread at once; reads in flight are refused ("the store is closed"), none hangs. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('the store is closed');
    await Promise.all(this.slots.map(async (s) => {
      const ch = await s?.catch(() => undefined);
      await ch?.terminate(err);
    }));
  }
}
