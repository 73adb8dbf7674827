/**
 * `actionurl phone`: one virtual phone. Without --script it boots, registers and serves its web page
 * (Phone → Action URL, the panel, the log, the control API) until stopped. With --script it runs the JSON
 * scenario, prints one JSON line per request it sent, and exits: 1 when a step is impossible or a request
 * did not get a 2xx answer (refused, timed out, 4xx/5xx), so a script notices a receiver that got nothing.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ingestConfig, normalizeServerUrl } from '../../core/ingest-url.ts';
import { formatMac } from '../../core/mac.ts';
import type { ExpandMode } from '../../core/templates.ts';
import type { ActionUrlConfig, VendorId } from '../../core/vendors/index.ts';
import { VENDOR_IDS } from '../../core/vendors/index.ts';
import { createPhone, type Phone, type PhoneOptions } from '../../phone/phone.ts';
import { parseScenario, runScenario } from '../../phone/scenario.ts';
import type { Delivery } from '../../phone/sender/index.ts';
import { isRefused, loadConfigText, parseVendor } from '../../phone/settings/config-file.ts';
import { startPhoneWeb } from '../../phone/web/server.ts';
import { CONTROL_AUTH_CHOICES, controlAuthOf, type RemoteControlOptions } from '../../phone/control/remote.ts';
import { controlDialect, parseControlAllowlist, readControlSettings, type FileControlSettings } from '../../core/control/index.ts';
import { UsageError } from '../errors.ts';
import { EXPAND_MODES, intArg, readFileOption } from '../options.ts';

interface PhoneCliOptions {
  port: number;
  host: string;
  mac?: string;
  ip?: string;
  model?: string;
  firmware?: string;
  user?: string;
  sipHost?: string;
  displayName?: string;
  config?: string;
  vendor?: VendorId;
  script?: string;
  target?: string;
  token?: string;
  mode: ExpandMode;
  timeout: number;
  retries: number;
  ca?: string;
  insecure?: boolean;
  http10?: boolean;
  hostHeader: boolean;
  webUser: string;
  webPassword: string;
  boot: boolean;
  actionUriAllow?: string;
  actionUriPrompt?: boolean;
  controlAuth: (typeof CONTROL_AUTH_CHOICES)[number];
  oldFirmware?: boolean;
}

function readText(file: string, what: string): string {
  return new TextDecoder('utf-8').decode(readFileOption(file, what));
}

/** `--vendor`: any case, surrounding spaces ignored. */
function vendorArg(value: string): VendorId {
  const vendor = parseVendor(value);
  if (!vendor) throw new InvalidArgumentError(`Expected one of ${VENDOR_IDS.join(', ')}.`);
  return vendor;
}

/** The phone's vendor (--vendor), its Action URL settings and the remote-control settings a config file holds. */
export interface PhoneSettingsFromOptions {
  vendor?: VendorId;
  actionUrl?: ActionUrlConfig;
  control: FileControlSettings;
}

/**
 * The Action URL settings from --config or --target (commander refuses both: each says what every URL is;
 * checked here too for callers that do not come through commander).
 */
export function actionUrlFromOptions(o: { config?: string; vendor?: VendorId; target?: string; token?: string }): ActionUrlConfig | undefined {
  return settingsFromOptions(o).actionUrl;
}

export function settingsFromOptions(o: { config?: string; vendor?: VendorId; target?: string; token?: string }): PhoneSettingsFromOptions {
  if (o.config && o.target) throw new UsageError('give --config or --target, not both');
  const vendor = o.vendor;
  if (o.target !== undefined) {
    try {
      return { ...(vendor ? { vendor } : {}), actionUrl: ingestConfig(normalizeServerUrl(o.target), o.token ? { token: o.token } : {}), control: {} };
    } catch (err) {
      throw new UsageError(`--target: ${(err as Error).message}`);
    }
  }
  if (o.config === undefined) return { ...(vendor ? { vendor } : {}), control: {} };
  const text = readText(o.config, 'config file');
  const loaded = loadConfigText(text, { ...(vendor ? { vendor } : {}), fileName: o.config });
  if (isRefused(loaded)) {
    for (const p of loaded.problems) process.stderr.write(`${o.config}: ${p}\n`);
    throw new UsageError(`${o.config}: ${loaded.error}`);
  }
  for (const n of loaded.notes) process.stderr.write(`${o.config}: note: ${n}\n`);
  // The file's vendor is the phone's vendor, and its remote-control settings (allowlist, prompt) apply.
  return { vendor: loaded.vendor, actionUrl: loaded.config, control: readControlSettings(loaded.vendor, text) };
}

/** A delivery the receiver did not take: no answer at all, or an answer other than 2xx. */
function undelivered(d: Delivery): boolean {
  return d.status === null || d.status < 200 || d.status > 299;
}

