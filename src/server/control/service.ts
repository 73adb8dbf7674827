/**
 * Remote control on the receiver: each phone's control settings (credentials sealed), and the commands in
 * flight. A command is `sent` to the phone, `accepted` when the phone says it took it, `confirmed` when the
 * phone's own Action URL reports the effect, or `failed` with a reason (refused, unreachable, not confirmed in
 * time). Events reach it from the event bus after they are committed (on a shared PostgreSQL, every
 * receiver's events, through the follower), so the phone's report may reach any receiver; nothing here
 * touches the ingest path other than a few map operations per event (where the phone says it is, phone-settings.ts).
 *
 * Commands are kept in the store (command-log.ts): their outcome survives a restart and every receiver on
 * a shared database answers for every command. At most 20 wait for confirmation per phone on a receiver.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  CONFIRMING_INCIDENTS, confirms, encodeCommand, isConfirmable, pointlessBecause, readAnswer, refusalReason,
  withPasscode, type CommandRequest, type CommandStatus,
} from '../../core/control/index.ts';
import type { Commands, ControlSettingsStore, EventReads, StoredCommand } from '../../store/types.ts';
import type { BusMessage, EventBus } from '../bus.ts';
import type { MetricsRegistry } from '../metrics.ts';
import type { PhoneRegistry } from '../phones.ts';
import { CommandLog, isFinal, type CommandRecord } from './command-log.ts';
import { exchange, type ExchangeOptions, type ExchangeResult, type PhoneHabits } from './exchange.ts';
import { resolveTarget, resolveVendor } from './target.ts';
import type { PhoneCredentials, SecretBox } from './secrets.ts';
import { ControlNetworks } from './networks.ts';
import { PhoneControlSettings, type ControlSettingsView } from './phone-settings.ts';
import { SentSecrets } from './scrub.ts';
import type { Allowlist } from '../access.ts';

export type { CommandRecord } from './command-log.ts';
export type { ControlSettingsView } from './phone-settings.ts';


export interface ControlServiceOptions {
  /** Commands and phones' control settings; the newest event id, after which a command's confirmation is looked for. */
  store: Commands & ControlSettingsStore & Pick<EventReads, 'lastEventId'>;
  /** Other receivers share the store (the shared mode): their settings and commands are looked for there. */
  shared?: boolean;
  phones: PhoneRegistry;
  bus: EventBus;
  logger: Logger;
  registry: MetricsRegistry;
  box: SecretBox;
  defaults?: PhoneCredentials;
  /** Where control requests may go (`--control-networks`); default the private and loopback networks. */
  networks?: ControlNetworks;
  /**
   * `--control-from-source`: a phone with no approved address gets the source address of its own request
   * approved, when that is in these networks (first come: later changes make it look moved).
   */
  learnFrom?: Allowlist;
  /** A command not confirmed this long after it was created fails. Default 10 s. */
  confirmTimeoutMs?: number;
  /** A phone that has not answered the request this long is unreachable. Default 5 s. */
  sendTimeoutMs?: number;
  /** Commands kept in the store: the newest this many. Default 100,000. */
  keepCommands?: number;
  /** How often abandoned commands are failed and old ones trimmed (ms). Default 15 s. */
  sweepMs?: number;
  now: () => number;
  /** How a command's requests reach the phone; default `exchange` (HTTP). Replaceable to test the rest without a phone. */
  exchange?: (o: ExchangeOptions) => Promise<ExchangeResult>;
}

export const MAX_WAITING_PER_PHONE = 20;
export const DEFAULT_KEEP_COMMANDS = 100_000;
/** What the receiver learned about phones' control endpoints, kept for this many phones at most. */
const MAX_HABITS = 50_000;

export class ControlService {
  private readonly settings: PhoneControlSettings;
  /** Commands waiting for their confirming event, per MAC, oldest first. */
  private readonly waiting = new Map<string, CommandRecord[]>();
  /** Per phone: the firmware path and authentication that worked last (in memory; relearned after a restart). */
  private readonly habits = new Map<string, PhoneHabits>();
  private readonly networks: ControlNetworks;
  private readonly log: CommandLog;
  /** Callers told of every step of a command (accepted, then confirmed or failed): the MQTT result topic. */
  private readonly followers = new Map<string, (c: StoredCommand) => void>();
  private readonly unsubscribe: () => void;
  private readonly confirmTimeoutMs: number;
  private readonly sendTimeoutMs: number;
  private readonly finished;
  private readonly confirmSeconds;
  private closed = false;

