/** The receiver's start-up log lines: where it listens, who may see the dashboard, what it forwards to, and warnings. */
import type { ReceiverConfig } from '../config/receiver-config.ts';
import type { Forwarder } from '../forwarding/forwarder.ts';
import { OPEN_WARNING, type AdminAccess } from '../server/admin-access.ts';
import type { ServerContext } from '../server/context.ts';

/** Logged at start when the ingest token is set but nothing limits who may fetch config files. */
export const PROVISION_TOKEN_WARNING =
  '--token is set without --allow: anyone who can reach /provision/<file> gets the ingest token in the config file; ' +
  'set --allow to the phones\' addresses (e.g. --allow 10.0.0.0/8)';

/** Logged at start when per-phone tokens are on but nothing limits who may fetch config files. */
export const PROVISION_TOKEN_SECRET_WARNING =
  '--token-secret is set without --allow: anyone who can reach /provision/<mac file> gets that phone\'s ingest token ' +
  'and can send events as that phone; set --allow to the phones\' addresses (e.g. --allow 10.0.0.0/8)';

/** Logged at start when MQTT commands are on. */
export const MQTT_COMMANDS_NOTICE =
  'MQTT commands on: whoever may publish to these topics on the broker can make phones dial, answer, hang up and reboot; ' +
  'limit that with the broker\'s ACL, or turn commands off with --no-mqtt-commands';

/** Writes the start-up lines of a receiver listening at `url`. */
export function announceReceiver(
  config: ReceiverConfig,
  parts: { ctx: ServerContext; access: AdminAccess; forwarder: Forwarder | undefined },
  url: string,
): void {
  const { ctx, access, forwarder } = parts;
  const { logger, settings } = ctx;
  const { mqtt, mqttCommands } = config.forwarding;
  logger.info({ url, store: ctx.store.description, phones: ctx.phones.size, access: access.mode }, 'receiver listening');
  if (access.mode === 'open') logger.warn(OPEN_WARNING);
  for (const d of forwarder?.destinationsInfo() ?? []) logger.info({ destination: d.name, kind: d.kind, target: d.target }, 'forwarding');
  if (mqtt && mqttCommands) logger.info({ topics: `${mqtt.prefix}/+/command/+` }, MQTT_COMMANDS_NOTICE);
  else if (mqtt) logger.info('MQTT commands off (--no-mqtt-commands): no command topics, no controls in Home Assistant');
  if (settings.token !== undefined && config.allowlist === undefined) logger.warn(PROVISION_TOKEN_WARNING);
  if (settings.tokenSecret !== undefined && config.allowlist === undefined) logger.warn(PROVISION_TOKEN_SECRET_WARNING);
}
