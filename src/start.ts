/**
 * The composition root: the one place the receiver (src/server), the dashboard (src/web) and the store
 * (src/store) are put together. The server and the dashboard never import each other; this file wires them.
 *
 * Starting and stopping a receiver programmatically: `actionurl serve` uses this, and so do tests of the
 * dashboard and of virtual phones.
 *
 *   const server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent' });
 *   // server.url === 'http://127.0.0.1:<port>'
 *   await server.close();
 *
 * Closing stops accepting, answers what is in hand, commits everything queued, then closes the store.
 */
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { existsSync, readFileSync } from 'node:fs';
import { Allowlist, parseRateLimit, RateLimiter, type RateLimit } from './server/access.ts';
import { OPEN_WARNING, resolveAdminAccess } from './server/admin-access.ts';
import { createApp } from './server/app.ts';
import { EventBus } from './server/bus.ts';
import { CommitQueue } from './server/commit-queue.ts';
import { StoreHealth } from './server/store-health.ts';
import type { ReceiverSettings, ServerContext } from './server/context.ts';
import { parseDuration } from './server/duration.ts';
import { createHttpServer, type HttpServer } from './http/server.ts';
import type { HttpHandler, HttpRefusal } from './http/types.ts';
import { openFileLimit, socketBudget } from './http/fd-limit.ts';
import { createIngestHandler, createRefusalRecorder, recordRejected, redactForStorage } from './server/ingest.ts';
import { createStandby, replayHeld } from './server/standby.ts';
import { Lifetime, pause } from './core/lifetime.ts';
import { receiverMetrics } from './server/metrics.ts';
import { PhoneRegistry } from './server/phones.ts';
import { StreamFollower } from './server/follower.ts';
import { Inventory } from './server/inventory.ts';
import { DEFAULT_REJECTION_POLICY, RejectionSampler, type RejectionPolicy } from './server/rejections.ts';
import { ControlService } from './server/control/service.ts';
import { ControlNetworks } from './server/control/networks.ts';
import { ControlKeyError, defaultKeyFile, loadControlKey, SecretBox } from './server/control/secrets.ts';
import { DEFAULT_DB_TIMEOUT_MS, isPostgresUrl, openStore, StoreUnreachableError } from './store/open.ts';
import { openJournal, type PostgresOptions } from './store/postgres.ts';
import type { Journal } from './store/journal.ts';
import { DEFAULT_DB } from './store/db-url.ts';
import { normalizeServerUrl } from './core/ingest-url.ts';
import { OwnHostNames } from './server/request-guard.ts';
import { isLoopbackAddress } from './core/local-client.ts';
import { dedupeLogHook } from './server/log-dedupe.ts';
import { isStoreFull } from './store/full.ts';
import { isAuthorizedByCookie } from './web/auth.ts';
import { createWebHandler } from './web/routes.ts';
import type { Store } from './store/types.ts';
import type { PhoneState } from './domain/types.ts';
import { parseForwardFile, webhooksFromFlags, type WebhookDestination } from './forwarding/destinations.ts';
import { Forwarder } from './forwarding/forwarder.ts';
import { MqttBridge, type MqttSettings } from './forwarding/mqtt-bridge.ts';
import { checkPrefix } from './forwarding/mqtt-topics.ts';
import { callJson, eventJson, phoneJson } from './server/api/json.ts';
import { packageVersion } from './core/version.ts';

export { DEFAULT_DB };
/** `actionurl serve`'s journal with a PostgreSQL --db (programmatic callers pass one or go without). */
export const DEFAULT_JOURNAL = 'data/actionurl-journal.sqlite';

