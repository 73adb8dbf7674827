/**
 * The MQTT bridge (the `mqtt` package): the topics in mqtt-topics.ts and Home Assistant discovery.
 *
 * Events go through the forwarding outbox like a webhook's (destination `mqtt`): they are read from the
 * store, so those committed while the broker is unreachable are published, in order per phone, when it
 * returns; nothing waits in memory. Phone state and availability are retained topics: published on each
 * change and all again after every (re)connect, from the live states. Reconnects back off from 1 s to 30 s.
 *
 * With a command port (MQTT commands on), the bridge also subscribes to `<prefix>/+/command/+`, hands valid
 * commands to remote control through that port (wired in the composition root: forwarding does not know
 * the server), and publishes each step on `<prefix>/<mac>/command/result`. The session is clean, so commands
 * published while the receiver was disconnected are not run late; retained ones are refused.
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
import type { IncidentParts } from './payloads.ts';
import type { CommandRequest } from '../core/control/index.ts';
import { BurstGate } from './burst-gate.ts';
import { commandFilter, commandResultTopic, readCommandMessage, type InvalidKind } from './mqtt-commands.ts';

/** One step of a command as published on the result topic (the API's command JSON, or a refusal). */
export interface CommandResult {
  id: string | null;
  mac: string;
  command: string;
  status: 'sent' | 'accepted' | 'confirmed' | 'failed';
  reason: string | null;
  [field: string]: unknown;
}

/** Remote control as the bridge sees it (implemented by the server's control service, joined in src/start/forwarding.ts). */
export interface CommandPort {
  /**
   * Starts a command; `step` gets its status now and at each later step until it is final. Answers
   * `started`, or why nothing was sent (`step` got the failed result with the reason then).
   */
  run(mac: string, request: CommandRequest, step: (result: CommandResult) => void): 'started' | 'unknown_phone' | 'busy';
}

/** Outcome of a message on a command topic, for the metric. */
export type CommandMessageOutcome = 'started' | 'unknown_phone' | 'busy' | InvalidKind;

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
  /** Remote control: commands on (subscription, result topic, control entities). Undefined: off. */
  commands?: CommandPort;
  /** Counts messages on command topics by outcome. */
  commandMessages?: { inc(labels: { outcome: CommandMessageOutcome }): void };
}

