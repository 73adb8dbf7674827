/**
 * The local mode (SQLite: one receiver per file).
 *
 * Phone states: once a batch committed, its events go through the reducer into the in-memory states, which
 * the API and the dashboard read, and are published on the event bus (after the phones are answered). The
 * stored phone states and calls are written in a checkpoint (each changed phone and call once, however many
 * events changed it), together with the id of the last event they include: `stateFlushMs` after a change,
 * or sooner once half the lag bound of events came in since the last one (state-checkpoint.ts: how a
 * checkpoint keeps the lag under the bound). Events are the record: after a crash, start-up replays the
 * events after that id through the reducer (`catchUp`), at most the bound of them, which rebuilds exactly
 * the states that were lost. This keeps the per-request transaction to the event rows alone; writing every
 * phone's state with each of its events costs several random page writes per event, and throughput with it.
 *
 * Forwarding's conclusions (`derive`) are drawn here from each event's effect, and ride with the next
 * transaction, which is never later than the state checkpoint that includes their event: a crash before
 * they are stored derives them again at replay.
 */
import { expireCalls, reduce } from '../../domain/reduce.ts';
import type { CallState, PhoneState } from '../../domain/types.ts';
import type { StoredEvent } from '../../store/types.ts';
import { CommitQueue, type OutboxHooks } from '../commit-queue.ts';
import type { ModeCommitOptions, ModeOptions, ReceiverMode } from './mode.ts';
import { StateCheckpoint, type ChangedCall } from './state-checkpoint.ts';

export type LocalModeOptions = Pick<ModeOptions, 'store' | 'phones' | 'bus'>;

/**
 * Events a restart replays at most, by default: at the rates one receiver takes, a few seconds of events,
 * replayed in well under a second.
 */
export const CHECKPOINT_LAG_BOUND = 50_000;

const callKey = (mac: string, call: CallState) => `${mac}\u0000${call.callId}\u0000${call.startedAt}`;