export const DEFAULT_MAX_PHONES = 50_000;
/** `--stream-memory` default: a twentieth of 200 clients' own limits, well under what a small box can spare. */
export const DEFAULT_STREAM_MEMORY_MIB = 64;
/**
 * `--max-connections-per-address` default. A phone holds one connection for a moment per event, so even a
 * thousand phones behind one NAT address rarely have 256 open at once; one client cannot take the file limit.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

export interface ServerOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** SQLite file (created with its directory), `:memory:`, or `postgres://…`. Default data/actionurl.sqlite. */
  db?: string;
  /** An already open store (the server closes it on close). Takes precedence over `db`. */
  store?: Store;
  /**
   * PostgreSQL only: the local SQLite file that holds events while PostgreSQL cannot be reached, moved in
   * when it is back. One file per receiver. Without it, events get a 503 while PostgreSQL is away.
   */
  journal?: string;
  /**
   * PostgreSQL only: how long a write waits for the database before it counts as away (events then go to
   * the journal) and how long `/healthz` waits for it (ms). Default 1000.
   */
  dbTimeoutMs?: number;
  /** Shared store: look for other receivers' events this often even without a notification (ms). Default 2 s. */
  followPollMs?: number;
  token?: string;
  /** Secret per-phone ingest tokens are derived from (with the phone's MAC); see core/phone-token.ts. */
  tokenSecret?: string;
  /**
   * Token for the dashboard and API from everywhere. Without it, clients on this machine get in and others
   * need the token generated at first start and kept in the database (see admin-access.ts).
   */
  adminToken?: string;
  /** Let anyone who can reach the port see the dashboard and API (logged as a warning). */
  open?: boolean;
  /** Comma-separated CIDR ranges or addresses that may send events and fetch provisioning files. */
  allow?: string;
  /** Per-source limit: `50`, `50/s`, `50/s:200` (burst), or the object. */
  rateLimit?: string | RateLimit;
  /** Keep events, rejected requests and ended calls this long: `90d`, or ms. Default: forever. */
  retention?: string | number;
  /** How often retention runs (ms). Default once a minute. */
  retentionEveryMs?: number;
  publicUrl?: string;
  /** PEM file paths (or contents) of the certificate chain and key: serve HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  logger?: Logger;
  /** pino level when no logger is given. Default `info`. */
  logLevel?: string;
  /**
   * Host names the dashboard and API answer to in the default access mode, besides IP literals, localhost,
   * this machine's name and the `--public-url` host (DNS rebinding, see server/request-guard.ts).
   */
  allowedHosts?: readonly string[];
  /** Leave the start-up log lines ("receiver listening", warnings) to `RunningServer.announce`. */
  deferAnnouncement?: boolean;
  /** Group commit: wait this long for more requests (ms); 0 (default) commits on the next event-loop turn. */
  commitDelayMs?: number;
  /** Group commit: most requests per transaction. */
  maxBatch?: number;
  /** Group commit: transactions handed to the store at once (default 2). */
  maxInFlight?: number;
  /** Phone states and calls are checkpointed this often (ms); events are always committed before the 200. */
  stateFlushMs?: number;
  /** A phone silent this long shows as offline. Default 1 hour. */
  offlineAfterMs?: number;
  /** Calls with no event for this long are closed (answered calls; unanswered ones after 5 minutes). Default 12 h. */
  callTimeoutMs?: number;
  /** SSE keep-alive comment interval. Default 15 s. */
  heartbeatMs?: number;
  /** Most event-stream (SSE) clients at once; beyond, `503`. Default 200. */
  maxStreamClients?: number;
  /**
   * Most phones the receiver keeps (each has its live state in memory); events from further new MACs are
   * answered 503 and kept as rejected requests. Default 50,000: five times the largest fleet the dashboard
   * is built for, while a flood of made-up MACs cannot grow memory without limit.
   */
  maxPhones?: number;
  /** An event-stream client with this many bytes unsent (it does not read) is dropped. Default 1 MiB. */
  streamMaxBufferedBytes?: number;
  /**
   * `--stream-memory`: unsent bytes all event-stream clients together may hold; past it the clients with the
   * most unsent bytes are dropped first. Default 64 MiB.
   */
  streamMemoryBytes?: number;
  /**
   * `--max-connections-per-address`: connections open at once from one source address; further ones are
   * closed at once (counted). 0: no limit. Default 256, room for a large site's phones behind one NAT.
   */
  maxConnectionsPerAddress?: number;
  /**
   * Whether that limit applies to this machine's own addresses too. Default false: a reverse proxy on the
   * same machine brings every phone's connection from there.
   */
  limitLoopbackConnections?: boolean;
  /**
   * Most sockets open at once; at it, the idle connections open longest are closed to make room. Default:
   * the process's open-file limit less a reserve for the database and outgoing connections (http/fd-limit.ts).
   */
  maxSockets?: number;
  rejectionPolicy?: Partial<RejectionPolicy>;
  /** Remote control: the web admin account used for phones that have no credentials of their own. */
  phoneUser?: string;
  phonePassword?: string;
  /** Key sealing phone credentials: 64 hex digits or base64 of 32 bytes. Default: the key file. */
  controlKey?: string;
  /** File holding that key (created 0600 when missing). Default: control.key beside the SQLite file. */
  controlKeyFile?: string;
  /** `--control-networks`: where control requests may go (CIDR list). Default: the private and loopback networks. */
  controlNetworks?: string;
  /**
   * `--control-from-source`: a phone with no approved control address gets the source address of its own
   * request approved when it is in these networks (CIDR list). Default: off, the admin sets each address.
   */
  controlFromSource?: string;
  /** A command not confirmed by the phone's Action URL this long fails (ms). Default 10 s. */
  commandTimeoutMs?: number;
  /** A phone that has not answered a control request this long is unreachable (ms). Default 5 s. */
  commandSendTimeoutMs?: number;
  /** `--webhook` URLs (each POSTed every event, signed with the matching `webhookSecret`). */
  webhook?: readonly string[];
  /** `--webhook-secret whsec_…`: one per webhook in the same order, or one for all. */
  webhookSecret?: readonly string[];
  /** `--forward FILE`: JSON destinations with their own secrets and filters (see forwarding/destinations.ts). */
  forward?: string;
  /**
   * `--mqtt mqtt://host:1883`: the MQTT topics and Home Assistant discovery (see forwarding/mqtt-topics.ts).
   * `discoveryPrefix` null switches discovery off; default `homeassistant`.
   */
  mqtt?: { url: string; username?: string; password?: string; ca?: string; prefix?: string; discoveryPrefix?: string | null };
  /**
   * With `mqtt`: run commands published to `<prefix>/<mac>/command/<command>` through remote control and
   * add the controls to Home Assistant discovery. Default true; false: no subscription, no control entities.
   */
  mqttCommands?: boolean;
  /** Tuning and test knobs for forwarding. */
  forwarding?: {
    /** Webhook retry waits (ms), instead of Standard Webhooks' schedule. */
    schedule?: readonly number[];
    concurrency?: number;
    maxLoaded?: number;
    recordEveryMs?: number;
    sweepEveryMs?: number;
    /** Longest wait between MQTT reconnects (ms); default 30 s. */
    mqttReconnectMaxMs?: number;
  };
  /**
   * `--forward-lease`: with several receivers on one PostgreSQL, how long a receiver's hold on a share of
   * the deliveries lasts without renewal (ms); a dead receiver's deliveries are taken over after it. Default 15 s.
   */
  forwardLeaseMs?: number;
  /** The clock (epoch ms); tests replace it. */
  now?: () => number;
  /** Started on its local journal (PostgreSQL away at start): how often it tries to reach PostgreSQL (ms). Default 1000. */
  startRetryMs?: number;
}

