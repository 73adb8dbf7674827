/**
 * The receiver's durable store, as roles: each part of the receiver is given the roles it uses (the commit
 * queue an `IngestWriter`, the control service `Commands & ControlSettingsStore`, …), and `Store` is all of
 * them together, which SQLite (`sqlite.ts`) and PostgreSQL (`postgres.ts`) implement. Every method is async
 * so that a networked database fits without touching callers, even though the SQLite implementation does
 * its work synchronously. The data the roles take and give is in records.ts.
 */
import type { CallState, PhoneState } from '../domain/types.ts';
import type {
  AbandonCommands, CallQuery, CallRecord, CallStatsRow, DeliveryQuery, DeliveryUpdate, EventFilter, EventQuery,
  ForwardingPeer, HourStatsRow, InventoryEntry, NewDelivery, PhoneChange, RejectedQuery, StatsQuery, StoreCounts,
  StoredCommand, StoredControl, StoredDelivery, StoredEvent, StoredRejected, StoreWriteTotals, WriteBatch,
} from './records.ts';

export * from './records.ts';

/** Signals a shared store's listener passes on (see SharedState.listen). */
export interface ListenHandlers {
  /** Events up to this id were committed (by any receiver). */
  onEvents(lastId: number): void;
  /** These phones' states changed without an event. */
  onPhones(macs: string[]): void;
  /** A receiver forgot this phone; events up to `upToEventId` were its old life (see ForgetPhone). */
  onForget(mac: string, upToEventId: number): void;
  /** (Re)connected: anything may have been missed while away. */
  onConnect(): void;
  onError(err: unknown): void;
}

/**
 * Forwarding's conclusions from one event's effect on its phone (call.ended, phone.online, …): the delivery
 * rows to store with it (see OutboxHooks.derive in server/commit-queue.ts).
 */
export type ConcludeEvent = (
  before: PhoneState | undefined,
  after: PhoneState,
  changedCalls: readonly CallState[],
  event: StoredEvent,
) => readonly NewDelivery[] | undefined;

/**
 * A store several receivers share (PostgreSQL): phone states and calls are derived inside the ingest
 * transaction, so every receiver reads the same; receivers learn of each other's events through `listen`.
 */
export interface SharedState {
  /** Every phone's stored state and the id of the last event they include, read consistently. */
  snapshot(): Promise<{ phones: PhoneState[]; lastEventId: number }>;
  /** The stored states of these phones. */
  phones(macs: readonly string[]): Promise<PhoneState[]>;
  /** Calls whose stored state was last changed by one of these events. */
  callsChangedBy(eventIds: readonly number[]): Promise<CallRecord[]>;
  /** Signals of commits (and forgotten phones) by any receiver; reconnects by itself until closed. */
  listen(handlers: ListenHandlers): { close(): Promise<void> };
  /**
   * Closes calls silent for `timeoutMs` in the stored states, on one receiver at a time (others return
   * at once with nothing), and signals the changed phones to every receiver.
   */
  expire(now: number, timeoutMs: number): Promise<PhoneChange[]>;
  /** Write batches held in the local journal because the database could not be reached. */
  readonly journalled: number;
  /** True when there is a local journal: events are accepted while the database is away. */
  readonly journal: boolean;
  /**
   * Adds a listener called right after each of this receiver's commits of events, before `write` resolves,
   * with the phone states the transaction stored, the stored states of those phones it started from (a
   * phone new to the database has none), and the id of its first event: the receiver that took an event
   * knows its effect, and what came before it, before answering the phone.
   */
  onStates(listener: (phones: readonly PhoneState[], before: readonly PhoneState[], firstEventId: number) => void): void;
  /**
   * Forwarding's conclusions, drawn in the ingest transaction: `conclude` is told of each event's effect on
   * its phone (the states reduced there, in the database's order) and the rows it returns are written in the
   * same transaction. This covers events held in the local journal too, which were answered without an id
   * or a known prior state: they are concluded when they move in.
   */
  conclude(conclude: ConcludeEvent): void;
  /**
   * Moves in everything the local journal still holds (at start-up, from before a stop); rejects when the
   * database cannot be reached (the journal then moves in later, by itself).
   */
  moveJournalIn(): Promise<void>;
  /** Who sends which deliveries: leases on delivery shards (see DeliveryLeases). */
  readonly leases: DeliveryLeases;
}

