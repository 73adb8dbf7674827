/**
 * Home Assistant MQTT discovery for a phone, device-based (one retained message per phone at
 * `<discovery>/device/actionurl_<mac>/config`): the device (MAC, model, firmware, a link to its web page),
 * the origin, availability (bridge and phone, both required), and the entities: binary sensors (registered,
 * ringing, in call, DND, muted, off hook), sensors (presence, the remote party's number and name, the last
 * incident, IP and firmware as diagnostics) and an `event` entity whose event types are the incidents, so an
 * automation can trigger on "incoming call" (or "call.ended") directly. An empty retained message at the same topic removes
 * the device. Remote control will add a DND switch and buttons with command topics to `cmps`.
 */
import { INCIDENTS } from '../core/catalog.ts';
import { formatMac } from '../core/mac.ts';
import type { PhoneState, Presence } from '../domain/types.ts';
import { CONCLUSION_TYPES } from './destinations.ts';
import { availabilityTopic, bridgeAvailabilityTopic, eventsTopic, stateTopic } from './mqtt-topics.ts';

export const PRESENCES: readonly Presence[] = ['offline', 'unregistered', 'idle', 'ringing', 'dialing', 'talking', 'held', 'dnd'];

export interface DiscoveryContext {
  prefix: string;
  discoveryPrefix: string;
  /** Origin: this software. */
  origin: { name: string; sw: string; url?: string };
}

export const deviceId = (mac: string) => `actionurl_${mac}`;
export const discoveryTopic = (discoveryPrefix: string, mac: string) => `${discoveryPrefix}/device/${deviceId(mac)}/config`;

const onOff = (condition: string) => `{{ 'ON' if (${condition}) else 'OFF' }}`;

export function discoveryPayload(phone: PhoneState, c: DiscoveryContext): Record<string, unknown> {
  const mac = phone.mac;
  const id = deviceId(mac);
  const uid = (key: string) => `${id}_${key}`;
  const binary = (key: string, name: string, condition: string, extra: Record<string, unknown> = {}) => ({
    p: 'binary_sensor',
    unique_id: uid(key),
    object_id: `${id}_${key}`,
    name,
    value_template: onOff(condition),
    ...extra,
  });
  const sensor = (key: string, name: string, template: string, extra: Record<string, unknown> = {}) => ({
    p: 'sensor',
    unique_id: uid(key),
    object_id: `${id}_${key}`,
    name,
    value_template: template,
    ...extra,
  });
  const dev: Record<string, unknown> = {
    identifiers: [id],
    connections: [['mac', formatMac(mac)]],
    name: `${phone.model || 'Phone'} ${formatMac(mac)}`,
    manufacturer: manufacturerOf(phone.model),
    model: phone.model || 'unknown',
    sw_version: phone.firmware || 'unknown',
  };
  if (phone.ip) dev.configuration_url = `http://${phone.ip.includes(':') ? `[${phone.ip}]` : phone.ip}/`;
  return {
    dev,
    o: c.origin,
    availability: [{ topic: bridgeAvailabilityTopic(c.prefix) }, { topic: availabilityTopic(c.prefix, mac) }],
    availability_mode: 'all',
    state_topic: stateTopic(c.prefix, mac),
    qos: 1,
    cmps: {
      registered: binary('registered', 'Registered', 'value_json.registered', { device_class: 'connectivity' }),
      ringing: binary('ringing', 'Ringing', "value_json.presence == 'ringing'"),
      in_call: binary('in_call', 'In call', "value_json.presence in ['talking', 'held', 'dialing']"),
      dnd: binary('dnd', 'Do not disturb', 'value_json.dnd'),
      muted: binary('muted', 'Muted', 'value_json.muted'),
      off_hook: binary('off_hook', 'Off hook', 'value_json.off_hook'),
      presence: sensor('presence', 'Presence', '{{ value_json.presence }}', { device_class: 'enum', options: PRESENCES }),
      remote_number: sensor('remote_number', 'Remote number', "{{ value_json.calls[0].remote if value_json.calls else '' }}"),
      remote_name: sensor('remote_name', 'Remote name', "{{ value_json.calls[0].display_remote if value_json.calls else '' }}"),
      last_incident: sensor('last_incident', 'Last incident', '{{ value_json.event_type }}', { state_topic: eventsTopic(c.prefix, mac) }),
      ip: sensor('ip', 'IP address', '{{ value_json.ip }}', { entity_category: 'diagnostic' }),
      firmware: sensor('firmware', 'Firmware', '{{ value_json.firmware }}', { entity_category: 'diagnostic' }),
      event: {
        p: 'event',
        unique_id: uid('event'),
        object_id: `${id}_event`,
        name: 'Incident',
        state_topic: eventsTopic(c.prefix, mac),
        // Incidents and the receiver's conclusions (call.ended, …): both arrive on the events topic.
        event_types: [...INCIDENTS.map((i) => i.slug), ...CONCLUSION_TYPES],
      },
    },
  };
}

/** The vendor from the model string phones send (`Yealink SIP-T46U`, `Fanvil X4U`, …), when it says. */
function manufacturerOf(model: string): string {
  const m = /^(yealink|fanvil|snom|grandstream|akuvox)\b/i.exec(model.trim());
  return m ? m[1][0].toUpperCase() + m[1].slice(1).toLowerCase() : 'unknown';
}