export interface RunningServer {
  /** `http://127.0.0.1:8080`: the address it listens on (0.0.0.0 shown as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The receiver's parts; throws while it is still starting on its local journal (see `ready`). */
  readonly ctx: ServerContext;
  readonly logger: Logger;
  /**
   * Resolves once the receiver is fully started: at once, or, for a receiver on PostgreSQL started while the
   * database was away, once it has been reached and the requests kept meanwhile have gone through ingest.
   */
  readonly ready: Promise<void>;
  /** True while the receiver answers phones from its local journal only (PostgreSQL not reached yet). */
  readonly starting: boolean;
  /** Writes the start-up log lines, when `deferAnnouncement` held them back. */
  announce(): void;
  close(): Promise<void>;
}

function readPem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

function retentionMs(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '' || value === 0) return undefined;
  if (typeof value === 'number') return value;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new Error(`--retention "${value}": expected a span like 90d, 12h or 30m`);
  return ms;
}

/** Logged at start when the ingest token is set but nothing limits who may fetch config files. */
export const PROVISION_TOKEN_WARNING =
  '--token is set without --allow: anyone who can reach /provision/<file> gets the ingest token in the config file; ' +
  'set --allow to the phones\' addresses (e.g. --allow 10.0.0.0/8)';

/** Logged at start when per-phone tokens are on but nothing limits who may fetch config files. */
export const PROVISION_TOKEN_SECRET_WARNING =
  '--token-secret is set without --allow: anyone who can reach /provision/<mac file> gets that phone\'s ingest token ' +
  'and can send events as that phone; set --allow to the phones\' addresses (e.g. --allow 10.0.0.0/8)';

/** Logged at start when MQTT commands are on. */
export const MQTT_COMMANDS_NOTICE =
  'MQTT commands on: whoever may publish to these topics on the broker can make phones dial, answer, hang up and reboot; ' +
  'limit that with the broker\'s ACL, or turn commands off with --no-mqtt-commands';

/** An option the user must change; the message is one line, fit to print as is. */
export class ServerOptionError extends Error {}

function readControlKey(options: ServerOptions): ReturnType<typeof loadControlKey> {
  try {
    return loadControlKey({ key: options.controlKey, keyFile: options.controlKeyFile ?? (options.store ? undefined : defaultKeyFile(options.db ?? DEFAULT_DB)) });
  } catch (err) {
    if (err instanceof ControlKeyError) throw new ServerOptionError(err.message);
    throw err;
  }
}

/** Options checked before anything is opened, so a typo fails fast with a one-line message. */
/** This machine's names (full and short), the --public-url host and the --allowed-host names. */
function ownHostNames(publicHost: string | undefined, allowedHosts: readonly string[] = []): OwnHostNames {
  const machine = hostname();
  return new OwnHostNames([machine, machine.split('.')[0], ...(publicHost ? [publicHost] : []), ...allowedHosts]);
}

type CheckedOptions = ReturnType<typeof checkOptions>;

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
  // opened, so a mistake in --db is reported as such and not as a key file that cannot be written beside it.
  const controlKey = options.controlKey ? readControlKey(options) : undefined;
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

