/**
 * The MQTT bridge (the `mqtt` package): the topics in mqtt-topics.ts and Home Assistant discovery.
 *
 * Events go through the forwarding outbox like a webhook's (destination `mqtt`): they are read from the
 * store, so those committed while the broker is unreachable are published, in order per phone, when it
 * returns; nothing waits in memory. Phone state and availability are retained topics: published on each
 * change and all again after every (re)connect, from the live states. Reconnects back off from 1 s to 30 s.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { PhoneState } from '../domain/types.ts';
import type { StoredDelivery } from '../store/types.ts';
import { MQTT_DESTINATION, SELECT_ALL } from './destinations.ts';
import { deviceId, discoveryPayload, discoveryTopic, type DiscoveryContext } from './ha-discovery.ts';
import {
  availabilityTopic,
  bridgeAvailabilityTopic,
  eventMessage,
  eventTopic,
  eventsTopic,
  stateTopic,
  testTopic,
} from './mqtt-topics.ts';
import type { Attempt, DeliveryChannel } from './outbox-worker.ts';

export interface MqttSettings {
  /** `mqtt://host:1883`, `mqtts://…`; user and password may be in it. */
  url: string;
  username?: string;
  password?: string;
  /** Trust this CA (PEM) for mqtts. */
  ca?: string;
  prefix: string;
  /** Home Assistant discovery prefix; null: no discovery. */
  discoveryPrefix: string | null;
}

export interface MqttBridgeOptions extends MqttSettings {
  logger: Logger;
  phones: { get(mac: string): PhoneState | undefined; all(): PhoneState[] };
  /** The phone's JSON (as the API shows it) at a time. */
  phoneJson(p: PhoneState, now: number): object & { presence?: string };
  now(): number;
  origin: DiscoveryContext['origin'];
  /** Shortest and longest wait between reconnects (ms). Default 1 s and 30 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A publish not acknowledged (PUBACK) within this fails, and its delivery is retried. Default 10 s. */
  publishTimeoutMs?: number;
}

/** Waits between attempts of an MQTT delivery: the bridge retries while connected and pauses while not. */
const MQTT_SCHEDULE = [0, 1000, 2000, 5000, 10_000, 30_000];
const PUBLISH_TIMEOUT_MS = 10_000;
const STATE_COALESCE_MS = 100;

