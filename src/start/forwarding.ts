/** Forwarding: the MQTT bridge (with commands through remote control) and the webhook/MQTT forwarder. */
import type { Lifetime } from '../core/lifetime.ts';
import { packageVersion } from '../core/version.ts';
import { Forwarder } from '../forwarding/forwarder.ts';
import { MqttBridge } from '../forwarding/mqtt-bridge.ts';
import type { JsonShapes } from '../forwarding/payloads.ts';
import type { ControlService } from '../server/control/service.ts';
import type { ReceiverMode } from '../server/mode/mode.ts';
import type { PhoneRegistry } from '../server/phones.ts';
import type { Store } from '../store/types.ts';
import type { Start } from './parts.ts';

/** The MQTT bridge with `--mqtt`, else undefined. */
export function mqttBridge(start: Start, parts: { phones: PhoneRegistry; control: ControlService; shapes: JsonShapes }): MqttBridge | undefined {
  const { config, logger, metrics } = start;
  const { mqtt, mqttCommands, tuning } = config.forwarding;
  if (!mqtt) return undefined;
  // MQTT commands: on with --mqtt unless switched off; anyone who may publish to the broker can then make
  // phones dial, so the start-up log says so (docs/forwarding.md shows a broker ACL).
  return new MqttBridge({
    ...mqtt,
    logger,
    phones: parts.phones,
    phoneJson: parts.shapes.phone,
    now: config.now,
    reconnectMaxMs: tuning.mqttReconnectMaxMs,
    ...(mqttCommands
      ? {
          commands: { run: (mac, request, step) => parts.control.run(mac, request, step) },
          commandMessages: metrics.registry.counter(
            'actionurl_mqtt_command_messages_total',
            'Messages on the MQTT command topics, by outcome (started, unknown_phone, busy, or why it was refused)',
            ['outcome'],
          ),
        }
      : {}),
    origin: { name: 'actionurl', sw: packageVersion(), ...(config.publicUrl ? { url: config.publicUrl } : {}) },
  });
}

/**
 * The forwarder when there is anything to forward to, or the store is shared: then every receiver has one,
 * destinations or not, to tell the others what it forwards to, so that receivers started with different
 * forwarding settings are found out. Destinations switched off by an earlier run's 410 are loaded.
 */
export async function startForwarder(
  start: Start,
  parts: { store: Store; mode: ReceiverMode; phones: PhoneRegistry; shapes: JsonShapes; mqtt: MqttBridge | undefined },
  life: Lifetime,
): Promise<Forwarder | undefined> {
  const { config, logger, metrics } = start;
  const { webhooks, leaseMs, tuning } = config.forwarding;
  const { store, mode, mqtt } = parts;
  if (webhooks.length === 0 && !mqtt && !mode.shared) return undefined;
  const forwarder = new Forwarder({
    store,
    ...(mode.leases ? { leases: mode.leases } : {}),
    phones: parts.phones,
    logger,
    metrics,
    shapes: parts.shapes,
    webhooks,
    mqtt,
    offlineAfterMs: config.offlineAfterMs,
    now: config.now,
    leaseMs,
    ...tuning,
  });
  // After the commit queue and the follower that feed it have stopped.
  life.add('forwarder', () => forwarder.close(), { closesAfter: 'mode' });
  start.journalMoved.wake = () => forwarder.wakeAll();
  // Before replayed events are routed.
  await forwarder.load();
  return forwarder;
}
