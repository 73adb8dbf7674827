/**
 * What forwarding tells about itself: metrics and the log line of each attempt, the outbox depth gauge, and
 * the destinations and their health as `GET /api/v1/destinations` shows them.
 */
import type { Logger } from 'pino';
import type { Deliveries, DeliveryUpdate, DestinationInfo, StoredDelivery } from '../store/types.ts';
import type { Destination } from './destination-registry.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import type { Attempt } from './outbox-worker.ts';

export interface ForwardingMetrics {
  deliveries: { inc(labels: Record<string, string>): void };
  outboxDepth: { set(value: number, labels: Record<string, string>): void };
  deliverySeconds: { observe(value: number): void };
}

/** Forwarding across receivers, as `GET /api/v1/destinations` shows it (null: one receiver on its store). */
export interface ClusterInfo {
  /** Receivers alive on the database, this one included. */
  receivers: number;
  /** This receiver's name among them. */
  holder: string;
  /** Delivery shards this receiver holds per destination (of DELIVERY_SHARDS). */
  shards: Record<string, number>;
  /** Differences with the other receivers' destinations, one line each; empty when they agree. */
  problems: string[];
}

/** Counts an attempt by its result; a failed one is logged. */
export function reportAttempt(
  to: { metrics: ForwardingMetrics; logger: Logger; now(): number },
  destination: string,
  update: DeliveryUpdate,
  row: StoredDelivery,
  attempt: Attempt,
): void {
  const result = update.state === 'delivered' ? 'delivered' : attempt.verdict.kind === 'gone' ? 'gone' : update.state === 'dead' ? 'dead' : 'failed';
  to.metrics.deliveries.inc({ destination, result });
  if (update.state === 'delivered') to.metrics.deliverySeconds.observe(Math.max(0, to.now() - row.createdAt) / 1000);
  if (update.state !== 'delivered') {
    to.logger.warn({ destination, delivery: row.id, type: row.type, mac: row.mac, attempts: update.attempts, state: update.state, reason: update.lastError }, 'delivery attempt failed');
  }
}

/** Sets the outbox depth gauge of every destination (0 for one with nothing waiting). */
export async function reportOutboxDepth(store: Pick<Deliveries, 'outboxDepth'>, metrics: ForwardingMetrics, destinations: readonly string[]): Promise<void> {
  const depth = await store.outboxDepth();
  for (const name of destinations) metrics.outboxDepth.set(depth[name] ?? 0, { destination: name });
}

export function destinationInfo(d: Destination): DestinationInfo {
  return {
    name: d.name,
    kind: d.kind,
    target: d.target,
    enabled: d.disabledReason === null,
    disabledReason: d.disabledReason,
    disabledAt: d.disabledAt,
    connected: d.connected(),
    queued: d.worker.health.loaded,
    in_flight: d.worker.health.inFlight,
    last_success_at: d.worker.health.lastSuccessAt,
    last_failure_at: d.worker.health.lastFailureAt,
    last_error: d.worker.health.lastError,
  };
}

export function clusterInfo(keeper: LeaseKeeper, holder: string, destinations: readonly Destination[]): ClusterInfo {
  const shards: Record<string, number> = {};
  for (const d of destinations) shards[d.name] = d.worker.shardCount();
  return { receivers: keeper.receivers, holder, shards, problems: keeper.problems };
}
