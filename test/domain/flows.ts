/**
 * The incident flows of docs/vendors.md ("Incident order in common flows"), with the presence the board must show
 * after each step and the call records they must leave.
 */
import type { CallOutcome, CallState, Presence } from '../../src/domain/types.ts';
import { ACCOUNT, callVars, type Step, type Vars } from './events.ts';

export interface ExpectedCall {
  readonly callId: string;
  readonly direction: CallState['direction'];
  readonly outcome: CallOutcome;
  /** The incident whose time is the answer time, or null when never answered. */
  readonly answeredBy: string | null;
  /** The incident whose time is the end time (its first occurrence for this call). */
  readonly endedBy: string;
  /** The call id that incident carries, when it is another call's (only the first call is reported). */
  readonly endReportedAs?: string;
}

export interface Flow {
  readonly name: string;
  /** Steps before the flow proper (an established call a transfer starts from), presence unchecked. */
  readonly before?: readonly Step[];
  readonly steps: readonly (readonly [incident: string, vars: Vars, presence: Presence])[];
  readonly calls: readonly ExpectedCall[];
  /** Whether the flow is about calls (so reordering adjacent events must not change its outcome). */
  readonly call: boolean;
}

const A = callVars('1');
const B = callVars('2', 'sip:300@pbx.example.com', 'Carol');
const NONE: Vars = {};

/** An answered outgoing call on the handset, to transfer from. */
const talkingWithAlice: readonly Step[] = [
  ['off_hook'],
  ['idle_to_busy'],
  ['outgoing_call', A],
  ['call_established', A],
];

