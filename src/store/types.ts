/**
 * The receiver's durable store, as an interface: SQLite today (`sqlite.ts`), PostgreSQL behind the same
 * methods. Every method is async so that a networked database fits without touching callers, even though
 * the SQLite implementation does its work synchronously.
 */
import type { CommandStatus, ControlCommand } from '../core/control/commands.ts';
import type { CallOutcome, CallState, PhoneState } from '../domain/types.ts';

/** An event about to be stored. */
export interface NewEvent {
  /** Epoch ms. */
  receivedAt: number;
  mac: string;
  incident: string;
  /** Canonical variables. */
  vars: Record<string, string>;
  /** Parameters that are not variables. */
  extra: Record<string, string>;
  /** The request target as received (any token value blanked out). */
  rawTarget: Buffer;
  sourceIp: string;
}

export interface StoredEvent extends NewEvent {
  /**
   * Increases with arrival order; never reused, even after retention deleted older events. 0 in what
   * `write` returns for an event held in the local journal (PostgreSQL away): it gets its id when moved in.
   */
  id: number;
}

/** A request that was refused, kept with the reason. */
export interface NewRejected {
  receivedAt: number;
  sourceIp: string;
  /** HTTP status it was answered with. */
  status: number;
  /** One line, as sent to the client. */
  reason: string;
  rawTarget: Buffer;
  method: string;
  /**
   * How many requests this row stands for: 1, or more when a flood from one source was summarised into one
   * row instead of one row each (see docs/receiver.md, "Rejected requests").
   */
  count: number;
}

export interface StoredRejected extends NewRejected {
  id: number;
}

/** A call as kept in the call log: the reducer's CallState plus the phone it belongs to. */
export interface CallRecord {
  id: number;
  mac: string;
  call: CallState;
}

/**
 * A forwarding delivery (outbox row) about to be stored: one event to one destination. Rows for incidents are
 * written in the same transaction as their event (see `WriteBatch.routes`); rows for what the receiver
 * concluded (call.ended, phone.online, …) in the next transaction after it (`WriteBatch.deliveries`).
 */
export interface NewDelivery {
  destination: string;
  /** `phone.<incident>`, `call.ended`, `phone.online`, … */
  type: string;
  mac: string;
  /** The event it is about (null: none, e.g. a call closed by the clock). */
  eventId: number | null;
  /** Epoch ms. */
  createdAt: number;
  /** The payload JSON, when fixed at creation; null: built from the event at the first attempt. */
  body: string | null;
  /**
   * Identifies a derived delivery, so deriving it again (replaying events after a crash) stores it once:
   * a second row with the same destination and key is ignored.
   */
  dedupeKey: string | null;
}

export type DeliveryState = 'pending' | 'failed' | 'dead' | 'delivered';

export interface StoredDelivery extends NewDelivery {
  id: number;
  state: DeliveryState;
  attempts: number;
  /** Epoch ms of the next attempt (pending, failed). */
  nextAt: number;
  lastError: string | null;
  /** HTTP status of the last attempt (null: no answer, or not HTTP). */
  lastStatus: number | null;
  /** Epoch ms of the last attempt. */
  lastAttemptAt: number | null;
  deliveredAt: number | null;
}

/** The outcome of attempts, stored in batches: the attempt fields of a stored delivery, and its body. */
export interface DeliveryUpdate
  extends Pick<StoredDelivery, 'id' | 'state' | 'attempts' | 'nextAt' | 'lastError' | 'lastStatus' | 'lastAttemptAt' | 'deliveredAt'> {
  /** The payload as first sent (kept so a retry sends the same bytes); null leaves it as stored. */
  body: string | null;
}

/**
 * A forwarding destination and its health, as forwarding reports it and the API shows it
 * (`GET /api/v1/destinations`). Here, below both, so neither restates it.
 */
export interface DestinationInfo {
  name: string;
  kind: 'webhook' | 'mqtt';
  /** The URL (webhook) or broker (MQTT), without passwords. */
  target: string;
  enabled: boolean;
  /** Why it is switched off, when it is. */
  disabledReason: string | null;
  /** Since when (epoch ms) it is switched off. */
  disabledAt: number | null;
  connected: boolean;
  queued: number;
  in_flight: number;
  last_success_at: number | null;
  last_failure_at: number | null;
  last_error: string | null;
}

export interface DeliveryQuery {
  state?: DeliveryState;
  destination?: string;
  /** Id cursor: only deliveries with a smaller id. */
  before?: number;
  limit: number;
}

/** What the administrator says about a phone: kept apart from what the phone reports about itself. */
export interface InventoryEntry {
  mac: string;
  /** '' when not set. */
  name: string;
  location: string;
  /** Group names, each trimmed and non-empty, no duplicates. */
  groups: string[];
}

