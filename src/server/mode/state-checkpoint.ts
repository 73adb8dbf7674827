/**
 * One phone-state checkpoint of the local mode (local.ts): the phones and calls changed since the previous
 * one, written in parts that take turns with event batches (the commit queue's background work), the id of
 * the newest event they include with the last part.
 *
 * The bound it keeps: the checkpoint lag (events committed after the newest complete checkpoint, which is
 * what a restart replays) stays at most `bound` events while the store takes the writes. A checkpoint that
 * starts when the lag is `lagAtStart` has a budget of `bound - lagAtStart` events to be stored in. It paces
 * itself over the first half of that budget: after x events since its start it is behind when fewer than
 * rows × x / (budget / 2) of its rows have been handed over, and then its next part takes the rows owed
 * `PACE_AHEAD` of the pace further on (larger parts the faster events come; in ordinary turns, when it is
 * not behind, STATE_CHUNK rows, so that a phone's answer waits at most about a millisecond for one). Should
 * that not be enough (a slow part), an event batch that would take it past its budget waits until it is
 * stored. The mode starts the next checkpoint once the lag is half the bound, so each has at least half the
 * bound as its budget.
 */
import type { CallState, PhoneState } from '../../domain/types.ts';
import type { WriteBatch } from '../../store/types.ts';
import type { BackgroundWork } from '../commit-queue.ts';

/** Rows (phones and calls together) of a part in an ordinary turn. */
export const STATE_CHUNK = 50;

/** How far ahead of its pace a part that is behind writes: this share of the pace (a few dozen parts). */
const PACE_AHEAD = 1 / 32;

export interface ChangedCall {
  mac: string;
  call: CallState;
}

export interface CheckpointOptions {
  phones: string[];
  calls: ChangedCall[];
  /** Every event up to this id is in the states written (later ones may be too; replay skips those). */
  eventId: number;
  /** Events it may let commit after its start before it must be stored. */
  budget: number;
  /** A phone's state as it is when its part is built (undefined: forgotten meanwhile, not written). */
  stateOf(mac: string): PhoneState | undefined;
  /** The id of the newest event applied to the in-memory states. */
  applied(): number;
  /**
   * It ended, before anything else is handed to the store: stored, or failed with the rows it had not
   * stored (for the next checkpoint).
   */
  ended(checkpoint: StateCheckpoint, err: unknown, unstored: { phones: string[]; calls: ChangedCall[] }): void;
}

export class StateCheckpoint implements BackgroundWork {
  private phoneAt = 0;
  private callAt = 0;
  private taken = 0;
  private lastHandedOver = false;
  private over = false;
  private part: { phones: string[]; calls: ChangedCall[] } | undefined;
  private readonly pace: number;
  private readonly settle: { resolve(): void; reject(err: unknown): void };
  /** Settles once it is stored (or failed). */
  readonly done: Promise<void>;

  constructor(private readonly o: CheckpointOptions) {
    this.pace = Math.max(1, Math.floor(o.budget / 2));
    let settle!: StateCheckpoint['settle'];
    this.done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.settle = settle;
  }

  get eventId(): number {
    return this.o.eventId;
  }

  get finished(): boolean {
    return this.over || this.lastHandedOver;
  }

  /** Takes a forgotten phone's calls out of what is still to be written (its state is read when a part is built). */
  forget(mac: string): void {
    this.o.calls = this.o.calls.slice(this.callAt).filter((c) => c.mac !== mac);
    this.callAt = 0;
    // A part being written is stored before the forgetting; should it fail, its calls are not handed back.
    if (this.part) this.part.calls = this.part.calls.filter((c) => c.mac !== mac);
  }

  behind(incoming: number): boolean {
    if (this.over) return false;
    const after = this.o.applied() - this.o.eventId + incoming;
    if (after > this.o.budget) return true;
    return !this.lastHandedOver && this.taken < this.owed(after);
  }

  next(): WriteBatch | undefined {
    if (this.finished) return undefined;
    const since = this.o.applied() - this.o.eventId;
    let n = Math.max(STATE_CHUNK, this.owed(since + Math.ceil(this.pace * PACE_AHEAD)) - this.taken);
    if (since >= this.o.budget) n = Infinity;
    const macs = this.o.phones.slice(this.phoneAt, this.phoneAt + n);
    this.phoneAt += macs.length;
    const calls = this.o.calls.slice(this.callAt, this.callAt + n - macs.length);
    this.callAt += calls.length;
    this.taken += macs.length + calls.length;
    this.part = { phones: macs, calls };
    this.lastHandedOver = this.left() === 0;
    const phones: PhoneState[] = [];
    for (const mac of macs) {
      const state = this.o.stateOf(mac);
      if (state) phones.push(state);
    }
    return { events: [], rejected: [], phones, calls, ...(this.lastHandedOver ? { stateEventId: this.o.eventId } : {}) };
  }

  settled(err: unknown): void {
    const part = this.part;
    this.part = undefined;
    if (err === undefined && !this.lastHandedOver) return;
    this.over = true;
    if (err === undefined) {
      this.o.ended(this, undefined, { phones: [], calls: [] });
      this.settle.resolve();
      return;
    }
    // Nothing after a failed part claims the checkpoint: its rows and the rest wait for the next one.
    const unstored = {
      phones: [...(part?.phones ?? []), ...this.o.phones.slice(this.phoneAt)],
      calls: [...(part?.calls ?? []), ...this.o.calls.slice(this.callAt)],
    };
    this.o.ended(this, err, unstored);
    this.settle.reject(err);
  }

  /** Rows it should have handed over once `events` events were committed after its start. */
  private owed(events: number): number {
    const rows = this.taken + this.left();
    return events >= this.pace ? rows : Math.ceil((rows * events) / this.pace);
  }

  private left(): number {
    return this.o.phones.length - this.phoneAt + this.o.calls.length - this.callAt;
  }
}