/**
 * `N of M requests did not reach the receiver (2 ECONNREFUSED, 1 HTTP 403)`, or undefined when every
 * request got a 2xx. Reasons are the transport error, else the HTTP status, most frequent first.
 */
export function undeliveredSummary(deliveries: readonly Delivery[]): string | undefined {
  const reasons = new Map<string, number>();
  let failed = 0;
  for (const d of deliveries) {
    if (!undelivered(d)) continue;
    failed++;
    const reason = d.status === null ? (d.error ?? 'no answer') : `HTTP ${d.status}`;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  if (failed === 0) return undefined;
  const list = [...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${n} ${reason}`).join(', ');
  return `${failed} of ${deliveries.length} request${deliveries.length === 1 ? '' : 's'} did not reach the receiver (${list})`;
}

/** One line per request, as the user scripts against it. */
export function deliveryLine(d: Delivery): string {
  return JSON.stringify({
    incident: d.incident, url: d.url, status: d.status, latency_ms: Math.round(d.latencyMs * 10) / 10,
    ...(d.error ? { error: d.error } : {}), ...(d.attempts > 1 ? { attempts: d.attempts } : {}), time: d.time,
  });
}

function phoneOptions(o: PhoneCliOptions, onDelivery: (d: Delivery) => void, settings: PhoneSettingsFromOptions): PhoneOptions {
  const ca = o.ca ? readFileOption(o.ca, '--ca') : undefined;
  const { actionUrl, vendor } = settings;
  const account = { user: o.user, host: o.sipHost, displayName: o.displayName };
  return {
    ...(vendor ? { vendor } : {}),
    ...(o.mac ? { mac: o.mac } : {}),
    ...(o.ip ? { ip: o.ip } : {}),
    ...(o.model ? { model: o.model } : {}),
    ...(o.firmware ? { firmware: o.firmware } : {}),
    accounts: [account],
    ...(actionUrl ? { actionUrl } : {}),
    mode: o.mode,
    transport: {
      timeoutMs: o.timeout, ...(ca ? { ca } : {}), insecure: Boolean(o.insecure),
      http10: Boolean(o.http10), noHost: !o.hostHeader,
    },
    retries: o.retries,
    onDelivery,
  };
}

function makePhone(o: PhoneCliOptions, onDelivery: (d: Delivery) => void, settings = settingsFromOptions(o)): Phone {
  const options = phoneOptions(o, onDelivery, settings);
  try {
    return createPhone(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function runScript(o: PhoneCliOptions & { script: string }): Promise<void> {
  const steps = parseScenario(readText(o.script, 'scenario'));
  if ('error' in steps) throw new UsageError(`${o.script}: ${steps.error}`);
  const deliveries: Delivery[] = [];
  const phone = makePhone(o, (d) => {
    deliveries.push(d);
    process.stdout.write(`${deliveryLine(d)}\n`);
  });
  const out = await runScenario(phone, steps);
  await phone.close();
  if (!out.ok) {
    process.stderr.write(`actionurl phone: step ${out.step} (${out.action}): ${out.error}\n`);
    process.exitCode = 1;
  }
  const failures = undeliveredSummary(deliveries);
  if (failures) {
    process.stderr.write(`actionurl phone: ${failures}\n`);
    process.exitCode = 1;
  }
}

/** --action-uri-allow / --action-uri-prompt, else what the --config file says, else nobody and no prompt. */
function remoteControlOptions(o: PhoneCliOptions, settings: PhoneSettingsFromOptions): RemoteControlOptions {
  const file = settings.control;
  const allow = o.actionUriAllow ?? file.allow ?? '';
  const list = parseControlAllowlist(allow);
  if ('error' in list) throw new UsageError(`${o.actionUriAllow !== undefined ? '--action-uri-allow' : `${o.config}`}: ${list.error}`);
  const vendor = settings.vendor ?? o.vendor ?? 'yealink';
  const dialect = controlDialect(vendor);
  if (o.oldFirmware && !dialect.keyEndpoint.olderPaths) throw new UsageError(`--old-firmware: ${dialect.label} phones have no older control endpoint in this version (Yealink phones do)`);
  if (o.controlAuth !== 'basic' && dialect.auth !== 'basic') throw new UsageError(`--control-auth: ${dialect.label} phones take the admin password as a parameter, not HTTP authentication`);
  return { allow, prompt: o.actionUriPrompt ?? file.prompt ?? false, auth: controlAuthOf(o.controlAuth), olderFirmware: o.oldFirmware ?? false };
}

async function runInteractive(o: PhoneCliOptions): Promise<void> {
  const settings = settingsFromOptions(o);
  const remoteControl = remoteControlOptions(o, settings); // a bad --action-uri-allow fails before anything starts
  const phone = makePhone(o, (d) => process.stdout.write(`${deliveryLine(d)}\n`), settings);
  let web;
  try {
    web = await startPhoneWeb(phone, { port: o.port, host: o.host, username: o.webUser, password: o.webPassword, remoteControl });
  } catch (err) {
    throw new UsageError(`cannot listen on ${o.host}:${o.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const id = phone.identity;
  process.stderr.write(
    `virtual phone ${formatMac(id.mac)} (${id.model} ${id.firmware}, ${id.ip}, account ${id.accounts[0].user}@${id.accounts[0].host})\n`
    + `  web page: ${web.url}  (user ${o.webUser}; Phone → Action URL at ${web.url}/actionurl)\n`
    + `  control:  POST ${web.url}/api/action {"do":"incoming","from":"2001","name":"…"}\n`
    + `  remote control (${id.vendor}): ${web.control.olderFirmware ? controlDialect(id.vendor).keyEndpoint.olderPaths!.join(', ') : controlDialect(id.vendor).keyEndpoint.path}${web.control.httpAuth.scheme === 'digest' ? ', HTTP Digest' : ''}, allowed from ${web.control.allow || 'nobody (--action-uri-allow)'}${web.control.prompt ? ', asks first' : ''}\n`
    + `  Action URL ${phone.config.enabled ? `enabled, ${Object.keys(phone.config.urls).length} URLs` : 'disabled: set URLs on the web page'}\n`,
  );
  if (o.boot) {
    phone.act({ do: 'boot' });
    phone.act({ do: 'register' });
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await web.close();
  await phone.close();
}

export function registerPhoneCommand(program: Command): void {
  program
    .command('phone')
    .description('one virtual phone: its web page and control API, or a JSON scenario with --script')
    .option('--port <port>', 'web page port (0: any free port)', intArg(0, 65535), 8081)
    .option('--host <host>', 'web page address', '127.0.0.1')
    .option('--mac <mac>', 'MAC address (default: generated)')
    .option('--ip <address>', 'IP address the phone reports as $ip (default: the address its web page listens on)')
    .option('--model <model>', 'model name the phone reports')
    .option('--firmware <version>', 'firmware version the phone reports')
    .option('--user <user>', 'SIP account user (default: an extension derived from the MAC)')
    .option('--sip-host <host>', 'SIP server of the account')
    .option('--display-name <name>', 'display name of the account')
    .option('--config <file>', 'Action URL settings from a vendor config file')
    .option('--vendor <vendor>', `the phone's vendor: its remote-control endpoint, default model and MAC prefix, and the format of --config (default: the --config file's vendor, else yealink): ${VENDOR_IDS.join(', ')}`, vendorArg)
    .addOption(new Option('--target <url>', 'point every incident at a receiver, e.g. http://127.0.0.1:8080').conflicts('config'))
    .option('--token <token>', 'with --target: the receiver\'s shared secret')
    .option('--script <file>', 'run this JSON scenario and exit (- reads stdin)')
    .addOption(new Option('--mode <mode>', 'phone: values raw, as firmware sends them; safe: values percent-encoded').choices(EXPAND_MODES).default('phone'))
    .option('--timeout <ms>', 'request timeout', intArg(1, 600_000), 5000)
    .option('--retries <n>', 'extra attempts after a failed request (firmware: 0)', intArg(0, 10), 0)
    .option('--ca <file>', 'extra CA certificate (PEM) for HTTPS receivers')
    .option('--insecure', 'accept any HTTPS certificate')
    .option('--http10', 'send HTTP/1.0 request lines, as some older firmware does')
    .option('--no-host-header', 'send no Host header, as some firmware does')
    .option('--web-user <user>', 'web page user name', 'admin')
    .option('--web-password <password>', 'web page password', 'admin')
    .option('--no-boot', 'start powered off (press Boot on the panel)')
    .option('--action-uri-allow <list>', 'addresses allowed to send remote-control commands: any, or a comma list (10.0.0.5,10.10.*.*); default: nobody, as on a real phone')
    .option('--action-uri-prompt', 'ask "Allow remote control?" on the web page before obeying a new address')
    .addOption(new Option('--control-auth <scheme>', 'HTTP authentication of remote-control requests: basic; digest (SHA-256 and MD5 offered); digest-md5 (MD5 only), as a Snom phone set to Digest').choices(CONTROL_AUTH_CHOICES).default('basic'))
    .option('--old-firmware', 'older firmware: the remote-control endpoint only on its older paths (Yealink /cgi-bin/ConfigManApp.com, /cgi-bin/cgiServer.exx; /servlet answers 404)')
    .action(async (opts: PhoneCliOptions) => {
      if (opts.script !== undefined) await runScript(opts as PhoneCliOptions & { script: string });
      else await runInteractive(opts);
    });
}
