/** The one place the receiver's mode is chosen: from the store, once, at start. */
import { LocalMode } from './local.ts';
import type { ModeOptions, ReceiverMode } from './mode.ts';
import { SharedMode } from './shared.ts';

/** Shared when several receivers can use the store (PostgreSQL), local otherwise (SQLite). */
export function receiverMode(o: ModeOptions): ReceiverMode {
  const shared = o.store.shared;
  return shared ? new SharedMode({ ...o, shared }) : new LocalMode(o);
}
