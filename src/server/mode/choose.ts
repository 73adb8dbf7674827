/** The one place the receiver's mode is chosen: from the store, once, at start. */
import type { Logger } from 'pino';
import type { StoreInfo } from '../../store/types.ts';
import type { EventBus } from '../bus.ts';
import type { PhoneRegistry } from '../phones.ts';
import { LocalMode, type LocalModeStore } from './local.ts';
import type { ReceiverMode } from './mode.ts';
import { SharedMode, type SharedModeStore } from './shared.ts';

export interface ModeOptions {
  /** What either mode uses; `shared` says which one it is. */
  store: LocalModeStore & SharedModeStore & Pick<StoreInfo, 'shared'>;
  phones: PhoneRegistry;
  bus: EventBus;
  logger: Logger;
  now(): number;
  /** Shared mode: how often to look for other receivers' events without a signal (ms). */
  followPollMs?: number;
  /** Shared mode: a phone was forgotten by another receiver. */
  onForget(mac: string): void;
}

/** Shared when several receivers can use the store (PostgreSQL), local otherwise (SQLite). */
export function receiverMode(o: ModeOptions): ReceiverMode {
  const shared = o.store.shared;
  return shared ? new SharedMode({ ...o, shared }) : new LocalMode(o);
}
