/**
 * Home Assistant's own rules for a device-based MQTT discovery payload and for the messages its entities
 * then read, restated as data from HA core's source (homeassistant/components/mqtt/…, named at each rule).
 * `discoveryProblems` answers what HA would refuse or silently drop in a payload; `stateProblems` what it
 * would refuse, ignore or raise on when a state, event or availability message arrives for it. Both return
 * a list of problems, empty when HA takes everything.
 *
 * How HA reads a device payload (discovery.py): it expands the abbreviations (abbreviations.py: ABBREVIATIONS
 * for the payload, each component and each availability entry; DEVICE_ABBREVIATIONS inside the device;
 * ORIGIN_ABBREVIATIONS inside the origin), validates the whole against DEVICE_DISCOVERY_SCHEMA (schemas.py;
 * a failure drops every entity of the device, with one warning), then gives each component the device, the
 * origin and the shared options it does not set itself (SHARED_OPTIONS), and validates it against its
 * platform's DISCOVERY_SCHEMA, which drops keys it does not know (vol.REMOVE_EXTRA) and refuses wrong values.
 */
import { parseTemplate, pyLen, render, TemplateError } from './jinja.ts';

type Json = Record<string, unknown>;
/** A voluptuous-like validator: null when valid, else what is wrong. */
type Check = (v: unknown) => string | null;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---- config_validation (homeassistant/helpers/config_validation.py) -------------------------------------
/** cv.string: a string; numbers are coerced; None, lists and dicts are refused. */
const string: Check = (v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? null : 'not a string');
const stringOrNone: Check = (v) => (v === null ? null : string(v));
/** cv.boolean: a bool, or one of the words HA reads as one. */
const boolean: Check = (v) =>
  typeof v === 'boolean' || v === 0 || v === 1 || (typeof v === 'string' && /^(1|0|true|false|yes|no|on|off|enable|disable)$/i.test(v)) ? null : 'not a boolean';
/** cv.positive_int: vol.Coerce(int) then Range(min=0). */
const positiveInt: Check = (v) => {
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? null : 'not an integer >= 0';
};
/** cv.template: a string Jinja can compile (here: the subset jinja.ts renders). */
const template: Check = (v) => {
  if (typeof v !== 'string') return 'a template must be a string';
  try {
    parseTemplate(v);
    return null;
  } catch (e) {
    return `not a template HA can render: ${(e as Error).message}`;
  }
};
/** cv.configuration_url: an http(s) URL or a homeassistant:// path. */
const configurationUrl: Check = (v) => {
  if (typeof v !== 'string') return 'not a URL';
  if (v.startsWith('homeassistant://')) return null;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'a URL must be http, https or homeassistant://';
  } catch {
    return 'not a URL';
  }
};
/** cv.icon: `prefix:name`. */
const icon: Check = (v) => (typeof v === 'string' && /^[^:]+:.+$/.test(v) ? null : 'an icon is prefix:name');
/** cv.is_regex: compiles as a regular expression (JavaScript's syntax stands in for Python's). */
const regex: Check = (v) => {
  if (typeof v !== 'string') return 'a pattern must be a string';
  try {
    new RegExp(v, 'u');
    return null;
  } catch {
    return 'not a regular expression';
  }
};
const oneOf = (values: readonly string[]): Check => (v) => (typeof v === 'string' && values.includes(v.toLowerCase()) ? null : `one of ${values.join(', ')}`);
const oneOfOrNone = (values: readonly string[]): Check => (v) => (v === null ? null : oneOf(values)(v));
/** vol.All(cv.ensure_list, [cv.string]). */
const stringList: Check = (v) => ((Array.isArray(v) ? v : [v]).every((x) => string(x) === null) ? null : 'a list of strings');

