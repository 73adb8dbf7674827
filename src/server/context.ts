/**
 * What every part of the receiver shares: the store, the live phone states, the event bus, the commit queue,
 * metrics, the logger and the settings. The dashboard's `createWebHandler(ctx)` gets this too.
 */
import type { Logger } from 'pino';
import type { DestinationInfo, Store, StoredDelivery } from '../store/types.ts';
import type { EventBus } from './bus.ts';
import type { CommitQueue } from './commit-queue.ts';
import type { ControlService } from './control/service.ts';
import type { ReceiverMetrics } from './metrics.ts';
import type { PhoneRegistry } from './phones.ts';
import type { StreamFollower } from './mode/follower.ts';
import type { ReceiverMode } from './mode/mode.ts';
import type { Inventory } from './inventory.ts';
import type { StoreHealth } from './store-health.ts';

export interface ReceiverSettings {
  /** Ingest token phones must send as `token=`; undefined: none required. */
  token?: string;
  /**
   * Secret each phone's own ingest token is derived from (`--token-secret`, see core/phone-token.ts);
   * undefined: no per-phone tokens. With `token` also set, either token is accepted.
   */
  tokenSecret?: string;
  /** Bearer token for `/api` and the dashboard; undefined: they are open (`--open`). */
  adminToken?: string;
  /**
   * Clients on this machine get in without the admin token (the default access mode, see admin-access.ts);
   * false with `--admin-token` (needed from everywhere) and `--open`.
   */
  trustLocal?: boolean;
  /** The base URL phones reach this server at (`--public-url`); otherwise taken from each request's Host. */
  publicUrl?: string;
  /** True when serving HTTPS. */
  tls: boolean;
  /** A phone silent this long shows as offline. */
  offlineAfterMs: number;
  /** How long `/healthz` waits for the store before it answers that the store does not answer (ms). */
  dbTimeoutMs: number;
}

export interface ServerContext {
  readonly store: Store;
  readonly phones: PhoneRegistry;
  /** Names, locations and groups the administrator gave the phones. */
  readonly inventory: Inventory;
  readonly bus: EventBus;
  readonly commits: CommitQueue;
  /** Local (SQLite) or shared (PostgreSQL): what committed events do to the phones' states (mode/). */
  readonly mode: ReceiverMode;
  readonly metrics: ReceiverMetrics;
  readonly logger: Logger;
  readonly settings: ReceiverSettings;
  /** Remote control of phones (settings and commands); absent in contexts built without it. */
  readonly control?: ControlService;
  /** Shared mode (several receivers): what feeds the bus and the phone states with every receiver's events. */
  readonly follower?: StreamFollower;
  /** Webhooks and MQTT; undefined when nothing is forwarded. */
  readonly forwarder?: ForwardingControl;
  /** Whether commits find space (a full disk); absent in contexts built without it. */
  readonly storeHealth?: StoreHealth;
  /** Epoch ms; tests may replace the clock. */
  now(): number;
  /** Told after a phone was forgotten (DELETE /api/v1/phones/<mac>): MQTT removes it from Home Assistant. */
  readonly phoneForgotten?: (mac: string) => void;
}

/** What the API asks of forwarding (src/forwarding/forwarder.ts, wired in the composition root). */
export interface ForwardingControl {
  destinationsInfo(): DestinationInfo[];
  retry(id: number): Promise<StoredDelivery | undefined>;
  /** The body a delivery sends: its own, or for a delivered incident (which keeps none) built again. */
  bodyOf(row: StoredDelivery): Promise<string | null>;
  sendTest(name: string): Promise<boolean>;
  /** Switches a destination that a 410 switched off on again; false: no such destination. */
  enable(name: string): Promise<boolean>;
  /** Several receivers on one PostgreSQL: how forwarding is shared (null: one receiver on its store). */
  clusterInfo(): { receivers: number; holder: string; shards: Record<string, number>; problems: string[] } | null;
}
