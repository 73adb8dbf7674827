/**
 * Each phone's remote-control settings on the receiver: the approved control address, the vendor and the
 * sealed credentials (stored, and held in memory for commands), and where the phone's events say it is.
 * The approved address changes only by the admin's hand (the API, the dashboard, an inventory import, a
 * confirmation) or by the opt-in `--control-from-source` rule for a phone that has none; an event never
 * changes it, it can only make the phone look moved (address.ts).
 */
import type { Logger } from 'pino';
import { isVendorId, VENDOR_IDS, type VendorId } from '../../core/vendors/index.ts';
import type { ControlSettingsStore, StoredControl, StoredEvent } from '../../store/types.ts';
import type { Allowlist } from '../access.ts';
import type { PhoneRegistry } from '../phones.ts';
import { AddressReports, movedTo, reportedAddresses, urlHost, urlWithHost, type AddressReport } from './address.ts';
import { ControlNetworks, plainIp } from './networks.ts';
import type { PhoneCredentials, SecretBox } from './secrets.ts';
import { checkControlUrl, resolveVendor } from './target.ts';

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

export interface PhoneSettingsOptions {
  store: ControlSettingsStore;
  /** Other receivers share the store: what they approve must be read again now and then. */
  shared: boolean;
  phones: PhoneRegistry;
  logger: Logger;
  box: SecretBox;
  defaults?: PhoneCredentials;
  networks?: ControlNetworks;
  learnFrom?: Allowlist;
  now: () => number;
  /** A phone's control address changed or was removed: what was learnt about the old one no longer holds. */
  onAddressChange: (mac: string) => void;
  /** On a shared database: how often the settings other receivers changed are read again (ms). Default 5 s. */
  refreshMs?: number;
}

export class PhoneControlSettings {
  private readonly rows = new Map<string, StoredControl>();
  /** Where each phone's latest event says it is. */
  private readonly reports = new AddressReports();
  /** Phones whose address is being learnt from their source (one store write at a time each). */
  private readonly learning = new Set<string>();
  readonly networks: ControlNetworks;
  private closed = false;
  /** Per phone, when this receiver last wrote its settings (its own clock): see `refresh`. */
  private readonly written = new Map<string, number>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(private readonly o: PhoneSettingsOptions) {
    this.networks = o.networks ?? new ControlNetworks();
  }

  async load(): Promise<void> {
    for (const row of await this.o.store.controlSettings()) this.rows.set(row.mac, row);
    // Several receivers on one database: an address another one approved (or a confirmation, a learnt one)
    // must reach this one too, or its commands keep being refused as "moved".
    if (this.o.shared) {
      this.refreshTimer = setInterval(() => void this.refresh(), this.o.refreshMs ?? 5_000);
      this.refreshTimer.unref();
    }
  }

  close(): void {
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  /**
   * Reads every phone's settings again and takes the store's, except for phones this receiver wrote after
   * the read began (the read may predate that write). No clocks of different receivers are compared.
   */
  async refresh(): Promise<void> {
    if (this.refreshing || this.closed) return;
    this.refreshing = true;
    const started = performance.now();
    try {
      const stored = await this.o.store.controlSettings();
      const newer = (mac: string) => (this.written.get(mac) ?? -Infinity) >= started;
      const present = new Set<string>();
      for (const row of stored) {
        present.add(row.mac);
        if (newer(row.mac)) continue;
        const mine = this.rows.get(row.mac);
        if (mine?.url !== row.url) this.o.onAddressChange(row.mac);
        this.rows.set(row.mac, row);
      }
      for (const mac of [...this.rows.keys()]) {
        if (present.has(mac) || newer(mac)) continue;
        this.rows.delete(mac);
        this.o.onAddressChange(mac);
      }
    } catch (err) {
      // The database away: the next round reads again.
      this.o.logger.debug({ err }, 'could not read the control settings again');
    } finally {
      this.refreshing = false;
    }
  }

  row(mac: string): StoredControl | undefined {
    return this.rows.get(mac);
  }

  has(mac: string): boolean {
    return this.rows.has(mac);
  }

  /** Every committed event: where the phone says it is, and the `--control-from-source` rule. */
  noteEvent(event: StoredEvent): void {
    this.reports.note(event.mac, { ip: event.vars.ip ?? '', source: event.sourceIp });
    if (this.o.learnFrom && !this.closed) this.learn(event.mac, event.sourceIp);
  }

  credentialsOf(row: StoredControl | undefined): PhoneCredentials | undefined | null {
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
  addressProblem(mac: string, url: string | null): string | undefined {
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
    const row = this.rows.get(mac);
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
    const out = await this.put(mac, { url: urlWithHost(this.rows.get(mac)?.url ?? null, wanted) });
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
    const old = this.rows.get(mac);
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
    this.written.set(mac, performance.now());
    this.rows.set(mac, row);
    if (url !== old?.url) this.o.onAddressChange(mac);
    return this.view(mac);
  }

  /** A control URL checked as `put` would (for an import that must refuse it before storing anything). */
  checkUrl(text: string): string | { error: string } {
    return checkControlUrl(text, this.networks);
  }

  async remove(mac: string): Promise<void> {
    await this.o.store.deleteControl(mac);
    this.written.set(mac, performance.now());
    this.rows.delete(mac);
    this.o.onAddressChange(mac);
  }

  /** `--control-from-source`: approves the source of a phone's request when it has no approved address. */
  private learn(mac: string, source: string): void {
    if (this.rows.get(mac)?.url || this.learning.has(mac)) return;
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
}