// ---- mqtt/util.py ---------------------------------------------------------------------------------------
/** valid_topic: non-empty, no NUL, at most 65535 UTF-8 bytes. */
const topic: Check = (v) => {
  if (typeof v !== 'string' || v === '') return 'a topic is a non-empty string';
  if (v.includes('\u0000')) return 'a topic has no NUL character';
  if (Buffer.byteLength(v) > 65535) return 'a topic is at most 65535 bytes';
  return null;
};
/** valid_subscribe_topic: `+` only as a whole level, `#` only as the whole last level. */
const subscribeTopic: Check = (v) => {
  const t = topic(v);
  if (t) return t;
  const levels = (v as string).split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('+') && level !== '+') return 'a + wildcard must be a whole level';
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'a # wildcard must be the whole last level';
  }
  return null;
};
/** valid_publish_topic: no wildcards. */
const publishTopic: Check = (v) => topic(v) ?? (/[#+]/.test(v as string) ? 'a topic to publish to has no + or #' : null);
/** valid_qos_schema. */
const qos: Check = (v) => ([0, 1, 2].includes(Number(v)) && String(Number(v)) === String(v) ? null : 'qos is 0, 1 or 2');

// ---- abbreviations.py -----------------------------------------------------------------------------------
/** The abbreviations HA expands (the ones a payload of this kind could use). */
const ABBREVIATIONS: Record<string, string> = {
  avty: 'availability', avty_mode: 'availability_mode', avty_t: 'availability_topic', avty_tpl: 'availability_template',
  cmd_t: 'command_topic', cmd_tpl: 'command_template', cmps: 'components', def_ent_id: 'default_entity_id', dev: 'device',
  dev_cla: 'device_class', e: 'encoding', en: 'enabled_by_default', ent_cat: 'entity_category', ent_pic: 'entity_picture',
  evt_typ: 'event_types', exp_aft: 'expire_after', frc_upd: 'force_update', ic: 'icon', json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template', max: 'max', min: 'min', mode: 'mode', name: 'name', o: 'origin', obj_id: 'object_id',
  off_dly: 'off_delay', ops: 'options', opt: 'optimistic', p: 'platform', pl_avail: 'payload_available', pl_not_avail: 'payload_not_available',
  pl_off: 'payload_off', pl_on: 'payload_on', pl_prs: 'payload_press', ptrn: 'pattern', ret: 'retain', stat_cla: 'state_class',
  stat_off: 'state_off', stat_on: 'state_on', stat_t: 'state_topic', sug_dsp_prc: 'suggested_display_precision', t: 'topic',
  uniq_id: 'unique_id', unit_of_meas: 'unit_of_measurement', val_tpl: 'value_template',
};
const DEVICE_ABBREVIATIONS: Record<string, string> = {
  cns: 'connections', cu: 'configuration_url', ids: 'identifiers', name: 'name', mf: 'manufacturer', mdl: 'model', mdl_id: 'model_id',
  hw: 'hw_version', sw: 'sw_version', sa: 'suggested_area', sn: 'serial_number',
};
const ORIGIN_ABBREVIATIONS: Record<string, string> = { name: 'name', sw: 'sw_version', url: 'support_url' };

function expand(o: unknown, table: Record<string, string>): unknown {
  if (!isObj(o)) return o;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [table[k] ?? k, v]));
}

// ---- schemas.py -----------------------------------------------------------------------------------------
/** _MQTT_AVAILABILITY_SCHEMA: one availability_topic, or a list under `availability` (exclusive). */
const AVAILABILITY: Record<string, Check> = {
  availability_topic: subscribeTopic,
  availability_template: template,
  payload_available: string,
  payload_not_available: string,
  availability_mode: oneOf(['all', 'any', 'latest']),
  availability: (v) => {
    const list = Array.isArray(v) ? v : [v];
    for (const a of list) {
      const e = expand(a, ABBREVIATIONS);
      if (!isObj(e)) return 'availability entries are objects';
      const problems = checkKeys(e, { topic: subscribeTopic, payload_available: string, payload_not_available: string, value_template: template }, ['topic'], 'refuse');
      if (problems.length) return problems.join('; ');
    }
    return null;
  },
};
/** MQTT_ENTITY_DEVICE_INFO_SCHEMA (a plain vol.Schema: an unknown key fails it). */
const DEVICE: Record<string, Check> = {
  identifiers: stringList,
  connections: (v) => ((Array.isArray(v) ? v : [v]).every((c) => Array.isArray(c) && c.length === 2 && c.every((x) => string(x) === null)) ? null : 'a list of [type, value] pairs'),
  manufacturer: string, model: string, model_id: string, name: string, hw_version: string, serial_number: string, sw_version: string,
  via_device: string, suggested_area: string, configuration_url: configurationUrl,
};
const ORIGIN: Record<string, Check> = { name: string, sw_version: string, support_url: configurationUrl };
/** MQTT_ENTITY_COMMON_SCHEMA. object_id is gone (deprecated 2025.10 for default_entity_id, no longer read from 2026.4). */
const COMMON: Record<string, Check> = {
  ...AVAILABILITY,
  device: () => null, // checked once for the whole payload
  origin: () => null,
  entity_picture: configurationUrl, enabled_by_default: boolean, entity_category: oneOf(['config', 'diagnostic']), icon,
  json_attributes_topic: subscribeTopic, json_attributes_template: template, default_entity_id: string,
  message_expiry_interval: positiveInt, unique_id: string, visible_by_default: boolean,
};
/** Options set once on the device payload that every component inherits unless it sets them (SHARED_OPTIONS). */
const SHARED_OPTIONS = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'command_topic', 'encoding', 'message_expiry_interval', 'payload_available', 'payload_not_available', 'state_topic', 'qos'];
/** DEVICE_DISCOVERY_SCHEMA: the payload's own keys (anything else fails the whole payload). */
const DEVICE_PAYLOAD: Record<string, Check> = {
  ...AVAILABILITY, device: () => null, components: () => null, origin: () => null,
  state_topic: subscribeTopic, command_topic: publishTopic, message_expiry_interval: positiveInt, qos, encoding: string,
};
/** SUPPORTED_COMPONENTS (const.py) that this payload could use; ENTITY_PLATFORMS need a unique_id. */
const SUPPORTED_COMPONENTS = ['alarm_control_panel', 'binary_sensor', 'button', 'camera', 'climate', 'cover', 'date', 'datetime', 'device_automation', 'device_tracker', 'event', 'fan', 'humidifier', 'image', 'lawn_mower', 'light', 'lock', 'notify', 'number', 'scene', 'select', 'sensor', 'siren', 'switch', 'tag', 'text', 'time', 'update', 'vacuum', 'valve', 'water_heater'];
const NON_ENTITY = ['device_automation', 'tag'];