/**
 * Leases on delivery shards, shared by the receivers of one database, so that each delivery is sent by one
 * receiver and each phone's deliveries by one receiver at a time. A lease lasts `leaseMs` from when it was
 * taken or last renewed, timed by the database's clock; a receiver that dies stops renewing, and its shards
 * are free for another when their leases run out.
 */
export interface DeliveryLeases {
  /** Records (or refreshes) this receiver and what it forwards to; resolves with every receiver seen within `leaseMs`, this one included. */
  heartbeat(peer: ForwardingPeer, leaseMs: number): Promise<ForwardingPeer[]>;
  /**
   * Gives back the leases in `release`, renews the holder's other leases, and takes up to `want[destination]`
   * more shards that nobody holds or whose lease ran out (`FOR UPDATE SKIP LOCKED`: receivers claiming at the
   * same moment never take the same shard). Resolves with the shards the holder now holds per destination.
   */
  claim(holder: string, leaseMs: number, want: Readonly<Record<string, number>>, release: readonly { destination: string; shard: number }[]): Promise<Record<string, number[]>>;
  /** Gives back every lease of the holder and forgets it (a clean stop: others take over at once). */
  leave(holder: string): Promise<void>;
}

/** Which store this is, for logs and for choosing the receiver's mode. */
export interface StoreInfo {
  readonly kind: 'sqlite' | 'postgres';
  /** Set when several receivers may share this store (see SharedState). */
  readonly shared?: SharedState;
  /** Human description for logs (`sqlite data/actionurl.sqlite`), without passwords. */
  readonly description: string;
}

/** The one way in for events, rejected requests, phone states, inventory and forgetting a phone. */
export interface IngestWriter {
  /** Stores the batch in one transaction; resolves once it is durably committed, with the events' ids. */
  write(batch: WriteBatch): Promise<StoredEvent[]>;
  /**
   * Write transactions (batches) committed so far by this store, and the SQL statements they ran; a store
   * that does not count them (PostgreSQL) has none.
   */
  writeTotals?(): StoreWriteTotals;
}

/** Stored events: the API's pages, the stream's replay, forwarding's bodies. */
export interface EventReads {
  /** Events newest first. */
  events(query: EventQuery): Promise<StoredEvent[]>;
  /** Events with id > `afterId`, oldest first (replaying a stream). */
  eventsAfter(afterId: number, limit: number, filter?: EventFilter): Promise<StoredEvent[]>;
  /** Events by id (those that still exist), in no particular order. */
  eventsByIds(ids: readonly number[]): Promise<StoredEvent[]>;
  /** The newest event id, 0 when there is none. */
  lastEventId(): Promise<number>;
}

/** Stored phone states, read once at start-up (the receiver keeps them in memory after that). */
export interface PhoneReads {
  /** Every phone's last stored state (loaded once at start-up). */
  loadPhones(): Promise<PhoneState[]>;
  /**
   * The event id up to which stored phone states and calls are complete. Events after it are replayed
   * through the reducer at start-up (the reducer ignores those a phone's state already includes).
   */
  stateCheckpoint(): Promise<number>;
  /** Forgotten phones: MAC to the newest event id that belongs to the forgotten phone. */
  forgottenPhones(): Promise<Map<string, number>>;
}

/** The call log. */
export interface CallReads {
  /** Calls newest first. */
  calls(query: CallQuery): Promise<CallRecord[]>;
}

/** Requests that were refused. */
export interface RejectedReads {
  /** Refused requests newest first. */
  rejected(query: RejectedQuery): Promise<StoredRejected[]>;
}

