/**
 * Remote control on the receiver: each phone's control settings (credentials sealed), and the commands in
 * flight. A command is `sent` to the phone, `accepted` when the phone says it took it, `confirmed` when the
 * phone's own Action URL reports the effect, or `failed` with a reason (refused, unreachable, not confirmed in
 * time). Events reach it from the event bus after they are committed (on a shared PostgreSQL, every
 * receiver's events, through the follower), so the phone's report may reach any receiver; nothing here
 * touches the ingest path other than one map lookup per event.
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
import { isVendorId, VENDOR_IDS, type VendorId } from '../../core/vendors/index.ts';
import type { StoredCommand, StoredControl, Store } from '../../store/types.ts';
import type { BusMessage, EventBus } from '../bus.ts';
import type { MetricsRegistry } from '../metrics.ts';
import type { PhoneRegistry } from '../phones.ts';
import { CommandLog, isFinal, type CommandRecord } from './command-log.ts';
import { exchange, type ExchangeResult, type PhoneHabits } from './exchange.ts';
import { checkControlUrl, resolveTarget, resolveVendor } from './target.ts';
import type { PhoneCredentials, SecretBox } from './secrets.ts';
import { AddressReports, movedTo, reportedAddresses, urlHost, urlWithHost, type AddressReport } from './address.ts';
import { ControlNetworks, plainIp } from './networks.ts';
import { SentSecrets } from './scrub.ts';
import type { Allowlist } from '../access.ts';

export type { CommandRecord } from './command-log.ts';

export interface ControlSettingsView {
  mac: string;
  /** As set; null: the default. */
  url: string | null;
  vendor: string | null;
  /** Which credentials a command uses: this phone's own, the fleet default (--phone-user), or none. */
  credentials: 'set' | 'default' | 'none' | 'unreadable';
  /** What a command would use now (null where it cannot be decided yet). */
  effective: { url: string | null; vendor: VendorId | null; problem?: string };
  /** Where the phone's latest event says it is (`ip`: its `$ip`; `source`: where the request came from). */
  reported: { ip: string | null; source: string | null } | null;
  /** The approved address and the one the phone seems to have moved to: commands wait for a confirmation. */
  moved: { from: string; to: string } | null;
  updated_at: string | null;
}

export interface ControlServiceOptions {
  store: Store;
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
}

export const MAX_WAITING_PER_PHONE = 20;
export const DEFAULT_KEEP_COMMANDS = 100_000;
/** What the receiver learned about phones' control endpoints, kept for this many phones at most. */
const MAX_HABITS = 50_000;

