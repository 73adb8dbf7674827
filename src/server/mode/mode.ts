/**
 * The receiver's mode: what it does with committed events, chosen once at start from its store.
 *
 * - Local (SQLite, one receiver per file, local.ts): events are reduced into the in-memory phone states after
 *   they commit and published on the event bus from here; stored states follow in checkpoints, and a start
 *   replays the events after the last one.
 * - Shared (PostgreSQL, any number of receivers, shared.ts): the store reduces in the ingest transaction,
 *   so every receiver reads the same; the stream follower publishes every receiver's events in commit order,
 *   and a local journal holds events while the database is away.
 *
 * Both own their commit queue (commit-queue.ts: group commit, the same for both). Nothing outside this
 * folder asks which store the receiver has; it asks the mode.
 */
import type { Logger } from 'pino';
import type { DeliveryLeases, EventReads, IngestWriter, PhoneReads, StoreInfo } from '../../store/types.ts';
import type { EventBus } from '../bus.ts';
import type { PhoneRegistry } from '../phones.ts';
import type { CommitQueue, CommitQueueOptions, OutboxHooks } from '../commit-queue.ts';
import type { StreamFollower } from './follower.ts';

export interface ReceiverMode {
  readonly kind: 'local' | 'shared';
  /** Other receivers may share the store: settings and commands they write must be looked for. */
  readonly shared: boolean;
  /** The commit queue, once `open` made it. */
  readonly commits: CommitQueue;
  /** Phone states into memory, before anything reads them. */
  loadStates(): Promise<void>;
  /** Makes the commit queue, once forwarding's hooks are known. */
  open(options: ModeCommitOptions): CommitQueue;
  /**
   * Brings the states up to date with what was stored before this start, now that forwarding concludes
   * from them. Returns how many events were replayed.
   */
  catchUp(): Promise<number>;
  /** Closes calls that saw no event for `timeoutMs` (the receiver's minute loop); resolves with the phones changed. */
  expireCalls(now: number, timeoutMs: number): Promise<number>;
  /**
   * Forgets a phone: its live state goes, its stored state and inventory entry with the returned promise; its
   * events and calls stay unless `purge`.
   */
  forget(mac: string, purge: boolean): Promise<void>;
  /** Stored phone states and calls include everything in memory (before a read of calls or reports). */
  flushState(): Promise<void>;
  /** Phones and calls changed in memory and not stored yet. */
  readonly unsavedState: number;
  /** Events committed after the newest stored state checkpoint: what a start would replay now. */
  readonly checkpointLag: number;
  /** The local journal, on a shared store with one. */
  readonly journal?: { readonly journalled: number };
  /** What publishes every receiver's events on this one's bus, in the shared mode. */
  readonly follower?: StreamFollower;
  /** Delivery leases among receivers, on a shared store. */
  readonly leases?: DeliveryLeases;
  /** Commits what is queued, stores the states, stops following. */
  close(): Promise<void>;
}

/** What the commit queue is made with (the mode adds how committed batches are taken). */
export type ModeCommitOptions = Omit<CommitQueueOptions, 'store' | 'committed' | 'outbox'> & {
  outbox?: OutboxHooks;
  /** Write changed phone states and calls this often (ms; local mode). Default 5 s. */
  stateFlushMs?: number;
  /**
   * The checkpoint lag (events a restart would replay) the local mode keeps under, by checkpointing sooner
   * and in larger parts as events come faster. Default CHECKPOINT_LAG_BOUND (local.ts); never below what
   * the commit queue can have in the store's hands twice over.
   */
  checkpointLagBound?: number;
};

/**
 * What the modes use of the store: writes (events, checkpoints, forgetting), the stored states and forgotten
 * phones, the events after a checkpoint or the follower's cursor; `shared` says which mode it is.
 */
export type ModeStore = IngestWriter & PhoneReads & Pick<EventReads, 'eventsAfter' | 'lastEventId'> & Pick<StoreInfo, 'shared'>;

/** What a mode is made with (choose.ts picks which). */
export interface ModeOptions {
  store: ModeStore;
  phones: PhoneRegistry;
  bus: EventBus;
  logger: Logger;
  now(): number;
  /** Shared mode: how often to look for other receivers' events without a signal (ms). */
  followPollMs?: number;
  /** Shared mode: a phone was forgotten by another receiver. */
  onForget(mac: string): void;
}