/** The forwarding outbox: rows are written with their events (`WriteBatch.routes`), read and updated here. */
export interface Deliveries {
  /** Deliveries newest first. */
  deliveries(query: DeliveryQuery): Promise<StoredDelivery[]>;
  delivery(id: number): Promise<StoredDelivery | undefined>;
  /**
   * A destination's deliveries still to make (pending or failed) with id > `afterId`, oldest first. `shards`:
   * only those of phones in these shards (`deliveryShard`), the ones this receiver holds a lease on when
   * several share the store (see `SharedState.leases`); a store only one receiver uses (SQLite) has every
   * shard in that receiver's hands and leaves it out.
   */
  deliveriesDue(destination: string, afterId: number, limit: number, shards?: readonly number[]): Promise<StoredDelivery[]>;
  /** Stores the outcome of attempts, in one transaction. */
  updateDeliveries(updates: readonly DeliveryUpdate[]): Promise<void>;
  /** Makes a delivery pending again, due at `now`, with its attempts reset. Resolves with it (undefined: no such id). */
  retryDelivery(id: number, now: number): Promise<StoredDelivery | undefined>;
  /** Marks every pending or failed delivery of a destination dead with `reason`; resolves with how many. */
  killDeliveries(destination: string, reason: string, now: number): Promise<number>;
  /** Pending and failed deliveries per destination. */
  outboxDepth(): Promise<Record<string, number>>;
}

/** Remote-control commands: what was asked of a phone and how it ended. */
export interface Commands {
  /**
   * Stores remote-control commands (inserted, or updated by id) in one transaction. A command stored as
   * `confirmed` or `failed` keeps that: a later row for it changes nothing.
   */
  putCommands(rows: readonly StoredCommand[]): Promise<void>;
  command(id: string): Promise<StoredCommand | undefined>;
  /** Commands newest first: one phone's, or every phone's. */
  commands(query: { mac?: string; limit: number }): Promise<StoredCommand[]>;
  /** Marks unfinished (`sent`, `accepted`) commands failed with `reason`; resolves with how many. */
  abandonCommands(query: AbandonCommands): Promise<number>;
  /** Deletes all but the newest `keep` commands; resolves with how many went. */
  trimCommands(keep: number): Promise<number>;
}

/** How the receiver reaches each phone for remote control. */
export interface ControlSettingsStore {
  /** Every phone's remote-control settings (loaded once at start-up). */
  controlSettings(): Promise<StoredControl[]>;
  /** Stores (replaces) one phone's remote-control settings, durably. */
  putControl(row: StoredControl): Promise<void>;
  deleteControl(mac: string): Promise<void>;
}

/** What the administrator says about phones (written through `WriteBatch.inventory`). */
export interface InventoryStore {
  /** Every inventory entry (loaded once at start-up). */
  loadInventory(): Promise<InventoryEntry[]>;
}

/** Call summaries for reports (kept by a trigger on calls, see call-stats.ts). */
export interface Reports {
  /** Call summaries of a period, one row per phone, account and direction (see StatsQuery). */
  callStats(query: StatsQuery): Promise<CallStatsRow[]>;
  /** Call summaries of a period per hour and direction (the heat map). */
  hourStats(query: StatsQuery): Promise<HourStatsRow[]>;
}

/** Small named values the receiver keeps across restarts (the admin token, switched-off destinations, …). */
export interface Settings {
  /**
   * Stores `value` under `key` unless a value is stored there already; resolves with the stored one. Several
   * receivers sharing a database agree on it (the first one's value wins).
   */
  keepSetting(key: string, value: string): Promise<string>;
  /** The value stored under `key`; undefined when there is none. */
  setting(key: string): Promise<string | undefined>;
  /** Stores `value` under `key`, replacing what was there (null removes it); stored durably when it resolves. */
  putSetting(key: string, value: string | null): Promise<void>;
}

/** Retention, sizes and the end of the store's life. */
export interface Maintenance {
  /**
   * Deletes at most `batchSize` rows per table that are older than `cutoff` (epoch ms): events, rejected
   * requests, ended calls, delivered or dead deliveries, and finished commands. Phones are kept. Resolves with the number of rows deleted.
   */
  prune(cutoff: number, batchSize: number): Promise<number>;
  counts(): Promise<StoreCounts>;
  close(): Promise<void>;
}

/** Every role: what a store implements, and what the composition root and the API (which use most) hold. */
export interface Store
  extends StoreInfo, IngestWriter, EventReads, PhoneReads, CallReads, RejectedReads, Deliveries, Commands,
    ControlSettingsStore, InventoryStore, Reports, Settings, Maintenance {}