export class ControlService {
  private readonly settings = new Map<string, StoredControl>();
  /** Commands waiting for their confirming event, per MAC, oldest first. */
  private readonly waiting = new Map<string, CommandRecord[]>();
  /** Per phone: the firmware path and authentication that worked last (in memory; relearned after a restart). */
  private readonly habits = new Map<string, PhoneHabits>();
  /** Where each phone's latest event says it is. */
  private readonly reports = new AddressReports();
  /** Phones whose address is being learnt from their source (one store write at a time each). */
  private readonly learning = new Set<string>();
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
    this.confirmTimeoutMs = o.confirmTimeoutMs ?? 10_000;
    this.sendTimeoutMs = Math.min(o.sendTimeoutMs ?? 5_000, this.confirmTimeoutMs);
    this.log = new CommandLog({
      store: o.store, logger: o.logger, now: o.now, owner: randomUUID(),
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
    for (const row of await this.o.store.controlSettings()) this.settings.set(row.mac, row);
    await this.log.start();
  }

  /** Fails the commands still in flight (the receiver is stopping) and stores every outcome. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const list of [...this.waiting.values()]) {
      for (const c of [...list]) this.fail(c, 'the receiver stopped before the phone confirmed the command; whether the phone did it is unknown');
    }
    this.closed = true;
    this.unsubscribe();
    this.waiting.clear();
    this.followers.clear();
    await this.log.close();
  }

  // ---- settings ----

  private credentialsOf(row: StoredControl | undefined): PhoneCredentials | undefined | null {
    if (!row?.credentials) return undefined;
    return this.o.box.open(row.mac, row.credentials) ?? null;
  }

  private report(mac: string): AddressReport | undefined {
    return this.reports.get(mac, this.o.phones.get(mac)?.ip);
  }

  /**
   * Why a command may not go to the approved address now (it is outside --control-networks, or the phone
   * seems to have moved), or undefined. One line, with what to do.
   */
  private addressProblem(mac: string, url: string | null): string | undefined {
    if (!url) {
      const [address] = reportedAddresses(this.report(mac));
      return `no approved control address for this phone: set "url" with PUT /api/v1/phones/${mac}/control`
        + (address ? `, or confirm the address its events report: POST /api/v1/phones/${mac}/control/confirm {"address":"${address}"}` : '');
    }
    const refused = this.networks.refuseHost(urlHost(url));
    if (refused) return `the control address ${url} is refused: ${refused}`;
    const to = movedTo(url, this.report(mac));
    if (to) {
      return `moved: confirm new address ${to}. The phone's events now report ${to}, its approved control address is ${url}; `
        + `nothing is sent (with the credentials) until the admin confirms: POST /api/v1/phones/${mac}/control/confirm {"address":"${to}"}, or set "url"`;
    }
    return undefined;
  }

  view(mac: string): ControlSettingsView {
    const row = this.settings.get(mac);
    const creds = this.credentialsOf(row);
    const seen = this.o.phones.get(mac);
    const inputs = {
      mac,
      ...(row ? { settings: { url: row.url, vendor: row.vendor } } : {}),
      ...(seen ? { seen: { model: seen.model } } : {}),
    };
    const url = row?.url ?? null;
    const vendor = resolveVendor(inputs);
    const problem = ('error' in vendor ? vendor.error : undefined) ?? this.addressProblem(mac, url);
    const report = this.report(mac);
    const to = url ? movedTo(url, report) : undefined;
    return {
      mac,
      url,
      vendor: row?.vendor ?? null,
      credentials: creds === null ? 'unreadable' : creds ? 'set' : this.o.defaults ? 'default' : 'none',
      effective: {
        url: problem ? null : url!.replace(/\/+$/, ''),
        vendor: 'error' in vendor ? null : vendor.vendor,
        ...(problem ? { problem } : {}),
      },
      reported: report ? { ip: report.ip === '' ? null : report.ip.slice(0, 64), source: report.source ?? null } : null,
      moved: url && to ? { from: urlHost(url), to } : null,
      updated_at: row ? new Date(row.updatedAt).toISOString() : null,
    };
  }

  /**
   * Approves an address the phone reports now (`{"address": "10.0.0.43"}`) as its control address: the
   * scheme, port and path of the old address are kept. An address the phone does not report is refused, so
   * the admin approves what they were shown and nothing else.
   */
  async confirm(mac: string, body: unknown): Promise<ControlSettingsView | { error: string; status: number }> {
    const address = typeof body === 'object' && body !== null ? (body as { address?: unknown }).address : undefined;
    if (typeof address !== 'string' || address === '' || Object.keys(body as object).some((k) => k !== 'address')) {
      return { error: 'expected {"address": "<an address the phone reports>"}', status: 400 };
    }
    const wanted = plainIp(address);
    const reported = reportedAddresses(this.report(mac));
    if (!reported.includes(wanted)) {
      const now = reported.length > 0 ? `it reports ${reported.join(' and ')}` : 'it has reported no address';
      return { error: `the phone does not report ${address.slice(0, 64)} now (${now}): confirm an address it reports, or set "url"`, status: 409 };
    }
    const out = await this.put(mac, { url: urlWithHost(this.settings.get(mac)?.url ?? null, wanted) });
    return 'error' in out ? { ...out, status: 400 } : out;
  }

  /**
   * Sets a phone's control settings from a JSON body: `url`, `vendor`, `username` + `password` (all
   * optional; null clears one; credentials kept when not mentioned).
   */
  async put(mac: string, body: unknown): Promise<ControlSettingsView | { error: string }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'expected {"url"?, "vendor"?, "username"?, "password"?}' };
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!['url', 'vendor', 'username', 'password'].includes(k)) return { error: `unexpected field "${k}"` };
    const old = this.settings.get(mac);
    let url = old?.url ?? null;
    if (b.url !== undefined) {
      if (b.url === null || b.url === '') url = null;
      else if (typeof b.url !== 'string') return { error: '"url" must be a string' };
      else {
        const checked = checkControlUrl(b.url, this.networks);
        if (typeof checked !== 'string') return checked;
        url = checked;
      }
    }
    let vendor = old?.vendor ?? null;
    if (b.vendor !== undefined) {
      if (b.vendor === null || b.vendor === '') vendor = null;
      else if (typeof b.vendor !== 'string' || !isVendorId(b.vendor)) return { error: `"vendor" must be one of ${VENDOR_IDS.join(', ')}` };
      else vendor = b.vendor;
    }
    let credentials = old?.credentials ?? null;
    if (b.username !== undefined || b.password !== undefined) {
      if (b.username === null && (b.password === null || b.password === undefined)) credentials = null;
      else {
        if (typeof b.username !== 'string' || b.username === '' || b.username.length > 128) return { error: '"username" must be the phone\'s web admin user name' };
        if (typeof b.password !== 'string' || b.password.length > 256) return { error: '"password" must be a string (the web admin password)' };
        credentials = this.o.box.seal(mac, { username: b.username, password: b.password });
      }
    }
    const row: StoredControl = { mac, url, vendor, credentials, updatedAt: this.o.now() };
    await this.o.store.putControl(row);
    this.settings.set(mac, row);
    // What was learnt about the old address (an older firmware path, Digest) says nothing about the new one.
    if (url !== old?.url) this.habits.delete(mac);
    return this.view(mac);
  }

  /** A control URL checked as `put` would (for an import that must refuse it before storing anything). */
  checkUrl(text: string): string | { error: string } {
    return checkControlUrl(text, this.networks);
  }

  async remove(mac: string): Promise<void> {
    await this.o.store.deleteControl(mac);
    this.settings.delete(mac);
    this.habits.delete(mac);
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
    const row = this.settings.get(mac);
    const creds = this.credentialsOf(row);
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
    const problem = ('error' in vendor ? vendor.error : undefined) ?? this.addressProblem(mac, row?.url ?? null) ?? ('error' in target ? target.error : undefined);
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
      const result = await exchange({
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
    this.reports.note(m.event.mac, { ip: m.event.vars.ip ?? '', source: m.event.sourceIp });
    if (this.o.learnFrom) this.learn(m.event.mac, m.event.sourceIp);
    if (this.waiting.size === 0) return;
    const queue = this.waiting.get(m.event.mac);
    if (!queue) return;
    const record = queue.find((c) => c.afterEventId !== undefined && m.event.id > c.afterEventId && confirms(c.request, m.event));
    if (!record) return;
    record.confirmedBy = { eventId: m.event.id, incident: m.event.incident };
    this.confirmSeconds.observe((performance.now() - record.startedMono) / 1000);
    this.finish(record, 'confirmed');
  }

  /** `--control-from-source`: approves the source of a phone's request when it has no approved address. */
  private learn(mac: string, source: string): void {
    if (this.closed || this.settings.get(mac)?.url || this.learning.has(mac)) return;
    if (!this.o.learnFrom!.allows(source) || this.networks.refuseAddress(source)) return;
    this.learning.add(mac);
    const url = urlWithHost(null, source);
    this.put(mac, { url })
      .then((out) => {
        if (!('error' in out)) this.o.logger.info({ mac, url }, 'control address approved from the phone\'s own request (--control-from-source)');
      })
      .catch((err: unknown) => this.o.logger.warn({ err, mac }, 'could not store the control address learnt from the phone\'s request'))
      .finally(() => this.learning.delete(mac));
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
