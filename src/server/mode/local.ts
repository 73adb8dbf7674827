/**
 * The local mode (SQLite: one receiver per file).
 *
 * Phone states: once a batch committed, its events go through the reducer into the in-memory states, which
 * the API and the dashboard read, and are published on the event bus (after the phones are answered). The
 * stored phone states and calls are written in a checkpoint every `stateFlushMs` (each changed phone and
 * call once, however many events changed it), together with the id of the last event they include. Events
 * are the record: after a crash, start-up replays the events after that id through the reducer
 * (`catchUp`), which rebuilds exactly the states that were lost. This keeps the per-request transaction to
 * the event rows alone; writing every phone's state with each of its events costs several random page
 * writes per event, and throughput with it.
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

export type LocalModeOptions = Pick<ModeOptions, 'store' | 'phones' | 'bus'>;

/**
 * Phones (and calls) per checkpoint transaction: small, since a phone's request that arrives while a chunk
 * is written waits for it (about a millisecond for 25).
 */
const STATE_CHUNK = 25;

const callKey = (mac: string, call: CallState) => `${mac}\u0000${call.callId}\u0000${call.startedAt}`;

/** A part of a state checkpoint, written as its own transaction. */
interface StateChunk {
  macs: string[];
  calls: { mac: string; call: CallState }[];
  /** The checkpoint it belongs to: once a chunk failed, the last one must not claim the checkpoint. */
  checkpoint: { failed: boolean };
  /** Set on the last chunk of a checkpoint. */
  stateEventId?: number;
}

export class LocalMode implements ReceiverMode {
  readonly kind = 'local';
  readonly shared = false;
  private queue: CommitQueue | undefined;
  private outbox: OutboxHooks | undefined;
  private stateFlushMs = 5000;
  /** Chunks handed to the commit queue and not written yet (a forgotten phone is taken out of them). */
  private pendingChunks = new Set<StateChunk>();
  /** Phones and calls changed in memory since the last state checkpoint. */
  private dirtyPhones = new Set<string>();
  private dirtyCalls = new Map<string, { mac: string; call: CallState }>();
  /** The newest event applied to the in-memory states. */
  private appliedEventId = 0;
  /** The event id of the newest state checkpoint stored: the stored states include every event up to it. */
  private checkpointEventId = 0;
  private stateTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
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
    const { outbox, stateFlushMs, ...rest } = options;
    this.outbox = outbox;
    this.stateFlushMs = stateFlushMs ?? 5000;
    this.queue = new CommitQueue({
      ...rest,
      store: this.o.store,
      ...(outbox ? { outbox } : {}),
      committed: (stored, answer) => this.committed(stored, answer),
    });
    return this.queue;
  }

  get unsavedState(): number {
    return this.dirtyPhones.size + this.dirtyCalls.size;
  }

  /**
   * Events committed after the newest stored state checkpoint: what start-up would replay if the process
   * died now. It grows with the load between checkpoints and goes back to 0 with each one that completes.
   */
  get checkpointLag(): number {
    return Math.max(0, this.appliedEventId - this.checkpointEventId);
  }

  private committed(stored: StoredEvent[], answer: () => void): void {
    const changes = stored.map((e) => this.apply(e));
    // Answer first, then tell subscribers: the phone's 200 does not wait for the dashboard or forwarders.
    answer();
    for (let i = 0; i < stored.length; i++) this.o.bus.publish({ type: 'event', event: stored[i], ...changes[i] });
    if (stored.length) this.scheduleStateFlush();
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
    const macs = [...this.dirtyPhones];
    const calls = [...this.dirtyCalls.values()];
    this.dirtyPhones = new Set();
    this.dirtyCalls = new Map();
    const count = Math.max(1, Math.ceil(Math.max(macs.length, calls.length) / STATE_CHUNK));
    const checkpoint = { failed: false };
    const written: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const chunk: StateChunk = {
        macs: macs.slice(i * STATE_CHUNK, (i + 1) * STATE_CHUNK),
        calls: calls.slice(i * STATE_CHUNK, (i + 1) * STATE_CHUNK),
        checkpoint,
        // Every event applied so far is in these states (later ones may be too; replay skips those).
        ...(i === count - 1 ? { stateEventId: this.appliedEventId } : {}),
      };
      written.push(this.writeChunk(chunk));
    }
    // The last chunk's result is the checkpoint's (it fails when any chunk before it did).
    for (const w of written.slice(0, -1)) w.catch(() => {});
    return written[written.length - 1];
  }

  /** One chunk through the commit queue's background turn; the states are read when its turn comes. */
  private async writeChunk(chunk: StateChunk): Promise<void> {
    this.pendingChunks.add(chunk);
    let stateEventId: number | undefined;
    try {
      await this.commits.background(() => {
        this.pendingChunks.delete(chunk);
        const phones: PhoneState[] = [];
        for (const mac of chunk.macs) {
          const state = this.o.phones.get(mac);
          if (state) phones.push(state);
        }
        stateEventId = chunk.checkpoint.failed ? undefined : chunk.stateEventId;
        return { events: [], rejected: [], phones, calls: chunk.calls, ...(stateEventId !== undefined ? { stateEventId } : {}) };
      });
    } catch (err) {
      this.pendingChunks.delete(chunk);
      chunk.checkpoint.failed = true;
      // Keep it for the next checkpoint, unless it changed again meanwhile (newer versions win).
      for (const mac of chunk.macs) this.dirtyPhones.add(mac);
      for (const c of chunk.calls) if (!this.dirtyCalls.has(callKey(c.mac, c.call))) this.dirtyCalls.set(callKey(c.mac, c.call), c);
      this.scheduleStateFlush();
      throw err;
    }
    if (chunk.checkpoint.failed) {
      if (chunk.stateEventId !== undefined) throw new Error('a phone state checkpoint was not completely stored');
      return;
    }
    if (stateEventId !== undefined) this.checkpointEventId = Math.max(this.checkpointEventId, stateEventId);
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
    for (const chunk of this.pendingChunks) chunk.calls = chunk.calls.filter((c) => c.mac !== mac);
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
