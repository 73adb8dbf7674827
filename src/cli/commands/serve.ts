/**
 * `actionurl serve`: the receiver. Every flag has an environment variable (ACTIONURL_<FLAG>) for containers
 * and service managers. At start it prints where it listens and the URL to paste into phones; on SIGINT or
 * SIGTERM it stops accepting, commits what is queued, and exits.
 */
import { Option, type Command } from 'commander';
import { networkInterfaces } from 'node:os';
import { ingestUrlTemplate } from '../../core/ingest-url.ts';
import { DEFAULTS, MIB } from '../../config/defaults.ts';
import { ServerOptionError, startServer, type RunningServer, type ServerOptions } from '../../start.ts';
import { signInLink } from '../../server/admin-access.ts';
import { StoreConfigError, StoreUnreachableError } from '../../store/open.ts';
import { intArg, LOG_LEVELS, switchArg } from '../options.ts';
import { TemporaryError, UsageError } from '../errors.ts';
import { print } from '../output.ts';

interface ServeOptions {
  port: number;
  host: string;
  db: string;
  journal: string;
  dbTimeout: number;
  token?: string;
  tokenSecret?: string;
  adminToken?: string;
  open?: boolean;
  allow?: string;
  rateLimit?: string;
  retention?: string;
  publicUrl?: string;
  allowedHost: string[];
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  maxStreamClients: number;
  streamMemory: number;
  maxConnectionsPerAddress: number;
  maxPhones: number;
  phoneUser?: string;
  phonePassword?: string;
  controlKey?: string;
  controlKeyFile?: string;
  commandTimeout: number;
  controlNetworks?: string;
  controlFromSource?: string;
  webhook: string[];
  webhookSecret: string[];
  forward?: string;
  forwardLease: number;
  mqtt?: string;
  mqttUser?: string;
  mqttPassword?: string;
  mqttCa?: string;
  mqttPrefix: string;
  haDiscovery: string | false;
  mqttCommands: boolean;
}