// ---- config.py: what every MQTT platform takes ----------------------------------------------------------
const BASE: Record<string, Check> = { qos, encoding: string, group: stringList };
const READ_ONLY: Record<string, Check> = { ...BASE, state_topic: subscribeTopic, value_template: template };
const READ_WRITE: Record<string, Check> = { ...BASE, command_topic: publishTopic, optimistic: boolean, retain: boolean, state_topic: subscribeTopic };

// ---- the platforms (mqtt/<platform>.py, device classes from components/<platform>/__init__.py or const.py)
const BINARY_SENSOR_CLASSES = ['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat', 'light', 'lock', 'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke', 'sound', 'tamper', 'update', 'vibration', 'window'];
const SENSOR_CLASSES = ['date', 'enum', 'timestamp', 'apparent_power', 'aqi', 'area', 'atmospheric_pressure', 'battery', 'blood_glucose_concentration', 'carbon_monoxide', 'carbon_dioxide', 'conductivity', 'current', 'data_rate', 'data_size', 'distance', 'duration', 'energy', 'energy_distance', 'energy_storage', 'frequency', 'gas', 'humidity', 'illuminance', 'irradiance', 'moisture', 'monetary', 'nitrogen_dioxide', 'nitrogen_monoxide', 'nitrous_oxide', 'ozone', 'ph', 'pm1', 'pm10', 'pm25', 'power_factor', 'power', 'precipitation', 'precipitation_intensity', 'pressure', 'reactive_energy', 'reactive_power', 'signal_strength', 'sound_pressure', 'speed', 'sulphur_dioxide', 'temperature', 'volatile_organic_compounds', 'volatile_organic_compounds_parts', 'voltage', 'volume', 'volume_flow_rate', 'volume_storage', 'water', 'weight', 'wind_direction', 'wind_speed'];
/** HA's longest state (MAX_LENGTH_STATE_STATE, homeassistant/const.py). */
export const MAX_STATE_LENGTH = 255;

interface Platform {
  keys: Record<string, Check>;
  required: string[];
  /** Cross-key rules the platform adds after the schema (vol.All(…, validator)). */
  validate?: (c: Json) => string[];
}

