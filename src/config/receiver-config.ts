/**
 * The receiver's configuration: `receiverConfig` turns the programmatic options (`ServerOptions`) into one
 * checked, typed object with every default applied, before anything is opened, so a typo fails fast with a
 * one-line `ServerOptionError`. The receiver's parts (src/start/) read only this object.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { normalizeServerUrl } from '../core/ingest-url.ts';
import type { WebhookDestination } from '../forwarding/destinations.ts';
import type { MqttSettings } from '../forwarding/mqtt-bridge.ts';
import { openFileLimit, socketBudget } from '../http/fd-limit.ts';
import { Allowlist, parseRateLimit, type RateLimit } from '../server/access.ts';
import { ControlNetworks } from '../server/control/networks.ts';
import { ControlKeyError, defaultKeyFile, loadControlKey } from '../server/control/secrets.ts';
import { parseDuration } from '../server/duration.ts';
import { DEFAULT_REJECTION_POLICY, type RejectionPolicy } from '../server/rejections.ts';
import { OwnHostNames } from '../server/request-guard.ts';
import { isPostgresUrl } from '../store/db-url.ts';
import type { Store } from '../store/types.ts';
import { DEFAULTS, MIB } from './defaults.ts';
import { ServerOptionError } from './error.ts';
import { destinations, mqttSettings } from './forwarding.ts';
import type { ServerOptions } from './options.ts';
import { readPem } from './pem.ts';
import { weakSecret } from './secrets.ts';

export type ControlKey = ReturnType<typeof loadControlKey>;

export interface ReceiverConfig {
  listen: {
    port: number;
    host: string;
    /** PEM contents: serve HTTPS. */
    tls: { cert: string; key: string } | undefined;
    /** Leave the start-up log lines to `RunningServer.announce`. */
    deferAnnouncement: boolean;
  };
  /** The logger given, else one at `logLevel`. */
  logger: Logger | undefined;
  logLevel: string;
  now: () => number;
  store: {
    db: string;
    /** An already open store (closed with the receiver); then `db` is not opened. */
    given: Store | undefined;
    /** PostgreSQL: the local journal file (undefined: 503 while PostgreSQL is away). */
    journal: string | undefined;
    /** The journal of an earlier run, opened at start when it exists (PostgreSQL `db`, no store given). */
    journalOfEarlierRun: string | undefined;
    timeoutMs: number;
    followPollMs: number | undefined;
    /** Started on its local journal: how often it tries to reach PostgreSQL. */
    startRetryMs: number;
  };
  /** Secrets given; an empty one is none. */
  secrets: { token: string | undefined; tokenSecret: string | undefined; adminToken: string | undefined };
  open: boolean;
  allowlist: Allowlist | undefined;
  rateLimit: RateLimit | undefined;
  publicUrl: string | undefined;
  /** Host names the dashboard and API answer to besides addresses and localhost (DNS rebinding). */
  ownHosts: OwnHostNames;
  retention: { ms: number; everyMs: number } | undefined;
  commits: { delayMs?: number; maxBatch?: number; maxInFlight?: number; stateFlushMs?: number };
  offlineAfterMs: number;
  callTimeoutMs: number;
  maxPhones: number;
  rejectionPolicy: RejectionPolicy;
  stream: { heartbeatMs: number; maxBufferedBytes: number; maxClients: number; maxTotalBytes: number };
  connections: {
    /** 0: no limit. */
    maxPerAddress: number;
    /** The limit applies to this machine's own addresses too. */
    limitLoopback: boolean;
    maxSockets: number | undefined;
    /** The process's open-file limit, when known (logged when sockets run short). */
    fileLimit: number | undefined;
  };
  control: {
    /** The key given on the command line, checked; else the key file's is read once the store has opened. */
    key: ControlKey | undefined;
    keyFile: string | undefined;
    phoneDefaults: { username: string; password: string } | undefined;
    networks: ControlNetworks;
    learnFrom: Allowlist | undefined;
    confirmTimeoutMs: number;
    sendTimeoutMs: number | undefined;
  };
  forwarding: {
    webhooks: WebhookDestination[];
    mqtt: MqttSettings | undefined;
    /** With `mqtt`: commands published to the broker run through remote control. */
    mqttCommands: boolean;
    leaseMs: number;
    tuning: NonNullable<ServerOptions['forwarding']>;
  };
}

