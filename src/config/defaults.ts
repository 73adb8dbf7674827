/**
 * The receiver's defaults, listed once: `receiverConfig` applies them to what `startServer` is not given,
 * and `actionurl serve` shows them as its flags' defaults. A part's own tuning that the receiver passes
 * through untouched (group-commit sizes, follow interval) keeps its default beside that part.
 */
import { DEFAULT_DB, DEFAULT_DB_TIMEOUT_MS } from '../store/db-url.ts';

/** Bytes in a MiB (`--stream-memory` is given in MiB). */
export const MIB = 1024 * 1024;

export const DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  /** SQLite file, created with its directory. */
  db: DEFAULT_DB,
  /** `actionurl serve`'s journal with a PostgreSQL --db (programmatic callers pass one or go without). */
  journal: 'data/actionurl-journal.sqlite',
  dbTimeoutMs: DEFAULT_DB_TIMEOUT_MS,
  logLevel: 'info',
  /** Started on its local journal (PostgreSQL away at start): how often it tries to reach PostgreSQL. */
  startRetryMs: 1_000,
  /** How often retention prunes. */
  retentionEveryMs: 60_000,
  /** A phone silent this long shows as offline. */
  offlineAfterMs: 3_600_000,
  /** Calls with no event for this long are closed. */
  callTimeoutMs: 12 * 3_600_000,
  /**
   * Five times the largest fleet the dashboard is built for, while a flood of made-up MACs cannot grow
   * memory without limit.
   */
  maxPhones: 50_000,
  heartbeatMs: 15_000,
  streamMaxBufferedBytes: MIB,
  maxStreamClients: 200,
  /** `--stream-memory`: a twentieth of 200 clients' own limits, well under what a small box can spare. */
  streamMemoryMiB: 64,
  /**
   * A phone holds one connection for a moment per event, so even a thousand phones behind one NAT address
   * rarely have 256 open at once; one client cannot take the file limit.
   */
  maxConnectionsPerAddress: 256,
  /** A command not confirmed by the phone's Action URL this long fails. */
  commandTimeoutMs: 10_000,
  /** With several receivers on one PostgreSQL: a hold on a share of the deliveries lasts this long unrenewed. */
  forwardLeaseMs: 15_000,
  mqttPrefix: 'actionurl',
  haDiscoveryPrefix: 'homeassistant',
} as const;
