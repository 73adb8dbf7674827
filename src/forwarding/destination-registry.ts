/**
 * The destinations forwarding sends to, each with its outbox worker, and which of them a 410 Gone switched
 * off. A switch-off is stored in the store's settings, so it holds across restarts until an administrator
 * switches the destination on again (`POST /api/v1/destinations/<name>/enable`). It names the address it
 * was for: giving the destination another URL is the fix, and switches it on at the next start.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Deliveries, Settings, StoredDelivery } from '../store/types.ts';
import type { EventSelector, WebhookDestination } from './destinations.ts';
import { describeDestination, type PeerDestination } from './lease-plan.ts';
import { OutboxWorker, type Attempt, type DeliveryChannel, type OutboxWorkerOptions } from './outbox-worker.ts';
import { webhookId, type IncidentParts } from './payloads.ts';
import { WebhookSender } from './webhook-sender.ts';

/** What a destination is made from: a webhook or a channel such as the MQTT bridge. */
export interface DestinationSpec {
  name: string;
  kind: 'webhook' | 'mqtt';
  /** The URL or broker as shown (no passwords). */
  target: string;
  /** Names the full address (a hash: URLs may hold secrets); a switch-off holds for this address only. */
  address: string;
  select: EventSelector;
  /** Everything else that decides where and how its deliveries go (compared across receivers, as a digest). */
  settings: string;
  /** Waits between attempts (ms). */
  schedule: readonly number[];
  /** Attempts at once (different phones). */
  concurrency: number;
  neverDie?: boolean;
  send(d: StoredDelivery): Promise<Attempt>;
  connected(): boolean;
  close(): void;
}

export interface Destination {
  readonly name: string;
  readonly kind: 'webhook' | 'mqtt';
  readonly target: string;
  readonly address: string;
  readonly select: EventSelector;
  /** What the other receivers are told about it. */
  readonly peer: PeerDestination;
  worker: OutboxWorker;
  /** What a new worker is made with (switching a destination on again starts a fresh one). */
  readonly workerOptions: OutboxWorkerOptions;
  disabledReason: string | null;
  disabledAt: number | null;
  /** The switch-off or switch-on under way, if any: the next one waits for it. */
  switching: Promise<void>;
  connected(): boolean;
  close(): void;
}

export interface DestinationRegistryOptions {
  store: Pick<Settings, 'setting' | 'putSetting'> & Pick<Deliveries, 'killDeliveries'>;
  logger: Logger;
  now(): number;
  /** Stores the attempt outcomes gathered so far (before a switched-off destination's deliveries are made dead). */
  flushOutcomes(): Promise<void>;
  /** Deliveries are being sent (after `start`): a destination switched on again reads its outbox at once. */
  sending(): boolean;
  /** Which destinations are switched on changed. */
  changed(enabled: readonly Destination[]): void;
}

/** Settings (the store's settings table) that keep a destination switched off (410 Gone) across restarts. */
export const disabledSetting = (name: string) => `forwarding.disabled.${name}`;

export class DestinationRegistry {
  private readonly byName = new Map<string, Destination>();

  constructor(private readonly o: DestinationRegistryOptions) {}

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Destination | undefined {
    return this.byName.get(name);
  }

  /** Every destination, in the order they were added. */
  all(): Destination[] {
    return [...this.byName.values()];
  }

  enabled(): Destination[] {
    return this.all().filter((d) => d.disabledReason === null);
  }

  add(spec: DestinationSpec, workerOptions: OutboxWorkerOptions): OutboxWorker {
    const worker = new OutboxWorker(workerOptions);
    const peer = describeDestination(spec.name, spec.kind, spec.target, spec.select, spec.settings);
    this.byName.set(spec.name, {
      name: spec.name,
      kind: spec.kind,
      target: spec.target,
      address: spec.address,
      select: spec.select,
      peer,
      worker,
      workerOptions,
      disabledReason: null,
      disabledAt: null,
      switching: Promise.resolve(),
      connected: spec.connected,
      close: spec.close,
    });
    this.o.changed(this.enabled());
    return worker;
  }

  /**
   * Reads the switch-offs earlier runs stored: those destinations stay off (their waiting deliveries are
   * made dead again, in case the run that switched them off stopped before it did), unless their address
   * changed since.
   */
  async load(): Promise<void> {
    for (const d of this.byName.values()) {
      const stored = await this.o.store.setting(disabledSetting(d.name));
      if (stored === undefined) continue;
      const off = parseSwitchOff(stored);
      if (off.address !== undefined && off.address !== d.address) {
        // The administrator gave the destination another URL since it answered 410: that is the fix.
        await this.o.store.putSetting(disabledSetting(d.name), null);
        this.o.logger.info({ destination: d.name }, 'destination switched on again: its URL changed since it answered 410 Gone');
        continue;
      }
      d.disabledReason = off.reason;
      d.disabledAt = off.at || null;
      await this.o.store.killDeliveries(d.name, off.reason, this.o.now());
      this.o.logger.warn({ destination: d.name, reason: off.reason, since: new Date(off.at).toISOString() }, 'destination still switched off (POST /api/v1/destinations/<name>/enable switches it on)');
    }
    this.o.changed(this.enabled());
  }

