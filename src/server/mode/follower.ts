/**
 * On a shared store (PostgreSQL, several receivers): feeds this receiver's event bus and phone registry
 * with every receiver's committed events, in id order (which is commit order, see store/pg-ingest.ts).
 *
 * A signal (LISTEN/NOTIFY, or this receiver's own commit) only says "there is something after your
 * cursor": the follower then reads the rows by id, the phones' stored states and the calls those events
 * changed, and publishes them. A slow poll and a catch-up after every reconnect cover lost signals, so a
 * lost notification costs latency, never an event. Phone states come from the database, where they were
 * derived in the ingest transaction: a phone's published state may already include a later event, which
 * is then published right after it.
 *
 * Forgetting a phone on any receiver (`f:` signal) drops it here too, with its inventory entry; its events
 * up to the forget that this follower had not published yet still go on the stream, but no longer make a
 * state for it. A forget signal lost while the listening connection was down is found after the reconnect,
 * in the stored list of forgotten phones.
 */
import { initialPhoneState } from '../../domain/reduce.ts';
import type { CallState, PhoneState } from '../../domain/types.ts';
import type { EventReads, PhoneReads, SharedState } from '../../store/types.ts';
import type { EventBus } from '../bus.ts';
import type { PhoneRegistry } from '../phones.ts';

/** What the follower reads besides the shared state: the events after its cursor, the forgotten phones. */
export type FollowerStore = Pick<EventReads, 'eventsAfter'> & Pick<PhoneReads, 'forgottenPhones'>;

export interface FollowerOptions {
  store: FollowerStore;
  shared: SharedState;
  phones: PhoneRegistry;
  bus: EventBus;
  /** Look for new events this often even without a signal (ms). Default 2000. */
  pollMs?: number;
  /** A phone was forgotten (by any receiver): it is gone from `phones` already. */
  onForget?(mac: string): void;
  onError(err: unknown): void;
}

/** Events read per query while catching up. */
const PAGE = 1000;

export class StreamFollower {
  /** The last event published on this receiver's bus. */
  private cursor = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private listening: { close(): Promise<void> } | undefined;
  private stopped = false;
  /** Forgotten phones whose events up to this id may still be ahead of the cursor: they make no state. */
  private readonly forgotten = new Map<string, number>();

  constructor(private readonly opts: FollowerOptions) {}

  /** The id of the last event this receiver has published (its phone states include it). */
  get position(): number {
    return this.cursor;
  }

  /** Loads every phone's state and starts following from there. */
  async start(): Promise<void> {
    const { phones, lastEventId } = await this.opts.shared.snapshot();
    for (const state of phones) this.opts.phones.set(state);
    this.cursor = lastEventId;
    this.listening = this.opts.shared.listen({
      onEvents: (lastId) => {
        if (lastId > this.cursor) this.kick();
      },
      onPhones: (macs) => void this.reloadPhones(macs).catch((err) => this.opts.onError(err)),
      onForget: (mac, upToEventId) => this.forget(mac, upToEventId),
      onConnect: () => {
        void this.kick();
        void this.forgetMissed().catch((err) => this.opts.onError(err));
      },
      onError: (err) => this.opts.onError(err),
    });
    this.poll = setInterval(() => this.kick(), this.opts.pollMs ?? 2000);
    this.poll.unref();
  }

  /** Catches up now (again after the current round, if one is running). Resolves when caught up. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      do {
        this.again = false;
        try {
          await this.catchUp();
        } catch (err) {
          this.opts.onError(err); // the database is away: the poll tries again
          break;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.opts.store.eventsAfter(this.cursor, PAGE);
      if (page.length === 0 || this.stopped) return;
      const states = new Map((await this.opts.shared.phones([...new Set(page.map((e) => e.mac))])).map((p) => [p.mac, p]));
      const calls = new Map<number, CallState[]>();
      for (const r of await this.opts.shared.callsChangedBy(page.map((e) => e.id))) {
        const list = calls.get(r.call.lastEventId) ?? [];
        list.push(r.call);
        calls.set(r.call.lastEventId, list);
      }
      for (const event of page) {
        const old = event.id <= (this.forgotten.get(event.mac) ?? 0);
        const phone: PhoneState = (old ? undefined : states.get(event.mac) ?? this.opts.phones.get(event.mac)) ?? initialPhoneState(event.mac, event.receivedAt);
        if (!old) this.opts.phones.setIfNewer(phone);
        this.cursor = event.id;
        this.opts.bus.publish({ type: 'event', event, phone, changedCalls: calls.get(event.id) ?? [] });
      }
      for (const [mac, upTo] of this.forgotten) if (upTo <= this.cursor) this.forgotten.delete(mac);
      if (page.length < PAGE) return;
    }
  }

  /** Drops a phone forgotten on some receiver, unless it has a newer event than the forget already. */
  private forget(mac: string, upToEventId: number): void {
    const current = this.opts.phones.get(mac);
    if (current && current.lastEventId > upToEventId) return;
    if (upToEventId > this.cursor) this.forgotten.set(mac, upToEventId);
    this.opts.phones.delete(mac);
    this.opts.onForget?.(mac);
  }

  /** After a reconnect: phones forgotten while this receiver was not listening. */
  private async forgetMissed(): Promise<void> {
    const forgotten = await this.opts.store.forgottenPhones();
    for (const [mac, upTo] of forgotten) {
      const current = this.opts.phones.get(mac);
      if (current && current.lastEventId <= upTo) this.forget(mac, upTo);
    }
  }

  private async reloadPhones(macs: string[]): Promise<void> {
    for (const phone of await this.opts.shared.phones(macs)) {
      this.opts.phones.set(phone);
      this.opts.bus.publish({ type: 'phone', phone, changedCalls: [] });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.listening?.close();
    await this.running;
  }
}
