/**
 * The `events` (and `rejected`) rows as both stores read them back. SQLite hands the JSON columns over as text, PostgreSQL's
 * `json` columns arrive parsed: the one difference, passed in as `json`.
 */
import type { StoredEvent, StoredRejected } from './types.ts';

export const EVENT_COLUMNS = 'id, received_at, mac, incident, vars, extra, raw_target, source_ip';

export interface EventRow<Json> {
  id: number;
  received_at: number;
  mac: string;
  incident: string;
  vars: Json;
  extra: Json;
  raw_target: Buffer;
  source_ip: string;
}

export function eventFromRow<Json>(r: EventRow<Json>, json: (value: Json) => Record<string, string>): StoredEvent {
  return {
    id: r.id,
    receivedAt: r.received_at,
    mac: r.mac,
    incident: r.incident,
    vars: json(r.vars),
    extra: json(r.extra),
    rawTarget: r.raw_target,
    sourceIp: r.source_ip,
  };
}

export const REJECTED_COLUMNS = 'id, received_at, source_ip, method, status, reason, raw_target, count';

export interface RejectedRow {
  id: number;
  received_at: number;
  source_ip: string;
  method: string;
  status: number;
  reason: string;
  raw_target: Buffer;
  count: number;
}

export function rejectedFromRow(r: RejectedRow): StoredRejected {
  return {
    id: r.id,
    receivedAt: r.received_at,
    sourceIp: r.source_ip,
    method: r.method,
    status: r.status,
    reason: r.reason,
    rawTarget: r.raw_target,
    count: r.count,
  };
}