const PLATFORMS: Record<string, Platform> = {
  // binary_sensor.py
  binary_sensor: {
    keys: { ...READ_ONLY, ...COMMON, device_class: oneOfOrNone(BINARY_SENSOR_CLASSES), expire_after: positiveInt, force_update: boolean, name: stringOrNone, off_delay: positiveInt, payload_off: string, payload_on: string },
    required: ['state_topic'],
  },
  // sensor.py, with validate_sensor_state_and_device_class_config
  sensor: {
    keys: { ...READ_ONLY, ...COMMON, device_class: oneOfOrNone(SENSOR_CLASSES), expire_after: positiveInt, force_update: boolean, last_reset_value_template: template, name: stringOrNone, options: (v) => (Array.isArray(v) || string(v) === null ? null : 'a list'), suggested_display_precision: positiveInt, state_class: oneOfOrNone(['measurement', 'measurement_angle', 'total', 'total_increasing']), unit_of_measurement: stringOrNone },
    required: ['state_topic'],
    validate: (c) => {
      const p: string[] = [];
      if (c.last_reset_value_template !== undefined && c.state_class !== 'total') p.push('last_reset_value_template needs state_class total');
      if (c.options !== undefined) {
        const options = Array.isArray(c.options) ? c.options : [c.options];
        if (options.length === 0) p.push('an empty options list is not allowed');
        if (c.state_class || c.unit_of_measurement) p.push('options cannot go with state_class or unit_of_measurement');
        if (c.device_class !== 'enum') p.push('options need device_class enum');
      }
      return p;
    },
  },
  // switch.py
  switch: {
    keys: { ...READ_WRITE, ...COMMON, command_template: template, name: stringOrNone, payload_off: string, payload_on: string, state_off: string, state_on: string, value_template: template, device_class: oneOfOrNone(['outlet', 'switch']) },
    required: ['command_topic'],
  },
  // button.py
  button: {
    keys: { ...BASE, ...COMMON, command_template: template, command_topic: publishTopic, device_class: oneOfOrNone(['identify', 'restart', 'update']), name: stringOrNone, payload_press: string, retain: boolean },
    required: ['command_topic'],
  },
  // text.py, with valid_text_size_configuration
  text: {
    keys: { ...READ_WRITE, ...COMMON, command_template: template, name: stringOrNone, max: positiveInt, min: positiveInt, mode: oneOf(['text', 'password']), pattern: regex, value_template: template },
    required: ['command_topic'],
    validate: (c) => {
      const { min, max } = textBounds(c);
      const p: string[] = [];
      if (min > max) p.push('text length min must be <= max');
      if (max > MAX_STATE_LENGTH) p.push(`max text length must be <= ${MAX_STATE_LENGTH}`);
      return p;
    },
  },
  // event.py
  event: {
    keys: { ...READ_ONLY, ...COMMON, device_class: oneOf(['button', 'doorbell', 'motion']), name: stringOrNone, event_types: stringList },
    required: ['state_topic', 'event_types'],
  },
};

const textBounds = (c: Json) => ({ min: c.min === undefined ? 0 : Number(c.min), max: c.max === undefined ? MAX_STATE_LENGTH : Number(c.max) });

/**
 * Keys of `o` against `schema`: wrong values and missing required keys are problems; unknown keys are refused
 * (`mode: 'refuse'`, a plain vol.Schema) or dropped by HA (`'drop'`: REMOVE_EXTRA), which is reported too
 * (a key HA drops is one this project believes does something).
 */
function checkKeys(o: Json, schema: Record<string, Check>, required: string[], mode: 'refuse' | 'drop', ignore: ReadonlySet<string> = new Set()): string[] {
  const p: string[] = [];
  for (const k of required) if (o[k] === undefined) p.push(`${k} is required`);
  for (const [k, v] of Object.entries(o)) {
    const check = schema[k];
    if (!check) {
      if (ignore.has(k)) continue;
      if (k === 'object_id') p.push('object_id is no longer read (deprecated in 2025.10, removed in 2026.4): use default_entity_id');
      else p.push(mode === 'refuse' ? `${k}: not a key HA takes here (the payload is refused)` : `${k}: not a key of this platform (HA drops it)`);
      continue;
    }
    const why = check(v);
    if (why) p.push(`${k}: ${why}`);
  }
  return p;
}

/** A component as HA sets it up: abbreviations expanded, shared options merged in (its own keys win). */
export interface Component {
  key: string;
  platform: string;
  config: Json;
  /** The keys the component sets itself (the rest of `config` is inherited). */
  own: ReadonlySet<string>;
}

function components(payload: Json): Component[] {
  const cmps = payload.components;
  if (!isObj(cmps)) return [];
  return Object.entries(cmps).flatMap(([key, raw]) => {
    const own = expand(raw, ABBREVIATIONS);
    if (!isObj(own)) return [];
    const config: Json = { ...own };
    for (const option of SHARED_OPTIONS) if (payload[option] !== undefined && own[option] === undefined) config[option] = payload[option];
    return [{ key, platform: String(own.platform), config, own: new Set(Object.keys(own)) }];
  });
}