function mqttSettings(options: ServerOptions): MqttSettings | undefined {
  const m = options.mqtt;
  if (!m) return undefined;
  let u: URL;
  try {
    u = new URL(m.url);
  } catch {
    throw new ServerOptionError(`--mqtt "${m.url}": expected mqtt://host:1883 or mqtts://host:8883`);
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(u.protocol) || !u.hostname) {
    throw new ServerOptionError(`--mqtt "${m.url}": expected mqtt://host:1883 or mqtts://host:8883`);
  }
  try {
    return {
      url: m.url,
      username: m.username || (u.username ? decodeURIComponent(u.username) : undefined),
      password: m.password || (u.password ? decodeURIComponent(u.password) : undefined),
      ca: m.ca ? readPem(m.ca) : undefined,
      prefix: checkPrefix(m.prefix ?? 'actionurl', '--mqtt-prefix'),
      discoveryPrefix: m.discoveryPrefix === null ? null : checkPrefix(m.discoveryPrefix ?? 'homeassistant', '--ha-discovery'),
    };
  } catch (err) {
    throw new ServerOptionError((err as Error).message, { cause: err });
  }
}

/** Webhook destinations from `--webhook`/`--webhook-secret` and `--forward`; names must not clash. */
function destinations(options: ServerOptions): WebhookDestination[] {
  let list: WebhookDestination[];
  try {
    list = webhooksFromFlags(options.webhook ?? [], options.webhookSecret ?? []);
  } catch (err) {
    throw new ServerOptionError((err as Error).message);
  }
  if (options.forward) {
    let text: string;
    try {
      text = readFileSync(options.forward, 'utf8');
    } catch (err) {
      throw new ServerOptionError(`--forward ${options.forward}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      list = [...list, ...parseForwardFile(text, `--forward ${options.forward}`)];
    } catch (err) {
      throw new ServerOptionError((err as Error).message);
    }
    const seen = new Set<string>();
    for (const d of list) {
      if (seen.has(d.name)) throw new ServerOptionError(`--forward ${options.forward}: name "${d.name}" is also a --webhook's; pick another`);
      seen.add(d.name);
    }
  }
  return list;
}

/** What every part of a starting receiver is given: its options, checked, and what outlives the store. */
interface Start {
  options: ServerOptions;
  checked: CheckedOptions;
  logger: Logger;
  now: () => number;
  /** Replaced by a fresh set when a receiver on its journal tries to start again (each name is registered once). */
  metrics: ReturnType<typeof receiverMetrics>;
  /** Every part made, closed in reverse order on stop and on a failed start alike. */
  life: Lifetime;
  /** Told when the local journal has been moved into PostgreSQL (the forwarder, once there is one). */
  journalMoved: { wake?: () => void };
}

/** A receiver wired to its store: what the HTTP server calls, and what runs once it listens. */
interface Receiver {
  ctx: ServerContext;
  handler: HttpHandler;
  onRefused(refusal: HttpRefusal): void;
  /** Starts the background loops (pruning, call time-outs, refusal summaries). */
  run(): void;
  /** The start-up log lines after "listening". */
  announceLines(url: string): void;
  /** What ingest is built with, for requests kept while the receiver started on its journal. */
  replay: { sampler: RejectionSampler; maxPhones: number };
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const checked = checkOptions(options);
  // Identical warnings and errors (a full disk, a database away) once per interval, with a count.
  const logger = options.logger ?? pino({ level: options.logLevel ?? 'info', hooks: { logMethod: dedupeLogHook() } });
  const start: Start = {
    options, checked, logger, now: options.now ?? Date.now, metrics: receiverMetrics(), life: new Lifetime(), journalMoved: {},
  };
  try {
    // A journal file of an earlier run is this receiver's from the start: a receiver restarted while
    // PostgreSQL is away starts on it, and requests it kept then are stored before this one listens.
    const journalPath = !options.store && options.journal && isPostgresUrl(options.db ?? DEFAULT_DB) ? options.journal : undefined;
    const journal = journalPath && existsSync(journalPath) ? openJournal(journalPath) : undefined;
    if (journal) start.life.add('journal', () => journal.close());
    let store: Store;
    try {
      store = options.store ?? (await openStore(options.db ?? DEFAULT_DB, { ...storeOptions(start), ...(journal ? { journal } : {}) }));
    } catch (err) {
      // Restarted while PostgreSQL is away: with a journal that has reached it before, start on that.
      if (err instanceof StoreUnreachableError && journal?.connectedBefore) return await startOnJournal(start, journal, err);
      throw err;
    }
    start.life.add('store', () => store.close());
    const receiver = await assemble(start, store, start.life);
    if (journal && journal.held > 0) {
      await storeKept(start, receiver, journal).catch((err) =>
        start.logger.error({ err, held: journal.held }, 'the requests kept while this receiver last started on its local journal could not be stored; they are kept for the next start'));
    }
    const http = createReceiverHttp(start, receiver);
    // Remote control closes first of all (commands waiting for a phone fail at once instead of holding
    // requests open), then the server stops taking requests and answers those in hand.
    start.life.add('http', () => http.close(5000), { closesAfter: 'control' });
    const address = await http.listen(options.port ?? 8080, options.host ?? '0.0.0.0');
    receiver.run();
    return running(start, address, { ctx: receiver.ctx, announce: receiver.announceLines });
  } catch (err) {
    await start.life.close();
    throw err;
  }
}

function storeOptions(start: Start): PostgresOptions {
  const { options, logger } = start;
  return {
    journal: options.journal || undefined,
    timeoutMs: options.dbTimeoutMs,
    onJournal: (event, { batches, err }) => {
      if (event === 'journalling') logger.warn({ err, batches }, 'PostgreSQL unreachable: events go to the local journal');
      else {
        logger.info({ batches }, 'local journal moved into PostgreSQL');
        // Outbox rows moved in with it (some about no new event) can be sent now.
        start.journalMoved.wake?.();
      }
    },
    onError: (err) => logger.error({ err }, 'moving the local journal into PostgreSQL failed'),
  };
}

/** The HTTP server of a receiver, calling whatever `stage` holds (a receiver on its journal swaps it). */
function createReceiverHttp(start: Start, stage: Pick<Receiver, 'handler' | 'onRefused'>): HttpServer {
  // `start.metrics` read at each call: a receiver on its journal gets fresh metrics at each try to start.
  const { options, checked, logger } = start;
  const fileLimit = openFileLimit();
  const http = createHttpServer({
    handler: (req, res) => stage.handler(req, res),
    tls: checked.tls,
    onHandlerError: (err, req) => logger.error({ err, method: req.method, path: req.path }, 'handler failed'),
    onResponse: (_req, status) => start.metrics.httpResponses.inc({ code: String(status) }),
    onRefused: (refusal) => stage.onRefused(refusal),
    onConnectionCount: (n) => start.metrics.connections.set(n),
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    unlimitedAddress: options.limitLoopbackConnections ? undefined : isLoopbackAddress,
    onAcceptError: (err, idleClosed) => {
      start.metrics.acceptErrors.inc({ code: err.code ?? 'unknown' });
      // Once per interval with a count (log dedupe): accepts fail for as long as the descriptors are gone.
      logger.error(
        { err, open: http.connections, idleClosed },
        'out of file descriptors: new connections wait; idle ones are closed to make room (raise the limit: ulimit -n, LimitNOFILE=)',
      );
    },
    maxSockets: options.maxSockets ?? (fileLimit === undefined ? undefined : socketBudget(fileLimit)),
    onSocketsFull: (open, idleClosed, refused) => {
      start.metrics.socketsFull.inc({ outcome: refused ? 'refused' : 'idle_closed' });
      logger.warn(
        { open, idleClosed, refused, fileLimit },
        'near the open-file limit: idle connections are closed to make room, new ones are refused when none is idle (raise it: ulimit -n, LimitNOFILE=)',
      );
    },
    onConnectionRefused: (address, open) => {
      start.metrics.connectionsRefused.inc();
      // Once per interval with a count (log dedupe), however fast the client opens sockets.
      logger.warn({ address, open }, 'connections from one address over --max-connections-per-address: new ones are closed');
    },
  });
  return http;
}

/**
 * The receiver on its store: phone states, inventory, remote control, forwarding, the commit queue and the
 * HTTP handler, each added to `life` as it is made.
 */
async function assemble(start: Start, store: Store, life: Lifetime): Promise<Receiver> {
  const { options, checked, logger, now, metrics } = start;
  const phones = new PhoneRegistry();
  const inventory = new Inventory();
  for (const entry of await store.loadInventory()) inventory.set(entry);
  const bus = new EventBus((err) => logger.error({ err }, 'an event subscriber failed'));
  const shared = store.shared;
  let follower: StreamFollower | undefined;
  if (shared) {
    let lastError = 0;
    const f = new StreamFollower({
      store,
      shared,
      phones,
      bus,
      pollMs: options.followPollMs,
      onForget: (mac) => inventory.delete(mac),
      onError: (err) => {
        // Once every 10 s at most: while the database is away every poll fails.
        if (now() - lastError < 10_000) return;
        lastError = now();
        logger.warn({ err }, 'following other receivers\' events failed; retrying');
      },
    });
    life.add('follower', () => f.stop());
    await f.start();
    follower = f;
    shared.onStates((states) => {
      for (const state of states) phones.setIfNewer(state);
    });
    metrics.registry.gauge('actionurl_journal_batches', 'Write batches held in the local journal while PostgreSQL is away', () => shared.journalled);
  } else {
    for (const state of await store.loadPhones()) phones.set(state);
  }
  const offlineAfterMs = options.offlineAfterMs ?? 3_600_000;
  const controlKey = checked.controlKey ?? readControlKey(options);
  const control = new ControlService({
    store, phones, bus, logger, registry: metrics.registry, box: new SecretBox(controlKey.key), now,
    ...(options.phoneUser !== undefined ? { defaults: { username: options.phoneUser, password: options.phonePassword ?? '' } } : {}),
    confirmTimeoutMs: options.commandTimeoutMs,
    sendTimeoutMs: options.commandSendTimeoutMs,
    networks: checked.controlNetworks,
    ...(checked.controlFromSource ? { learnFrom: checked.controlFromSource } : {}),
  });
  life.add('control', () => control.close());
  await control.load();
  if (controlKey.source === 'ephemeral') {
    logger.warn('no control key file (in-memory or PostgreSQL store): phone credentials set now are sealed with a key that ends with this process; give --control-key or --control-key-file to keep them');
  }
  const shapes = { event: eventJson, phone: (p: PhoneState, at: number) => phoneJson(p, at, offlineAfterMs), call: callJson };
  // MQTT commands: on with --mqtt unless switched off; anyone who may publish to the broker can then make
  // phones dial, so the start-up log says so (docs/forwarding.md shows a broker ACL).
  const mqttCommands = checked.mqtt !== undefined && options.mqttCommands !== false;
  const mqtt = checked.mqtt
    ? new MqttBridge({
        ...checked.mqtt,
        logger,
        phones,
        phoneJson: shapes.phone,
        now,
        reconnectMaxMs: options.forwarding?.mqttReconnectMaxMs,
        ...(mqttCommands
          ? {
              commands: { run: (mac, request, step) => control.run(mac, request, step) },
              commandMessages: metrics.registry.counter(
                'actionurl_mqtt_command_messages_total',
                'Messages on the MQTT command topics, by outcome (started, unknown_phone, busy, or why it was refused)',
                ['outcome'],
              ),
            }
          : {}),
        origin: { name: 'actionurl', sw: packageVersion(), ...(options.publicUrl ? { url: options.publicUrl } : {}) },
      })
    : undefined;
  // On a shared store every receiver has a forwarder, destinations or not: it tells the others what it
  // forwards to, so that receivers started with different forwarding settings are found out.
  const forwarder =
    checked.webhooks.length > 0 || mqtt || shared
      ? new Forwarder({
          store,
          phones,
          logger,
          metrics,
          shapes,
          webhooks: checked.webhooks,
          mqtt,
          offlineAfterMs,
          now,
          leaseMs: options.forwardLeaseMs,
          ...options.forwarding,
        })
      : undefined;
  if (forwarder) {
    // After the follower that feeds it has stopped.
    life.add('forwarder', () => forwarder.close(), { closesAfter: follower ? 'follower' : undefined });
    start.journalMoved.wake = () => forwarder.wakeAll();
  }
  // Destinations switched off by an earlier run's 410, before replayed events are routed.
  await forwarder?.load();
  const storeHealth = new StoreHealth(now);
  const commits = new CommitQueue({
    store,
    outbox: forwarder && forwarder.size > 0 ? forwarder.hooks : undefined,
    phones,
    bus,
    delayMs: options.commitDelayMs,
    maxBatch: options.maxBatch,
    maxInFlight: options.maxInFlight,
    stateFlushMs: options.stateFlushMs,
    onCommit: (size, ms) => {
      storeHealth.stored();
      metrics.batchSize.observe(size);
      metrics.commitSeconds.observe(ms / 1000);
    },
    onError: (err) => {
      storeHealth.failed(err);
      metrics.commitErrors.inc();
      if (isStoreFull(err)) {
        metrics.storeFull.inc();
        logger.error({ err }, 'commit failed: the disk is full; answering 503 until there is space again');
      } else {
        logger.error({ err }, 'commit failed');
      }
    },
    onStored: () => void follower?.kick(),
  });
  // Everything queued is committed once requests in hand are answered, after remote control has stopped.
  life.add('commits', () => commits.close(), { closesAfter: 'control' });
  if (forwarder) forwarder.flushCalls = () => commits.flushState();
  if (shared) {
    // What the journal held when this receiver last stopped goes in before it listens, now that forwarding
    // can conclude from it; if the database is away again, the journal moves in by itself later.
    await shared.moveJournalIn().catch((err) => logger.warn({ err, batches: shared.journalled }, 'the local journal could not be moved into PostgreSQL yet; retrying'));
  }
  const replayed = await commits.recover();
  if (replayed > 0) logger.info({ events: replayed }, 'phone states brought up to date from stored events');
  const access = await resolveAdminAccess({ adminToken: options.adminToken || undefined, open: options.open }, store);
  const settings: ReceiverSettings = {
    token: options.token || undefined,
    tokenSecret: options.tokenSecret || undefined,
    adminToken: access.adminToken,
    trustLocal: access.mode === 'local',
    publicUrl: options.publicUrl || undefined,
    tls: checked.tls !== undefined,
    offlineAfterMs,
    dbTimeoutMs: options.dbTimeoutMs ?? DEFAULT_DB_TIMEOUT_MS,
  };
  const ctx: ServerContext = {
    store, phones, inventory, bus, commits, metrics, logger, settings, control, now, follower, forwarder, storeHealth,
    ...(mqtt ? { phoneForgotten: (mac: string) => void mqtt.removePhone(mac) } : {}),
  };
  forwarder?.start(commits, (listener) => bus.subscribe(listener));
  const sampler = new RejectionSampler({ ...DEFAULT_REJECTION_POLICY, ...options.rejectionPolicy });
  // Summaries of refusals still open are written once requests in hand are answered, before the queue closes.
  life.add('refusal summaries', () => {
    for (const row of sampler.drain(now(), true)) void commits.addRejected(row).catch(() => {});
  }, { closesAfter: 'control' });
  const ingestOptions = { allowlist: checked.allowlist, rateLimiter: checked.rateLimit ? new RateLimiter(checked.rateLimit) : undefined, sampler, maxPhones: options.maxPhones ?? DEFAULT_MAX_PHONES };
  const handler = await createApp(ctx, {
    ...ingestOptions,
    ownHosts: ownHostNames(checked.publicHost, options.allowedHosts),
    // The dashboard reads the receiver's settings on every request, so it follows them.
    dashboard: {
      handler: createWebHandler(ctx),
      signedIn: (req) => isAuthorizedByCookie(req, ctx.settings.adminToken),
    },
    stream: {
      heartbeatMs: options.heartbeatMs ?? 15_000,
      maxBufferedBytes: options.streamMaxBufferedBytes ?? 1024 * 1024,
      maxClients: options.maxStreamClients ?? 200,
      maxTotalBytes: options.streamMemoryBytes ?? DEFAULT_STREAM_MEMORY_MIB * 1024 * 1024,
    },
  });
  const run = () => {
    const every = (ms: number, task: () => Promise<unknown>) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy) return;
        busy = true;
        task()
          .catch((err) => logger.error({ err }, 'background task failed'))
          .finally(() => (busy = false));
      }, ms);
      t.unref();
      life.signal.addEventListener('abort', () => clearInterval(t));
    };
    // Summaries of suppressed refusals are written when their window closes.
    every(5_000, async () => {
      for (const row of sampler.drain(now())) await commits.addRejected(row);
    });
    const callTimeoutMs = options.callTimeoutMs ?? 12 * 3_600_000;
    every(60_000, async () => {
      if (!shared) return commits.expire(now(), callTimeoutMs);
      for (const change of await shared.expire(now(), callTimeoutMs)) {
        commits.concludeShared(phones.get(change.phone.mac), change.phone, change.changedCalls);
        phones.set(change.phone);
        bus.publish({ type: 'phone', ...change });
      }
    });
    if (checked.retention !== undefined) {
      const retention = checked.retention;
      // Small batches, one at a time, so pruning never holds the database for long between ingest commits.
      every(options.retentionEveryMs ?? 60_000, async () => {
        for (;;) {
          const deleted = await store.prune(now() - retention, 1000);
          metrics.pruned.inc({}, deleted);
          if (deleted === 0 || life.signal.aborted) break;
          await pause(10, life.signal);
        }
      });
    }
  };
  const announceLines = (url: string) => {
    logger.info({ url, store: store.description, phones: phones.size, access: access.mode }, 'receiver listening');
    if (access.mode === 'open') logger.warn(OPEN_WARNING);
    for (const d of forwarder?.destinationsInfo() ?? []) logger.info({ destination: d.name, kind: d.kind, target: d.target }, 'forwarding');
    if (mqttCommands) logger.info({ topics: `${checked.mqtt!.prefix}/+/command/+` }, MQTT_COMMANDS_NOTICE);
    else if (checked.mqtt) logger.info('MQTT commands off (--no-mqtt-commands): no command topics, no controls in Home Assistant');
    if (settings.token !== undefined && checked.allowlist === undefined) logger.warn(PROVISION_TOKEN_WARNING);
    if (settings.tokenSecret !== undefined && checked.allowlist === undefined) logger.warn(PROVISION_TOKEN_SECRET_WARNING);
  };
  return {
    ctx,
    handler,
    onRefused: createRefusalRecorder(ctx, sampler),
    run,
    announceLines,
    replay: { sampler, maxPhones: ingestOptions.maxPhones },
  };
}

