/**
 * Home Assistant MQTT discovery for a phone, device-based (one retained message per phone at
 * `<discovery>/device/actionurl_<mac>/config`): the device (MAC, model, firmware, a link to its web page),
 * the origin, availability (bridge and phone, both required), and the entities: binary sensors (registered,
 * ringing, in call, DND, muted, off hook), sensors (presence, the remote party's number and name, the last
 * incident, IP and firmware as diagnostics) and an `event` entity whose event types are the incidents, so an
 * automation can trigger on "incoming call" (or "call.ended") directly. With MQTT commands on, also the
 * controls: a DND switch, buttons (answer, hang up, hold, resume, mute, reboot) and a text entity that dials,
 * each publishing to its command topic (mqtt-commands.ts). An empty retained message at the same topic
 * removes the device.
 *
 * Keys are HA's full names (`command_topic`, `payload_on`, …; HA also accepts the abbreviations `cmd_t`,
 * `pl_on`). Entity ids are suggested with `default_entity_id` (`sensor.actionurl_<mac>_presence`): HA 2025.10
 * deprecated `object_id` for this and stops reading it in 2026.4.
 */
import { isIP } from 'node:net';
import { INCIDENTS } from '../core/catalog.ts';
import { formatMac } from '../core/mac.ts';
import type { PhoneState, Presence } from '../domain/types.ts';
import { detectVendor, DIAL_NUMBER, MAX_DIAL_LENGTH } from '../core/control/index.ts';
import { getVendorCodec } from '../core/vendors/index.ts';
import { CONCLUSION_TYPES } from './destinations.ts';
import { commandTopic, type CommandTopicName } from './mqtt-commands.ts';
import { availabilityTopic, bridgeAvailabilityTopic, eventsTopic, stateTopic } from './mqtt-topics.ts';

export const PRESENCES: readonly Presence[] = ['offline', 'unregistered', 'idle', 'ringing', 'dialing', 'talking', 'held', 'dnd'];

export interface DiscoveryContext {
  prefix: string;
  discoveryPrefix: string;
  /** Origin: this software. */
  origin: { name: string; sw: string; url?: string };
  /** MQTT commands are on: add the DND switch, the buttons and the dial text entity. */
  commands?: boolean;
}

export const deviceId = (mac: string) => `actionurl_${mac}`;
export const discoveryTopic = (discoveryPrefix: string, mac: string) => `${discoveryPrefix}/device/${deviceId(mac)}/config`;

const onOff = (condition: string) => `{{ 'ON' if (${condition}) else 'OFF' }}`;
/** A text sensor's template: HA ignores a state over 255 characters, and phones' texts run to 256. */
const text = (expression: string) => `{{ (${expression})[:${MAX_STATE_LENGTH}] }}`;
/** HA's longest state (its MAX_LENGTH_STATE_STATE). */
const MAX_STATE_LENGTH = 255;
/** What the dial entity may hold: a number `dial` takes, or nothing. */
const DIAL_OR_EMPTY = `^(?:${DIAL_NUMBER.source.replace(/^\^|\$$/g, '')})?$`;

