/**
 * The bodies of incident deliveries, built at the first attempt from the event and the phone's state right
 * after it. The newest events are kept with their body, built once for every destination: normally a body
 * is sent within milliseconds of its commit, so the store is not read back for it; older ones (a destination
 * that was down) are read from the store.
 */
import type { PhoneState } from '../domain/types.ts';
import type { CallReads, EventReads, StoredDelivery, StoredEvent } from '../store/types.ts';
import { conclusionBody, incidentBody, incidentBodyParts, type IncidentParts, type JsonShapes } from './payloads.ts';

export interface DeliveryBodiesOptions {
  store: Pick<EventReads, 'eventsByIds'> & CallReads;
  phones: { get(mac: string): PhoneState | undefined };
  shapes: JsonShapes;
  /** Makes the call log include every event committed so far, so a call.ended can carry the call's id. */
  flushCalls(): Promise<void>;
}

/** How many event snapshots (the phone's state right after an event) are kept for building bodies. */
const SNAPSHOTS = 20_000;
/** How many of the newest events are kept with their body. */
const RECENT_BODIES = 5_000;

export class DeliveryBodies {
  private readonly snapshots = new Map<number, PhoneState>();
  private readonly recent = new Map<number, { event: StoredEvent; body?: string; parts?: IncidentParts }>();

  constructor(private readonly o: DeliveryBodiesOptions) {}

  /** A stored event and the phone's state right after it, for the bodies of its deliveries. */
  remember(event: StoredEvent, after: PhoneState): void {
    this.snapshots.set(event.id, after);
    if (this.snapshots.size > SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value!);
    this.recent.set(event.id, { event });
    if (this.recent.size > RECENT_BODIES) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Bodies for rows that have none yet: the event and the phone's state right after it. */
  async prepare(rows: StoredDelivery[]): Promise<void> {
    await this.addCallIds(rows);
    let need: StoredDelivery[] | undefined;
    for (const r of rows) {
      if (r.body !== null || r.eventId === null) continue;
      const cached = this.recent.get(r.eventId);
      if (!cached) (need ??= []).push(r);
      else if (cached.body !== undefined) r.body = cached.body;
      else {
        const built = incidentBodyParts(cached.event, this.snapshots.get(r.eventId) ?? this.o.phones.get(r.mac), this.o.shapes);
        r.body = cached.body = built.text;
        cached.parts = built.parts;
      }
    }
    if (!need) return;
    const events = new Map((await this.o.store.eventsByIds([...new Set(need.map((r) => r.eventId!))])).map((e) => [e.id, e]));
    for (const r of need) {
      const e = events.get(r.eventId!);
      if (!e) {
        r.body = conclusionBody(r.type, r.createdAt, { mac: r.mac, event_id: r.eventId, missing: 'the event was deleted (retention) before it was sent' });
        continue;
      }
      // Normally the state right after the event; after a restart long after the event, the phone's current state.
      r.body = incidentBody(e, this.snapshots.get(e.id) ?? this.o.phones.get(e.mac), this.o.shapes);
    }
  }

  /** What `row`'s body was built from, while it is among the newest events' (the MQTT message reuses it). */
  partsOf(row: StoredDelivery): IncidentParts | undefined {
    const cached = row.eventId === null ? undefined : this.recent.get(row.eventId);
    // Only for this very body: a call.ended's, or one kept in the store from an earlier run, is another.
    return cached?.parts !== undefined && cached.body === row.body ? cached.parts : undefined;
  }

  /** The body `row` sends: its own, or built again from its event (a delivered incident keeps none). */
  async bodyOf(row: StoredDelivery): Promise<string | null> {
    if (row.body !== null) return row.body;
    const copy = { ...row };
    await this.prepare([copy]);
    return copy.body;
  }

  /**
   * A call.ended is concluded before its call is in the call log, which numbers it: the `id` of
   * `GET /api/v1/calls` is added before the first attempt (then kept with the body, so every retry and
   * the MQTT message carry the same one).
   */
  private async addCallIds(rows: StoredDelivery[]): Promise<void> {
    const pending = rows.flatMap((r) => {
      if (r.type !== 'call.ended' || r.body === null) return [];
      const body = JSON.parse(r.body) as { data?: { id?: unknown; call_id?: string; started_at?: string } };
      return body.data && body.data.id === undefined ? [{ r, body, data: body.data }] : [];
    });
    if (pending.length === 0) return;
    await this.o.flushCalls();
    for (const { r, body, data } of pending) {
      const startedAt = Date.parse(data.started_at ?? '');
      if (!Number.isFinite(startedAt)) continue;
      const found = (await this.o.store.calls({ mac: r.mac, since: startedAt, until: startedAt + 1, limit: 50 })).find((c) => c.call.callId === data.call_id);
      // Not there (forgotten with its calls since): the call goes without an id rather than not at all.
      r.body = JSON.stringify({ ...body, data: { id: found?.id ?? null, ...data } });
    }
  }
}
