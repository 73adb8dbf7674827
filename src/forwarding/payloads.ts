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

/**
 * An incident's body as built, beside its text: the MQTT message is the event's JSON with two fields before
 * it, so it is made from these rather than by parsing the body again for every message.
 */
export interface IncidentParts {
  type: string;
  timestamp: string;
  /** The event's JSON, as `shapes.event` gave it… */
  event: object;
  /** …and as it is written in the body. */
  eventText: string;
}

/** The body for an incident: the event and the phone's state right after it; and the parts it is made of. */
export function incidentBodyParts(event: StoredEvent, phone: PhoneState | undefined, shapes: JsonShapes): { text: string; parts: IncidentParts } {
  const type = `phone.${event.incident}`;
  const timestamp = new Date(event.receivedAt).toISOString();
  const eventJson = shapes.event(event);
  const eventText = JSON.stringify(eventJson);
  // JSON.stringify of the whole WebhookBody, put together from its parts' texts (the same bytes).
  const phoneText = JSON.stringify(phone ? shapes.phone(phone, event.receivedAt) : null);
  const text = `{"type":${JSON.stringify(type)},"timestamp":${JSON.stringify(timestamp)},"data":{"event":${eventText},"phone":${phoneText}}}`;
  return { text, parts: { type, timestamp, event: eventJson, eventText } };
}

/** The body for an incident: the event and the phone's state right after it. */
export function incidentBody(event: StoredEvent, phone: PhoneState | undefined, shapes: JsonShapes): string {
  return incidentBodyParts(event, phone, shapes).text;
}

export function conclusionBody(type: string, at: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data } satisfies WebhookBody);
}

export { webhookId } from '../store/delivery-rows.ts';

/** A delivery nobody asked for: the dashboard's "send a test event". */
export function testBody(destination: string, at: number): string {
  return conclusionBody('actionurl.test', at, { destination, message: 'a test event from the actionurl receiver' });
}
