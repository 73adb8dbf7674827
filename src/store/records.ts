/**
 * What the store keeps and is asked, as plain data: events, rejected requests, calls, deliveries, commands,
 * control settings, inventory entries, the queries that read them and the batch that writes them. The roles
 * that take and give these are in types.ts, which re-exports this file: callers import from there.
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

/** Which unfinished commands to mark failed (see `Commands.abandonCommands` in types.ts). */
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

/** What a receiver forwards to, as it tells the others (no URL or secret, only a digest of them). */
export interface ForwardingPeer {
  /** Unique per running receiver (host, process and a random part). */
  holder: string;
  destinations: readonly { name: string; fingerprint: string; summary: string }[];
}

/** Counted by a store's writer since it opened. */
export interface StoreWriteTotals {
  /** Write transactions committed (event batches, state-checkpoint chunks, …). */
  transactions: number;
  /** SQL statements those transactions ran (BEGIN and COMMIT not counted). */
  statements: number;
}