/** The options checked and completed with the defaults; a mistake is a `ServerOptionError`. */
export function receiverConfig(options: ServerOptions): ReceiverConfig {
  if (options.requireStrongSecrets) {
    const weak = weakSecret(options);
    if (weak) throw new ServerOptionError(weak);
  }
  const db = options.db ?? DEFAULTS.db;
  const checked = checkOptions(options);
  const fileLimit = openFileLimit();
  return {
    listen: {
      port: options.port ?? DEFAULTS.port,
      host: options.host ?? DEFAULTS.host,
      tls: checked.tls,
      deferAnnouncement: Boolean(options.deferAnnouncement),
    },
    logger: options.logger,
    logLevel: options.logLevel ?? DEFAULTS.logLevel,
    now: options.now ?? Date.now,
    store: {
      db,
      given: options.store,
      journal: options.journal || undefined,
      journalOfEarlierRun: !options.store && options.journal && isPostgresUrl(db) ? options.journal : undefined,
      timeoutMs: options.dbTimeoutMs ?? DEFAULTS.dbTimeoutMs,
      followPollMs: options.followPollMs,
      startRetryMs: options.startRetryMs ?? DEFAULTS.startRetryMs,
    },
    secrets: {
      token: options.token || undefined,
      tokenSecret: options.tokenSecret || undefined,
      adminToken: options.adminToken || undefined,
    },
    open: Boolean(options.open),
    allowlist: checked.allowlist,
    rateLimit: checked.rateLimit,
    publicUrl: options.publicUrl || undefined,
    ownHosts: ownHostNames(checked.publicHost, options.allowedHosts),
    retention: checked.retention === undefined ? undefined : { ms: checked.retention, everyMs: options.retentionEveryMs ?? DEFAULTS.retentionEveryMs },
    commits: { delayMs: options.commitDelayMs, maxBatch: options.maxBatch, maxInFlight: options.maxInFlight, stateFlushMs: options.stateFlushMs },
    offlineAfterMs: options.offlineAfterMs ?? DEFAULTS.offlineAfterMs,
    callTimeoutMs: options.callTimeoutMs ?? DEFAULTS.callTimeoutMs,
    maxPhones: options.maxPhones ?? DEFAULTS.maxPhones,
    rejectionPolicy: { ...DEFAULT_REJECTION_POLICY, ...options.rejectionPolicy },
    stream: {
      heartbeatMs: options.heartbeatMs ?? DEFAULTS.heartbeatMs,
      maxBufferedBytes: options.streamMaxBufferedBytes ?? DEFAULTS.streamMaxBufferedBytes,
      maxClients: options.maxStreamClients ?? DEFAULTS.maxStreamClients,
      maxTotalBytes: options.streamMemoryBytes ?? DEFAULTS.streamMemoryMiB * MIB,
    },
    connections: {
      maxPerAddress: options.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress,
      limitLoopback: Boolean(options.limitLoopbackConnections),
      maxSockets: options.maxSockets ?? (fileLimit === undefined ? undefined : socketBudget(fileLimit)),
      fileLimit,
    },
    control: {
      key: checked.controlKey,
      keyFile: options.controlKeyFile ?? (options.store ? undefined : defaultKeyFile(db)),
      phoneDefaults: options.phoneUser !== undefined ? { username: options.phoneUser, password: options.phonePassword ?? '' } : undefined,
      networks: checked.controlNetworks,
      learnFrom: checked.controlFromSource,
      confirmTimeoutMs: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
      sendTimeoutMs: options.commandSendTimeoutMs,
    },
    forwarding: {
      webhooks: checked.webhooks,
      mqtt: checked.mqtt,
      mqttCommands: checked.mqtt !== undefined && options.mqttCommands !== false,
      leaseMs: options.forwardLeaseMs ?? DEFAULTS.forwardLeaseMs,
      tuning: options.forwarding ?? {},
    },
  };
}

