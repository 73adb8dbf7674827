/**
 * One ingest transaction on PostgreSQL, shared by every receiver on the database:
 *
 *   BEGIN
 *   pg_advisory_xact_lock(APPEND_LOCK)      -- one appender at a time, cluster-wide
 *   INSERT events … RETURNING id            -- ids drawn under the lock: id order is commit order
 *   SELECT phones … ; reduce ; UPSERT phones, calls   -- state derived in the database's order, in one place
 *   UPSERT ingest_origins (origin, seq)     -- which of this receiver's batches are in (see journal.ts)
 *   COMMIT                                  -- the lock goes after the rows are visible
 *
 * Holding one lock for the append is what makes the stream simple and exact: a reader that sees event N
 * sees every event before N, so "everything after id N" is a complete, resumable cursor on every receiver,
 * and it also serialises every phone's events (no lost update) without a lock per phone. The cost is that
 * appends of all receivers take turns; the group commit keeps each turn to one transaction per batch.
 */
import type pg from 'pg';
import { reduce } from '../domain/reduce.ts';
import type { CallState, PhoneState } from '../domain/types.ts';
import { accountOfCall } from './call-stats.ts';
import { deliveryShard } from './delivery-rows.ts';
import type { NewDelivery, NewEvent, NewRejected, StoredEvent } from './types.ts';

/** Advisory lock keys (pg_advisory_*): the append, the migrations, and jobs that run on one receiver at a time. */
export const LOCKS = { migrate: 7267431, append: 7267432, retention: 7267433, expire: 7267434 } as const;

/**
 * PostgreSQL text cannot hold a NUL character, and phones' values are hostile: a `%00` in a display name
 * would fail the whole batch. Text columns get U+FFFD instead; JSON columns are `json` (not `jsonb`), which
 * keeps `\u0000` escapes as sent.
 */
export function text(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/**
 * True when an error means "the database is not reachable right now" (refused, cut, shut down, restarting,
 * timed out) rather than "this batch is wrong": only then is a batch journalled instead of refused.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  // 08: connection exception; 57P01-57P05: shut down / crashed / cannot connect now; 53300: too many connections.
  if (code && (/^(08|57P)/.test(code) || code === '53300')) return true;
  if (code && /^E[A-Z]+$/.test(code)) return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code);
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout expired|Query read timeout|not queryable|Client was closed/i.test(message);
}

/**
 * PostgreSQL is away for a write: unreachable, or it did not answer in time (our read timeout, or its own
 * lock timeout 55P03 / statement cancel 57014 because something else holds the lock too long).
 */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return isConnectionError(err) || code === '55P03' || code === '57014';
}

/** Inserts events in the given order under the append lock; returns their ids in that order. */
export async function insertEvents(c: pg.ClientBase, e: readonly NewEvent[]): Promise<number[]> {
  const res = await c.query<{ id: number }>(
    `INSERT INTO events (received_at, mac, incident, call_id, vars, extra, raw_target, source_ip)
     SELECT t.received_at, t.mac, t.incident, t.call_id, t.vars, t.extra, t.raw_target, t.source_ip
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::json[], $6::json[], $7::bytea[], $8::text[])
       WITH ORDINALITY AS t(received_at, mac, incident, call_id, vars, extra, raw_target, source_ip, n)
     ORDER BY t.n
     RETURNING id`,
    [
      e.map((x) => x.receivedAt),
      e.map((x) => x.mac),
      e.map((x) => x.incident),
      e.map((x) => (x.vars.call_id ? text(x.vars.call_id) : null)),
      e.map((x) => JSON.stringify(x.vars)),
      e.map((x) => JSON.stringify(x.extra)),
      e.map((x) => x.rawTarget),
      e.map((x) => text(x.sourceIp)),
    ],
  );
  // Ids are drawn in insertion order, which ORDER BY n made the input order.
  return res.rows.map((r) => r.id).sort((a, b) => a - b);
}

export async function insertRejected(c: pg.ClientBase, rows: readonly NewRejected[]): Promise<void> {
  if (!rows.length) return;
  await c.query(
    `INSERT INTO rejected (received_at, source_ip, method, status, reason, raw_target, count)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::bytea[], $7::int[])`,
    [
      rows.map((r) => r.receivedAt),
      rows.map((r) => text(r.sourceIp)),
      rows.map((r) => text(r.method)),
      rows.map((r) => r.status),
      rows.map((r) => text(r.reason)),
      rows.map((r) => r.rawTarget),
      rows.map((r) => r.count),
    ],
  );
}

/**
 * Applies stored events (in id order) to the phones' stored states with the pure reducer: each changed
 * phone and call once, in its final state. Runs inside the ingest transaction, under the append lock.
 */
export function reduceEvents(
  prior: readonly PhoneState[],
  events: readonly StoredEvent[],
  /** Told of each event's effect, in order (the exact states before and after it, under the lock). */
  each?: (before: PhoneState | undefined, after: PhoneState, changedCalls: readonly CallState[], event: StoredEvent) => void,
): { phones: PhoneState[]; calls: { mac: string; call: CallState }[] } {
  const states = new Map(prior.map((p) => [p.mac, p]));
  const calls = new Map<string, { mac: string; call: CallState }>();
  const changed = new Set<string>();
  for (const e of events) {
    const before = states.get(e.mac);
    const { state, changedCalls } = reduce(before, e);
    each?.(before, state, changedCalls, e);
    states.set(e.mac, state);
    changed.add(e.mac);
    for (const call of changedCalls) calls.set(`${e.mac}\u0000${call.callId}\u0000${call.startedAt}`, { mac: e.mac, call });
  }
  return { phones: [...changed].map((m) => states.get(m)!), calls: [...calls.values()] };
}

