/**
 * The `events` row as both stores read it back. SQLite hands the JSON columns over as text, PostgreSQL's
 * `json` columns arrive parsed: the one difference, passed in as `json`.
 */
import type { StoredEvent } from './types.ts';

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
