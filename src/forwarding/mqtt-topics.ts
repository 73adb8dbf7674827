/**
 * The MQTT topic layout (prefix configurable, default `actionurl`):
 *
 *   <prefix>/bridge/availability     retained  `online`; the connection's last will is `offline`
 *   <prefix>/<mac>/state             retained  the phone as GET /api/v1/phones/<mac> shows it
 *   <prefix>/<mac>/availability      retained  `online` / `offline` from the phone's presence
 *   <prefix>/<mac>/event/<type>      not       each event: `{"event_type": …, …the event}`; <type> is the
 *                                              incident slug (incoming_call) or a conclusion (call.ended)
 *   <prefix>/<mac>/event             not       the same messages on one topic (Home Assistant's event entity)
 *
 * With MQTT commands on (mqtt-commands.ts): `<prefix>/<mac>/command/<command>` is subscribed, and each
 * command's progress is published, not retained, on `<prefix>/<mac>/command/result`.
 */
import type { IncidentParts } from './payloads.ts';

export const DEFAULT_MQTT_PREFIX = 'actionurl';
export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';

export const bridgeAvailabilityTopic = (prefix: string) => `${prefix}/bridge/availability`;
export const stateTopic = (prefix: string, mac: string) => `${prefix}/${mac}/state`;
export const availabilityTopic = (prefix: string, mac: string) => `${prefix}/${mac}/availability`;
export const eventsTopic = (prefix: string, mac: string) => `${prefix}/${mac}/event`;
export const testTopic = (prefix: string) => `${prefix}/bridge/test`;

/** The event topic for a forwarded type: `phone.incoming_call` → `…/event/incoming_call`; `call.ended` stays. */
export function eventTopic(prefix: string, mac: string, type: string): string {
  return `${eventsTopic(prefix, mac)}/${eventName(type)}`;
}

/** What `event_type` says: the incident slug for incidents, the conclusion's name otherwise. */
export function eventName(type: string): string {
  return type.startsWith('phone.') && !/^phone\.(online|offline|registration)$/.test(type) ? type.slice(6) : type;
}

/** A prefix: MQTT topic levels without wildcards, no leading or trailing slash. */
export function checkPrefix(prefix: string, flag: string): string {
  if (prefix === '' || /[#+]/.test(prefix) || prefix.includes(String.fromCharCode(0)) || prefix.startsWith('/') || prefix.endsWith('/')) {
    throw new Error(`${flag} "${prefix}": topic levels without + # or a leading or trailing /`);
  }
  return prefix;
}

/**
 * The MQTT message for a forwarded delivery body (`{type, timestamp, data}`): incidents carry the event's
 * JSON, conclusions their data, both with `event_type` first. `parts`, when the body was just built from
 * them: the same message, made without parsing the body.
 */
export function eventMessage(body: string, parts?: IncidentParts): { name: string; payload: string } {
  if (parts && splicesAsSpread(parts.event, parts.eventText)) {
    const name = eventName(parts.type);
    return { name, payload: `{"event_type":${JSON.stringify(name)},"timestamp":${JSON.stringify(parts.timestamp)},${parts.eventText.slice(1)}` };
  }
  const parsed = JSON.parse(body) as { type: string; timestamp: string; data: Record<string, unknown> };
  const name = eventName(parsed.type);
  const data = parsed.data ?? {};
  const inner = parsed.type.startsWith('phone.') && data.event && typeof data.event === 'object' ? (data.event as Record<string, unknown>) : data;
  return { name, payload: JSON.stringify({ event_type: name, timestamp: parsed.timestamp, ...inner }) };
}

/**
 * Whether the event's text, spliced after `event_type` and `timestamp`, is what spreading the event after
 * them would write: it has a field, none of its own is named like those two (the spread would overwrite them
 * in place), none is an integer (an object puts those first) and it does not serialize itself differently.
 */
function splicesAsSpread(event: object, text: string): boolean {
  if (text === '{}' || typeof (event as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const key of Object.keys(event)) {
    if (key === 'event_type' || key === 'timestamp' || /^(0|[1-9]\d*)$/.test(key)) return false;
  }
  return true;
}
