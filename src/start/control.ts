/** Remote control of phones, with the credentials sealed by the control key. */
import { controlKeyOf } from '../config/receiver-config.ts';
import type { Lifetime } from '../core/lifetime.ts';
import type { EventBus } from '../server/bus.ts';
import { SecretBox } from '../server/control/secrets.ts';
import { ControlService } from '../server/control/service.ts';
import type { ReceiverMode } from '../server/mode/mode.ts';
import type { PhoneRegistry } from '../server/phones.ts';
import type { Store } from '../store/types.ts';
import type { Start } from './parts.ts';

export async function startControl(
  start: Start,
  parts: { store: Store; mode: ReceiverMode; phones: PhoneRegistry; bus: EventBus },
  life: Lifetime,
): Promise<ControlService> {
  const { config, logger, metrics } = start;
  const { control: settings } = config;
  const key = controlKeyOf(settings);
  const control = new ControlService({
    store: parts.store, shared: parts.mode.shared, phones: parts.phones, bus: parts.bus, logger, registry: metrics.registry,
    box: new SecretBox(key.key), now: config.now,
    ...(settings.phoneDefaults ? { defaults: settings.phoneDefaults } : {}),
    confirmTimeoutMs: settings.confirmTimeoutMs,
    sendTimeoutMs: settings.sendTimeoutMs,
    networks: settings.networks,
    ...(settings.learnFrom ? { learnFrom: settings.learnFrom } : {}),
  });
  life.add('control', () => control.close());
  await control.load();
  if (key.source === 'ephemeral') {
    logger.warn('no control key file (in-memory or PostgreSQL store): phone credentials set now are sealed with a key that ends with this process; give --control-key or --control-key-file to keep them');
  }
  return control;
}