export const FLOWS: readonly Flow[] = [
  {
    name: 'boot: setup_completed, ip_change, registered',
    call: false,
    steps: [
      ['setup_completed', NONE, 'idle'],
      ['ip_change', { ip: '10.0.0.22' }, 'idle'],
      ['registered', { ...ACCOUNT, ip: '10.0.0.22' }, 'idle'],
    ],
    calls: [],
  },
  {
    name: 'boot with a failing registration: setup_completed, ip_change, register_failed',
    call: false,
    steps: [
      ['setup_completed', NONE, 'idle'],
      ['ip_change', NONE, 'idle'],
      ['register_failed', ACCOUNT, 'unregistered'],
    ],
    calls: [],
  },
  {
    name: 'outgoing, answered, handset',
    call: true,
    steps: [
      ['off_hook', NONE, 'idle'],
      ['idle_to_busy', NONE, 'dialing'],
      ['outgoing_call', A, 'dialing'],
      ['call_established', A, 'talking'],
      ['on_hook', NONE, 'talking'],
      ['call_terminated', A, 'idle'],
      ['busy_to_idle', NONE, 'idle'],
    ],
    calls: [{ callId: '1', direction: 'outgoing', outcome: 'answered', answeredBy: 'call_established', endedBy: 'call_terminated' }],
  },
  {
    name: 'outgoing, answered, the far end hangs up first',
    call: true,
    steps: [
      ['off_hook', NONE, 'idle'],
      ['idle_to_busy', NONE, 'dialing'],
      ['outgoing_call', A, 'dialing'],
      ['call_established', A, 'talking'],
      ['call_terminated', A, 'idle'],
      ['busy_to_idle', NONE, 'idle'],
      ['on_hook', NONE, 'idle'],
    ],
    calls: [{ callId: '1', direction: 'outgoing', outcome: 'answered', answeredBy: 'call_established', endedBy: 'call_terminated' }],
  },
  {
    name: 'outgoing, never answered',
    call: true,
    steps: [
      ['off_hook', NONE, 'idle'],
      ['idle_to_busy', NONE, 'dialing'],
      ['outgoing_call', A, 'dialing'],
      ['on_hook', NONE, 'dialing'],
      ['call_terminated', A, 'idle'],
      ['busy_to_idle', NONE, 'idle'],
    ],
    calls: [{ callId: '1', direction: 'outgoing', outcome: 'failed', answeredBy: null, endedBy: 'call_terminated' }],
  },
  {
    name: 'incoming, answered by handset',
    call: true,
    steps: [
      ['incoming_call', A, 'ringing'],
      ['off_hook', NONE, 'ringing'],
      ['answer_new_incoming_call', A, 'talking'],
      ['idle_to_busy', NONE, 'talking'],
      ['call_established', A, 'talking'],
      ['call_terminated', A, 'idle'],
      ['busy_to_idle', NONE, 'idle'],
    ],
    calls: [
      { callId: '1', direction: 'incoming', outcome: 'answered', answeredBy: 'answer_new_incoming_call', endedBy: 'call_terminated' },
    ],
  },
  {
    name: 'incoming, answered on speaker (no off_hook)',
    call: true,
    steps: [
      ['incoming_call', A, 'ringing'],
      ['answer_new_incoming_call', A, 'talking'],
      ['idle_to_busy', NONE, 'talking'],
      ['call_established', A, 'talking'],
      ['call_terminated', A, 'idle'],
      ['busy_to_idle', NONE, 'idle'],
    ],
    calls: [
      { callId: '1', direction: 'incoming', outcome: 'answered', answeredBy: 'answer_new_incoming_call', endedBy: 'call_terminated' },
    ],
  },
  {
    name: 'incoming, missed',
    call: true,
    steps: [
      ['incoming_call', A, 'ringing'],
      ['missed_call', A, 'idle'],
    ],
    calls: [{ callId: '1', direction: 'incoming', outcome: 'missed', answeredBy: null, endedBy: 'missed_call' }],
  },
  {
    name: 'incoming, rejected',
    call: true,
    steps: [
      ['incoming_call', A, 'ringing'],
      ['reject_incoming_call', A, 'idle'],
    ],
    calls: [{ callId: '1', direction: 'incoming', outcome: 'rejected', answeredBy: null, endedBy: 'reject_incoming_call' }],
  },
  {
    name: 'incoming, forwarded by the phone',
    call: true,
    steps: [['forward_incoming_call', A, 'idle']],
    calls: [{ callId: '1', direction: 'incoming', outcome: 'forwarded', answeredBy: null, endedBy: 'forward_incoming_call' }],
  },
  {
    name: 'blind transfer, finished',
    call: true,
    before: talkingWithAlice,
    steps: [
      ['transfer_call', A, 'talking'],
      ['blind_transfer_call', A, 'talking'],
      ['transfer_finished', A, 'idle'],
      ['call_terminated', A, 'idle'],
      ['busy_to_idle', NONE, 'idle'],
    ],
    calls: [{ callId: '1', direction: 'outgoing', outcome: 'transferred', answeredBy: 'call_established', endedBy: 'transfer_finished' }],
  },
  {
    name: 'blind transfer, failed',
    call: true,
    before: talkingWithAlice,
    steps: [
      ['transfer_call', A, 'talking'],
      ['blind_transfer_call', A, 'talking'],
      ['transfer_failed', A, 'talking'],
      ['call_terminated', A, 'idle'],
      ['busy_to_idle', NONE, 'idle'],
    ],
    calls: [{ callId: '1', direction: 'outgoing', outcome: 'failed', answeredBy: 'call_established', endedBy: 'call_terminated' }],
  },
  {
    name: 'attended transfer, finished',
    call: true,
    before: talkingWithAlice,
    steps: [
      ['hold', A, 'held'],
      ['outgoing_call', B, 'dialing'],
      ['call_established', B, 'talking'],
      ['transfer_call', A, 'talking'],
      ['attended_transfer_call', A, 'talking'],
      ['transfer_finished', A, 'idle'],
      ['call_terminated', B, 'idle'],
      ['call_terminated', A, 'idle'],
    ],
    calls: [
      { callId: '1', direction: 'outgoing', outcome: 'transferred', answeredBy: 'call_established', endedBy: 'transfer_finished' },
      {
        callId: '2',
        direction: 'outgoing',
        outcome: 'transferred',
        answeredBy: 'call_established',
        endedBy: 'transfer_finished',
        endReportedAs: '1',
      },
    ],
  },
  {
    name: 'attended transfer, failed',
    call: true,
    before: talkingWithAlice,
    steps: [
      ['hold', A, 'held'],
      ['outgoing_call', B, 'dialing'],
      ['call_established', B, 'talking'],
      ['transfer_call', A, 'talking'],
      ['attended_transfer_call', A, 'talking'],
      ['transfer_failed', A, 'talking'],
      ['call_terminated', B, 'held'],
      ['call_terminated', A, 'idle'],
    ],
    calls: [
      { callId: '1', direction: 'outgoing', outcome: 'failed', answeredBy: 'call_established', endedBy: 'call_terminated' },
      { callId: '2', direction: 'outgoing', outcome: 'failed', answeredBy: 'call_established', endedBy: 'call_terminated' },
    ],
  },
  {
    name: 'DND and forward switches fire only their own incident',
    call: false,
    steps: [
      ['registered', ACCOUNT, 'idle'],
      ['dnd_on', NONE, 'dnd'],
      ['always_fwd_on', NONE, 'dnd'],
      ['busy_fwd_on', NONE, 'dnd'],
      ['no_answer_fwd_on', NONE, 'dnd'],
      ['dnd_off', NONE, 'idle'],
      ['always_fwd_off', NONE, 'idle'],
    ],
    calls: [],
  },
];

/** The flow's whole event list: the steps before it, then its own. */
export function stepsOf(flow: Flow): Step[] {
  return [...(flow.before ?? []), ...flow.steps.map(([incident, vars]) => [incident, vars] as const)];
}
