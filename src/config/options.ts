/**
 * What a receiver is started with: the programmatic options of `startServer` (src/start.ts), which
 * `actionurl serve` fills from its flags. `receiverConfig` (receiver-config.ts) checks them once and applies
 * the defaults (defaults.ts); nothing else reads these.
 */
import type { Logger } from 'pino';
import type { RateLimit } from '../server/access.ts';
import type { RejectionPolicy } from '../server/rejections.ts';
import type { Store } from '../store/types.ts';

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
  /**
   * Refuse an empty or short `token`, `tokenSecret` or `adminToken` (see secrets.ts). `actionurl serve` sets
   * it: a secret a person types must be hard to guess. Programmatic callers (tests) may use short ones.
   */
  requireStrongSecrets?: boolean;
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