  constructor(private readonly o: ControlServiceOptions) {
    this.networks = o.networks ?? new ControlNetworks();
    this.settings = new PhoneControlSettings({
      store: o.store, shared: o.shared === true, phones: o.phones, logger: o.logger, box: o.box, now: o.now, networks: this.networks,
      ...(o.defaults ? { defaults: o.defaults } : {}),
      ...(o.learnFrom ? { learnFrom: o.learnFrom } : {}),
      onAddressChange: (mac) => this.habits.delete(mac),
    });
    this.confirmTimeoutMs = o.confirmTimeoutMs ?? 10_000;
    this.sendTimeoutMs = Math.min(o.sendTimeoutMs ?? 5_000, this.confirmTimeoutMs);
    this.log = new CommandLog({
      store: o.store, shared: o.shared === true, logger: o.logger, now: o.now, owner: randomUUID(),
      keep: o.keepCommands ?? DEFAULT_KEEP_COMMANDS, sweepMs: o.sweepMs ?? 15_000, graceMs: 30_000, pollMs: 200,
    });
    this.finished = o.registry.counter('actionurl_control_commands_total', 'Remote-control commands by command and final status', ['command', 'status']);
    this.confirmSeconds = o.registry.histogram('actionurl_control_confirm_seconds', 'From a command created to the phone\'s Action URL confirming it',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    o.registry.gauge('actionurl_control_waiting', 'Remote-control commands waiting for confirmation', () => {
      let n = 0;
      for (const list of this.waiting.values()) n += list.length;
      return n;
    });
    this.unsubscribe = o.bus.subscribe((m) => this.onBus(m));
  }

  /** Loads the control settings and fails the commands a previous run left unfinished. */
  async load(): Promise<void> {
    await this.settings.load();
    await this.log.start();
  }

  /** Fails the commands still in flight (the receiver is stopping) and stores every outcome. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const list of [...this.waiting.values()]) {
      for (const c of [...list]) this.fail(c, 'the receiver stopped before the phone confirmed the command; whether the phone did it is unknown');
    }
    this.closed = true;
    this.settings.close();
    this.unsubscribe();
    this.waiting.clear();
    this.followers.clear();
    await this.log.close();
  }

  // ---- settings ----

  view(mac: string): ControlSettingsView {
    return this.settings.view(mac);
  }

  confirm(mac: string, body: unknown): Promise<ControlSettingsView | { error: string; status: number }> {
    return this.settings.confirm(mac, body);
  }

  put(mac: string, body: unknown): Promise<ControlSettingsView | { error: string }> {
    return this.settings.put(mac, body);
  }

  checkUrl(text: string): string | { error: string } {
    return this.settings.checkUrl(text);
  }

  remove(mac: string): Promise<void> {
    return this.settings.remove(mac);
  }

  known(mac: string): boolean {
    return this.settings.has(mac) || this.o.phones.get(mac) !== undefined;
  }

  // ---- commands ----

  /** The command (from this receiver's memory, else the store). */
  get(id: string): Promise<StoredCommand | undefined> {
    return this.log.get(id);
  }

  /** The command once it is final (confirmed, failed, or accepted for keys), or as it stands after `ms`. */
  waitFor(id: string, ms: number): Promise<StoredCommand | undefined> {
    return this.log.waitFor(id, ms);
  }

  /**
   * A command from another channel than the API (the MQTT command topics): the same checks as
   * `POST /api/v1/phones/<mac>/commands`, with every step, a refusal included, given to `step` as the API's
   * command JSON (a refusal before anything was created has `id: null`).
   */
  run(mac: string, request: CommandRequest, step: (json: CommandJson) => void): 'started' | 'unknown_phone' | 'busy' {
    const refuse = (reason: string) => step({
      ...commandJson({
        id: '', mac, command: request.command, number: request.number ?? null, keys: request.keys ? [...request.keys] : null, vendor: null,
        status: 'failed', reason, createdAt: this.o.now(), acceptedAt: null, finishedAt: null, confirmedBy: null, deadlineAt: 0, owner: '',
      }),
      id: null,
    });
    if (!this.known(mac)) {
      refuse(`no phone ${mac} has sent an event, and none is set up for control (PUT /api/v1/phones/${mac}/control with url and vendor)`);
      return 'unknown_phone';
    }
    const out = this.submit(mac, request);
    if ('busy' in out) {
      refuse(out.busy);
      return 'busy';
    }
    step(commandJson(out));
    this.follow(out.id, (c) => step(commandJson(c)));
    return 'started';
  }

  /**
   * Calls `listener` with the command at each later step (accepted, confirmed, failed) until it is final.
   * Steps after `submit` returned are always later events (the phone's answer, its Action URL, the timeout),
   * so following right after `submit` misses none. Only commands this receiver sent can be followed.
   */
  follow(id: string, listener: (c: StoredCommand) => void): void {
    const c = this.log.held(id);
    if (c && !isFinal(c)) this.followers.set(id, listener);
  }

  private tell(record: CommandRecord): void {
    const listener = this.followers.get(record.id);
    if (!listener) return;
    try {
      listener(this.log.view(record));
    } catch (err) {
      this.o.logger.error({ err, command_id: record.id }, 'a command follower failed');
    }
  }

  /** The newest commands of a phone, newest first. */
  recent(mac: string, limit: number): Promise<StoredCommand[]> {
    return this.log.recent(mac, limit);
  }

  /** Starts a command; it is returned at once (status `sent`, or `failed` when nothing could be sent). */
  submit(mac: string, request: CommandRequest): StoredCommand | { busy: string } {
    const record = this.start(mac, request);
    return 'busy' in record ? record : this.log.view(record);
  }

  private start(mac: string, request: CommandRequest): CommandRecord | { busy: string } {
    const queue = this.waiting.get(mac) ?? [];
    if (queue.length >= MAX_WAITING_PER_PHONE) {
      return { busy: `${MAX_WAITING_PER_PHONE} commands to this phone are still waiting for confirmation; try again when they finish` };
    }
    const createdAt = this.o.now();
    const record: CommandRecord = {
      id: randomUUID(), mac, request, status: 'sent', createdAt, deadlineAt: createdAt + this.confirmTimeoutMs, startedMono: performance.now(),
    };
    this.log.add(record);
    const row = this.settings.row(mac);
    const creds = this.settings.credentialsOf(row);
    if (creds === null) {
      this.fail(record, 'the stored credentials cannot be opened with this server\'s control key (was the key file replaced?): set them again');
      return record;
    }
    const seen = this.o.phones.get(mac);
    const inputs = {
      mac,
      ...(row ? { settings: { url: row.url, vendor: row.vendor, ...(creds ? { credentials: creds } : {}) } } : {}),
      ...(this.o.defaults ? { defaults: this.o.defaults } : {}),
      ...(seen ? { seen: { model: seen.model } } : {}),
    };
    const target = resolveTarget(inputs);
    // The vendor's reason first (nothing can be sent without it), then the address's.
    const vendor = resolveVendor(inputs);
    const problem = ('error' in vendor ? vendor.error : undefined) ?? this.settings.addressProblem(mac, row?.url ?? null) ?? ('error' in target ? target.error : undefined);
    if (problem || 'error' in target) {
      this.fail(record, problem!);
      return record;
    }
    record.vendor = target.vendor;
    const pointless = pointlessBecause(request, seen);
    if (pointless) {
      this.fail(record, pointless);
      return record;
    }
    const encoded = encodeCommand(target.vendor, request);
    if ('error' in encoded) {
      this.fail(record, encoded.error);
      return record;
    }
    // Waiting before sending: a phone may report the effect before it answers the request.
    if (isConfirmable(request.command)) {
      queue.push(record);
      this.waiting.set(mac, queue);
      record.timer = setTimeout(() => this.timeout(record), this.confirmTimeoutMs);
      record.timer.unref();
    }
    if (target.credentials) record.secrets = new SentSecrets(target.credentials);
    const secrets = record.secrets;
    const passcode = target.credentials ? withPasscode(target.vendor, encoded, target.credentials.password) : encoded;
    const http = target.credentials && passcode === encoded ? target.credentials : undefined;
    void (async () => {
      // Events already stored when the command goes out happened before it: they confirm nothing, even when
      // this receiver learns of them later (another receiver took them, see follower.ts).
      record.afterEventId = await this.o.store.lastEventId().catch(() => 0);
      if (isFinal(record)) return;
      const result = await (this.o.exchange ?? exchange)({
        vendor: target.vendor, baseUrl: target.baseUrl, target: passcode, timeoutMs: this.sendTimeoutMs,
        ...(http ? { credentials: http } : {}),
        ...(this.habits.has(mac) ? { habits: this.habits.get(mac) } : {}),
        lookup: this.networks.guardedLookup(),
        ...(secrets ? { onAuthorization: (v: string) => secrets.addAuthorization(v) } : {}),
      });
      this.onReply(record, target.baseUrl, result);
    })();
    return record;
  }

  private remember(mac: string, habits: PhoneHabits): void {
    this.habits.delete(mac);
    this.habits.set(mac, habits);
    if (this.habits.size > MAX_HABITS) this.habits.delete(this.habits.keys().next().value!);
  }

  private onReply(record: CommandRecord, baseUrl: string, result: ExchangeResult): void {
    if (result.habits) this.remember(record.mac, result.habits);
    if (record.status === 'confirmed' || record.status === 'failed') return;
    const vendor = record.vendor!;
    if ('refused' in result) {
      this.fail(record, `the control address ${baseUrl} is refused: ${result.error}`);
      return;
    }
    if ('error' in result) {
      this.fail(record, `the phone at ${baseUrl} is unreachable (${result.error}); not retried`);
      return;
    }
    if ('failure' in result) {
      this.fail(record, record.secrets ? record.secrets.scrub(result.failure) : result.failure);
      return;
    }
    const reply = result.reply;
    // The answer as the phone gave it decides (a password "success" must not turn Grandstream's
    // {"response":"success"} into a refusal); what is quoted of it is read from the answer with whatever the
    // phone echoed of the request blanked, before it is shortened.
    const reading = readAnswer(vendor, reply.status, reply.body);
    if (!reading.accepted) {
      const quoted = record.secrets ? readAnswer(vendor, reply.status, record.secrets.scrub(reply.body)) : reading;
      const detail = quoted.accepted ? '' : quoted.detail;
      this.fail(record, refusalReason(vendor, reading.refusal, detail, reply.localAddress));
      return;
    }
    record.status = 'accepted';
    record.acceptedAt = this.o.now();
    // A raw key press has no effect a phone reports: accepted is as far as it goes.
    if (!isConfirmable(record.request.command)) this.finish(record, 'accepted');
    else {
      this.log.save(record);
      this.tell(record);
    }
  }

  private onBus(m: BusMessage): void {
    if (m.type !== 'event') return;
    if (!this.closed) this.settings.noteEvent(m.event);
    if (this.waiting.size === 0) return;
    const queue = this.waiting.get(m.event.mac);
    if (!queue) return;
    const record = queue.find((c) => c.afterEventId !== undefined && m.event.id > c.afterEventId && confirms(c.request, m.event));
    if (!record) return;
    record.confirmedBy = { eventId: m.event.id, incident: m.event.incident };
    this.confirmSeconds.observe((performance.now() - record.startedMono) / 1000);
    this.finish(record, 'confirmed');
  }

  private timeout(record: CommandRecord): void {
    if (record.status === 'confirmed' || record.status === 'failed') return;
    const incidents = CONFIRMING_INCIDENTS[record.request.command].join(' or ');
    const s = this.confirmTimeoutMs / 1000;
    this.fail(record, record.status === 'accepted'
      ? `the phone accepted the command but its Action URL reported no ${incidents} within ${s} s: check that the phone's Action URL for ${incidents} points at this server, and that the command made sense in the phone's state`
      : `no answer and no ${incidents} from the phone within ${s} s`);
  }

  private fail(record: CommandRecord, reason: string): void {
    record.reason = reason;
    this.finish(record, 'failed');
  }

  private finish(record: CommandRecord, status: CommandStatus): void {
    record.status = status;
    record.finishedAt = this.o.now();
    if (record.timer) clearTimeout(record.timer);
    record.timer = undefined;
    const queue = this.waiting.get(record.mac);
    if (queue) {
      const i = queue.indexOf(record);
      if (i !== -1) queue.splice(i, 1);
      if (queue.length === 0) this.waiting.delete(record.mac);
    }
    this.finished.inc({ command: record.request.command, status });
    this.log.save(record);
    this.tell(record);
    this.followers.delete(record.id);
    if (this.closed) return;
    const fields = { command_id: record.id, mac: record.mac, command: record.request.command, vendor: record.vendor, status, ...(record.reason ? { reason: record.reason } : {}) };
    if (status === 'failed') this.o.logger.warn(fields, 'remote-control command failed');
    else this.o.logger.info(fields, 'remote-control command finished');
  }
}

/** The JSON shape of a command in the API (`id` null: refused before one was created). */
export type CommandJson = Omit<ReturnType<typeof commandJson>, 'id'> & { id: string | null };

/** The JSON shape of a command in the API. */
export function commandJson(c: StoredCommand) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: c.id,
    mac: c.mac,
    command: c.command,
    ...(c.number !== null ? { number: c.number } : {}),
    ...(c.keys !== null ? { keys: c.keys } : {}),
    vendor: c.vendor,
    status: c.status,
    reason: c.reason,
    created_at: iso(c.createdAt),
    accepted_at: iso(c.acceptedAt),
    finished_at: iso(c.finishedAt),
    confirmed_by: c.confirmedBy ? { event_id: c.confirmedBy.eventId, incident: c.confirmedBy.incident } : null,
  };
}