/** What `running` shows of a receiver; a receiver on its journal fills in `ctx` once it has it. */
interface RunningParts {
  ctx?: ServerContext;
  /** The start-up log lines of the receiver (see Receiver.announceLines). */
  announce(url: string): void;
  /** Until `ctx` is there: the line of a receiver on its journal. */
  announceStandby?(url: string): void;
  ready?: Promise<void>;
}

/** The running receiver's handle: its address, its parts (`ctx`) once it has them, and how to stop it. */
function running(start: Start, address: { address: string; port: number }, parts: RunningParts): RunningServer {
  const { logger, life } = start;
  const scheme = start.checked.tls ? 'https' : 'http';
  const shownHost = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  const url = `${scheme}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  const announce = () => (parts.ctx || !parts.announceStandby ? parts.announce(url) : parts.announceStandby(url));
  if (!start.options.deferAnnouncement) announce();
  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    host: address.address,
    logger,
    get ctx(): ServerContext {
      if (!parts.ctx) throw new Error('the receiver is still starting on its local journal: PostgreSQL has not been reached yet');
      return parts.ctx;
    },
    get ready() {
      return parts.ready ?? Promise.resolve();
    },
    get starting() {
      return parts.ctx === undefined;
    },
    announce,
    close() {
      closing ??= life.close((name, err) => logger.error({ err, part: name }, 'closing failed')).then(() => logger.info('receiver stopped'));
      return closing;
    },
  };
}

/**
 * Puts the requests a receiver kept while it started on its journal through `receiver`'s ingest, with the
 * time each came (see src/server/standby.ts); `onEmpty` is called once none is left.
 */
async function storeKept(start: Start, receiver: Receiver, journal: Journal, onEmpty = () => {}, refusalsNotKept = 0): Promise<void> {
  const { ctx, replay } = receiver;
  const clock = { at: 0 };
  const moved = await replayHeld({
    journal,
    ingest: createIngestHandler({ ...ctx, now: () => clock.at }, replay),
    clock,
    recordRefusal: (row, result) => recordRejected(ctx, replay.sampler, row, result),
    redact: (target) => redactForStorage(target, ctx.settings),
    onEmpty,
  });
  start.logger.info({ ...moved, refusalsNotKept: refusalsNotKept || undefined }, 'PostgreSQL reached: the requests kept while starting on the local journal went through ingest');
}

/** How often a receiver started on its journal tries to reach PostgreSQL (ms). */
const START_RETRY_MS = 1_000;

/**
 * Started while PostgreSQL is away, on a journal that has reached it before (see src/server/standby.ts):
 * phones are answered and their requests kept while it tries to reach PostgreSQL; then the receiver is
 * wired as at any start, the kept requests go through its ingest in order, and it takes over the port.
 */
async function startOnJournal(start: Start, journal: Journal, unreachable: StoreUnreachableError): Promise<RunningServer> {
  const { options, checked, logger, now, life } = start;
  let reason = unreachable.message;
  const standby = createStandby({
    journal,
    settings: { token: options.token || undefined, tokenSecret: options.tokenSecret || undefined, adminToken: options.adminToken || undefined },
    allowlist: checked.allowlist,
    rateLimiter: checked.rateLimit ? new RateLimiter(checked.rateLimit) : undefined,
    now,
    reason: () => reason,
    onError: (err) => logger.error({ err }, 'a phone\'s request could not be kept in the local journal'),
  });
  const stage: Pick<Receiver, 'handler' | 'onRefused'> = { handler: standby.handler, onRefused: standby.onRefused };
  const http = createReceiverHttp(start, stage);
  let httpClosed: Promise<void> | undefined;
  const closeHttp = () => (httpClosed ??= http.close(5000));
  life.add('http', closeHttp);
  const address = await http.listen(options.port ?? 8080, options.host ?? '0.0.0.0');
  const parts: RunningParts = {
    announce: () => {},
    announceStandby: (url) => logger.warn(
      { url, reason, held: journal.held },
      'receiver listening on its local journal: PostgreSQL cannot be reached; phones are answered and their requests kept, the dashboard and API wait for the database',
    ),
  };
  const server = running(start, address, parts);
  const retryMs = options.startRetryMs ?? START_RETRY_MS;
  parts.ready = (async () => {
    let receiver: Receiver | undefined;
    while (!receiver) {
      if (life.signal.aborted) return;
      const inner = new Lifetime();
      try {
        const store = await openStore(options.db ?? DEFAULT_DB, { ...storeOptions(start), journal });
        inner.add('store', () => store.close());
        const made = await assemble(start, store, inner);
        inner.add('http', closeHttp, { closesAfter: 'control' }); // as at any start (startServer)
        if (life.signal.aborted) return void (await inner.close());
        life.add('receiver', () => inner.close());
        receiver = made;
      } catch (err) {
        await inner.close();
        start.metrics = receiverMetrics();
        reason = (err as Error).message.replace(/\s+/g, ' ');
        // Once per interval with a count (log dedupe): every try fails the same way while it is away.
        logger.warn({ err: reason, held: journal.held }, 'still starting on the local journal: PostgreSQL cannot be used yet; trying again');
        await pause(retryMs, life.signal);
      }
    }
    for (;;) {
      if (life.signal.aborted) return;
      try {
        await storeKept(start, receiver, journal, () => {
          // No wait between the last empty read and this: no request can fall between the two handlers.
          stage.handler = receiver.handler;
          stage.onRefused = receiver.onRefused;
          parts.ctx = receiver.ctx;
          parts.announce = receiver.announceLines;
        }, standby.refusalsDropped());
        break;
      } catch (err) {
        logger.error({ err, held: journal.held }, 'the requests kept while starting on the local journal could not be stored yet; trying again');
        await pause(retryMs, life.signal);
      }
    }
    receiver.run();
    if (!options.deferAnnouncement) receiver.announceLines(server.url);
  })();
  return server;
}
