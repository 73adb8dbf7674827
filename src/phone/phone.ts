/**
 * A virtual phone: identity, Action URL settings, the call engine's state and the sender, put together.
 * `act` runs one action through the engine, and for every incident fired with a URL configured (and the
 * Active switch on) expands the URL and queues the request.
 */
import { expand, type ExpandMode } from '../core/templates.ts';
import type { ActionUrlConfig } from '../core/vendors/index.ts';
import { advance, initialState, nextDeadline, step, type Action, type FiredIncident, type HandsetState } from './engine/index.ts';
import { Sender, Transport, type Delivery, type TransportOptions } from './sender/index.ts';
import { checkConfig, normalizeConfig, type ConfigCheck } from './settings/action-url.ts';
import { buildIdentity, type IdentityOptions, type PhoneIdentity } from './settings/identity.ts';

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
}

export interface PhoneOptions extends IdentityOptions {
  actionUrl?: ActionUrlConfig;
  /** `phone` (default): values substituted raw, as firmware does. `safe`: values percent-encoded. */
  mode?: ExpandMode;
  /** A shared transport (fleet), or options for the phone's own. */
  transport?: Transport | TransportOptions;
  retries?: number;
  retryDelayMs?: number;
  noAnswerMs?: number;
  clock?: Clock;
  onDelivery?: (d: Delivery) => void;
  /** Called after every change of state (actions, time-driven incidents, settings). */
  onChange?: () => void;
}

/** An incident as the phone's own log shows it: fired, and whether a request went out for it. */
export interface FiredRecord {
  time: string;
  slug: string;
  vars: Readonly<Record<string, string>>;
  /** The expanded URL, or why nothing was sent. */
  url?: string;
  skipped?: 'disabled' | 'no_url';
}

export interface ActResult {
  incidents: FiredIncident[];
  /** One per request queued, in firing order. */
  deliveries: Promise<Delivery>[];
}

const realClock: Clock = { now: () => performance.now() };

export class Phone {
  private ident: PhoneIdentity;
  mode: ExpandMode;
  private engine: HandsetState;
  private actionUrl: ActionUrlConfig;
  private readonly sender: Sender;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private readonly clock: Clock;
  private readonly epoch: number;
  private readonly fired: FiredRecord[] = [];
  private deadlineTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: PhoneOptions = {}) {
    this.ident = buildIdentity(opts);
    this.mode = opts.mode ?? 'phone';
    this.clock = opts.clock ?? realClock;
    this.epoch = this.clock.now();
    this.engine = initialState({ device: this.identity, accounts: this.identity.accounts, noAnswerMs: opts.noAnswerMs });
    const initial = normalizeConfig(opts.actionUrl ?? { enabled: false, urls: {} });
    const check = checkConfig(initial);
    if (!check.ok) throw new Error(`Action URL settings refused: ${check.errors.map((e) => `${e.slug}: ${e.message}`).join('; ')}`);
    this.actionUrl = initial;
    this.ownsTransport = !(opts.transport instanceof Transport);
    this.transport = opts.transport instanceof Transport ? opts.transport : new Transport({
      userAgent: `${this.identity.model} ${this.identity.firmware} ${this.identity.mac}`,
      ...opts.transport,
    });
    this.sender = new Sender({
      transport: this.transport,
      retries: opts.retries,
      retryDelayMs: opts.retryDelayMs,
      onDelivery: (d) => {
        opts.onDelivery?.(d);
        opts.onChange?.();
      },
    });
  }

  get identity(): PhoneIdentity {
    return this.ident;
  }

  get mac(): string {
    return this.ident.mac;
  }

  /**
   * The address the phone really has, when none was given (the `ip` option): its web server's, so `$ip`
   * names an address where the phone answers, as a real phone's does. Meant for before boot: no incident
   * fires (an address change later is the `ip` action, which reports `ip_change`).
   */
  adoptAddress(ip: string): void {
    if (this.opts.ip !== undefined || this.engine.device.ip === ip) return;
    this.ident = { ...this.ident, ip };
    this.engine = { ...this.engine, device: { ...this.engine.device, ip } };
    this.opts.onChange?.();
  }

  get state(): HandsetState {
    return this.engine;
  }

  get config(): ActionUrlConfig {
    return this.actionUrl;
  }

  /** Replaces the Action URL settings if every URL passes the linter; otherwise keeps the old ones. */
  setConfig(config: ActionUrlConfig): ConfigCheck {
    const next = normalizeConfig(config);
    const check = checkConfig(next);
    if (check.ok) {
      this.actionUrl = next;
      this.opts.onChange?.();
    }
    return check;
  }

  /** Engine time: ms since the phone was created. */
  now(): number {
    return this.clock.now() - this.epoch;
  }

  act(action: Action): ActResult | { error: string } {
    if (this.closed) return { error: 'the phone is switched off' };
    const ticked = this.tick();
    const r = step(this.engine, action, this.now());
    if ('error' in r) {
      if (ticked.deliveries.length > 0) this.opts.onChange?.();
      return { error: r.error };
    }
    this.engine = r.state;
    const deliveries = [...ticked.deliveries, ...this.emit(r.incidents)];
    this.schedule();
    this.opts.onChange?.();
    return { incidents: [...ticked.incidents, ...r.incidents], deliveries };
  }

  /** Lets engine time catch up (no-answer forwards that are due). */
  tick(): ActResult {
    const r = advance(this.engine, this.now());
    if (r.incidents.length === 0) return { incidents: [], deliveries: [] };
    this.engine = r.state;
    const deliveries = this.emit(r.incidents);
    this.schedule();
    return { incidents: r.incidents, deliveries };
  }

  /** Incidents fired, newest last (kept: the last 200). */
  firedLog(): readonly FiredRecord[] {
    return this.fired;
  }

  deliveries(): readonly Delivery[] {
    return this.sender.deliveries();
  }

  /** Resolves when every request queued so far has been sent. */
  drained(): Promise<void> {
    return this.sender.drained();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    await this.sender.drained();
    if (this.ownsTransport) this.transport.close();
  }

  private emit(incidents: FiredIncident[]): Promise<Delivery>[] {
    const out: Promise<Delivery>[] = [];
    for (const inc of incidents) {
      const record: FiredRecord = { time: new Date().toISOString(), slug: inc.slug, vars: inc.vars };
      const template = this.actionUrl.urls[inc.slug];
      if (!this.actionUrl.enabled) record.skipped = 'disabled';
      else if (!template) record.skipped = 'no_url';
      else {
        record.url = expand(template, inc.vars, this.mode);
        out.push(this.sender.send(inc.slug, record.url));
      }
      this.fired.push(record);
      if (this.fired.length > 200) this.fired.shift();
    }
    return out;
  }

  /** A timer for the next time-driven incident; unref'd, so it never keeps a finished script alive. */
  private schedule(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    const due = nextDeadline(this.engine);
    if (due === null || this.closed || this.opts.clock) return;
    this.deadlineTimer = setTimeout(() => {
      if (this.tick().incidents.length > 0) this.opts.onChange?.();
    }, Math.max(0, due - this.now()));
    this.deadlineTimer.unref();
  }
}

export function createPhone(options: PhoneOptions = {}): Phone {
  return new Phone(options);
}