  /**
   * 410 Gone: the destination is switched off, also for later runs (until `enable`); its queued deliveries
   * are dead. Resolves when that is stored (a failure is logged, never thrown: a sender's answer calls this).
   */
  disable(name: string, reason: string): Promise<void> {
    const d = this.byName.get(name);
    if (!d || d.disabledReason !== null) return Promise.resolve();
    const at = this.o.now();
    d.disabledReason = reason;
    d.disabledAt = at;
    this.o.changed(this.enabled());
    this.o.logger.error({ destination: name, reason }, 'destination switched off');
    const done = d.switching.then(async () => {
      await this.o.store.putSetting(disabledSetting(name), JSON.stringify({ reason, at, address: d.address }));
      await d.worker.stop();
      d.worker.clear();
      await this.o.flushOutcomes();
      await this.o.store.killDeliveries(name, reason, this.o.now());
    });
    d.switching = done.catch((err) => this.o.logger.error({ err, destination: name }, 'switching the destination off failed'));
    return d.switching;
  }

  /**
   * A destination switched off by a 410 takes deliveries again (from the next event on; dead ones stay dead
   * until retried). False: no such destination.
   */
  async enable(name: string): Promise<boolean> {
    const d = this.byName.get(name);
    if (!d) return false;
    await d.switching;
    if (d.disabledReason === null) return true;
    await this.o.store.putSetting(disabledSetting(name), null);
    d.worker = new OutboxWorker(d.workerOptions);
    d.disabledReason = null;
    d.disabledAt = null;
    this.o.changed(this.enabled());
    this.o.logger.info({ destination: name }, 'destination switched on again');
    if (this.o.sending()) d.worker.wake();
    return true;
  }
}

/** A webhook as a destination: its URL shown without secrets, sent by a WebhookSender. */
export function webhookSpec(w: WebhookDestination, sending: { schedule: readonly number[]; concurrency: number; now(): number }): DestinationSpec {
  const sender = new WebhookSender(w, sending.now);
  return {
    name: w.name,
    kind: 'webhook',
    target: redactUrl(w.url),
    address: addressHash(w.url),
    select: w.select,
    settings: JSON.stringify([w.url, w.secret?.text ?? null, w.timeoutMs]),
    schedule: sending.schedule,
    concurrency: sending.concurrency,
    send: (d) => sender.send(webhookId(d), d.body ?? ''),
    connected: () => true,
    close: () => sender.close(),
  };
}

/**
 * A channel (the MQTT bridge) as a destination: it never gives a delivery up. `partsOf`: what a delivery's
 * body was made of, when that is still known.
 */
export function channelSpec(channel: DeliveryChannel, partsOf: (d: StoredDelivery) => IncidentParts | undefined): DestinationSpec {
  return {
    name: channel.name,
    kind: 'mqtt',
    target: channel.description,
    address: addressHash(channel.description),
    select: channel.select,
    settings: channel.description,
    schedule: channel.schedule,
    concurrency: channel.concurrency,
    neverDie: true,
    send: (d) => channel.send(d, partsOf(d)),
    connected: () => channel.connected(),
    close: () => {},
  };
}

/**
 * A stored switch-off: `{"reason", "at", "address"}`; anything else (written by hand, say) still switches
 * off, whatever the address.
 */
function parseSwitchOff(stored: string): { reason: string; at: number; address?: string } {
  try {
    const v = JSON.parse(stored) as { reason?: unknown; at?: unknown; address?: unknown };
    if (typeof v.reason === 'string' && typeof v.at === 'number') {
      return { reason: v.reason, at: v.at, ...(typeof v.address === 'string' ? { address: v.address } : {}) };
    }
  } catch {
    // not JSON: fall through
  }
  return { reason: stored.slice(0, 200) || 'switched off', at: 0 };
}

function addressHash(url: string): string {
  return createHash('sha256').update(url).digest('base64url').slice(0, 22);
}

/** `https://user:secret@host/path?token=x` → without the password; query strings often hold tokens too. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.search) u.search = '?…';
    return u.toString();
  } catch {
    return url;
  }
}