export function discoveryPayload(phone: PhoneState, c: DiscoveryContext): Record<string, unknown> {
  const mac = phone.mac;
  const id = deviceId(mac);
  const uid = (key: string) => `${id}_${key}`;
  const entity = (p: string, key: string, name: string, extra: Record<string, unknown>) => ({
    p,
    unique_id: uid(key),
    default_entity_id: `${p}.${id}_${key}`,
    name,
    ...extra,
  });
  const binary = (key: string, name: string, condition: string, extra: Record<string, unknown> = {}) =>
    entity('binary_sensor', key, name, { value_template: onOff(condition), ...extra });
  const sensor = (key: string, name: string, template: string, extra: Record<string, unknown> = {}) =>
    entity('sensor', key, name, { value_template: template, ...extra });
  const command = (name: CommandTopicName) => commandTopic(c.prefix, mac, name);
  const button = (key: CommandTopicName, name: string, extra: Record<string, unknown> = {}) =>
    entity('button', key, name, { command_topic: command(key), ...extra });
  const controls = c.commands
    ? {
        dnd_switch: entity('switch', 'dnd_switch', 'DND', {
          command_topic: command('dnd'),
          payload_on: 'ON',
          payload_off: 'OFF',
          // The switch shows what the phone reported, not what was asked: it follows the phone's own dnd_on/dnd_off.
          value_template: onOff('value_json.dnd'),
          state_on: 'ON',
          state_off: 'OFF',
        }),
        answer: button('answer', 'Answer'),
        hangup: button('hangup', 'Hang up'),
        hold: button('hold', 'Hold'),
        unhold: button('unhold', 'Resume'),
        mute: button('mute', 'Mute'),
        reboot: button('reboot', 'Reboot', { device_class: 'restart', entity_category: 'config' }),
        dial: entity('text', 'dial', 'Dial', {
          command_topic: command('dial'),
          mode: 'text',
          min: 0,
          max: MAX_DIAL_LENGTH,
          // HA checks the entity's own state against min, max and pattern too (and raises when it fails), so
          // the pattern admits the empty value it holds between calls.
          pattern: DIAL_OR_EMPTY,
          // Its value is the number of the phone's current call (`number`, always one `dial` takes), '' idle.
          value_template: "{{ value_json.calls[0].number if value_json.calls else '' }}",
        }),
      }
    : {};
  const vendor = vendorLabel(phone);
  const dev: Record<string, unknown> = {
    identifiers: [id],
    connections: [['mac', formatMac(mac)]],
    name: deviceName(phone, vendor),
    model: phone.model || 'unknown',
    sw_version: phone.firmware || 'unknown',
  };
  if (vendor) dev.manufacturer = vendor;
  const url = webPage(phone.ip);
  if (url) dev.configuration_url = url;
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
      // The number when the remote holds one, else the remote as the phone sent it.
      remote_number: sensor('remote_number', 'Remote number', text("(value_json.calls[0].number or value_json.calls[0].remote) if value_json.calls else ''")),
      remote_name: sensor('remote_name', 'Remote name', text("value_json.calls[0].display_remote if value_json.calls else ''")),
      last_incident: sensor('last_incident', 'Last incident', '{{ value_json.event_type }}', { state_topic: eventsTopic(c.prefix, mac) }),
      ip: sensor('ip', 'IP address', text('value_json.ip'), { entity_category: 'diagnostic' }),
      firmware: sensor('firmware', 'Firmware', text('value_json.firmware'), { entity_category: 'diagnostic' }),
      event: entity('event', 'event', 'Incident', {
        state_topic: eventsTopic(c.prefix, mac),
        // Incidents and the receiver's conclusions (call.ended, …): both arrive on the events topic.
        event_types: [...INCIDENTS.map((i) => i.slug), ...CONCLUSION_TYPES],
      }),
      ...controls,
    },
  };
}

/**
 * The phone's web page, when `$ip` is an address: anyone on the LAN can send any text as `$ip`, and HA refuses
 * the whole device (every entity) for a configuration_url that is not a URL.
 */
function webPage(ip: string): string | undefined {
  if (isIP(ip) === 0) return undefined;
  const url = `http://${ip.includes(':') ? `[${ip}]` : ip}/`;
  return URL.canParse(url) ? url : undefined;
}

/**
 * The maker, as the receiver recognises it from the model the phone reports or its MAC's maker prefix (phones
 * report `SIP-T46U`, not `Yealink SIP-T46U`); undefined when neither says.
 */
function vendorLabel(phone: PhoneState): string | undefined {
  const vendor = detectVendor(phone.model, phone.mac);
  return vendor ? getVendorCodec(vendor).label : undefined;
}

/** `Yealink SIP-T46U 00:15:65:aa:bb:cc`: maker (unless the model already names it), model, MAC. */
function deviceName(phone: PhoneState, vendor: string | undefined): string {
  const model = phone.model.trim();
  const named = vendor !== undefined && model.toLowerCase().startsWith(vendor.toLowerCase());
  const parts = [named ? undefined : vendor, model || (vendor ? undefined : 'Phone'), formatMac(phone.mac)];
  return parts.filter(Boolean).join(' ');
}