export class MqttBridge implements DeliveryChannel {
  readonly name = MQTT_DESTINATION;
  readonly select = SELECT_ALL;
  readonly schedule = MQTT_SCHEDULE;
  readonly concurrency = 32;
  readonly description: string;
  private client: MqttClient | undefined;
  private readonly announced = new Set<string>();
  private readonly available = new Map<string, string>();
  private reconnectMs: number;
  private readonly dirty = new Set<string>();
  private dirtyTimer: NodeJS.Timeout | undefined;
  private onConnectionChange: (connected: boolean) => void = () => {};
  /** Publishes waiting for their PUBACK, oldest first. */
  private readonly unacked = new Map<number, { at: number; reject(err: Error): void }>();
  private publishes = 0;
  private unackedSweep: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: MqttBridgeOptions) {
    const u = new URL(o.url);
    this.description = `${u.protocol}//${u.host}`;
    this.reconnectMs = o.reconnectMinMs ?? 1000;
  }

  connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects (and keeps reconnecting); `onConnectionChange` pauses and resumes the outbox worker. */
  start(onConnectionChange: (connected: boolean) => void): void {
    this.onConnectionChange = onConnectionChange;
    const will = bridgeAvailabilityTopic(this.o.prefix);
    const options: IClientOptions = {
      clientId: `actionurl-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: this.reconnectMs,
      connectTimeout: 10_000,
      queueQoSZero: false,
      will: { topic: will, payload: Buffer.from('offline'), retain: true, qos: 1 },
      ...(this.o.username !== undefined ? { username: this.o.username } : {}),
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
      ...(this.o.ca ? { ca: this.o.ca } : {}),
    };
    const client = mqtt.connect(this.o.url, options);
    this.client = client;
    this.unackedSweep = setInterval(() => this.sweepUnacked(), Math.min(1000, this.o.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS));
    this.unackedSweep.unref();
    client.on('connect', () => {
      this.reconnectMs = this.o.reconnectMinMs ?? 1000;
      client.options.reconnectPeriod = this.reconnectMs;
      this.o.logger.info({ broker: this.description }, 'MQTT connected');
      void this.announceAll().catch((err) => this.o.logger.error({ err }, 'MQTT: publishing phone states failed'));
      this.onConnectionChange(true);
    });
    client.on('close', () => {
      if (this.closed) return;
      this.onConnectionChange(false);
      // Back off: 1 s, 2 s, 4 s … 30 s between attempts while the broker stays away.
      this.reconnectMs = Math.min(this.reconnectMs * 2, this.o.reconnectMaxMs ?? 30_000);
      client.options.reconnectPeriod = this.reconnectMs;
    });
    client.on('error', (err) => this.o.logger.warn({ err: err.message, broker: this.description }, 'MQTT connection problem'));
    client.on('message', (topic, payload) => {
      if (this.o.discoveryPrefix && topic === `${this.o.discoveryPrefix}/status` && payload.toString() === 'online') {
        // Home Assistant (re)started: it forgets non-retained state; tell it everything again.
        this.announced.clear();
        void this.announceAll().catch((err) => this.o.logger.error({ err }, 'MQTT: re-announcing failed'));
      }
    });
  }

  private publish(topic: string, payload: string, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error('the MQTT broker is not connected'));
    return new Promise((resolve, reject) => {
      const id = ++this.publishes;
      this.unacked.set(id, { at: performance.now(), reject });
      client.publish(topic, payload, { qos: 1, retain }, (err) => {
        if (!this.unacked.delete(id)) return; // already failed by the sweep
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * Publishes the broker has not acknowledged within the publish timeout fail (their deliveries are retried).
   * One sweep a second rather than a timer per message: a timer costs more than the rest of a publish.
   */
  private sweepUnacked(): void {
    const timeout = this.o.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
    const limit = performance.now() - timeout;
    for (const [id, p] of this.unacked) {
      if (p.at > limit) break; // in order of publishing
      this.unacked.delete(id);
      p.reject(new Error(`no PUBACK within ${timeout / 1000} s`));
    }
  }

  /** After a connect: bridge online, every phone's discovery, state and availability. */
  private async announceAll(): Promise<void> {
    await this.publish(bridgeAvailabilityTopic(this.o.prefix), 'online', true);
    if (this.o.discoveryPrefix) {
      await new Promise<void>((resolve) => this.client!.subscribe(`${this.o.discoveryPrefix}/status`, { qos: 1 }, () => resolve()));
    }
    this.available.clear();
    for (const p of this.o.phones.all()) await this.publishPhone(p);
  }

  /**
   * A phone's state changed (bus message): its retained state, availability, and discovery when new. A burst
   * of changes to one phone (a call is several events) is published once, with the latest state, within
   * STATE_COALESCE_MS: retained state only ever needs the newest value.
   */
  phoneChanged(phone: PhoneState): void {
    if (!this.connected()) return; // published from the live states on reconnect
    this.dirty.add(phone.mac);
    if (this.dirtyTimer) return;
    this.dirtyTimer = setTimeout(() => {
      this.dirtyTimer = undefined;
      const macs = [...this.dirty];
      this.dirty.clear();
      for (const mac of macs) {
        const p = this.o.phones.get(mac);
        if (p) void this.publishPhone(p).catch((err) => this.o.logger.warn({ err: err.message, mac }, 'MQTT: publishing the phone state failed'));
      }
    }, STATE_COALESCE_MS);
  }

  private async publishPhone(p: PhoneState): Promise<void> {
    const json = this.o.phoneJson(p, this.o.now());
    if (this.o.discoveryPrefix && !this.announced.has(p.mac)) {
      this.announced.add(p.mac);
      const payload = discoveryPayload(p, { prefix: this.o.prefix, discoveryPrefix: this.o.discoveryPrefix, origin: this.o.origin });
      await this.publish(discoveryTopic(this.o.discoveryPrefix, p.mac), JSON.stringify(payload), true);
    }
    await this.publish(stateTopic(this.o.prefix, p.mac), JSON.stringify(json), true);
    await this.publishAvailability(p.mac, json.presence === 'offline' ? 'offline' : 'online');
  }

  private async publishAvailability(mac: string, value: string): Promise<void> {
    if (this.available.get(mac) === value) return;
    this.available.set(mac, value);
    await this.publish(availabilityTopic(this.o.prefix, mac), value, true);
  }

  /** Phones whose presence went offline by silence (no event tells): called periodically. */
  async sweepAvailability(): Promise<void> {
    if (!this.connected()) return;
    for (const p of this.o.phones.all()) {
      const presence = this.o.phoneJson(p, this.o.now()).presence;
      await this.publishAvailability(p.mac, presence === 'offline' ? 'offline' : 'online');
    }
  }

  /** Removes a phone from Home Assistant and clears its retained topics (for when a phone is forgotten). */
  async removePhone(mac: string): Promise<void> {
    if (this.o.discoveryPrefix) await this.publish(discoveryTopic(this.o.discoveryPrefix, mac), '', true);
    await this.publish(stateTopic(this.o.prefix, mac), '', true);
    await this.publish(availabilityTopic(this.o.prefix, mac), '', true);
    this.announced.delete(mac);
    this.available.delete(mac);
  }

  /** One outbox delivery: the event on its own topic and on the phone's events topic. */
  async send(d: StoredDelivery): Promise<Attempt> {
    if (!this.connected()) return { verdict: { kind: 'retry', reason: 'the MQTT broker is not connected' }, status: null };
    try {
      if (d.type === 'actionurl.test') {
        await this.publish(testTopic(this.o.prefix), d.body ?? '{}', false);
      } else {
        const { payload } = eventMessage(d.body ?? '{}');
        await this.publish(eventTopic(this.o.prefix, d.mac, d.type), payload, false);
        await this.publish(eventsTopic(this.o.prefix, d.mac), payload, false);
      }
      return { verdict: { kind: 'delivered' }, status: null };
    } catch (err) {
      return { verdict: { kind: 'retry', reason: `MQTT: ${(err as Error).message}` }, status: null };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      // A clean stop says so (the last will is only for dying).
      await this.publish(bridgeAvailabilityTopic(this.o.prefix), 'offline', true).catch(() => {});
    }
    await client.endAsync(true).catch(() => {});
    if (this.unackedSweep) clearInterval(this.unackedSweep);
    for (const p of this.unacked.values()) p.reject(new Error('the MQTT bridge closed'));
    this.unacked.clear();
  }

  /** The device id Home Assistant knows a phone by. */
  static deviceId = deviceId;
}
