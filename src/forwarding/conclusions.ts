/**
 * What the receiver concludes from a phone's events, forwarded next to the raw incidents: `call.ended` (with
 * its outcome, ring and talk time, caller number and name), `phone.online` (first event, or the first after a
 * silence as long as the offline threshold), `phone.registration` (the phone's registered flag changed) and
 * `phone.offline` (silent for the threshold; found by a periodic sweep). Pure: the reducer's before and after
 * states in, conclusions out. Each has a key that is the same however often it is derived (replay after a
 * crash derives them again), so it is stored once.
 */
import type { CallState, PhoneState } from '../domain/types.ts';
import type { StoredEvent } from '../store/types.ts';
import type { ConclusionType } from './destinations.ts';
import type { JsonShapes } from './payloads.ts';

export interface Conclusion {
  type: ConclusionType;
  mac: string;
  /** Epoch ms it happened (the event's time; the clock's for a sweep or a call closed by silence). */
  at: number;
  eventId: number | null;
  data: Record<string, unknown>;
  /** Same on every derivation of the same conclusion. */
  key: string;
}

const callKey = (c: CallState) => `${c.callId}\u0000${c.startedAt}`;

/** Calls that ended by this change (not those that had ended before and were only touched again). */
function endedNow(before: PhoneState | undefined, changedCalls: readonly CallState[]): CallState[] {
  const endedBefore = new Set((before?.recentlyEnded ?? []).map(callKey));
  return changedCalls.filter((c) => c.endedAt !== null && !endedBefore.has(callKey(c)));
}

export function deriveConclusions(
  before: PhoneState | undefined,
  after: PhoneState,
  changedCalls: readonly CallState[],
  event: StoredEvent | undefined,
  offlineAfterMs: number,
  shapes: JsonShapes,
  now: number,
): Conclusion[] {
  const out: Conclusion[] = [];
  const mac = after.mac;
  const at = event?.receivedAt ?? now;
  const eventId = event?.id ?? null;
  if (event && (before === undefined || before.lastEventId === 0 || event.receivedAt - before.lastSeen >= offlineAfterMs)) {
    out.push({
      type: 'phone.online',
      mac,
      at,
      eventId,
      key: `phone.online:${event.id}`,
      data: { mac, ip: after.ip, model: after.model, firmware: after.firmware, silent_since: before ? new Date(before.lastSeen).toISOString() : null },
    });
  }
  if (event && after.registered !== null && (before?.registered ?? null) !== after.registered) {
    out.push({
      type: 'phone.registration',
      mac,
      at,
      eventId,
      key: `phone.registration:${event.id}`,
      data: { mac, registered: after.registered, accounts: after.accounts.map((a) => ({ id: a.id, registered: a.registered, failed: a.failed })) },
    });
  }
  for (const call of endedNow(before, changedCalls)) {
    out.push({
      type: 'call.ended',
      mac,
      at: call.endedAt ?? at,
      eventId,
      key: `call.ended:${call.callId}:${call.startedAt}`,
      data: { ...shapes.call(mac, call) },
    });
  }
  return out;
}

/**
 * Phones that went silent for `offlineAfterMs` since the last sweep: `announced` holds, per phone, the
 * lastSeen an offline was already concluded for (updated here).
 */
export function offlineConclusions(phones: readonly PhoneState[], now: number, offlineAfterMs: number, announced: Map<string, number>): Conclusion[] {
  const out: Conclusion[] = [];
  for (const p of phones) {
    if (now - p.lastSeen < offlineAfterMs || announced.get(p.mac) === p.lastSeen) continue;
    announced.set(p.mac, p.lastSeen);
    out.push({
      type: 'phone.offline',
      mac: p.mac,
      at: p.lastSeen + offlineAfterMs,
      eventId: null,
      key: `phone.offline:${p.lastSeen}`,
      data: { mac: p.mac, last_seen: new Date(p.lastSeen).toISOString() },
    });
  }
  return out;
}
