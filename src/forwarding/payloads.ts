/**
 * What forwarding sends: the webhook body (`{type, timestamp, data}`, Standard Webhooks' shape) and the
 * receiver's conclusions. The JSON shapes of events, phones and calls are the REST API's; the composition
 * root passes them in (`JsonShapes`) so forwarding and the API always agree.
 */
import type { CallState, PhoneState } from '../domain/types.ts';
import type { StoredEvent } from '../store/types.ts';

export interface JsonShapes {
  event(e: StoredEvent): object;
  /** The phone as `GET /api/v1/phones/<mac>` shows it, with presence as of `now`. */
  phone(p: PhoneState, now: number): object;
  call(mac: string, c: CallState): object;
}

export interface WebhookBody {
  type: string;
  timestamp: string;
  data: unknown;
}

/** The body for an incident: the event and the phone's state right after it. */
export function incidentBody(event: StoredEvent, phone: PhoneState | undefined, shapes: JsonShapes): string {
  const body: WebhookBody = {
    type: `phone.${event.incident}`,
    timestamp: new Date(event.receivedAt).toISOString(),
    data: { event: shapes.event(event), phone: phone ? shapes.phone(phone, event.receivedAt) : null },
  };
  return JSON.stringify(body);
}

export function conclusionBody(type: string, at: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data } satisfies WebhookBody);
}

export { webhookId } from '../store/delivery-rows.ts';

/** A delivery nobody asked for: the dashboard's "send a test event". */
export function testBody(destination: string, at: number): string {
  return conclusionBody('actionurl.test', at, { destination, message: 'a test event from the actionurl receiver' });
}
