/**
 * The JSON shapes of the REST API and the event stream (see docs/api.md). Times are ISO 8601 strings,
 * names are snake_case, MACs 12 lowercase hex digits. The dashboard renders the same shapes.
 */
import { presenceAt } from '../../domain/reduce.ts';
import { numberOf } from '../../domain/number.ts';
import type { CallState, PhoneState } from '../../domain/types.ts';
import type { InventoryEntry, StoredEvent, StoredRejected } from '../../store/types.ts';
import { bytesToText } from '../../http/request.ts';

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export interface EventJson {
  id: number;
  received_at: string;
  mac: string;
  incident: string;
  vars: Record<string, string>;
  /** Parameters that are not variables, by the name the phone sent. */
  extra: Record<string, string>;
  source_ip: string;
  /** The request target as received (token values blanked). */
  raw: string;
}

export function eventJson(e: StoredEvent): EventJson {
  return {
    id: e.id,
    received_at: iso(e.receivedAt)!,
    mac: e.mac,
    incident: e.incident,
    vars: e.vars,
    extra: e.extra,
    source_ip: e.sourceIp,
    raw: bytesToText(e.rawTarget),
  };
}

export interface CallJson {
  mac: string;
  call_id: string;
  direction: CallState['direction'];
  /** `$remote` as the phone sent it (a SIP URI, often). */
  remote: string;
  /** The other party's number taken from `remote` (`2001` of `sip:2001@pbx`), '' when it holds none. */
  number: string;
  display_remote: string;
  local: string;
  phase: CallState['phase'];
  outcome: CallState['outcome'];
  muted: boolean;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  /** Seconds from start to answer (or to the end, unanswered). */
  ring_seconds: number | null;
  /** Seconds from answer to end. */
  talk_seconds: number | null;
  /**
   * What ended it: the incident slug, `timeout` (no event for too long), or `call_limit` (the phone opened
   * more calls than any phone has at once; the oldest unanswered one was closed).
   */
  ended_by: string | null;
}

export function callJson(mac: string, c: CallState): CallJson {
  const ringEnd = c.answeredAt ?? c.endedAt;
  return {
    mac,
    call_id: c.callId,
    direction: c.direction,
    remote: c.remote,
    number: numberOf(c.remote),
    display_remote: c.displayRemote,
    local: c.local,
    phase: c.phase,
    outcome: c.outcome,
    muted: c.muted,
    started_at: iso(c.startedAt)!,
    answered_at: iso(c.answeredAt),
    ended_at: iso(c.endedAt),
    ring_seconds: ringEnd === null ? null : (ringEnd - c.startedAt) / 1000,
    talk_seconds: c.answeredAt !== null && c.endedAt !== null ? (c.endedAt - c.answeredAt) / 1000 : null,
    ended_by: c.endedBy ?? null,
  };
}

/** A phone's inventory fields ('' and [] when the administrator gave none). */
export function inventoryJson(entry: InventoryEntry | undefined) {
  return { name: entry?.name ?? '', location: entry?.location ?? '', groups: entry ? [...entry.groups] : [] };
}

export function phoneJson(p: PhoneState, now: number, offlineAfterMs: number, entry?: InventoryEntry) {
  return {
    mac: p.mac,
    ...inventoryJson(entry),
    ip: p.ip,
    model: p.model,
    firmware: p.firmware,
    presence: presenceAt(p, now, offlineAfterMs),
    registered: p.registered,
    accounts: p.accounts.map((a) => ({
      id: a.id,
      registered: a.registered,
      failed: a.failed,
      since: iso(a.since),
      display_name: a.displayName ?? '',
    })),
    dnd: p.dnd,
    forward: { always: p.forward.always, busy: p.forward.busy, no_answer: p.forward.no_answer },
    muted: p.muted,
    off_hook: p.offHook,
    busy: p.busy,
    calls: p.calls.map((c) => callJson(p.mac, c)),
    first_seen: iso(p.firstSeen),
    last_seen: iso(p.lastSeen),
    last_event_id: p.lastEventId,
  };
}

export type PhoneJson = ReturnType<typeof phoneJson>;

/**
 * A phone in the phones list: everything the board shows, with its first open call (the one the phone reports
 * on) and how many are open, instead of every call. The calls are at /api/v1/phones/<mac> and /api/v1/calls.
 */
export function phoneSummaryJson(p: PhoneState, now: number, offlineAfterMs: number, entry?: InventoryEntry) {
  const { calls: _calls, ...rest } = phoneJson({ ...p, calls: [] }, now, offlineAfterMs, entry);
  return {
    ...rest,
    open_calls: p.calls.length,
    call: p.calls.length > 0 ? callJson(p.mac, p.calls[0]) : null,
  };
}

export function rejectedJson(r: StoredRejected) {
  return {
    id: r.id,
    received_at: iso(r.receivedAt),
    source_ip: r.sourceIp,
    method: r.method,
    status: r.status,
    reason: r.reason,
    raw: bytesToText(r.rawTarget),
    count: r.count,
  };
}
