/**
 * The call engine's data: what a desk phone knows about itself, its accounts and its calls, and the actions
 * of the scenario vocabulary (what the user and the network did). The engine decides the incidents.
 */

export interface Device {
  /** 12 lowercase hex digits, as firmware puts it into `$mac`. */
  readonly mac: string;
  readonly ip: string;
  readonly model: string;
  readonly firmware: string;
  readonly hardwareVersion: string;
}

export interface AccountIdentity {
  /** SIP user name (often the extension number). */
  readonly user: string;
  /** Registrar / SIP server address. */
  readonly host: string;
  /** Label shown as the caller's name; `$display_local` falls back to `user` when empty. */
  readonly displayName: string;
}

export interface Account extends AccountIdentity {
  readonly registered: boolean;
}

export type ForwardKind = 'always' | 'busy' | 'no_answer';
export const FORWARD_KINDS: readonly ForwardKind[] = ['always', 'busy', 'no_answer'];

export interface ForwardSetting {
  readonly on: boolean;
  readonly target: string;
}

/**
 * `ringing`: incoming, not answered. `dialing`: outgoing, far end not answered yet. `talking` / `held`:
 * established. Only `ringing` leaves the phone idle.
 */
export type CallPhase = 'ringing' | 'dialing' | 'talking' | 'held';

export interface Call {
  /** `$call_id`: an opaque integer, unique on this phone, stable for the call's life. */
  readonly id: number;
  readonly direction: 'incoming' | 'outgoing';
  /** Index into `accounts`. */
  readonly account: number;
  readonly remoteUser: string;
  readonly remoteHost: string;
  /** The caller's display name as signalled; '' when none. */
  readonly remoteName: string;
  /** The number that was called: dialled digits (outgoing) or our own user (incoming). */
  readonly calledNumber: string;
  readonly phase: CallPhase;
  readonly muted: boolean;
  /** Engine time (ms) the call started ringing or dialling. */
  readonly startedAt: number;
  /** Engine time (ms) it was established, or null. */
  readonly answeredAt: number | null;
}

export interface TransferInProgress {
  readonly mode: 'blind' | 'attended';
  /** The call being transferred away. */
  readonly callId: number;
  /** Attended: the consultation leg to the target. */
  readonly consultId?: number;
  /** True once the user pressed transfer to hand over (blind: at once; attended: the second press). */
  readonly requested: boolean;
}

/**
 * What the virtual phone itself knows (registration, lines, calls, settings toggles): the engine's state.
 * Not the receiver's view of a phone, which is `PhoneState` in src/domain.
 */
export interface HandsetState {
  readonly booted: boolean;
  readonly device: Device;
  readonly accounts: readonly Account[];
  readonly dnd: boolean;
  readonly forward: Readonly<Record<ForwardKind, ForwardSetting>>;
  /** How long an unanswered call rings before no-answer forward takes it (firmware "after ring time"). */
  readonly noAnswerMs: number;
  readonly handset: 'on' | 'off';
  /** Handset lifted with no call: the dial-tone screen, which already counts as busy. */
  readonly predial: boolean;
  /** Phone-wide idle/busy, as reported by idle_to_busy / busy_to_idle. */
  readonly busy: boolean;
  /** Oldest first. The first one is the call firmware reports in call variables. */
  readonly calls: readonly Call[];
  readonly nextCallId: number;
  readonly transfer: TransferInProgress | null;
}

/** The scenario vocabulary, less `wait` (the runner's). */
export type Action =
  | { do: 'boot' }
  | { do: 'register' }
  | { do: 'register_fail' }
  | { do: 'unregister' }
  | { do: 'offhook' }
  | { do: 'onhook' }
  | { do: 'dial'; number: string }
  | { do: 'remote_answer' }
  | { do: 'remote_busy' }
  | { do: 'incoming'; from: string; name?: string }
  | { do: 'remote_cancel' }
  | { do: 'answer' }
  | { do: 'reject' }
  | { do: 'hangup' }
  | { do: 'remote_hangup' }
  | { do: 'hold' }
  | { do: 'unhold' }
  | { do: 'mute' }
  | { do: 'unmute' }
  | { do: 'dnd'; on: boolean }
  | { do: 'forward'; kind: ForwardKind; on: boolean; target?: string }
  | { do: 'transfer'; mode: 'blind' | 'attended'; target?: string }
  | { do: 'transfer_result'; ok: boolean }
  | { do: 'ip'; address: string };

export type ActionName = Action['do'];

/** One incident the phone fires: the slug and the variables it fills (canonical names). */
export interface FiredIncident {
  readonly slug: string;
  readonly vars: Readonly<Record<string, string>>;
}

export type StepResult = { state: HandsetState; incidents: FiredIncident[] } | { error: string };