function expandPayload(raw: unknown): Json | null {
  const payload = expand(raw, ABBREVIATIONS);
  if (!isObj(payload)) return null;
  return { ...payload, device: expand(payload.device, DEVICE_ABBREVIATIONS), origin: expand(payload.origin, ORIGIN_ABBREVIATIONS) };
}

export function discoveryProblems(raw: unknown): string[] {
  const payload = expandPayload(raw);
  if (!payload) return ['the payload is not a JSON object'];
  const p = checkKeys(payload, DEVICE_PAYLOAD, ['device', 'components', 'origin'], 'refuse');
  if (payload.availability_topic !== undefined && payload.availability !== undefined) p.push('availability_topic and availability exclude each other');
  const dev = payload.device;
  if (isObj(dev)) {
    p.push(...checkKeys(dev, DEVICE, [], 'refuse').map((x) => `device.${x}`));
    const has = (v: unknown) => (Array.isArray(v) ? v.length > 0 : Boolean(v));
    if (!has(dev.identifiers) && !has(dev.connections)) p.push('device: at least one of identifiers and connections');
  } else if (dev !== undefined) p.push('device is not an object');
  const origin = payload.origin;
  if (isObj(origin)) p.push(...checkKeys(origin, ORIGIN, ['name'], 'refuse').map((x) => `origin.${x}`));
  else if (origin !== undefined) p.push('origin is not an object');
  if (payload.components !== undefined && !isObj(payload.components)) p.push('components is not an object');
  for (const c of components(payload)) {
    const at = (x: string) => `components.${c.key}: ${x}`;
    if (!SUPPORTED_COMPONENTS.includes(c.platform)) {
      p.push(at(`platform "${c.platform}" is not supported`));
      continue;
    }
    if (!NON_ENTITY.includes(c.platform) && Object.keys(c.config).length > 1 && typeof c.config.unique_id !== 'string') p.push(at('unique_id is required'));
    const platform = PLATFORMS[c.platform];
    if (!platform) {
      p.push(at(`no rules restated here for platform ${c.platform}`));
      continue;
    }
    // Shared options a platform does not take are dropped quietly, as HA does: not this component's mistake.
    const inherited = new Set(SHARED_OPTIONS.filter((o) => !c.own.has(o)));
    const { platform: _p, ...rest } = c.config;
    p.push(...checkKeys(rest, platform.keys, platform.required, 'drop', inherited).map(at));
    p.push(...(platform.validate?.(rest) ?? []).map(at));
    if (rest.availability_topic !== undefined && rest.availability !== undefined) p.push(at('availability_topic and availability exclude each other'));
    // An entity id HA takes: `<platform>.<object id>` by valid_entity_id (homeassistant/core.py): lowercase
    // letters, digits and single underscores, neither end an underscore; for another platform it is not used.
    const entityId = rest.default_entity_id;
    if (typeof entityId === 'string' && !(entityId.startsWith(`${c.platform}.`) && /^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$/.test(entityId))) {
      p.push(at(`default_entity_id "${entityId}" is not a valid ${c.platform} entity id`));
    }
  }
  const uids = components(payload).map((c) => c.config.unique_id);
  for (const [i, u] of uids.entries()) if (u !== undefined && uids.indexOf(u) !== i) p.push(`unique_id ${String(u)} repeats`);
  return p;
}

/** The components of a payload as HA sets them up (for `stateProblems` and for tests that look at one). */
export function componentsOf(raw: unknown): Component[] {
  const payload = expandPayload(raw);
  return payload ? components(payload) : [];
}

/** One MQTT message as HA receives it. */
export interface Message {
  topic: string;
  payload: string;
  retained: boolean;
}

/**
 * What HA does with `message` for every component of `raw` that reads its topic (state, event or
 * availability): the list of problems — a message ignored, a state refused, a template that fails.
 */