/**
 * The control key for sealing phone credentials: the one given, else the key file's (read, or created
 * 0600 when missing), else one that ends with the process. Called once the store has opened, so a mistake
 * in --db is reported as such and not as a key file that cannot be written beside it.
 */
export function controlKeyOf(control: ReceiverConfig['control']): ControlKey {
  return control.key ?? loadKey({ keyFile: control.keyFile });
}

function loadKey(opts: { key?: string; keyFile?: string }): ControlKey {
  try {
    return loadControlKey(opts);
  } catch (err) {
    if (err instanceof ControlKeyError) throw new ServerOptionError(err.message);
    throw err;
  }
}

/** This machine's names (full and short), the --public-url host and the --allowed-host names. */
function ownHostNames(publicHost: string | undefined, allowedHosts: readonly string[] = []): OwnHostNames {
  const machine = hostname();
  return new OwnHostNames([machine, machine.split('.')[0], ...(publicHost ? [publicHost] : []), ...allowedHosts]);
}

function retentionMs(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '' || value === 0) return undefined;
  if (typeof value === 'number') return value;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new Error(`--retention "${value}": expected a span like 90d, 12h or 30m`);
  return ms;
}

/** The options that can be wrong, each checked in turn; the first mistake is the one reported. */
function checkOptions(options: ServerOptions) {
  let publicHost: string | undefined;
  if (options.publicUrl) {
    try {
      publicHost = new URL(normalizeServerUrl(options.publicUrl)).hostname;
    } catch (err) {
      throw new ServerOptionError(`--public-url: ${(err as Error).message}`);
    }
  }
  if (options.open && options.adminToken) {
    throw new ServerOptionError('--open and --admin-token contradict each other: --open lets anyone in, --admin-token requires the token; pick one');
  }
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new ServerOptionError('--tls-cert and --tls-key go together');
  }
  if ((options.phoneUser === undefined) !== (options.phonePassword === undefined)) {
    throw new ServerOptionError('--phone-user and --phone-password go together');
  }
  // A key given on the command line is checked now; a key file is read or created only once the store has
  // opened (controlKeyOf).
  const controlKey = options.controlKey ? loadKey({ key: options.controlKey }) : undefined;
  let controlNetworks: ControlNetworks;
  let controlFromSource: Allowlist | undefined;
  try {
    controlNetworks = new ControlNetworks(options.controlNetworks);
    controlFromSource = options.controlFromSource ? new Allowlist(options.controlFromSource) : undefined;
  } catch (err) {
    throw new ServerOptionError((err as Error).message.startsWith('--') ? (err as Error).message : `--control-from-source: ${(err as Error).message}`);
  }
  try {
    return {
      allowlist: options.allow ? new Allowlist(options.allow) : undefined,
      rateLimit: typeof options.rateLimit === 'string' ? parseRateLimit(options.rateLimit) : options.rateLimit,
      retention: retentionMs(options.retention),
      tls: options.tlsCert && options.tlsKey ? { cert: readPem(options.tlsCert), key: readPem(options.tlsKey) } : undefined,
      controlKey,
      controlNetworks,
      controlFromSource,
      publicHost,
      webhooks: destinations(options),
      mqtt: mqttSettings(options),
    };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES') throw new ServerOptionError(`cannot read ${e.path}: ${e.code}`);
    if (e.code) throw err;
    throw new ServerOptionError(e.message.startsWith('--') ? e.message : `--allow: ${e.message}`);
  }
}