/** Invalid command messages: the first is logged, the rest of a burst counted, for this long. */
const INVALID_LOG_WINDOW_MS = 10_000;

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
  /** Phones forgotten while the broker was away: removed from it when it is back. */
  private readonly toRemove = new Set<string>();
  private readonly invalidGate = new BurstGate(INVALID_LOG_WINDOW_MS);
  private invalidTimer: NodeJS.Timeout | undefined;

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
      // announceAll subscribes after each connect; mqtt.js doing it too would make the broker replay every
      // retained message twice.
      resubscribe: false,
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
    client.on('message', (topic, payload, packet) => {
      if (this.o.discoveryPrefix && topic === `${this.o.discoveryPrefix}/status`) {
        if (payload.toString() !== 'online') return;
        // Home Assistant (re)started: it forgets non-retained state; tell it everything again.
        this.announced.clear();
        void this.announceAll().catch((err) => this.o.logger.error({ err }, 'MQTT: re-announcing failed'));
        return;
      }
      if (this.o.commands) this.onCommandMessage(topic, payload, packet.retain);
    });
  }

  /** A message on a command topic: run it, or count and (once per burst) log why not. Never throws. */
  private onCommandMessage(topic: string, payload: Buffer, retained: boolean): void {
    const message = readCommandMessage(this.o.prefix, topic, payload, retained);
    if (message.kind === 'ignore') return;
    if (message.kind === 'invalid') {
      this.o.commandMessages?.inc({ outcome: message.why });
      this.logInvalid(topic, message.reason);
      // A topic with a MAC gets its answer where a Home Assistant automation would look for it.
      if (message.mac) {
        this.publishResult({ id: null, mac: message.mac, command: message.command ?? '', status: 'failed', reason: message.reason });
      }
      return;
    }
    const outcome = this.o.commands!.run(message.mac, message.request, (result) => this.publishResult(result));
    this.o.commandMessages?.inc({ outcome });
  }

  private publishResult(result: CommandResult): void {
    void this.publish(commandResultTopic(this.o.prefix, result.mac), JSON.stringify(result), false).catch((err) =>
      this.o.logger.debug({ err: (err as Error).message, mac: result.mac }, 'MQTT: a command result was not published'));
  }

  private logInvalid(topic: string, reason: string): void {
    if (!this.invalidGate.pass(Date.now())) {
      this.invalidTimer ??= setTimeout(() => {
        this.invalidTimer = undefined;
        const n = this.invalidGate.take();
        if (n > 0) this.o.logger.warn({ count: n }, `MQTT: ${n} more invalid command messages in the last ${INVALID_LOG_WINDOW_MS / 1000} s (counted in actionurl_mqtt_command_messages_total, not logged one by one)`);
      }, INVALID_LOG_WINDOW_MS);
      this.invalidTimer.unref();
      return;
    }
    this.o.logger.warn({ topic: topic.slice(0, 200), reason }, 'MQTT: invalid command message ignored');
  }

  private subscribe(filter: string): Promise<void> {
    const client = this.client!;
    return new Promise((resolve, reject) => {
      client.subscribe(filter, { qos: 1 }, (err, granted) => {
        if (err) reject(err);
        // A broker's ACL may refuse the subscription: it answers with failure code 128.
        else if (granted?.some((g) => g.qos === 128)) reject(new Error(`the broker refused the subscription to ${filter} (check its ACL)`));
        else resolve();
      });
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
    if (this.o.discoveryPrefix) await this.subscribe(`${this.o.discoveryPrefix}/status`).catch((err) => this.o.logger.warn({ err: err.message }, 'MQTT subscription failed'));
    // Subscribed again on every connect: the session is clean, so the broker forgot it. Before saying
    // `online`: a command sent as soon as the bridge is online must find the subscription in place.
    if (this.o.commands) await this.subscribe(commandFilter(this.o.prefix)).catch((err) => this.o.logger.error({ err: err.message }, 'MQTT: commands cannot be received'));
    await this.publish(bridgeAvailabilityTopic(this.o.prefix), 'online', true);
    for (const mac of [...this.toRemove]) await this.removePhone(mac);
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
      const payload = discoveryPayload(p, {
        prefix: this.o.prefix,
        discoveryPrefix: this.o.discoveryPrefix,
        origin: this.o.origin,
        commands: this.o.commands !== undefined,
      });
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

  /**
   * Removes a phone from Home Assistant and clears its retained topics (the phone was forgotten). While the
   * broker is away the removal waits and is done after the next connect; it never fails the caller.
   */
  async removePhone(mac: string): Promise<void> {
    this.announced.delete(mac);
    this.available.delete(mac);
    this.dirty.delete(mac);
    this.toRemove.add(mac);
    if (!this.connected()) return;
    try {
      if (this.o.discoveryPrefix) await this.publish(discoveryTopic(this.o.discoveryPrefix, mac), '', true);
      await this.publish(stateTopic(this.o.prefix, mac), '', true);
      await this.publish(availabilityTopic(this.o.prefix, mac), '', true);
      // Unless the phone came back meanwhile (then its topics are published again as usual).
      this.toRemove.delete(mac);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message, mac }, 'MQTT: removing a forgotten phone waits for the broker');
    }
  }

  /** One outbox delivery: the event on its own topic and on the phone's events topic. */
  async send(d: StoredDelivery, parts?: IncidentParts): Promise<Attempt> {
    if (!this.connected()) return { verdict: { kind: 'retry', reason: 'the MQTT broker is not connected' }, status: null };
    try {
      if (d.type === 'actionurl.test') {
        await this.publish(testTopic(this.o.prefix), d.body ?? '{}', false);
      } else {
        const { payload } = eventMessage(d.body ?? '{}', parts);
        // Both at once: one write to the broker, one round trip. The phone's next event waits for both
        // acknowledgements, so each topic still sees a phone's events in order.
        await Promise.all([
          this.publish(eventTopic(this.o.prefix, d.mac, d.type), payload, false),
          this.publish(eventsTopic(this.o.prefix, d.mac), payload, false),
        ]);
      }
      return { verdict: { kind: 'delivered' }, status: null };
    } catch (err) {
      return { verdict: { kind: 'retry', reason: `MQTT: ${(err as Error).message}` }, status: null };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    if (this.invalidTimer) clearTimeout(this.invalidTimer);
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