/**
 * Forgetting a phone: its state, calls' live copy and inventory go; its events stay unless `purge`. Events up
 * to `upToEventId` are the forgotten phone's: a restart must not replay them into a new state (see
 * `forgottenPhones`).
 */
export interface ForgetPhone {
  mac: string;
  upToEventId: number;
  /** Also delete its events, calls and call summaries. */
  purge: boolean;
}

/** One write: stored in a single transaction, or not at all. */
export interface WriteBatch {
  events: readonly NewEvent[];
  rejected: readonly NewRejected[];
  /**
   * Forwarding outbox: for events[i], the destinations it goes to (undefined or empty: none). A `pending`
   * delivery row per destination is written in the same transaction as the event.
   */
  routes?: readonly (readonly string[] | undefined)[];
  /** Further delivery rows (derived events), written in this transaction. */
  deliveries?: readonly NewDelivery[];
  /** Phone states to store (replacing the stored ones). */
  phones?: readonly PhoneState[];
  /** Calls to store (inserted, or updated in place: one call is one mac, call id and start). */
  calls?: readonly { mac: string; call: CallState }[];
  /**
   * Stored phone states and calls now include the effect of every event up to this id (see
   * `stateCheckpoint`). Written in the same transaction as `phones` and `calls`.
   */
  stateEventId?: number;
  /** Inventory entries to store (replacing the stored ones). */
  inventory?: readonly InventoryEntry[];
  /** Phones to forget (after everything else in the batch). */
  forget?: readonly ForgetPhone[];
}

export interface EventQuery {
  mac?: string;
  /** Only events of these phones (a group); an empty list matches nothing. */
  macs?: readonly string[];
  /** Epoch ms: only events received before. */
  until?: number;
  incident?: string;
  callId?: string;
  /** Epoch ms: only events received at or after. */
  since?: number;
  /** Id cursor: only events with a smaller id. */
  before?: number;
  limit: number;
}

export interface EventFilter {
  mac?: string;
  incident?: string;
}

export interface CallQuery {
  mac?: string;
  /** Only calls of these phones (a group); an empty list matches nothing. */
  macs?: readonly string[];
  /** Epoch ms: only calls started before. */
  until?: number;
  outcome?: CallOutcome;
  since?: number;
  before?: number;
  limit: number;
}

export interface RejectedQuery {
  since?: number;
  before?: number;
  limit: number;
}

/** Thresholds (seconds) the call summaries count answers within: the service levels a report can ask for. */
export const SERVICE_LEVEL_SECONDS = [5, 10, 15, 20, 30, 60] as const;

/** A period of call summaries: whole hours (epoch ms, multiples of an hour), `from` inclusive, `to` not. */
export interface StatsQuery {
  from: number;
  to: number;
  /** Only these phones; an empty list matches nothing. */
  macs?: readonly string[];
}

/** Sums over the ended calls (by start time) of one phone, account and direction in a period. */
export interface CallStatsRow {
  mac: string;
  /** `user@host` of the call's local party ('' when the phone did not say). */
  account: string;
  direction: string;
  calls: number;
  /** Calls that were answered (connected, for outgoing calls). */
  answered: number;
  missed: number;
  rejected: number;
  forwarded: number;
  /** Sum over answered calls of start to answer, ms. */
  ringMs: number;
  /** Sum over answered calls of answer to end, ms. */
  talkMs: number;
  /** Answered within each of SERVICE_LEVEL_SECONDS, in that order. */
  answeredWithin: number[];
}

/** Calls of one hour (epoch ms of its start) and direction. */
export interface HourStatsRow {
  hour: number;
  direction: string;
  calls: number;
  answered: number;
  missed: number;
}

export interface StoreCounts {
  events: number;
  phones: number;
  calls: number;
  rejected: number;
}

/**
 * How the receiver reaches one phone for remote control. `credentials` is sealed (AES-256-GCM) by the
 * server with a key kept outside the database; the store never sees them in clear.
 */
export interface StoredControl {
  mac: string;
  /** Base URL of the phone's web server, as the admin approved it; null: none approved, nothing is sent. */
  url: string | null;
  /** null: recognised from the phone's model and MAC. */
  vendor: string | null;
  credentials: Buffer | null;
  /** Epoch ms. */
  updatedAt: number;
}

/**
 * A remote-control command as kept in the store: what was asked, where it stands and why. Never credentials
 * (they stay sealed in `phone_control`; a reason is written without them).
 */
export interface StoredCommand {
  id: string;
  mac: string;
  command: ControlCommand;
  /** dial only. */
  number: string | null;
  /** keys only. */
  keys: string[] | null;
  vendor: string | null;
  status: CommandStatus;
  reason: string | null;
  /** Epoch ms. */
  createdAt: number;
  acceptedAt: number | null;
  finishedAt: number | null;
  confirmedBy: { eventId: number; incident: string } | null;
  /** Epoch ms after which a command still `sent` or `accepted` has been abandoned (its receiver stopped). */
  deadlineAt: number;
  /** The receiver process that sent it (random per start): only that process concludes it. */
  owner: string;
}

