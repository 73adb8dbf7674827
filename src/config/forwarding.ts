/** The forwarding options checked: webhook destinations (`--webhook`, `--forward`) and the MQTT broker. */
import { readFileSync } from 'node:fs';
import { parseForwardFile, webhooksFromFlags, type WebhookDestination } from '../forwarding/destinations.ts';
import type { MqttSettings } from '../forwarding/mqtt-bridge.ts';
import { checkPrefix } from '../forwarding/mqtt-topics.ts';
import { DEFAULTS } from './defaults.ts';
import { ServerOptionError } from './error.ts';
import type { ServerOptions } from './options.ts';
import { readPem } from './pem.ts';

export function mqttSettings(options: ServerOptions): MqttSettings | undefined {
  const m = options.mqtt;
  if (!m) return undefined;
  let u: URL;
  try {
    u = new URL(m.url);
  } catch {
    throw new ServerOptionError(`--mqtt "${m.url}": expected mqtt://host:1883 or mqtts://host:8883`);
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(u.protocol) || !u.hostname) {
    throw new ServerOptionError(`--mqtt "${m.url}": expected mqtt://host:1883 or mqtts://host:8883`);
  }
  try {
    return {
      url: m.url,
      username: m.username || (u.username ? decodeURIComponent(u.username) : undefined),
      password: m.password || (u.password ? decodeURIComponent(u.password) : undefined),
      ca: m.ca ? readPem(m.ca) : undefined,
      prefix: checkPrefix(m.prefix ?? DEFAULTS.mqttPrefix, '--mqtt-prefix'),
      discoveryPrefix: m.discoveryPrefix === null ? null : checkPrefix(m.discoveryPrefix ?? DEFAULTS.haDiscoveryPrefix, '--ha-discovery'),
    };
  } catch (err) {
    throw new ServerOptionError((err as Error).message, { cause: err });
  }
}

/** Webhook destinations from `--webhook`/`--webhook-secret` and `--forward`; names must not clash. */
export function destinations(options: ServerOptions): WebhookDestination[] {
  let list: WebhookDestination[];
  try {
    list = webhooksFromFlags(options.webhook ?? [], options.webhookSecret ?? []);
  } catch (err) {
    throw new ServerOptionError((err as Error).message);
  }
  if (options.forward) {
    let text: string;
    try {
      text = readFileSync(options.forward, 'utf8');
    } catch (err) {
      throw new ServerOptionError(`--forward ${options.forward}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      list = [...list, ...parseForwardFile(text, `--forward ${options.forward}`)];
    } catch (err) {
      throw new ServerOptionError((err as Error).message);
    }
    const seen = new Set<string>();
    for (const d of list) {
      if (seen.has(d.name)) throw new ServerOptionError(`--forward ${options.forward}: name "${d.name}" is also a --webhook's; pick another`);
      seen.add(d.name);
    }
  }
  return list;
}
