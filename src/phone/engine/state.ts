/** A phone's starting state: powered off, handset on hook, no calls, forwards and DND off. */
import type { AccountIdentity, Device, HandsetState } from './types.ts';

/** Firmware default "after ring time" for no-answer forward is two to three rings; 12 s is typical. */
export const DEFAULT_NO_ANSWER_MS = 12_000;

export interface InitialStateOptions {
  device: Device;
  accounts: readonly AccountIdentity[];
  noAnswerMs?: number;
  /** `$call_id` of the first call. Firmware counts from a small integer; any start keeps ids opaque. */
  firstCallId?: number;
}

export function initialState(opts: InitialStateOptions): HandsetState {
  if (opts.accounts.length === 0) throw new Error('a phone needs at least one SIP account');
  return {
    booted: false,
    device: opts.device,
    accounts: opts.accounts.map((a) => ({ ...a, registered: false })),
    dnd: false,
    forward: {
      always: { on: false, target: '' },
      busy: { on: false, target: '' },
      no_answer: { on: false, target: '' },
    },
    noAnswerMs: opts.noAnswerMs ?? DEFAULT_NO_ANSWER_MS,
    handset: 'on',
    predial: false,
    busy: false,
    calls: [],
    nextCallId: opts.firstCallId ?? 1,
    transfer: null,
  };
}
