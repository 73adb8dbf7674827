/**
 * Checks a device-based Home Assistant MQTT discovery payload against the rules of HA's documented schema
 * (home-assistant.io/integrations/mqtt, "Device discovery payload"), written from the documentation:
 * returns the list of problems, empty when it would be accepted. Platform options from the MQTT switch,
 * button and text pages (and HA's text platform: `max` at most 255, `min` below `max`, `mode` text or
 * password). `object_id` is refused: HA 2025.10 deprecated it for `default_entity_id` (`<platform>.<id>`), and
 * 2026.4 stops reading it.
 */
const PLATFORMS = new Set(['binary_sensor', 'sensor', 'event', 'switch', 'button', 'text']);
const BINARY_CLASSES = new Set([
  'battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat', 'light', 'lock',
  'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke',
  'sound', 'tamper', 'update', 'vibration', 'window',
]);
const ENTITY_CATEGORIES = new Set(['config', 'diagnostic']);
const BUTTON_CLASSES = new Set(['identify', 'restart', 'update']);
const COMMANDED = new Set(['switch', 'button', 'text']);
/** HA's longest state (MAX_LENGTH_STATE_STATE), the bound of a text entity's `max`. */
const MAX_STATE_LENGTH = 255;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTopic = (v: unknown) => typeof v === 'string' && v.length > 0 && !/[#+]/.test(v);

export function discoveryProblems(payload: unknown): string[] {
  const p: string[] = [];
  if (!isObj(payload)) return ['the payload is not a JSON object'];
  const dev = payload.dev ?? payload.device;
  if (!isObj(dev)) p.push('dev (device) is required');
  else {
    const ids = dev.identifiers ?? dev.ids;
    const conns = dev.connections ?? dev.cns;
    if (ids === undefined && conns === undefined) p.push('dev needs identifiers or connections');
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((i) => typeof i === 'string') || typeof ids === 'string')) p.push('dev.identifiers: a string or a list of strings');
    if (conns !== undefined && !(Array.isArray(conns) && conns.every((c) => Array.isArray(c) && c.length === 2 && c.every((x) => typeof x === 'string')))) {
      p.push('dev.connections: a list of [type, value] pairs');
    }
    for (const k of ['name', 'manufacturer', 'model', 'sw_version', 'configuration_url']) {
      if (dev[k] !== undefined && typeof dev[k] !== 'string') p.push(`dev.${k} must be a string`);
    }
    if (typeof dev.configuration_url === 'string' && !/^(https?|homeassistant):\/\//.test(dev.configuration_url)) p.push('dev.configuration_url must be a URL');
  }
  const o = payload.o ?? payload.origin;
  if (!isObj(o) || typeof o.name !== 'string' || o.name === '') p.push('o (origin) with a name is required for device discovery');
  const av = payload.availability ?? payload.avty;
  if (av !== undefined) {
    if (!Array.isArray(av) || av.length === 0 || !av.every((a) => isObj(a) && isTopic(a.topic ?? a.t))) p.push('availability: a list of {topic}');
  }
  const mode = payload.availability_mode ?? payload.avty_mode;
  if (mode !== undefined && !['all', 'any', 'latest'].includes(String(mode))) p.push('availability_mode: all, any or latest');
  if (payload.qos !== undefined && ![0, 1, 2].includes(payload.qos as number)) p.push('qos: 0, 1 or 2');
  const cmps = payload.cmps ?? payload.components;
  if (!isObj(cmps) || Object.keys(cmps).length === 0) return [...p, 'cmps (components) is required'];
  const uids = new Set<string>();
  for (const [key, c] of Object.entries(cmps)) {
    if (!isObj(c)) {
      p.push(`cmps.${key} is not an object`);
      continue;
    }
    const platform = c.p ?? c.platform;
    if (typeof platform !== 'string' || !PLATFORMS.has(platform)) p.push(`cmps.${key}.p: a platform`);
    const uid = c.unique_id ?? c.uniq_id;
    if (typeof uid !== 'string' || uid === '') p.push(`cmps.${key}.unique_id is required`);
    else if (uids.has(uid)) p.push(`cmps.${key}.unique_id repeats ${uid}`);
    else uids.add(uid);
    const state = c.state_topic ?? c.stat_t ?? payload.state_topic ?? payload.stat_t;
    if ((platform === 'sensor' || platform === 'binary_sensor' || platform === 'event') && !isTopic(state)) p.push(`cmps.${key}: a state_topic (own or shared)`);
    if (platform === 'binary_sensor' && c.device_class !== undefined && !BINARY_CLASSES.has(String(c.device_class))) p.push(`cmps.${key}.device_class`);
    if (platform === 'sensor' && c.device_class === 'enum' && !(Array.isArray(c.options) && c.options.length > 0)) p.push(`cmps.${key}: an enum sensor lists its options`);
    if (platform === 'event') {
      const types = c.event_types ?? c.evt_typ;
      if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string')) p.push(`cmps.${key}.event_types: a non-empty list`);
    }
    if (c.entity_category !== undefined && !ENTITY_CATEGORIES.has(String(c.entity_category))) p.push(`cmps.${key}.entity_category`);
    if (c.value_template !== undefined && (typeof c.value_template !== 'string' || !c.value_template.includes('{{'))) p.push(`cmps.${key}.value_template`);
    if (c.object_id !== undefined) p.push(`cmps.${key}.object_id is deprecated (HA 2025.10, removed 2026.4): use default_entity_id`);
    const entityId = c.default_entity_id ?? c.def_ent_id;
    if (entityId !== undefined && (typeof entityId !== 'string' || !new RegExp(`^${String(platform)}\\.[a-z0-9_]+$`).test(entityId))) {
      p.push(`cmps.${key}.default_entity_id: "${String(platform)}.<lowercase letters, digits, _>"`);
    }
    if (typeof platform === 'string' && COMMANDED.has(platform) && !isTopic(c.command_topic ?? c.cmd_t)) p.push(`cmps.${key}: a ${platform} needs a command_topic`);
    if (platform === 'button' && c.device_class !== undefined && !BUTTON_CLASSES.has(String(c.device_class))) p.push(`cmps.${key}.device_class`);
    if (platform === 'switch') {
      for (const k of ['payload_on', 'payload_off', 'state_on', 'state_off']) if (c[k] !== undefined && typeof c[k] !== 'string') p.push(`cmps.${key}.${k} must be a string`);
    }
    if (platform === 'text') {
      const min = c.min ?? 0;
      const max = c.max ?? MAX_STATE_LENGTH;
      if (!Number.isInteger(min) || !Number.isInteger(max) || (min as number) < 0 || (max as number) > MAX_STATE_LENGTH || (min as number) >= (max as number)) {
        p.push(`cmps.${key}: text length 0 <= min < max <= ${MAX_STATE_LENGTH}`);
      }
      if (c.mode !== undefined && !['text', 'password'].includes(String(c.mode))) p.push(`cmps.${key}.mode: text or password`);
      if (c.pattern !== undefined) {
        try {
          new RegExp(String(c.pattern));
        } catch {
          p.push(`cmps.${key}.pattern is not a regular expression`);
        }
      }
    }
  }
  return p;
}
