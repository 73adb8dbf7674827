/**
 * The receiver's durable store, as an interface: SQLite today (`sqlite.ts`), PostgreSQL behind the same
 * methods. Every method is async so that a networked database fits without touching callers, even though
 * the SQLite implementation does its work synchronously.
 */
import type { CallOutcome, CallState, PhoneState } from '../server/state/types.ts';

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
  /** Increases with arrival order; never reused, even after retention deleted older events. */
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

/** The outcome of attempts, stored in batches. */
export interface DeliveryUpdate {
  id: number;
  state: DeliveryState;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  lastStatus: number | null;
  lastAttemptAt: number | null;
  deliveredAt: number | null;
  /** The payload as first sent (kept so a retry sends the same bytes); null leaves it as stored. */
  body: string | null;
}

export interface DeliveryQuery {
  state?: DeliveryState;
  destination?: string;
  /** Id cursor: only deliveries with a smaller id. */
  before?: number;
  limit: number;
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
}

export interface EventQuery {
  mac?: string;
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

export interface StoreCounts {
  events: number;
  phones: number;
  calls: number;
  rejected: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Human description for logs (`sqlite data/actionurl.sqlite`), without passwords. */
  readonly description: string;
  /** Stores the batch in one transaction; resolves once it is durably committed, with the events' ids. */
  write(batch: WriteBatch): Promise<StoredEvent[]>;
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
   * requests, ended calls, and delivered or dead deliveries. Phones are kept. Resolves with the number of rows deleted.
   */
  prune(cutoff: number, batchSize: number): Promise<number>;
  counts(): Promise<StoreCounts>;
  /** Events by id (those that still exist), in no particular order. */
  eventsByIds(ids: readonly number[]): Promise<StoredEvent[]>;
  /** Deliveries newest first. */
  deliveries(query: DeliveryQuery): Promise<StoredDelivery[]>;
  delivery(id: number): Promise<StoredDelivery | undefined>;
  /** A destination's deliveries still to make (pending or failed) with id > `afterId`, oldest first. */
  deliveriesDue(destination: string, afterId: number, limit: number): Promise<StoredDelivery[]>;
  /** Stores the outcome of attempts, in one transaction. */
  updateDeliveries(updates: readonly DeliveryUpdate[]): Promise<void>;
  /** Makes a delivery pending again, due at `now`, with its attempts reset. Resolves with it (undefined: no such id). */
  retryDelivery(id: number, now: number): Promise<StoredDelivery | undefined>;
  /** Marks every pending or failed delivery of a destination dead with `reason`; resolves with how many. */
  killDeliveries(destination: string, reason: string, now: number): Promise<number>;
  /** Pending and failed deliveries per destination. */
  outboxDepth(): Promise<Record<string, number>>;
  close(): Promise<void>;
}