/** Phone states and calls in one statement (one round trip while the append lock is held). */
export async function upsertState(c: pg.ClientBase, phones: readonly PhoneState[], calls: readonly { mac: string; call: CallState }[]): Promise<void> {
  if (!phones.length) return upsertCalls(c, calls);
  if (!calls.length) return upsertPhones(c, phones);
  const p = phoneColumns(phones);
  await c.query(`WITH phones_written AS (${PHONES_SQL} RETURNING 1) ${callsSql(p.length + 1)}`, [...p, ...callColumns(calls)]);
}

const PHONES_SQL = `INSERT INTO phones (mac, ip, model, firmware, accounts, registered, dnd, presence, state, first_seen, last_seen, last_event_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::json[], $6::boolean[], $7::boolean[], $8::text[],
       $9::json[], $10::bigint[], $11::bigint[], $12::bigint[])
     ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, model = excluded.model, firmware = excluded.firmware,
       accounts = excluded.accounts, registered = excluded.registered, dnd = excluded.dnd, presence = excluded.presence,
       state = excluded.state, last_seen = excluded.last_seen, last_event_id = excluded.last_event_id`;

function phoneColumns(p: readonly PhoneState[]): unknown[] {
  return [
    p.map((x) => x.mac),
    p.map((x) => text(x.ip)),
    p.map((x) => text(x.model)),
    p.map((x) => text(x.firmware)),
    p.map((x) => JSON.stringify(x.accounts)),
    p.map((x) => x.registered),
    p.map((x) => x.dnd),
    p.map((x) => x.presence),
    p.map((x) => JSON.stringify(x)),
    p.map((x) => x.firstSeen),
    p.map((x) => x.lastSeen),
    p.map((x) => x.lastEventId),
  ];
}

/** The calls upsert with parameters numbered from `n`. */
function callsSql(n: number): string {
  const types = ['text', 'text', 'bigint', 'text', 'text', 'text', 'text', 'bigint', 'bigint', 'text', 'bigint', 'bigint', 'json', 'bigint', 'text'];
  return `INSERT INTO calls (mac, call_id, started_at, direction, remote, display_remote, local, answered_at, ended_at, outcome,
       ring_ms, talk_ms, state, last_event_id, account)
     SELECT * FROM unnest(${types.map((t, i) => `$${n + i}::${t}[]`).join(', ')})
     ON CONFLICT (mac, call_id, started_at) DO UPDATE SET direction = excluded.direction, remote = excluded.remote,
       display_remote = excluded.display_remote, local = excluded.local, answered_at = excluded.answered_at,
       ended_at = excluded.ended_at, outcome = excluded.outcome, ring_ms = excluded.ring_ms, talk_ms = excluded.talk_ms,
       state = excluded.state, last_event_id = excluded.last_event_id, account = excluded.account`;
}

function callColumns(calls: readonly { mac: string; call: CallState }[]): unknown[] {
  const k = calls.map((x) => x.call);
  return [
    calls.map((x) => x.mac),
    k.map((x) => text(x.callId)),
    k.map((x) => x.startedAt),
    k.map((x) => x.direction),
    k.map((x) => text(x.remote)),
    k.map((x) => text(x.displayRemote)),
    k.map((x) => text(x.local)),
    k.map((x) => x.answeredAt),
    k.map((x) => x.endedAt),
    k.map((x) => x.outcome),
    k.map((x) => (x.answeredAt ?? x.endedAt ?? x.startedAt) - x.startedAt),
    k.map((x) => (x.answeredAt !== null && x.endedAt !== null ? x.endedAt - x.answeredAt : null)),
    k.map((x) => JSON.stringify(x)),
    k.map((x) => x.lastEventId),
    k.map((x) => text(accountOfCall(x.local))),
  ];
}

/** Writes phone states (replacing stored ones), in one statement. */
export async function upsertPhones(c: pg.ClientBase, phones: readonly PhoneState[]): Promise<void> {
  if (phones.length) await c.query(PHONES_SQL, phoneColumns(phones));
}

/** Writes calls (inserted, or updated in place: one call is one mac, call id and start), in one statement. */
export async function upsertCalls(c: pg.ClientBase, calls: readonly { mac: string; call: CallState }[]): Promise<void> {
  if (calls.length) await c.query(callsSql(1), callColumns(calls));
}

/**
 * Outbox rows, in the given order (ids are drawn in it, and each destination sends a phone's rows in id
 * order), in one statement. A row whose dedupe key its destination already has is left out, however often
 * it is derived (again after a crash, by another receiver, or when a journal is moved in).
 */
export async function insertDeliveries(c: pg.ClientBase, rows: readonly NewDelivery[]): Promise<void> {
  if (!rows.length) return;
  await c.query(
    `INSERT INTO deliveries (destination, type, mac, event_id, created_at, state, next_at, body, dedupe_key, shard)
     SELECT t.destination, t.type, t.mac, t.event_id, t.created_at, 'pending', t.created_at, t.body, t.dedupe_key, t.shard
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::smallint[])
       WITH ORDINALITY AS t(destination, type, mac, event_id, created_at, body, dedupe_key, shard, n)
     ORDER BY t.n
     ON CONFLICT DO NOTHING`,
    [
      rows.map((d) => d.destination),
      rows.map((d) => text(d.type)),
      rows.map((d) => d.mac),
      rows.map((d) => d.eventId),
      rows.map((d) => d.createdAt),
      rows.map((d) => (d.body === null ? null : text(d.body))),
      rows.map((d) => (d.dedupeKey === null ? null : text(d.dedupeKey))),
      // Which receiver sends it: the shard of its phone (leases, see pg-leases.ts).
      rows.map((d) => deliveryShard(d.mac)),
    ],
  );
}