/** Which unfinished commands to mark failed (see `Store.abandonCommands`). */
export interface AbandonCommands {
  /** Commands of any receiver process but this one. */
  notOwner: string;
  /** Only those whose deadline is before this (epoch ms); absent: all of them. */
  deadlineBefore?: number;
  reason: string;
  now: number;
}

/** A phone whose state changed without an event (calls closed after a long silence). */
export interface PhoneChange {
  phone: PhoneState;
  changedCalls: readonly CallState[];
}

/**
 * A store several receivers share (PostgreSQL): phone states and calls are derived inside the ingest
 * transaction, so every receiver reads the same; receivers learn of each other's events through `listen`.
 */
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

/** What a receiver forwards to, as it tells the others (no URL or secret, only a digest of them). */
export interface ForwardingPeer {
  /** Unique per running receiver (host, process and a random part). */
  holder: string;
  destinations: readonly { name: string; fingerprint: string; summary: string }[];
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

/** Counted by a store's writer since it opened. */
export interface StoreWriteTotals {
  /** Write transactions committed (event batches, state-checkpoint chunks, …). */
  transactions: number;
  /** SQL statements those transactions ran (BEGIN and COMMIT not counted). */
  statements: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Set when several receivers may share this store (see SharedState). */
  readonly shared?: SharedState;
  /** Human description for logs (`sqlite data/actionurl.sqlite`), without passwords. */
  readonly description: string;
  /** Stores the batch in one transaction; resolves once it is durably committed, with the events' ids. */
  write(batch: WriteBatch): Promise<StoredEvent[]>;
  /**
   * Write transactions (batches) committed so far by this store, and the SQL statements they ran; a store
   * that does not count them (PostgreSQL) has none.
   */
  writeTotals?(): StoreWriteTotals;
  /** Every phone's last stored state (loaded once at start-up). */
  loadPhones(): Promise<PhoneState[]>;
  /**
   * The event id up to which stored phone states and calls are complete. Events after it are replayed
   * through the reducer at start-up (the reducer ignores those a phone's state already includes).
   */
  stateCheckpoint(): Promise<number>;
  /** Events newest first. */
  events(query: EventQuery): Promise<StoredEvent[]>;
  /** Events with id > `afterId`, oldest first (replaying a stream). */
  eventsAfter(afterId: number, limit: number, filter?: EventFilter): Promise<StoredEvent[]>;
  /** The newest event id, 0 when there is none. */
  lastEventId(): Promise<number>;
  /** Calls newest first. */
  calls(query: CallQuery): Promise<CallRecord[]>;
  /** Refused requests newest first. */
  rejected(query: RejectedQuery): Promise<StoredRejected[]>;
  /**
   * Deletes at most `batchSize` rows per table that are older than `cutoff` (epoch ms): events, rejected
   * requests, ended calls, delivered or dead deliveries, and finished commands. Phones are kept. Resolves with the number of rows deleted.
   */
  prune(cutoff: number, batchSize: number): Promise<number>;
  /**
   * Stores `value` under `key` unless a value is stored there already; resolves with the stored one. Several
   * receivers sharing a database agree on it (the first one's value wins).
   */
  keepSetting(key: string, value: string): Promise<string>;
  /** The value stored under `key`; undefined when there is none. */
  setting(key: string): Promise<string | undefined>;
  /** Stores `value` under `key`, replacing what was there (null removes it); stored durably when it resolves. */
  putSetting(key: string, value: string | null): Promise<void>;
  counts(): Promise<StoreCounts>;
  /** Every phone's remote-control settings (loaded once at start-up). */
  controlSettings(): Promise<StoredControl[]>;
  /** Stores (replaces) one phone's remote-control settings, durably. */
  putControl(row: StoredControl): Promise<void>;
  deleteControl(mac: string): Promise<void>;
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
  /** Events by id (those that still exist), in no particular order. */
  eventsByIds(ids: readonly number[]): Promise<StoredEvent[]>;
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
  /** Every inventory entry (loaded once at start-up). */
  loadInventory(): Promise<InventoryEntry[]>;
  /** Forgotten phones: MAC to the newest event id that belongs to the forgotten phone. */
  forgottenPhones(): Promise<Map<string, number>>;
  /** Call summaries of a period, one row per phone, account and direction (see StatsQuery). */
  callStats(query: StatsQuery): Promise<CallStatsRow[]>;
  /** Call summaries of a period per hour and direction (the heat map). */
  hourStats(query: StatsQuery): Promise<HourStatsRow[]>;
  close(): Promise<void>;
}