export class LocalMode implements ReceiverMode {
  readonly kind = 'local';
  readonly shared = false;
  private queue: CommitQueue | undefined;
  private outbox: OutboxHooks | undefined;
  private stateFlushMs = 5000;
  private lagBound = CHECKPOINT_LAG_BOUND;
  /** The checkpoint being written (a forgotten phone is taken out of it). */
  private current: StateCheckpoint | undefined;
  /** Phones and calls changed in memory since the last state checkpoint started. */
  private dirtyPhones = new Set<string>();
  private dirtyCalls = new Map<string, ChangedCall>();
  /** The newest event applied to the in-memory states. */
  private appliedEventId = 0;
  /** The event id of the newest state checkpoint stored: the stored states include every event up to it. */
  private checkpointEventId = 0;
  private stateTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: LocalModeOptions) {}

  get commits(): CommitQueue {
    if (!this.queue) throw new Error('the commit queue is not open yet');
    return this.queue;
  }

  async loadStates(): Promise<void> {
    for (const state of await this.o.store.loadPhones()) this.o.phones.set(state);
  }

  open(options: ModeCommitOptions): CommitQueue {
    const { outbox, stateFlushMs, checkpointLagBound, ...rest } = options;
    this.outbox = outbox;
    this.stateFlushMs = stateFlushMs ?? 5000;
    const queue = new CommitQueue({
      ...rest,
      store: this.o.store,
      ...(outbox ? { outbox } : {}),
      committed: (stored, answer) => this.committed(stored, answer),
    });
    // Events already in the store's hands when a checkpoint starts commit whatever it does: half the bound
    // (where the next checkpoint starts) has to leave room for them.
    this.lagBound = Math.max(checkpointLagBound ?? CHECKPOINT_LAG_BOUND, 2 * queue.maxBatch * queue.maxInFlight);
    this.queue = queue;
    return queue;
  }

  /** The checkpoint lag stays at most this many events while the store takes the writes. */
  get checkpointLagBound(): number {
    return this.lagBound;
  }

  get unsavedState(): number {
    return this.dirtyPhones.size + this.dirtyCalls.size;
  }

  /**
   * Events committed after the newest stored state checkpoint: what start-up would replay if the process
   * died now. It grows with the load between checkpoints, drops with each one that completes, and stays at
   * most `checkpointLagBound`.
   */
  get checkpointLag(): number {
    return Math.max(0, this.appliedEventId - this.checkpointEventId);
  }

  private committed(stored: StoredEvent[], answer: () => void): void {
    const changes = stored.map((e) => this.apply(e));
    // Answer first, then tell subscribers: the phone's 200 does not wait for the dashboard or forwarders.
    answer();
    for (let i = 0; i < stored.length; i++) this.o.bus.publish({ type: 'event', event: stored[i], ...changes[i] });
    if (stored.length === 0) return;
    this.scheduleStateFlush();
    if (this.checkpointLag >= this.lagBound / 2) this.checkpointSoon();
  }

  /**
   * Start-up: brings the in-memory states (loaded from the store) up to date with every stored event after
   * the last state checkpoint, and stores the result. Returns how many events were replayed.
   */
  async catchUp(): Promise<number> {
    const { store } = this.o;
    // Events of a phone that was forgotten after them are not replayed into a new state.
    const forgotten = await store.forgottenPhones();
    let after = await store.stateCheckpoint();
    this.appliedEventId = after;
    this.checkpointEventId = after;
    let replayed = 0;
    for (;;) {
      const page = await store.eventsAfter(after, 5000);
      if (page.length === 0) break;
      for (const e of page) if (e.id > (forgotten.get(e.mac) ?? 0)) this.apply(e);
      replayed += page.length;
      after = page[page.length - 1].id;
    }
    this.appliedEventId = Math.max(this.appliedEventId, await store.lastEventId());
    if (replayed > 0) await this.flushState();
    return replayed;
  }

  /**
   * Closes calls that saw no event for `timeoutMs` (see expireCalls). Changes the in-memory states at once
   * (published on the bus) and stores them with the next state checkpoint. Resolves with how many phones changed.
   */
  expireCalls(now: number, timeoutMs: number): Promise<number> {
    let changed = 0;
    for (const before of [...this.o.phones.values()]) {
      const { state, changedCalls } = expireCalls(before, now, timeoutMs);
      if (state === before) continue;
      changed++;
      this.derive(before, state, changedCalls, undefined);
      this.remember(state, changedCalls);
      this.o.bus.publish({ type: 'phone', phone: state, changedCalls });
    }
    if (changed) this.scheduleStateFlush();
    if (this.commits.waiting) this.commits.schedule();
    return Promise.resolve(changed);
  }

  /**
   * Stores every changed phone state and call now (a checkpoint), in parts that take turns with event
   * batches, so a checkpoint of thousands of phones never holds up the answers to phones for long. The
   * checkpoint's event id goes with the last part. Resolves once all of it is stored.
   */
  async flushState(): Promise<void> {
    // A checkpoint already under way may have started before the latest changes: wait, then write the rest,
    // unless one started meanwhile (it holds them).
    const under = this.current;
    if (under) await under.done.catch(() => {});
    if (this.current) return this.current.done;
    if (this.unsavedState === 0) return;
    return this.startCheckpoint().done;
  }

  /** Starts a checkpoint unless one is under way (its failure is reported through onError and retried). */
  private checkpointSoon(): void {
    if (!this.current && this.unsavedState > 0) this.startCheckpoint().done.catch(() => {});
  }

  private startCheckpoint(): StateCheckpoint {
    const checkpoint = new StateCheckpoint({
      phones: [...this.dirtyPhones],
      calls: [...this.dirtyCalls.values()],
      eventId: this.appliedEventId,
      // After a failed checkpoint the lag may be past the bound already: the next one still gets a fair share.
      budget: Math.max(this.lagBound - this.checkpointLag, this.lagBound / 4),
      stateOf: (mac) => this.o.phones.get(mac),
      applied: () => this.appliedEventId,
      ended: (c, err, unstored) => this.checkpointEnded(c, err, unstored),
    });
    this.dirtyPhones = new Set();
    this.dirtyCalls = new Map();
    this.current = checkpoint;
    this.commits.background(checkpoint);
    return checkpoint;
  }

  private checkpointEnded(checkpoint: StateCheckpoint, err: unknown, unstored: { phones: string[]; calls: ChangedCall[] }): void {
    if (this.current === checkpoint) this.current = undefined;
    if (err === undefined) {
      this.checkpointEventId = Math.max(this.checkpointEventId, checkpoint.eventId);
      if (this.checkpointLag >= this.lagBound / 2) this.checkpointSoon();
      return;
    }
    // Kept for the next checkpoint, unless changed again meanwhile (newer versions win).
    for (const mac of unstored.phones) this.dirtyPhones.add(mac);
    for (const c of unstored.calls) if (!this.dirtyCalls.has(callKey(c.mac, c.call))) this.dirtyCalls.set(callKey(c.mac, c.call), c);
    this.scheduleStateFlush();
  }

  /**
   * Forgets a phone: its live state goes at once (its next event starts a new one), its stored state and
   * inventory entry with the returned promise; its events and calls stay unless `purge`. State not yet
   * checkpointed is dropped, so no later checkpoint writes the phone back.
   */
  async forget(mac: string, purge: boolean): Promise<void> {
    const state = this.o.phones.get(mac);
    this.o.phones.delete(mac);
    this.dirtyPhones.delete(mac);
    for (const [key, c] of this.dirtyCalls) if (c.mac === mac) this.dirtyCalls.delete(key);
    this.current?.forget(mac);
    // Writes reach the store in the order they are asked for: a checkpoint already handed over is written
    // before this, one asked for later no longer holds the phone.
    await this.o.store.write({ events: [], rejected: [], forget: [{ mac, upToEventId: state?.lastEventId ?? 0, purge }] });
  }

  /** Commits everything waiting and refuses what comes after; stores the phone states. */
  async close(): Promise<void> {
    if (!this.queue) return;
    this.closed = true;
    await this.queue.close();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    // A chunk that fails is reported by the commit queue (its onError); the events replay at the next start.
    await this.flushState().catch(() => {});
    await this.queue.flush();
  }

  /** One committed event through the reducer into the in-memory states. */
  private apply(e: StoredEvent): { phone: PhoneState; changedCalls: readonly CallState[] } {
    const before = this.o.phones.get(e.mac);
    const { state, changedCalls } = reduce(before, e); // a StoredEvent is a PhoneEvent (and more)
    this.derive(before, state, changedCalls, e);
    this.remember(state, changedCalls);
    if (e.id > this.appliedEventId) this.appliedEventId = e.id;
    return { phone: state, changedCalls };
  }

  private derive(before: PhoneState | undefined, after: PhoneState, changedCalls: readonly CallState[], e: StoredEvent | undefined): void {
    const rows = this.outbox?.derive(before, after, changedCalls, e);
    if (rows?.length) this.commits.carry(rows);
  }

  private remember(state: PhoneState, changedCalls: readonly CallState[]): void {
    this.o.phones.set(state);
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
