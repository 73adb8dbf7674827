/** Building phone events for the reducer tests: one phone, ids and times increasing like the store's. */
import type { PhoneEvent } from '../../src/domain/types.ts';

export const MAC = '001565aabbcc';
export const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
export const ACCOUNT = { active_url: 'sip:100@pbx.example.com', active_user: '100', active_host: 'pbx.example.com' };
export const DEVICE = { mac: MAC, ip: '10.0.0.21', model: 'T46U', firmware: '108.86.0.20' };

export type Vars = Record<string, string>;
/** One step: an incident and its variables (device and account variables are added). */
export type Step = readonly [incident: string, vars?: Vars];

/** Variables of a call incident, as a Yealink fills them. */
export function callVars(callId: string, remote = 'sip:200@pbx.example.com', displayRemote = 'Alice'): Vars {
  return { call_id: callId, remote, display_remote: displayRemote, local: 'sip:100@pbx.example.com' };
}

/** Events one second apart (a person's pace), starting at `start`, ids from `firstId`. */
export function eventsOf(steps: readonly Step[], start = T0, firstId = 1, gapMs = 1_000): PhoneEvent[] {
  return steps.map(([incident, vars = {}], i) => ({
    id: firstId + i,
    receivedAt: start + i * gapMs,
    mac: MAC,
    incident,
    vars: { ...DEVICE, ...ACCOUNT, ...vars },
    sourceIp: '10.0.0.21',
  }));
}
