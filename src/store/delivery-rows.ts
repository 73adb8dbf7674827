/** The `deliveries` row (forwarding outbox) as both stores read it back. */
import type { DeliveryState, StoredDelivery } from './types.ts';

export const DELIVERY_COLUMNS =
  'id, destination, type, mac, event_id, created_at, state, attempts, next_at, last_error, last_status, last_attempt_at, delivered_at, body, dedupe_key';

export interface DeliveryRow {
  id: number;
  destination: string;
  type: string;
  mac: string;
  event_id: number | null;
  created_at: number;
  state: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
  last_status: number | null;
  last_attempt_at: number | null;
  delivered_at: number | null;
  body: string | null;
  dedupe_key: string | null;
}

export function deliveryFromRow(r: DeliveryRow): StoredDelivery {
  return {
    id: r.id,
    destination: r.destination,
    type: r.type,
    mac: r.mac,
    eventId: r.event_id,
    createdAt: r.created_at,
    state: r.state as DeliveryState,
    attempts: r.attempts,
    nextAt: r.next_at,
    lastError: r.last_error,
    lastStatus: r.last_status,
    lastAttemptAt: r.last_attempt_at,
    deliveredAt: r.delivered_at,
    body: r.body,
    dedupeKey: r.dedupe_key,
  };
}

/**
 * `webhook-id`: the same on every attempt of a delivery, different for every (event, destination). Made of
 * the delivery's row id and creation time, so a database started afresh (ids from 1 again) does not repeat
 * the ids a receiver has already seen.
 */
export function webhookId(delivery: { id: number; createdAt: number }): string {
  return `msg_${delivery.createdAt.toString(36)}_${delivery.id.toString(36)}`;
}

/**
 * Deliveries are split into shards by phone, so that several receivers on one PostgreSQL can share a
 * destination's work while each phone's deliveries stay with one receiver at a time (in commit order): a
 * receiver sends only the shards it holds a lease on. 32 spreads the work over a handful of receivers
 * evenly enough and keeps a renewal to one short statement. Changing it needs a migration (the shard is
 * stored with each row).
 */
export const DELIVERY_SHARDS = 32;

/** The shard of a phone's deliveries: FNV-1a of the MAC, modulo DELIVERY_SHARDS. */
export function deliveryShard(mac: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < mac.length; i++) {
    h ^= mac.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % DELIVERY_SHARDS;
}