/** A repeatable flag; an environment variable may list several values separated by spaces. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/\s+/).filter(Boolean)];
}

function opt(flags: string, description: string, env: string, defaultValue?: unknown): Option {
  const o = new Option(flags, description).env(env);
  return defaultValue === undefined ? o : o.default(defaultValue);
}

/** The address phones on the LAN most likely reach this machine at. */
export function lanAddress(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Where it listens, as bound: every address says so (and how to reach it from this machine). */
function listeningOn(server: RunningServer, host: string): string {
  const wildcard = server.host === '0.0.0.0' || server.host === '::';
  return wildcard ? `port ${server.port} of every address of this machine (--host ${host}); here: ${server.url}` : server.url;
}

/** Stands in for a per-phone token in the banner's template (URL-safe, so it survives encoding). */
const PHONE_TOKEN_MARK = 'PHONE_TOKEN_MARK';

/** What to paste into phones: the base URL and the ingest template (`<incident>` stands for each slug). */
/** Printed by a receiver started while PostgreSQL is away, on its local journal (the full banner follows). */
export function standbyBanner(server: RunningServer, opts: ServeOptions): string {
  return [
    `actionurl receiver listening on ${listeningOn(server, opts.host)}, on its local journal ${opts.journal}`,
    '  PostgreSQL cannot be reached: phones are answered and their requests kept; the dashboard and API answer',
    '  once it is reached, and the kept requests are then stored in the order they came',
  ].join('\n');
}

export function startupBanner(server: RunningServer, opts: ServeOptions): string {
  const scheme = opts.tlsCert ? 'https' : 'http';
  const host = lanAddress(opts.host);
  const base = opts.publicUrl ?? `${scheme}://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  // With per-phone tokens (and no shared one) the template shows where each phone's own token goes.
  const perPhone = Boolean(opts.tokenSecret) && !opts.token;
  const template = ingestUrlTemplate(base, 'incoming_call', { token: perPhone ? PHONE_TOKEN_MARK : opts.token })
    .replace('/incoming_call?', '/<incident>?')
    .replace(`token=${PHONE_TOKEN_MARK}`, 'token=<phone token>');
  const configs = perPhone
    ? `${base}/provision/<mac>.cfg (cfg<mac>.xml, <MAC>.xml, …) or: actionurl config generate --server ${base} --mac <mac> --token-secret …`
    : `${base}/provision/y000000000000.cfg (and <mac>.cfg, cfg<mac>.xml, …) or: actionurl config generate --server ${base}`;
  const { adminToken, trustLocal } = server.ctx.settings;
  const dashboard = adminToken === undefined
    ? `${base}/   open to anyone who can reach it (--open)`
    : trustLocal
      ? `${base}/   no sign-in on this machine; from others, sign in with: ${signInLink(base, adminToken)}`
      : `${base}/   sign in with the --admin-token`;
  return [
    `actionurl receiver listening on ${listeningOn(server, opts.host)}`,
    `  store:       ${server.ctx.store.description}`,
    `  phones send: ${template}`,
    ...(opts.tokenSecret ? [`  tokens:      one per phone, derived from --token-secret and its MAC${opts.token ? ' (the shared --token is accepted too)' : ''}`] : []),
    `  configs:     ${configs}`,
    `  dashboard:   ${dashboard}`,
    `  API:         ${base}/api/v1/events   stream: ${base}/api/v1/stream   metrics: ${base}/metrics`,
    `  control:     POST ${base}/api/v1/phones/<mac>/commands {"command":"dial","number":"2001"}  or: actionurl command <mac> dial 2001 --server ${base}`,
  ].join('\n');
}

/** The flags as `startServer` takes them; the checks and the defaults of what is left out are the receiver's. */
function serverOptions(opts: ServeOptions): ServerOptions {
  return {
    port: opts.port,
    host: opts.host,
    deferAnnouncement: true,
    requireStrongSecrets: true,
    db: opts.db,
    journal: opts.journal === 'off' ? undefined : opts.journal,
    dbTimeoutMs: opts.dbTimeout,
    token: opts.token,
    tokenSecret: opts.tokenSecret,
    adminToken: opts.adminToken,
    open: Boolean(opts.open),
    allow: opts.allow,
    rateLimit: opts.rateLimit,
    retention: opts.retention,
    publicUrl: opts.publicUrl,
    allowedHosts: opts.allowedHost.flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean),
    tlsCert: opts.tlsCert,
    tlsKey: opts.tlsKey,
    logLevel: opts.logLevel,
    maxStreamClients: opts.maxStreamClients,
    streamMemoryBytes: opts.streamMemory * MIB,
    maxConnectionsPerAddress: opts.maxConnectionsPerAddress,
    phoneUser: opts.phoneUser,
    phonePassword: opts.phonePassword,
    controlKey: opts.controlKey,
    controlKeyFile: opts.controlKeyFile,
    commandTimeoutMs: opts.commandTimeout,
    controlNetworks: opts.controlNetworks,
    controlFromSource: opts.controlFromSource,
    maxPhones: opts.maxPhones,
    webhook: opts.webhook,
    webhookSecret: opts.webhookSecret,
    forward: opts.forward,
    forwardLeaseMs: opts.forwardLease * 1000,
    mqtt: opts.mqtt
      ? {
          url: opts.mqtt,
          username: opts.mqttUser,
          password: opts.mqttPassword,
          ca: opts.mqttCa,
          prefix: opts.mqttPrefix,
          discoveryPrefix: opts.haDiscovery === false ? null : opts.haDiscovery,
        }
      : undefined,
    mqttCommands: opts.mqttCommands,
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the receiver: phones send Action URL requests here; REST API, event stream, dashboard')
    .addOption(opt('--port <port>', 'TCP port', 'ACTIONURL_PORT', DEFAULTS.port).argParser(intArg(0, 65535)))
    .addOption(opt('--host <address>', 'address to listen on', 'ACTIONURL_HOST', DEFAULTS.host))
    .addOption(opt('--db <file|url>', 'SQLite file (created if missing) or postgres:// URL', 'ACTIONURL_DB', DEFAULTS.db))
    .addOption(opt(
      '--journal <file>',
      'with a postgres:// --db: local SQLite file that keeps accepted events while PostgreSQL is unreachable '
        + '(moved in, in order, when it is back); one per receiver; "off" answers 503 instead',
      'ACTIONURL_JOURNAL',
      DEFAULTS.journal,
    ))
    .addOption(opt(
      '--db-timeout <ms>',
      'with a postgres:// --db: a write waits this long for the database before it counts as away (events go to '
        + 'the journal) and /healthz this long before it says so',
      'ACTIONURL_DB_TIMEOUT',
      DEFAULTS.dbTimeoutMs,
    ).argParser(intArg(100, 60_000)))
    .addOption(opt('--token <token>', 'ingest token phones must send as token=<token>', 'ACTIONURL_TOKEN'))
    .addOption(opt(
      '--token-secret <secret>',
      'per-phone ingest tokens: each phone sends its own token, derived from this secret and its MAC '
        + '(/provision/<mac file> and config generate --mac M --token-secret S write it); --token is accepted too when set',
      'ACTIONURL_TOKEN_SECRET',
    ))
    .addOption(opt(
      '--admin-token <token>',
      'token for the API and dashboard from everywhere (Authorization: Bearer); default: this machine gets in, '
        + 'others need the token generated at first start (printed as a sign-in link)',
      'ACTIONURL_ADMIN_TOKEN',
    ))
    // An optional on/off value, so ACTIONURL_OPEN=false means closed: a plain flag's variable switches it on
    // whatever it says, and opening the call logs by mistake is the one outcome to avoid.
    .addOption(
      new Option('--open [on|off]', 'let anyone who can reach the port see the dashboard and API (no token)')
        .env('ACTIONURL_OPEN')
        .preset('on')
        .argParser(switchArg),
    )
    .addOption(opt('--allow <cidrs>', 'sources that may send events, e.g. 10.0.0.0/8,fd00::/8', 'ACTIONURL_ALLOW'))
    .addOption(opt('--rate-limit <rate>', 'per-source limit in requests/s, optional burst: 50 or 50/s:200', 'ACTIONURL_RATE_LIMIT'))
    .addOption(opt('--retention <span>', 'delete events older than this, e.g. 90d (default: keep all)', 'ACTIONURL_RETENTION'))
    .addOption(opt('--public-url <url>', 'base URL phones reach this server at (for provisioning and set-up)', 'ACTIONURL_PUBLIC_URL'))
    .addOption(
      opt(
        '--allowed-host <name>',
        'a host name the dashboard and API answer to (default access mode), besides addresses, localhost, this machine\'s '
          + 'name and the --public-url host; repeatable or comma-separated',
        'ACTIONURL_ALLOWED_HOSTS',
      ).argParser(collect).default([]),
    )
    .addOption(opt('--tls-cert <file>', 'PEM certificate chain: serve HTTPS', 'ACTIONURL_TLS_CERT'))
    .addOption(opt('--tls-key <file>', 'PEM private key for --tls-cert', 'ACTIONURL_TLS_KEY'))
    .addOption(opt('--max-stream-clients <n>', 'event-stream clients at once; more get 503', 'ACTIONURL_MAX_STREAM_CLIENTS', DEFAULTS.maxStreamClients).argParser(intArg(1, 100_000)))
    .addOption(
      opt('--stream-memory <MiB>', 'unsent bytes all event-stream clients together may hold; past it the furthest behind are dropped first', 'ACTIONURL_STREAM_MEMORY', DEFAULTS.streamMemoryMiB)
        .argParser(intArg(1, 1_048_576)),
    )
    .addOption(
      opt(
        '--max-connections-per-address <n>',
        'connections open at once from one source address (this machine\'s own not counted); more are closed; 0: no limit',
        'ACTIONURL_MAX_CONNECTIONS_PER_ADDRESS',
        DEFAULTS.maxConnectionsPerAddress,
      ).argParser(intArg(0, 10_000_000)),
    )
    .addOption(opt('--phone-user <user>', 'remote control: phones\' web admin user, for phones without credentials of their own', 'ACTIONURL_PHONE_USER'))
    .addOption(opt('--phone-password <password>', 'remote control: that account\'s password (prefer the environment variable)', 'ACTIONURL_PHONE_PASSWORD'))
    .addOption(opt('--control-key <key>', 'key sealing stored phone credentials: 64 hex digits (default: the key file)', 'ACTIONURL_CONTROL_KEY'))
    .addOption(opt('--control-key-file <file>', 'file holding that key, created 0600 when missing (default: control.key beside the SQLite file)', 'ACTIONURL_CONTROL_KEY_FILE'))
    .addOption(opt('--command-timeout <ms>', 'remote control: a command the phone\'s Action URL does not confirm within this fails', 'ACTIONURL_COMMAND_TIMEOUT', DEFAULTS.commandTimeoutMs).argParser(intArg(100, 600_000)))
    .addOption(opt(
      '--control-networks <cidrs>',
      'remote control: networks commands may go to (default: private and loopback, 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8,::1/128,fc00::/7; '
        + 'link-local and cloud metadata addresses never)',
      'ACTIONURL_CONTROL_NETWORKS',
    ))
    .addOption(opt(
      '--control-from-source <cidrs>',
      'remote control: approve the source address of a phone\'s own request as its control address when it has none and the source is in these networks',
      'ACTIONURL_CONTROL_FROM_SOURCE',
    ))
    .addOption(opt('--max-phones <n>', 'most phones kept; events from further new MACs get 503', 'ACTIONURL_MAX_PHONES', DEFAULTS.maxPhones).argParser(intArg(1, 10_000_000)))
    .addOption(
      opt('--webhook <url>', 'POST every event here, signed the Standard Webhooks way (repeatable)', 'ACTIONURL_WEBHOOK').argParser(collect).default([]),
    )
    .addOption(
      opt('--webhook-secret <whsec>', 'signing secret whsec_…: one per --webhook in the same order, or one for all', 'ACTIONURL_WEBHOOK_SECRET')
        .argParser(collect)
        .default([]),
    )
    .addOption(opt('--forward <file>', 'JSON file of destinations, each with its own secret and filters (see docs/forwarding.md)', 'ACTIONURL_FORWARD'))
    .addOption(
      opt(
        '--forward-lease <seconds>',
        'several receivers on one PostgreSQL: a receiver\'s hold on its share of the deliveries lasts this long unrenewed; a dead one\'s are taken over after it',
        'ACTIONURL_FORWARD_LEASE',
        DEFAULTS.forwardLeaseMs / 1000,
      ).argParser(intArg(2, 600)),
    )
    .addOption(opt('--mqtt <url>', 'publish events, phone states and Home Assistant discovery to this broker, e.g. mqtt://127.0.0.1:1883', 'ACTIONURL_MQTT'))
    .addOption(opt('--mqtt-user <name>', 'MQTT user name (or put it in the --mqtt URL)', 'ACTIONURL_MQTT_USER'))
    .addOption(opt('--mqtt-password <password>', 'MQTT password (or put it in the --mqtt URL)', 'ACTIONURL_MQTT_PASSWORD'))
    .addOption(opt('--mqtt-ca <file>', 'PEM CA certificate to trust for mqtts://', 'ACTIONURL_MQTT_CA'))
    .addOption(opt('--mqtt-prefix <prefix>', 'MQTT topic prefix', 'ACTIONURL_MQTT_PREFIX', DEFAULTS.mqttPrefix))
    .addOption(opt('--ha-discovery <prefix>', 'Home Assistant discovery prefix', 'ACTIONURL_HA_DISCOVERY', DEFAULTS.haDiscoveryPrefix))
    .addOption(new Option('--no-ha-discovery', 'do not publish Home Assistant discovery'))
    .addOption(
      new Option('--mqtt-commands <on|off>', 'with --mqtt: run commands published to <prefix>/<mac>/command/<command> and show controls in Home Assistant')
        .env('ACTIONURL_MQTT_COMMANDS')
        .default(true, 'on')
        .argParser(switchArg),
    )
    .addOption(new Option('--no-mqtt-commands', 'with --mqtt: no command topics, no controls in Home Assistant (same as --mqtt-commands off)'))
    .addOption(opt('--log-level <level>', 'how much to log', 'ACTIONURL_LOG_LEVEL', DEFAULTS.logLevel).choices(LOG_LEVELS))
    .action(async (opts: ServeOptions) => {
      const port = opts.port;
      let server: RunningServer;
      try {
        server = await startServer(serverOptions(opts));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (err instanceof StoreUnreachableError) throw new TemporaryError(e.message);
        if (err instanceof StoreConfigError || err instanceof ServerOptionError) throw new UsageError(e.message);
        if (e.code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${opts.host} is in use; pick another with --port`);
        if (e.code === 'EADDRNOTAVAIL') throw new UsageError(`--host ${opts.host} is not an address of this machine; give one it has, or 0.0.0.0 for all`);
        if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') throw new UsageError(`--host ${opts.host}: no such host name; give an address of this machine, or 0.0.0.0 for all`);
        if (e.code === 'EACCES') throw new UsageError(`not allowed to listen on ${opts.host}:${port} or open ${opts.db}: ${e.message}`);
        if (e.code === 'ERR_OSSL_PEM_NO_START_LINE' || /PEM|certificate|key values mismatch/i.test(e.message)) {
          throw new UsageError(`--tls-cert/--tls-key: ${e.message}`);
        }
        throw err;
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          // A second signal: the user wants out now.
          process.exit(130);
        }
        stopping = true;
        server.logger.info({ signal }, 'stopping: finishing requests in hand and committing the queue');
        server.close().then(
          () => process.exit(0),
          (err) => {
            server.logger.error({ err }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));

      const ready = server.ready;
      if (server.starting) {
        await print(standbyBanner(server, opts));
        server.logger.flush?.();
        server.announce();
      }
      await ready;
      if (server.starting) return; // stopped before PostgreSQL was reached
      await print(startupBanner(server, opts));
      server.logger.flush?.();
      server.announce();
    });
}
