/**
 * The in-process event bus: every committed event (and every phone state change that no event caused, such
 * as a call closed by the clock) is published here once it is durable. The SSE stream, the dashboard and the
 * forwarders (webhooks, MQTT) subscribe; a failing subscriber never affects the others or the ingest.
 */
import type { StoredEvent } from '../store/types.ts';
import type { CallState, PhoneState } from '../domain/types.ts';

export type BusMessage =
  /** A new event, with the phone's state right after it and the calls it created, changed or ended. */
  | { type: 'event'; event: StoredEvent; phone: PhoneState; changedCalls: readonly CallState[] }
  /** A phone's state changed without an event (calls closed after a long silence). */
  | { type: 'phone'; phone: PhoneState; changedCalls: readonly CallState[] };

export type BusListener = (message: BusMessage) => void;

export class EventBus {
  private readonly listeners = new Set<BusListener>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  /** Listens from now on; returns the function that stops listening. */
  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  publish(message: BusMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
