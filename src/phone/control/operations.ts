/**
 * What a remote-control operation (a key press or a control request) does to the call engine: the same
 * actions a user's key press is, chosen from the phone's current state. Pure: the state and the digits typed
 * so far in, the action (if any) and the digits typed afterwards out.
 */
import type { PhoneOperation } from '../../core/control/index.ts';
import type { Action, HandsetState } from '../engine/index.ts';

export interface OperationStep {
  /** The engine action to run; undefined when the operation only changes the keypad or does nothing. */
  action?: Action;
  /** Digits typed and not dialled yet, after this operation. */
  typed: string;
}

const MAX_TYPED = 64;

export function actionForOperation(op: PhoneOperation, state: HandsetState, typed: string): OperationStep | { error: string } {
  const talking = state.calls.find((c) => c.phase === 'talking');
  const held = state.calls.some((c) => c.phase === 'held');
  const ringing = state.calls.some((c) => c.phase === 'ringing');
  const inCall = state.calls.some((c) => c.phase !== 'ringing');
  switch (op.op) {
    case 'dial':
      return { action: { do: 'dial', number: op.number }, typed: '' };
    case 'digit':
      return typed.length >= MAX_TYPED ? { error: 'too many digits typed' } : { typed: typed + op.digit };
    case 'ok':
      if (ringing) return { action: { do: 'answer' }, typed };
      if (typed) return { action: { do: 'dial', number: typed }, typed: '' };
      return { error: 'OK with no ringing call and no number typed' };
    case 'answer':
      return { action: { do: 'answer' }, typed };
    case 'hangup':
      // The end-call key rejects a call that only rings; otherwise it ends the current call.
      if (!inCall && ringing) return { action: { do: 'reject' }, typed: '' };
      return { action: { do: 'hangup' }, typed: '' };
    case 'hold':
      return { action: { do: 'hold' }, typed };
    case 'unhold':
      return { action: { do: 'unhold' }, typed };
    case 'hold_toggle':
      if (talking) return { action: { do: 'hold' }, typed };
      if (held) return { action: { do: 'unhold' }, typed };
      return { error: 'no call to hold or resume' };
    case 'dnd':
      return { action: { do: 'dnd', on: op.on }, typed };
    case 'dnd_toggle':
      return { action: { do: 'dnd', on: !state.dnd }, typed };
    case 'mute_toggle':
      return { action: { do: talking?.muted ? 'unmute' : 'mute' }, typed };
    case 'reboot':
      return { action: { do: 'boot' }, typed: '' };
    case 'none':
      return { typed };
  }
}