export function stateProblems(raw: unknown, message: Message): string[] {
  const p: string[] = [];
  for (const c of componentsOf(raw)) {
    const at = (x: string) => `${c.key} (${c.platform}) on ${message.topic}: ${x}`;
    const availability = Array.isArray(c.config.availability) ? (c.config.availability as Json[]).map((a) => expand(a, ABBREVIATIONS) as Json) : [];
    for (const a of availability) {
      if (a.topic !== message.topic) continue;
      // entity.py, MqttAvailabilityMixin: a payload that is neither is ignored.
      const ok = [a.payload_available ?? 'online', a.payload_not_available ?? 'offline'];
      if (!ok.includes(message.payload)) p.push(at(`availability is "${ok[0]}" or "${ok[1]}"`));
    }
    if (c.config.state_topic !== message.topic) continue;
    let rendered: string;
    try {
      const tpl = c.config.value_template;
      if (typeof tpl === 'string') {
        const r = render(tpl, message.payload);
        if (r.undefinedUsed) p.push(at('the template used an undefined value (HA logs a warning and renders "")'));
        rendered = r.text;
      } else rendered = message.payload;
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      p.push(at(`the template fails: ${e.message}`));
      continue;
    }
    p.push(...platformStateProblems(c, rendered, message).map(at));
  }
  return p;
}

function platformStateProblems(c: Component, value: string, message: Message): string[] {
  const cfg = c.config;
  switch (c.platform) {
    case 'binary_sensor': {
      // binary_sensor.py: empty output is ignored; then payload_on / payload_off / "None", anything else is ignored.
      if (value.trim() === '') return ['empty template output: HA ignores the message'];
      const ok = [String(cfg.payload_on ?? 'ON'), String(cfg.payload_off ?? 'OFF'), 'None'];
      return ok.includes(value) ? [] : [`"${value}" is none of ${ok.join(', ')}: HA ignores it`];
    }
    case 'switch': {
      // switch.py: the output must be state_on (else payload_on), state_off (else payload_off) or "None".
      const ok = [String(cfg.state_on || cfg.payload_on || 'ON'), String(cfg.state_off || cfg.payload_off || 'OFF'), 'None'];
      return ok.includes(value) ? [] : [`"${value}" is none of ${ok.join(', ')}: HA ignores it`];
    }
    case 'sensor': {
      // sensor.py, _update_state: "None" is unknown; an option not listed is ignored; text over 255 is ignored.
      if (value === 'None') return [];
      const options = cfg.options === undefined ? null : (Array.isArray(cfg.options) ? cfg.options : [cfg.options]).map(String);
      if (options && !options.includes(value)) return [`"${value}" is not among the options: HA ignores it`];
      if ((cfg.device_class === undefined || cfg.device_class === null || cfg.device_class === 'enum') && pyLen(value) > MAX_STATE_LENGTH) {
        return [`${pyLen(value)} characters: over ${MAX_STATE_LENGTH}, HA ignores it (check_state_too_long)`];
      }
      return [];
    }
    case 'text': {
      // text.py: over 255 is ignored; then TextEntity.state (components/text/__init__.py) raises when the
      // value is shorter than min, longer than max, or does not match the pattern (re.match: from the start).
      if (pyLen(value) > MAX_STATE_LENGTH) return [`${pyLen(value)} characters: HA ignores it (check_state_too_long)`];
      const { min, max } = textBounds(cfg);
      const p: string[] = [];
      if (pyLen(value) < min) p.push(`"${value}" is shorter than min ${min}: HA raises ValueError writing the state`);
      if (pyLen(value) > max) p.push(`"${value}" is longer than max ${max}: HA raises ValueError writing the state`);
      if (typeof cfg.pattern === 'string' && !new RegExp(`^(?:${cfg.pattern})`, 'u').test(value)) {
        p.push(`"${value}" does not match the pattern ${cfg.pattern}: HA raises ValueError writing the state`);
      }
      return p;
    }
    case 'event': {
      // event.py: retained messages are ignored (not an event); the payload is a JSON object with an
      // event_type among event_types.
      if (message.retained) return [];
      if (value === '' || value === 'None' || value === '{}') return ['an empty event: HA ignores it'];
      let data: unknown;
      try {
        data = JSON.parse(value);
      } catch {
        return ['not JSON: HA ignores the event'];
      }
      if (!isObj(data)) return ['not a JSON object: HA ignores the event'];
      if (data.event_type === undefined) return ['no event_type: HA ignores the event'];
      const types = (Array.isArray(cfg.event_types) ? cfg.event_types : [cfg.event_types]).map(String);
      return types.includes(String(data.event_type)) ? [] : [`event_type "${String(data.event_type)}" is not among event_types: HA ignores it`];
    }
    default:
      return [];
  }
}
