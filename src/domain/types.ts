/**
 * Live phone state: what the pure reducer (`reduce.ts`) computes from a phone's events. The store persists
 * it, the API and dashboard show it, forwarding publishes it. No I/O and no clocks here: time comes in with
 * each event (`receivedAt`) or as an argument.
 */

/** One stored event, as the reducer sees it. */
export interface PhoneEvent {
  /** Store id: increases with arrival order. */
  readonly id: number;
  /** Milliseconds since the epoch, when the receiver got it. */
  readonly receivedAt: number;
  /** 12 lowercase hex digits. */
  readonly mac: string;
  /** Incident slug from the catalog. */
  readonly incident: string;
  /** Canonical variables ('' when the phone sent an empty value or a literal placeholder). */
  readonly vars: Readonly<Record<string, string>>;
  readonly sourceIp: string;
}

export type Presence = 'offline' | 'unregistered' | 'idle' | 'ringing' | 'dialing' | 'talking' | 'held' | 'dnd';

export type CallOutcome = 'ongoing' | 'answered' | 'missed' | 'rejected' | 'forwarded' | 'transferred' | 'failed';

export type CallPhase = 'dialing' | 'ringing' | 'talking' | 'held' | 'ended';

export interface CallState {
  /** The phone's `$call_id`, or a synthetic id when the phone sent none. */
  readonly callId: string;
  readonly direction: 'incoming' | 'outgoing' | 'unknown';
  /** `$remote` (SIP URI or number). */
  readonly remote: string;
  readonly displayRemote: string;
  /** `$local`. */
  readonly local: string;
  readonly phase: CallPhase;
  readonly outcome: CallOutcome;
  readonly muted: boolean;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly answeredAt: number | null;
  readonly endedAt: number | null;
  /** Id of the last event that changed this call. */
  readonly lastEventId: number;
  /** Epoch ms of the last change to this call (what `expireCalls` measures an open call's silence from). */
  readonly updatedAt?: number;
  /** Where a transfer of this call stands: decides the outcome when the call ends (see reduce.ts). */
  readonly transfer?: CallTransfer;
  /**
   * What ended the call: the incident slug (`call_terminated`, `missed_call`, …), or `timeout` when
   * `expireCalls` closed it. Absent while the call is ongoing.
   */
  readonly endedBy?: string;
}

/** `requested`: transfer_call seen; `blind` / `attended`: the kind is known; then `finished` or `failed`. */
export type CallTransfer = 'requested' | 'blind' | 'attended' | 'finished' | 'failed';

export interface AccountState {
  /** `user@host` from `$active_url` / `$active_user` + `$active_host`. */
  readonly id: string;
  readonly registered: boolean | null;
  /** `true` when the last registration attempt failed. */
  readonly failed: boolean;
  readonly since: number;
  /** The account's display name (`$display_local` of its calls), when the phone sent one. */
  readonly displayName?: string;
}

export interface PhoneState {
  readonly mac: string;
  readonly ip: string;
  readonly model: string;
  readonly firmware: string;
  readonly accounts: readonly AccountState[];
  /** Any account registered (null: never heard). */
  readonly registered: boolean | null;
  readonly dnd: boolean;
  readonly forward: { readonly always: boolean; readonly busy: boolean; readonly no_answer: boolean };
  readonly muted: boolean;
  readonly offHook: boolean;
  /** Phone-wide busy flag (idle_to_busy / busy_to_idle, or derived from calls). */
  readonly busy: boolean;
  /** Calls not yet ended. */
  readonly calls: readonly CallState[];
  readonly presence: Presence;
  /** Epoch ms of the first and the last event. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Id of the last event applied (events with a lower or equal id are duplicates or late, see reduce.ts). */
  readonly lastEventId: number;
  /**
   * Calls ended by the last few seconds of events, so a late or repeated event about them (phones never
   * retry, but requests arrive twice and out of order) is recognised instead of opening a new call.
   */
  readonly recentlyEnded?: readonly CallState[];
  /** The last event applied, by content, so the same request arriving again at once is ignored. */
  readonly lastFingerprint?: { readonly fingerprint: string; readonly at: number };
}

/** What applying one event did: the new state and each call it created, changed or ended. */
export interface Reduction {
  readonly state: PhoneState;
  readonly changedCalls: readonly CallState[];
}
