/**
 * Reading actions from JSON (scenario files, the control API, the panel's forms): the scenario vocabulary
 * with its arguments checked, so the engine only ever sees well-formed actions.
 */
import type { Action } from './types.ts';
import { FORWARD_KINDS } from './types.ts';

/** `wait {ms}` belongs to the scenario runner; everything else goes to the engine. */
export type ScenarioStep = Action | { do: 'wait'; ms: number };

type Spec = Record<string, 'string' | 'boolean' | 'number' | 'string?'>;

/** Each action's arguments and their types. */
export const ACTION_ARGUMENTS: Readonly<Record<ScenarioStep['do'], Spec>> = {
  boot: {},
  register: {},
  register_fail: {},
  unregister: {},
  offhook: {},
  onhook: {},
  dial: { number: 'string' },
  remote_answer: {},
  remote_busy: {},
  incoming: { from: 'string', name: 'string?' },
  remote_cancel: {},
  answer: {},
  reject: {},
  hangup: {},
  remote_hangup: {},
  hold: {},
  unhold: {},
  mute: {},
  unmute: {},
  dnd: { on: 'boolean' },
  forward: { kind: 'string', on: 'boolean', target: 'string?' },
  transfer: { mode: 'string', target: 'string?' },
  transfer_result: { ok: 'boolean' },
  ip: { address: 'string' },
  wait: { ms: 'number' },
};

export const ACTION_NAMES = Object.keys(ACTION_ARGUMENTS) as ScenarioStep['do'][];

/** A step object from JSON, checked; unknown fields are refused so a typo (`numbr`) does not pass silently. */
export function parseStep(input: unknown): ScenarioStep | { error: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { error: 'a step must be an object with "do"' };
  const obj = input as Record<string, unknown>;
  const name = obj.do;
  if (typeof name !== 'string') return { error: 'the step has no "do"' };
  if (!Object.hasOwn(ACTION_ARGUMENTS, name)) {
    return { error: `unknown action "${name}" (expected one of ${ACTION_NAMES.join(', ')})` };
  }
  const spec = ACTION_ARGUMENTS[name as ScenarioStep['do']];
  for (const key of Object.keys(obj)) {
    if (key !== 'do' && !Object.hasOwn(spec, key)) return { error: `${name}: unexpected field "${key}"` };
  }
  for (const [key, type] of Object.entries(spec)) {
    const value = obj[key];
    const optional = type.endsWith('?');
    if (value === undefined) {
      if (optional) continue;
      return { error: `${name}: "${key}" is required` };
    }
    const want = optional ? type.slice(0, -1) : type;
    if (typeof value !== want) return { error: `${name}: "${key}" must be a ${want}` };
  }
  if (name === 'wait' && !(Number.isFinite(obj.ms) && (obj.ms as number) >= 0)) {
    return { error: 'wait: "ms" must be a number of milliseconds, 0 or more' };
  }
  if (name === 'forward' && !FORWARD_KINDS.includes(obj.kind as never)) {
    return { error: `forward: "kind" must be one of ${FORWARD_KINDS.join(', ')}` };
  }
  if (name === 'transfer' && obj.mode !== 'blind' && obj.mode !== 'attended') {
    return { error: 'transfer: "mode" must be blind or attended' };
  }
  return obj as ScenarioStep;
}
